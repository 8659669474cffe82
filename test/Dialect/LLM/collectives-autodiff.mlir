// RUN: llmc-opt %s --llmc-autodiff | FileCheck %s

// Tests that each collective's backward is its Megatron dual: f <-> all-reduce,
// all-gather <-> reduce-scatter, and the vocab-parallel ops keep their axis.
// CHECK-LABEL: func.func @loss_grad
// CHECK: %[[E:.*]] = llm.embedding {{.*}}vocab_parallel_axis = "tp"
// CHECK: %[[F:.*]] = llm.copy_to_parallel %[[E]]
// CHECK: %[[G:.*]] = llm.all_gather %[[F]]
// CHECK: %[[R:.*]] = llm.reduce_scatter
// CHECK: %[[S:.*]] = llm.all_reduce %[[R]]
// CHECK: llm.cross_entropy %[[S]], {{.*}}vocab_parallel_axis = "tp"
// CHECK: %[[DS:.*]] = llm.cross_entropy_grad {{.*}}vocab_parallel_axis = "tp"
// CHECK: %[[DR:.*]] = llm.all_gather %[[DS]] {axis = "tp", dim = 1 : i64
// CHECK: %[[DG:.*]] = llm.reduce_scatter %[[DR]] {axis = "tp", dim = 1 : i64
// CHECK: %[[DF:.*]] = llm.all_reduce %[[DG]] {axis = "tp"
// CHECK: llm.embedding_grad %[[DF]], {{.*}}vocab_parallel_axis = "tp"
func.func @loss(%ids: tensor<2x8xi32> {llm.input = "input_ids"},
                %table: tensor<8x8xf32> {llm.param = "wte"}) -> tensor<f32> {
  %e = llm.embedding %table[%ids] {vocab_parallel_axis = "tp"} : (tensor<8x8xf32>, tensor<2x8xi32>) -> tensor<2x8x8xf32>
  %f = llm.copy_to_parallel %e {axis = "tp"} : (tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %g = llm.all_gather %f {axis = "tp", dim = 1 : i64} : (tensor<2x8x8xf32>) -> tensor<2x16x8xf32>
  %r = llm.reduce_scatter %g {axis = "tp", dim = 1 : i64} : (tensor<2x16x8xf32>) -> tensor<2x8x8xf32>
  %s = llm.all_reduce %r {axis = "tp"} : (tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %loss = llm.cross_entropy %s, %ids {vocab_parallel_axis = "tp"} : (tensor<2x8x8xf32>, tensor<2x8xi32>) -> tensor<f32>
  return %loss : tensor<f32>
}
