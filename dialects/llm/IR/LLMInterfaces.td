//===- LLMInterfaces.td - Interfaces of llm ops ------------*- tablegen -*-===//
//
// Interfaces through which passes ask ops about themselves, so a new op brings
// its own costs instead of every pass growing a switch over op kinds.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_DIALECT_LLM_INTERFACES
#define LLMC_DIALECT_LLM_INTERFACES

include "mlir/IR/OpBase.td"

def LLM_FlopCountOpInterface : OpInterface<"FlopCountOpInterface"> {
  let cppNamespace = "::mlir::llm";
  let description = [{
    Counts the floating-point operations one execution of an op performs,
    split into GEMM work (2·M·N·K), the two attention products QKᵀ and
    P·V (counted over the full Tq×Tk square, as Kaplan et al. 2020 and
    Narayanan et al. 2021 do), and vector work (elementwise, norms, softmax;
    weighted by a nominal count per element). Data movement ops count zero.
  }];
  let methods = [
    InterfaceMethod<"Returns the flops of one execution of this op.",
      "::mlir::llm::FlopCount", "getFlopCount", (ins), [{}],
      [{ return ::mlir::llm::FlopCount{}; }]>
  ];
}

def LLM_AutodiffOpInterface : OpInterface<"AutodiffOpInterface"> {
  let cppNamespace = "::mlir::llm";
  let description = [{
    Reverse-mode differentiation of one op: given the gradients of its
    results, the op builds (at the builder's insertion point, in the llm
    dialect) the vector-Jacobian products for its operands. Autodiff is then
    a reverse walk, and a new op brings its own gradient.
  }];
  let methods = [
    InterfaceMethod<[{
        Builds the gradients of the operands from `resultGrads` (one per
        result, never null). Fills `operandGrads` with one value per operand,
        null where the operand has no gradient (token ids).
      }],
      "::llvm::LogicalResult", "buildVJP",
      (ins "::mlir::OpBuilder &":$builder,
           "::mlir::ValueRange":$resultGrads,
           "::llvm::SmallVectorImpl<::mlir::Value> &":$operandGrads)>
  ];
}

#endif // LLMC_DIALECT_LLM_INTERFACES
