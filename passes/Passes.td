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

def Autodiff : Pass<"llmc-autodiff", "ModuleOp"> {
  let summary = "Reverse-mode differentiation of a loss function";
  let description = [{
    Builds `@<func>_grad` next to the scalar loss function `@<func>`: the
    forward ops, then the backward ops in exactly the reverse order, each
    built by the forward op's `AutodiffOpInterface::buildVJP`. Gradients of
    a value used several times are summed with `llm.add`. The new function
    returns the loss and then one gradient per `llm.param` argument, in
    argument order; each gradient result carries `llm.grad_of` naming its
    parameter. Forward ops are tagged `llm.role = "forward"`, backward ops
    `llm.role = "backward"` with the `llm.layer` of the op they differentiate.

    Before:
    ```mlir
    func.func @loss(%x: tensor<2x8xf32>, %w: tensor<8x4xf32> {llm.param = "w"},
                    %t: tensor<2xi32>) -> tensor<f32> {
      %y = llm.matmul %x, %w : (tensor<2x8xf32>, tensor<8x4xf32>) -> tensor<2x4xf32>
      %l = llm.cross_entropy %y, %t : (tensor<2x4xf32>, tensor<2xi32>) -> tensor<f32>
      return %l : tensor<f32>
    }
    ```
    After (added):
    ```mlir
    func.func @loss_grad(...) -> (tensor<f32> {llm.output = "loss"},
                                  tensor<8x4xf32> {llm.grad_of = "w"}) {
      ... forward ops ...
      %one = arith.constant dense<1.0> : tensor<f32>
      %dy = llm.cross_entropy_grad %one, %y, %t : ...
      %dw = llm.matmul %x, %dy transpose_lhs : ...
      return %l, %dw : tensor<f32>, tensor<8x4xf32>
    }
    ```
  }];
  let options = [
    Option<"funcName", "func-name", "std::string", /*default=*/"\"loss\"",
           "The scalar loss function to differentiate">
  ];
  let dependentDialects = ["::mlir::llm::LLMDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}

#endif // LLMC_PASSES
