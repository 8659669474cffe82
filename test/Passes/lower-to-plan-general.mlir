// RUN: llmc-opt %s --llmc-lower-to-plan=func-name=forward | FileCheck %s

// Tests that the general ops of a graph imported op by op become the
// unary, binary and reduce kernels, their kind (and axes) as parameters:
// the contract with runtime/cpu/general.h.
// CHECK-LABEL: func.func @forward() {
// CHECK:      %[[X:.*]] = plan.buffer "x" input : memref<3x4xf32>
// CHECK:      %[[C:.*]] = plan.buffer "c" param : memref<4xf32>
// CHECK:      %[[E:.*]] = plan.buffer "" activation : memref<3x4xf32>
// CHECK-NEXT: plan.kernel "unary" ins(%[[X]]) outs(%[[E]]) {params = {kind = "exp"}}
// CHECK:      %[[D:.*]] = plan.buffer "" activation : memref<3x4xf32>
// CHECK-NEXT: plan.kernel "binary" ins(%[[E]], %[[C]]) outs(%[[D]]) {params = {kind = "div"}}
// CHECK:      %[[S:.*]] = plan.buffer "y" output live_out : memref<3x1xf32>
// CHECK-NEXT: plan.kernel "reduce" ins(%[[D]]) outs(%[[S]]) {params = {axes = array<i64: 1>, kind = "sum"}}
func.func @forward(%x: tensor<3x4xf32> {llm.input = "x"}, %c: tensor<4xf32> {llm.param = "c"}) -> (tensor<3x1xf32> {llm.output = "y"}) {
  %0 = llm.unary %x kind = "exp" : tensor<3x4xf32>
  %1 = llm.binary %0, %c kind = "div" : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %2 = llm.reduce %1 kind = "sum" axes = [1] keepdims : tensor<3x4xf32> -> tensor<3x1xf32>
  return %2 : tensor<3x1xf32>
}
