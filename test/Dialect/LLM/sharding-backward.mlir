// RUN: llmc-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(sharding-propagation,cse,shard-partition,canonicalize))" | FileCheck %s

// Tests GSPMD's way on GPT-2's MLP: differentiate on one device, then let
// upstream sharding-propagation and shard-partition split the whole
// training computation. The body is what llmc-autodiff makes of the MLP
// (forward, then the gradients of the output `dy`: the bias gradient as
// sum_to, the weight gradients as transposed matmuls, gelu_grad). The
// annotations are what such a pass adds: every argument once (replicated
// unless it is a Megatron-split weight), and each weight gradient with its
// weight's split. From them alone comes Megatron's MLP, backward included:
// exactly two all-reduces, of fc2's partial output (g) and of fc1's partial
// input gradient (f's dual), and every weight and bias gradient a local
// shard.
// CHECK-LABEL: func.func @gpt2_mlp_grad(
// CHECK-SAME: %[[X:[^:]*]]: tensor<4x8xf32>, %[[W1:[^:]*]]: tensor<8x16xf32>, %[[B1:[^:]*]]: tensor<16xf32>, %[[W2:[^:]*]]: tensor<16x8xf32>, %[[B2:[^:]*]]: tensor<8xf32>, %[[DY:[^:]*]]: tensor<4x8xf32>)
// CHECK-SAME: -> (tensor<4x8xf32>, tensor<8x16xf32>, tensor<16xf32>, tensor<16x8xf32>, tensor<8xf32>, tensor<4x8xf32>)
// CHECK: %[[H:.*]] = llm.matmul %[[X]], %[[W1]], %[[B1]] : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
// CHECK: %[[G:.*]] = llm.gelu %[[H]]
// CHECK: %[[P:.*]] = llm.matmul %[[G]], %[[W2]] : (tensor<4x16xf32>, tensor<16x8xf32>) -> tensor<4x8xf32>
// CHECK: %[[S:.*]] = shard.all_reduce %[[P]] on @tp grid_axes = [0]
// CHECK: %[[Y:.*]] = llm.add %[[S]], %[[B2]]
// CHECK: %[[DB2:.*]] = llm.sum_to %[[DY]] : tensor<4x8xf32> -> tensor<8xf32>
// CHECK: %[[DG:.*]] = llm.matmul %[[DY]], %[[W2]] transpose_rhs : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
// CHECK: %[[DW2:.*]] = llm.matmul %[[G]], %[[DY]] transpose_lhs : (tensor<4x16xf32>, tensor<4x8xf32>) -> tensor<16x8xf32>
// CHECK: %[[DH:.*]] = llm.gelu_grad %[[DG]], %[[H]] approximate = tanh : tensor<4x16xf32>
// CHECK: %[[DXP:.*]] = llm.matmul %[[DH]], %[[W1]] transpose_rhs : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
// CHECK: %[[DX:.*]] = shard.all_reduce %[[DXP]] on @tp grid_axes = [0]
// CHECK: %[[DW1:.*]] = llm.matmul %[[X]], %[[DH]] transpose_lhs : (tensor<4x8xf32>, tensor<4x16xf32>) -> tensor<8x16xf32>
// CHECK: %[[DB1:.*]] = llm.sum_to %[[DH]] : tensor<4x16xf32> -> tensor<16xf32>
// CHECK-NOT: shard.
// CHECK: return %[[Y]], %[[DW1]], %[[DB1]], %[[DW2]], %[[DB2]], %[[DX]]
shard.grid @tp(shape = 2)
func.func @gpt2_mlp_grad(%x: tensor<4x8xf32>, %w1: tensor<8x32xf32>, %b1: tensor<32xf32>, %w2: tensor<32x8xf32>, %b2: tensor<8xf32>, %dy: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<8x32xf32>, tensor<32xf32>, tensor<32x8xf32>, tensor<8xf32>, tensor<4x8xf32>) {
  %rep = shard.sharding @tp split_axes = [[]] : !shard.sharding
  %xs = shard.shard %x to %rep : tensor<4x8xf32>
  %dys = shard.shard %dy to %rep : tensor<4x8xf32>
  %b2s = shard.shard %b2 to %rep : tensor<8xf32>
  %col = shard.sharding @tp split_axes = [[], [0]] : !shard.sharding
  %w1s = shard.shard %w1 to %col : tensor<8x32xf32>
  %vec = shard.sharding @tp split_axes = [[0]] : !shard.sharding
  %b1s = shard.shard %b1 to %vec : tensor<32xf32>
  %row = shard.sharding @tp split_axes = [[0], []] : !shard.sharding
  %w2s = shard.shard %w2 to %row : tensor<32x8xf32>
  %0 = llm.matmul %xs, %w1s, %b1s : (tensor<4x8xf32>, tensor<8x32xf32>, tensor<32xf32>) -> tensor<4x32xf32>
  %1 = llm.gelu %0 approximate = tanh : tensor<4x32xf32>
  %2 = llm.matmul %1, %w2s : (tensor<4x32xf32>, tensor<32x8xf32>) -> tensor<4x8xf32>
  %3 = llm.add %2, %b2s : tensor<4x8xf32>, tensor<8xf32>
  %4 = llm.sum_to %dys : tensor<4x8xf32> -> tensor<8xf32>
  %5 = llm.matmul %dys, %w2s transpose_rhs : (tensor<4x8xf32>, tensor<32x8xf32>) -> tensor<4x32xf32>
  %6 = llm.matmul %1, %dys transpose_lhs : (tensor<4x32xf32>, tensor<4x8xf32>) -> tensor<32x8xf32>
  %7 = llm.gelu_grad %5, %0 approximate = tanh : tensor<4x32xf32>
  %8 = llm.matmul %7, %w1s transpose_rhs : (tensor<4x32xf32>, tensor<8x32xf32>) -> tensor<4x8xf32>
  %9 = llm.matmul %xs, %7 transpose_lhs : (tensor<4x8xf32>, tensor<4x32xf32>) -> tensor<8x32xf32>
  %10 = llm.sum_to %7 : tensor<4x32xf32> -> tensor<32xf32>
  %dw1 = shard.shard %9 to %col : tensor<8x32xf32>
  %db1 = shard.shard %10 to %vec : tensor<32xf32>
  %dw2 = shard.shard %6 to %row : tensor<32x8xf32>
  return %3, %dw1, %db1, %dw2, %4, %8 : tensor<4x8xf32>, tensor<8x32xf32>, tensor<32xf32>, tensor<32x8xf32>, tensor<8xf32>, tensor<4x8xf32>
}

