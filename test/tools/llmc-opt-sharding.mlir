// Tests that llmc-opt carries upstream sharding: with the linalg sharding
// models registered, a column-parallel then row-parallel matmul pair
// (Megatron's MLP) propagates and partitions into per-rank halves joined by
// exactly one all_reduce.
// RUN: llmc-opt %s --pass-pipeline="builtin.module(func.func(sharding-propagation,cse,shard-partition,canonicalize))" | FileCheck %s

// CHECK-LABEL: func.func @mlp(
// CHECK-SAME: %[[X:.*]]: tensor<4x8xf32>, %[[W1:.*]]: tensor<8x8xf32>, %[[W2:.*]]: tensor<8x8xf32>)
// CHECK:      %[[H:.*]] = linalg.matmul ins(%[[X]], %[[W1]] : tensor<4x8xf32>, tensor<8x8xf32>)
// CHECK:      %[[Y:.*]] = linalg.matmul ins(%[[H]], %[[W2]] : tensor<4x8xf32>, tensor<8x8xf32>)
// CHECK:      %[[R:.*]] = shard.all_reduce %[[Y]] on @grid grid_axes = [0] : tensor<4x8xf32> -> tensor<4x8xf32>
// CHECK-NOT:  shard.all_reduce
// CHECK:      return %[[R]]
shard.grid @grid(shape = 2)
func.func @mlp(%x: tensor<4x8xf32>, %w1: tensor<8x16xf32>, %w2: tensor<16x8xf32>) -> tensor<4x8xf32> {
  %s1 = shard.sharding @grid split_axes = [[], [0]] : !shard.sharding
  %w1s = shard.shard %w1 to %s1 : tensor<8x16xf32>
  %e1 = tensor.empty() : tensor<4x16xf32>
  %h = linalg.matmul ins(%x, %w1s : tensor<4x8xf32>, tensor<8x16xf32>) outs(%e1 : tensor<4x16xf32>) -> tensor<4x16xf32>
  %s2 = shard.sharding @grid split_axes = [[0], []] : !shard.sharding
  %w2s = shard.shard %w2 to %s2 : tensor<16x8xf32>
  %e2 = tensor.empty() : tensor<4x8xf32>
  %y = linalg.matmul ins(%h, %w2s : tensor<4x16xf32>, tensor<16x8xf32>) outs(%e2 : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}
