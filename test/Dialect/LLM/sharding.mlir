// RUN: llmc-opt %s --split-input-file --verify-diagnostics --pass-pipeline="builtin.module(func.func(sharding-propagation,cse,shard-partition,canonicalize))" | FileCheck %s

// Tests the ShardingInterface models of llm ops with upstream
// sharding-propagation and shard-partition: from the weights' Megatron
// splits alone, GPT-2's MLP becomes a column-parallel fc1 (its bias split
// with it), a local gelu, a row-parallel fc2 whose partial sums one
// all_reduce completes, and the fc2 bias added once after it, which is the
// MLP frontends/hf/ModelBuilder.cpp builds for tp=2.
// CHECK-LABEL: func.func @gpt2_mlp(
// CHECK-SAME: %[[X:.*]]: tensor<2x4x8xf32>, %[[W1:.*]]: tensor<8x16xf32>, %[[B1:.*]]: tensor<16xf32>, %[[W2:.*]]: tensor<16x8xf32>, %[[B2:.*]]: tensor<8xf32>)
// CHECK: %[[H:.*]] = llm.matmul %[[X]], %[[W1]], %[[B1]] : (tensor<2x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
// CHECK: %[[G:.*]] = llm.gelu %[[H]] approximate = tanh : tensor<2x4x16xf32>
// CHECK: %[[P:.*]] = llm.matmul %[[G]], %[[W2]] : (tensor<2x4x16xf32>, tensor<16x8xf32>) -> tensor<2x4x8xf32>
// CHECK: %[[S:.*]] = shard.all_reduce %[[P]] on @tp grid_axes = [0] : tensor<2x4x8xf32> -> tensor<2x4x8xf32>
// CHECK-NOT: shard.all_reduce
// CHECK: %[[Y:.*]] = llm.add %[[S]], %[[B2]] : tensor<2x4x8xf32>, tensor<8xf32>
// CHECK: return %[[Y]]
shard.grid @tp(shape = 2)
func.func @gpt2_mlp(%x: tensor<2x4x8xf32>, %w1: tensor<8x32xf32>, %b1: tensor<32xf32>, %w2: tensor<32x8xf32>, %b2: tensor<8xf32>) -> tensor<2x4x8xf32> {
  %col = shard.sharding @tp split_axes = [[], [0]] : !shard.sharding
  %w1s = shard.shard %w1 to %col : tensor<8x32xf32>
  %vec = shard.sharding @tp split_axes = [[0]] : !shard.sharding
  %b1s = shard.shard %b1 to %vec : tensor<32xf32>
  %h = llm.matmul %x, %w1s, %b1s : (tensor<2x4x8xf32>, tensor<8x32xf32>, tensor<32xf32>) -> tensor<2x4x32xf32>
  %g = llm.gelu %h approximate = tanh : tensor<2x4x32xf32>
  %row = shard.sharding @tp split_axes = [[0], []] : !shard.sharding
  %w2s = shard.shard %w2 to %row : tensor<32x8xf32>
  %y = llm.matmul %g, %w2s : (tensor<2x4x32xf32>, tensor<32x8xf32>) -> tensor<2x4x8xf32>
  %z = llm.add %y, %b2 : tensor<2x4x8xf32>, tensor<8xf32>
  return %z : tensor<2x4x8xf32>
}

// -----

// Tests LLaMA's MLP, whose nn.Linear weights are out x in (transpose_rhs):
// gate and up split their rows, down its columns, and swiglu stays local.
// CHECK-LABEL: func.func @llama_mlp(
// CHECK: %[[G:.*]] = llm.matmul %{{.*}}, %{{.*}} transpose_rhs : (tensor<2x4x8xf32>, tensor<12x8xf32>) -> tensor<2x4x12xf32>
// CHECK: %[[U:.*]] = llm.matmul %{{.*}}, %{{.*}} transpose_rhs : (tensor<2x4x8xf32>, tensor<12x8xf32>) -> tensor<2x4x12xf32>
// CHECK: %[[S:.*]] = llm.swiglu %[[G]], %[[U]] : tensor<2x4x12xf32>
// CHECK: %[[D:.*]] = llm.matmul %[[S]], %{{.*}} transpose_rhs : (tensor<2x4x12xf32>, tensor<8x12xf32>) -> tensor<2x4x8xf32>
// CHECK: shard.all_reduce %[[D]] on @tp grid_axes = [0]
shard.grid @tp(shape = 2)
func.func @llama_mlp(%x: tensor<2x4x8xf32>, %gate: tensor<24x8xf32>, %up: tensor<24x8xf32>, %down: tensor<8x24xf32>) -> tensor<2x4x8xf32> {
  %rows = shard.sharding @tp split_axes = [[0], []] : !shard.sharding
  %gs = shard.shard %gate to %rows : tensor<24x8xf32>
  %us = shard.shard %up to %rows : tensor<24x8xf32>
  %cols = shard.sharding @tp split_axes = [[], [0]] : !shard.sharding
  %ds = shard.shard %down to %cols : tensor<8x24xf32>
  %g = llm.matmul %x, %gs transpose_rhs : (tensor<2x4x8xf32>, tensor<24x8xf32>) -> tensor<2x4x24xf32>
  %u = llm.matmul %x, %us transpose_rhs : (tensor<2x4x8xf32>, tensor<24x8xf32>) -> tensor<2x4x24xf32>
  %s = llm.swiglu %g, %u : tensor<2x4x24xf32>
  %y = llm.matmul %s, %ds transpose_rhs : (tensor<2x4x24xf32>, tensor<8x24xf32>) -> tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

// Tests a row-parallel matmul with its bias inside: the bias is added once,
// after the partial sums are all-reduced (not once per rank).
// CHECK-LABEL: func.func @bias_in_split_k(
// CHECK-SAME: %[[X:.*]]: tensor<4x16xf32>, %[[W:.*]]: tensor<16x8xf32>, %[[B:.*]]: tensor<8xf32>)
// CHECK: %[[P:.*]] = llm.matmul %[[X]], %[[W]] : (tensor<4x16xf32>, tensor<16x8xf32>) -> tensor<4x8xf32>
// CHECK: %[[S:.*]] = shard.all_reduce %[[P]] on @tp grid_axes = [0] : tensor<4x8xf32> -> tensor<4x8xf32>
// CHECK: llm.add %[[S]], %[[B]] : tensor<4x8xf32>, tensor<8xf32>
shard.grid @tp(shape = 2)
func.func @bias_in_split_k(%x: tensor<4x32xf32>, %w: tensor<32x8xf32>, %b: tensor<8xf32>) -> tensor<4x8xf32> {
  %row = shard.sharding @tp split_axes = [[0], []] : !shard.sharding
  %ws = shard.shard %w to %row : tensor<32x8xf32>
  %y = llm.matmul %x, %ws, %b : (tensor<4x32xf32>, tensor<32x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}
