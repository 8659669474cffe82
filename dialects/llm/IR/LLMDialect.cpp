//===- LLMDialect.cpp - The llm dialect -----------------------------------===//
//
// Registers the llm ops, enums and attributes.
//
//===----------------------------------------------------------------------===//

#include "dialects/llm/IR/LLMDialect.h"
#include "dialects/llm/IR/LLMOps.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::llm;

#include "dialects/llm/IR/LLMDialect.cpp.inc"
#include "dialects/llm/IR/LLMEnums.cpp.inc"
#include "dialects/llm/IR/LLMInterfaces.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/llm/IR/LLMAttrs.cpp.inc"

void LLMDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/llm/IR/LLMOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/llm/IR/LLMAttrs.cpp.inc"
      >();
}
