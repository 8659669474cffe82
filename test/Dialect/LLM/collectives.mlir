// RUN: llmc-opt %s | FileCheck %s
// RUN: llmc-opt %s --mlir-print-op-generic | llmc-opt | FileCheck %s

// Tests the parallelism ops round-trip in custom and generic form.
// CHECK-LABEL: func.func @collectives
// CHECK: llm.copy_to_parallel %{{.*}} {axis = "tp"} : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
// CHECK: llm.all_reduce %{{.*}} {axis = "tp"} : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
// CHECK: llm.reduce_scatter %{{.*}} {axis = "tp", dim = 1 : i64} : (tensor<2x8x16xf32>) -> tensor<2x4x16xf32>
// CHECK: llm.all_gather %{{.*}} {axis = "tp", dim = 1 : i64} : (tensor<2x4x16xf32>) -> tensor<2x8x16xf32>
// CHECK: llm.scatter_to_parallel %{{.*}} {axis = "tp", dim = 1 : i64} : (tensor<2x8x16xf32>) -> tensor<2x4x16xf32>
// CHECK: llm.embedding %{{.*}} {vocab_parallel_axis = "tp"}
// CHECK: llm.cross_entropy %{{.*}} {vocab_parallel_axis = "tp"}
func.func @collectives(%x: tensor<2x8x16xf32>, %table: tensor<25x16xf32>,
                       %ids: tensor<2x8xi32>, %logits: tensor<2x8x25xf32>)
    -> (tensor<2x4x16xf32>, tensor<2x8x16xf32>, tensor<f32>) {
  %0 = llm.copy_to_parallel %x {axis = "tp"} : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %1 = llm.all_reduce %0 {axis = "tp"} : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %2 = llm.reduce_scatter %1 {axis = "tp", dim = 1 : i64} : (tensor<2x8x16xf32>) -> tensor<2x4x16xf32>
  %3 = llm.all_gather %2 {axis = "tp", dim = 1 : i64} : (tensor<2x4x16xf32>) -> tensor<2x8x16xf32>
  %4 = llm.scatter_to_parallel %3 {axis = "tp", dim = 1 : i64} : (tensor<2x8x16xf32>) -> tensor<2x4x16xf32>
  %5 = llm.embedding %table[%ids] {vocab_parallel_axis = "tp"} : (tensor<25x16xf32>, tensor<2x8xi32>) -> tensor<2x8x16xf32>
  %6 = llm.cross_entropy %logits, %ids {vocab_parallel_axis = "tp"} : (tensor<2x8x25xf32>, tensor<2x8xi32>) -> tensor<f32>
  return %4, %5, %6 : tensor<2x4x16xf32>, tensor<2x8x16xf32>, tensor<f32>
}
