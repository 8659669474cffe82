//===- Passes.td - llmc passes -----------------------------*- tablegen -*-===//
//
// Every llmc pass, named llmc-<verb>-<noun>.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_PASSES
#define LLMC_PASSES

include "mlir/Pass/PassBase.td"

def CountFlops : Pass<"llmc-count-flops", "func::FuncOp"> {
  let summary = "Counts the floating-point operations of a function";
  let description = [{
    Sums the `FlopCountOpInterface` counts of every op in the function and
    records them, by kind of work, in the function attribute `llm.flops`.
    GEMMs count 2·M·N·K; the attention products QKᵀ and P·V count the full
    Tq×Tk square (Kaplan et al. 2020); vector work uses a nominal count per
    element. `llmc compile --emit=summary` reports `forward_flops_per_token`
    from the GEMM and attention counts.

    Before:
    ```mlir
    func.func @f(%x: tensor<2x8xf32>, %w: tensor<8x4xf32>) -> tensor<2x4xf32> {
      %y = llm.matmul %x, %w : (tensor<2x8xf32>, tensor<8x4xf32>) -> tensor<2x4xf32>
      return %y : tensor<2x4xf32>
    }
    ```
    After:
    ```mlir
    func.func @f(...) -> tensor<2x4xf32>
        attributes {llm.flops = {attention = 0 : i64, matmul = 128 : i64,
                                 vector = 0 : i64}} { ... }
    ```
  }];
  let options = [
    Option<"annotateOps", "annotate-ops", "bool", /*default=*/"false",
           "Also record each op's own count in its `llm.flops` attribute">
  ];
  let dependentDialects = ["::mlir::llm::LLMDialect"];
}

#endif // LLMC_PASSES
