// RUN: llmc-opt %s | FileCheck %s
// CHECK: llm.silu
func.func @f(%x: tensor<2xf32>) -> tensor<2xf32> {
  %y = llm.silu %x : tensor<2xf32>
  return %y : tensor<2xf32>
}
