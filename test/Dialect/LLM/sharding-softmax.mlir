// RUN: llmc-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(sharding-propagation,cse,shard-partition,canonicalize))" | FileCheck %s

// Tests the sharding model of llm.softmax and llm.softmax_grad
// (SoftmaxModel in dialects/llm/IR/LLMShardingLayers.cpp), the worked example
// of docs/extending.md: every dimension but the normalised one splits.

// Tests that scores split by heads stay split: each rank normalises its own
// heads' rows, with no collective.
// CHECK-LABEL: func.func @heads(
// CHECK-SAME: %[[X:.*]]: tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
// CHECK-NEXT: %[[P:.*]] = llm.softmax %[[X]] axis = -1 : tensor<2x2x4x4xf32>
// CHECK-NEXT: return %[[P]]
shard.grid @tp(shape = 2)
func.func @heads(%x: tensor<2x4x4x4xf32>) -> tensor<2x4x4x4xf32> {
  %s = shard.sharding @tp split_axes = [[], [0]] : !shard.sharding
  %xs = shard.shard %x to %s : tensor<2x4x4x4xf32>
  %p = llm.softmax %xs axis = -1 : tensor<2x4x4x4xf32>
  %ps = shard.shard %p to %s annotate_for_users : tensor<2x4x4x4xf32>
  return %ps : tensor<2x4x4x4xf32>
}

// -----

// Tests that a split along the normalised axis is gathered first: a row's
// softmax needs all of its entries (here its users want it whole).
// CHECK-LABEL: func.func @along_axis(
// CHECK-SAME: %[[X:.*]]: tensor<4x4xf32>) -> tensor<4x8xf32>
// CHECK-NEXT: %[[G:.*]] = shard.all_gather %[[X]] on @tp grid_axes = [0] gather_axis = 1 : tensor<4x4xf32> -> tensor<4x8xf32>
// CHECK-NEXT: %[[P:.*]] = llm.softmax %[[G]] axis = 1 : tensor<4x8xf32>
// CHECK-NEXT: return %[[P]]
shard.grid @tp(shape = 2)
func.func @along_axis(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %s = shard.sharding @tp split_axes = [[], [0]] : !shard.sharding
  %xs = shard.shard %x to %s : tensor<4x8xf32>
  %p = llm.softmax %xs axis = 1 : tensor<4x8xf32>
  %r = shard.sharding @tp split_axes = [[]] : !shard.sharding
  %pr = shard.shard %p to %r annotate_for_users : tensor<4x8xf32>
  return %pr : tensor<4x8xf32>
}

// -----

// Tests that the gradient splits as the forward does: dout and the saved
// output split by rows give each rank its rows of the input gradient.
// CHECK-LABEL: func.func @grad(
// CHECK-SAME: %[[DY:.*]]: tensor<2x8xf32>, %[[Y:.*]]: tensor<2x8xf32>) -> tensor<2x8xf32>
// CHECK-NEXT: %[[DX:.*]] = llm.softmax_grad %[[DY]], %[[Y]] axis = -1 : tensor<2x8xf32>
// CHECK-NEXT: return %[[DX]]
shard.grid @tp(shape = 2)
func.func @grad(%dy: tensor<4x8xf32>, %y: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %s = shard.sharding @tp split_axes = [[0]] : !shard.sharding
  %dys = shard.shard %dy to %s : tensor<4x8xf32>
  %ys = shard.shard %y to %s : tensor<4x8xf32>
  %dx = llm.softmax_grad %dys, %ys axis = -1 : tensor<4x8xf32>
  %dxs = shard.shard %dx to %s annotate_for_users : tensor<4x8xf32>
  return %dxs : tensor<4x8xf32>
}
