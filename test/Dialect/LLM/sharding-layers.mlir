// RUN: llmc-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(sharding-propagation,cse,shard-partition,canonicalize))" | FileCheck %s

// Tests the sharding models of the llm ops that are not plain affine loop
// nests (dialects/llm/IR/LLMShardingLayers.cpp and the matmul model's choice
// between conflicting operand splits) with upstream sharding-propagation and
// shard-partition.

// A reshape carries a split on the major dimension of each group: the
// hidden features split over tp are the heads split over tp.
// CHECK-LABEL: func.func @heads(
// CHECK-SAME: %[[X:.*]]: tensor<2x4x4xf32>) -> tensor<2x4x1x4xf32>
// CHECK-NEXT: llm.reshape %[[X]] : tensor<2x4x4xf32> -> tensor<2x4x1x4xf32>
shard.grid @tp(shape = 2)
func.func @heads(%x: tensor<2x4x8xf32>) -> tensor<2x4x2x4xf32> {
  %s = shard.sharding @tp split_axes = [[], [], [0]] : !shard.sharding
  %xs = shard.shard %x to %s : tensor<2x4x8xf32>
  %y = llm.reshape %xs : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
  return %y : tensor<2x4x2x4xf32>
}

// -----

// A table split by rows is Megatron's vocab-parallel embedding: the local
// lookup (zero rows for other ranks' ids), then a sum over the ranks.
// CHECK-LABEL: func.func @vocab_parallel_embedding(
// CHECK: %[[E:.*]] = llm.embedding %{{.*}} {vocab_parallel_axis = "tp"} : (tensor<5x4xf32>, tensor<2x3xi32>) -> tensor<2x3x4xf32>
// CHECK-NEXT: shard.all_reduce %[[E]] on @tp grid_axes = [0]
shard.grid @tp(shape = 2)
func.func @vocab_parallel_embedding(%table: tensor<10x4xf32>, %ids: tensor<2x3xi32>) -> tensor<2x3x4xf32> {
  %rows = shard.sharding @tp split_axes = [[0]] : !shard.sharding
  %ts = shard.shard %table to %rows : tensor<10x4xf32>
  %e = llm.embedding %ts[%ids] : (tensor<10x4xf32>, tensor<2x3xi32>) -> tensor<2x3x4xf32>
  return %e : tensor<2x3x4xf32>
}

// -----

// A norm's gradient over a sequence split (sequence parallelism): the input
// gradient stays split, the weight and bias gradients are partial sums over
// the tokens and are all-reduced.
// CHECK-LABEL: func.func @norm_grad_over_tokens(
// CHECK: %[[DX:.*]], %[[DW:.*]], %[[DB:.*]] = llm.layer_norm_grad {{.*}} -> (tensor<2x2x8xf32>, tensor<8xf32>, tensor<8xf32>)
// CHECK-NEXT: %[[SW:.*]] = shard.all_reduce %[[DW]] on @tp grid_axes = [0]
// CHECK-NEXT: %[[SB:.*]] = shard.all_reduce %[[DB]] on @tp grid_axes = [0]
// CHECK-NEXT: return %[[DX]], %[[SW]], %[[SB]]
shard.grid @tp(shape = 2)
func.func @norm_grad_over_tokens(%dy: tensor<2x4x8xf32>, %x: tensor<2x4x8xf32>, %w: tensor<8xf32>) -> (tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>) {
  %seq = shard.sharding @tp split_axes = [[], [0]] : !shard.sharding
  %dys = shard.shard %dy to %seq : tensor<2x4x8xf32>
  %xs = shard.shard %x to %seq : tensor<2x4x8xf32>
  %dx, %dw, %db = llm.layer_norm_grad %dys, %xs, %w {epsilon = 1.0e-05 : f64} : (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<8xf32>) -> (tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>)
  %dxs = shard.shard %dx to %seq : tensor<2x4x8xf32>
  return %dxs, %dw, %db : tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>
}

// -----

// A sequence-split input into a column-parallel GEMM: the splits conflict
// on the one grid axis, and the activation is gathered, not the weight.
// CHECK-LABEL: func.func @sequence_split_into_column_parallel(
// CHECK-SAME: %[[X:.*]]: tensor<2x2x8xf32>, %[[W:.*]]: tensor<8x3xf32>)
// CHECK-NEXT: %[[G:.*]] = shard.all_gather %[[X]] on @tp grid_axes = [0] gather_axis = 1 : tensor<2x2x8xf32> -> tensor<2x4x8xf32>
// CHECK-NEXT: llm.matmul %[[G]], %[[W]] : (tensor<2x4x8xf32>, tensor<8x3xf32>) -> tensor<2x4x3xf32>
shard.grid @tp(shape = 2)
func.func @sequence_split_into_column_parallel(%x: tensor<2x4x8xf32>, %w: tensor<8x6xf32>) -> tensor<2x4x6xf32> {
  %seq = shard.sharding @tp split_axes = [[], [0]] : !shard.sharding
  %col = shard.sharding @tp split_axes = [[], [0]] : !shard.sharding
  %xs = shard.shard %x to %seq : tensor<2x4x8xf32>
  %ws = shard.shard %w to %col : tensor<8x6xf32>
  %y = llm.matmul %xs, %ws : (tensor<2x4x8xf32>, tensor<8x6xf32>) -> tensor<2x4x6xf32>
  return %y : tensor<2x4x6xf32>
}

// -----

// Attention splits its heads; query heads and grouped key/value heads split
// together (4 query heads over 2 kv heads: each rank takes 2 and 1).
// CHECK-LABEL: func.func @grouped_query_attention(
// CHECK-SAME: %[[Q:.*]]: tensor<1x2x8x2xf32>, %[[K:.*]]: tensor<1x1x8x2xf32>, %[[V:.*]]: tensor<1x1x8x2xf32>)
// CHECK-NEXT: llm.attention %[[Q]], %[[K]], %[[V]] causal : (tensor<1x2x8x2xf32>, tensor<1x1x8x2xf32>, tensor<1x1x8x2xf32>) -> tensor<1x2x8x2xf32>
shard.grid @tp(shape = 2)
func.func @grouped_query_attention(%q: tensor<1x4x8x2xf32>, %k: tensor<1x2x8x2xf32>, %v: tensor<1x2x8x2xf32>) -> tensor<1x4x8x2xf32> {
  %heads = shard.sharding @tp split_axes = [[], [0]] : !shard.sharding
  %qs = shard.shard %q to %heads : tensor<1x4x8x2xf32>
  %ks = shard.shard %k to %heads : tensor<1x2x8x2xf32>
  %vs = shard.shard %v to %heads : tensor<1x2x8x2xf32>
  %y = llm.attention %qs, %ks, %vs causal : (tensor<1x4x8x2xf32>, tensor<1x2x8x2xf32>, tensor<1x2x8x2xf32>) -> tensor<1x4x8x2xf32>
  %ys = shard.shard %y to %heads : tensor<1x4x8x2xf32>
  return %ys : tensor<1x4x8x2xf32>
}
