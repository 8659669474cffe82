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

#endif // LLMC_DIALECT_LLM_INTERFACES
