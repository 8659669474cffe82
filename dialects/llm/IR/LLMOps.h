//===- LLMOps.h - Ops of the llm dialect ------------------------*- C++ -*-===//
//
// Declares the llm ops (generated from LLMOps.td).
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_DIALECTS_LLM_IR_LLMOPS_H
#define LLMC_DIALECTS_LLM_IR_LLMOPS_H

#include "dialects/llm/IR/LLMDialect.h"
#include "dialects/llm/IR/LLMInterfaces.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "dialects/llm/IR/LLMOps.h.inc"

#endif // LLMC_DIALECTS_LLM_IR_LLMOPS_H
