//===- LLMDialect.h - The llm dialect ---------------------------*- C++ -*-===//
//
// Declares the llm dialect, its enums and its attributes.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_DIALECTS_LLM_IR_LLMDIALECT_H
#define LLMC_DIALECTS_LLM_IR_LLMDIALECT_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"

#include "dialects/llm/IR/LLMDialect.h.inc"
#include "dialects/llm/IR/LLMEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/llm/IR/LLMAttrs.h.inc"

#endif // LLMC_DIALECTS_LLM_IR_LLMDIALECT_H