// -----

// Tests data parallelism the same way: with the rows of the output gradient
// split over @dp, the bias gradient's sum over rows is partial on each rank,
// and its partition completes it with one all-reduce: the gradient
// all-reduce of data parallelism, derived.
// CHECK-LABEL: func.func @bias_grad_dp(
// CHECK-SAME: %[[DY:[^:]*]]: tensor<2x8xf32>) -> tensor<8xf32>
// CHECK: %[[P:.*]] = llm.sum_to %[[DY]] : tensor<2x8xf32> -> tensor<8xf32>
// CHECK: %[[S:.*]] = shard.all_reduce %[[P]] on @dp grid_axes = [0] : tensor<8xf32> -> tensor<8xf32>
// CHECK: return %[[S]]
shard.grid @dp(shape = 2)
func.func @bias_grad_dp(%dy: tensor<4x8xf32>) -> tensor<8xf32> {
  %rows = shard.sharding @dp split_axes = [[0]] : !shard.sharding
  %dys = shard.shard %dy to %rows : tensor<4x8xf32>
  %db = llm.sum_to %dys : tensor<4x8xf32> -> tensor<8xf32>
  %rep = shard.sharding @dp split_axes = [[]] : !shard.sharding
  %dbs = shard.shard %db to %rep : tensor<8xf32>
  return %dbs : tensor<8xf32>
}
