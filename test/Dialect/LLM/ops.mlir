// RUN: llmc-opt %s --split-input-file | llmc-opt --split-input-file | FileCheck %s
// RUN: llmc-opt %s --split-input-file --mlir-print-op-generic | llmc-opt --split-input-file | FileCheck %s

// Tests that an embedding lookup round-trips and appends the hidden size to
// the shape of the ids.
// CHECK-LABEL: func.func @embedding(
// CHECK-SAME:      %[[TABLE:.*]]: tensor<64x16xf32>, %[[IDS:.*]]: tensor<2x8xi32>) -> tensor<2x8x16xf32>
// CHECK:           %[[RES:.*]] = llm.embedding %[[TABLE]][%[[IDS]]] : (tensor<64x16xf32>, tensor<2x8xi32>) -> tensor<2x8x16xf32>
// CHECK-NEXT:      return %[[RES]] : tensor<2x8x16xf32>
func.func @embedding(%table: tensor<64x16xf32>, %ids: tensor<2x8xi32>) -> tensor<2x8x16xf32> {
  %0 = llm.embedding %table[%ids] : (tensor<64x16xf32>, tensor<2x8xi32>) -> tensor<2x8x16xf32>
  return %0 : tensor<2x8x16xf32>
}

// -----

// Tests that an embedding lookup round-trips with a bf16 table and i64 ids.
// CHECK-LABEL: func.func @embedding_bf16_i64(
// CHECK-SAME:      %[[TABLE:.*]]: tensor<64x16xbf16>, %[[IDS:.*]]: tensor<8xi64>) -> tensor<8x16xbf16>
// CHECK:           %[[RES:.*]] = llm.embedding %[[TABLE]][%[[IDS]]] : (tensor<64x16xbf16>, tensor<8xi64>) -> tensor<8x16xbf16>
// CHECK-NEXT:      return %[[RES]] : tensor<8x16xbf16>
func.func @embedding_bf16_i64(%table: tensor<64x16xbf16>, %ids: tensor<8xi64>) -> tensor<8x16xbf16> {
  %0 = llm.embedding %table[%ids] : (tensor<64x16xbf16>, tensor<8xi64>) -> tensor<8x16xbf16>
  return %0 : tensor<8x16xbf16>
}

// -----

// Tests that a plain matmul without bias or transposes round-trips.
// CHECK-LABEL: func.func @matmul(
// CHECK-SAME:      %[[LHS:.*]]: tensor<4x8xf32>, %[[RHS:.*]]: tensor<8x16xf32>) -> tensor<4x16xf32>
// CHECK:           %[[RES:.*]] = llm.matmul %[[LHS]], %[[RHS]] : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
// CHECK-NEXT:      return %[[RES]] : tensor<4x16xf32>
func.func @matmul(%lhs: tensor<4x8xf32>, %rhs: tensor<8x16xf32>) -> tensor<4x16xf32> {
  %0 = llm.matmul %lhs, %rhs : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// Tests that a matmul with a bias round-trips (GPT-2's Conv1D layout).
// CHECK-LABEL: func.func @matmul_bias(
// CHECK-SAME:      %[[LHS:.*]]: tensor<4x8xf32>, %[[RHS:.*]]: tensor<8x16xf32>, %[[BIAS:.*]]: tensor<16xf32>) -> tensor<4x16xf32>
// CHECK:           %[[RES:.*]] = llm.matmul %[[LHS]], %[[RHS]], %[[BIAS]] : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
// CHECK-NEXT:      return %[[RES]] : tensor<4x16xf32>
func.func @matmul_bias(%lhs: tensor<4x8xf32>, %rhs: tensor<8x16xf32>, %bias: tensor<16xf32>) -> tensor<4x16xf32> {
  %0 = llm.matmul %lhs, %rhs, %bias : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// Tests that transpose_lhs round-trips and swaps M and K of the lhs.
// CHECK-LABEL: func.func @matmul_transpose_lhs(
// CHECK-SAME:      %[[LHS:.*]]: tensor<8x4xf32>, %[[RHS:.*]]: tensor<8x16xf32>) -> tensor<4x16xf32>
// CHECK:           %[[RES:.*]] = llm.matmul %[[LHS]], %[[RHS]] transpose_lhs : (tensor<8x4xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
// CHECK-NEXT:      return %[[RES]] : tensor<4x16xf32>
func.func @matmul_transpose_lhs(%lhs: tensor<8x4xf32>, %rhs: tensor<8x16xf32>) -> tensor<4x16xf32> {
  %0 = llm.matmul %lhs, %rhs transpose_lhs : (tensor<8x4xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// Tests that transpose_rhs round-trips with a bias: a Hugging Face
// nn.Linear, whose weight is out x in.
// CHECK-LABEL: func.func @matmul_transpose_rhs(
// CHECK-SAME:      %[[LHS:.*]]: tensor<4x8xf32>, %[[RHS:.*]]: tensor<16x8xf32>, %[[BIAS:.*]]: tensor<16xf32>) -> tensor<4x16xf32>
// CHECK:           %[[RES:.*]] = llm.matmul %[[LHS]], %[[RHS]], %[[BIAS]] transpose_rhs : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
// CHECK-NEXT:      return %[[RES]] : tensor<4x16xf32>
func.func @matmul_transpose_rhs(%lhs: tensor<4x8xf32>, %rhs: tensor<16x8xf32>, %bias: tensor<16xf32>) -> tensor<4x16xf32> {
  %0 = llm.matmul %lhs, %rhs, %bias transpose_rhs : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// Tests that both transposes round-trip together, printed in the order
// transpose_lhs, transpose_rhs.
// CHECK-LABEL: func.func @matmul_transpose_both(
// CHECK-SAME:      %[[LHS:.*]]: tensor<8x4xf32>, %[[RHS:.*]]: tensor<16x8xf32>) -> tensor<4x16xf32>
// CHECK:           %[[RES:.*]] = llm.matmul %[[LHS]], %[[RHS]] transpose_lhs transpose_rhs : (tensor<8x4xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
// CHECK-NEXT:      return %[[RES]] : tensor<4x16xf32>
func.func @matmul_transpose_both(%lhs: tensor<8x4xf32>, %rhs: tensor<16x8xf32>) -> tensor<4x16xf32> {
  %0 = llm.matmul %lhs, %rhs transpose_lhs transpose_rhs : (tensor<8x4xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// Tests that a batched lhs with a rank-2 rhs shared by every batch (a weight)
// round-trips and keeps the batch dimensions of the lhs.
// CHECK-LABEL: func.func @matmul_batch_shared_rhs(
// CHECK-SAME:      %[[LHS:.*]]: tensor<2x4x8xf32>, %[[RHS:.*]]: tensor<8x16xf32>, %[[BIAS:.*]]: tensor<16xf32>) -> tensor<2x4x16xf32>
// CHECK:           %[[RES:.*]] = llm.matmul %[[LHS]], %[[RHS]], %[[BIAS]] : (tensor<2x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
// CHECK-NEXT:      return %[[RES]] : tensor<2x4x16xf32>
func.func @matmul_batch_shared_rhs(%lhs: tensor<2x4x8xf32>, %rhs: tensor<8x16xf32>, %bias: tensor<16xf32>) -> tensor<2x4x16xf32> {
  %0 = llm.matmul %lhs, %rhs, %bias : (tensor<2x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
  return %0 : tensor<2x4x16xf32>
}

// -----

// Tests that a matmul whose rhs has the batch dimensions of the lhs
// round-trips, here in f16 with transpose_rhs (the scores q·kᵀ).
// CHECK-LABEL: func.func @matmul_batched_rhs(
// CHECK-SAME:      %[[LHS:.*]]: tensor<2x3x4x8xf16>, %[[RHS:.*]]: tensor<2x3x5x8xf16>) -> tensor<2x3x4x5xf16>
// CHECK:           %[[RES:.*]] = llm.matmul %[[LHS]], %[[RHS]] transpose_rhs : (tensor<2x3x4x8xf16>, tensor<2x3x5x8xf16>) -> tensor<2x3x4x5xf16>
// CHECK-NEXT:      return %[[RES]] : tensor<2x3x4x5xf16>
func.func @matmul_batched_rhs(%lhs: tensor<2x3x4x8xf16>, %rhs: tensor<2x3x5x8xf16>) -> tensor<2x3x4x5xf16> {
  %0 = llm.matmul %lhs, %rhs transpose_rhs : (tensor<2x3x4x8xf16>, tensor<2x3x5x8xf16>) -> tensor<2x3x4x5xf16>
  return %0 : tensor<2x3x4x5xf16>
}

// -----

// Tests that an add of two tensors of one shape round-trips.
// CHECK-LABEL: func.func @add(
// CHECK-SAME:      %[[LHS:.*]]: tensor<2x4x8xf32>, %[[RHS:.*]]: tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
// CHECK:           %[[RES:.*]] = llm.add %[[LHS]], %[[RHS]] : tensor<2x4x8xf32>, tensor<2x4x8xf32>
// CHECK-NEXT:      return %[[RES]] : tensor<2x4x8xf32>
func.func @add(%lhs: tensor<2x4x8xf32>, %rhs: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  %0 = llm.add %lhs, %rhs : tensor<2x4x8xf32>, tensor<2x4x8xf32>
  return %0 : tensor<2x4x8xf32>
}

// -----

// Tests that an add whose rhs is a suffix of the lhs shape (a position
// embedding added to every batch row) round-trips with the lhs type.
// CHECK-LABEL: func.func @add_suffix_broadcast(
// CHECK-SAME:      %[[LHS:.*]]: tensor<2x4x8xf32>, %[[RHS:.*]]: tensor<4x8xf32>) -> tensor<2x4x8xf32>
// CHECK:           %[[RES:.*]] = llm.add %[[LHS]], %[[RHS]] : tensor<2x4x8xf32>, tensor<4x8xf32>
// CHECK-NEXT:      return %[[RES]] : tensor<2x4x8xf32>
func.func @add_suffix_broadcast(%lhs: tensor<2x4x8xf32>, %rhs: tensor<4x8xf32>) -> tensor<2x4x8xf32> {
  %0 = llm.add %lhs, %rhs : tensor<2x4x8xf32>, tensor<4x8xf32>
  return %0 : tensor<2x4x8xf32>
}

// -----

// Tests that a mul of two tensors of one shape round-trips.
// CHECK-LABEL: func.func @mul(
// CHECK-SAME:      %[[LHS:.*]]: tensor<2x4x8xbf16>, %[[RHS:.*]]: tensor<2x4x8xbf16>) -> tensor<2x4x8xbf16>
// CHECK:           %[[RES:.*]] = llm.mul %[[LHS]], %[[RHS]] : tensor<2x4x8xbf16>, tensor<2x4x8xbf16>
// CHECK-NEXT:      return %[[RES]] : tensor<2x4x8xbf16>
func.func @mul(%lhs: tensor<2x4x8xbf16>, %rhs: tensor<2x4x8xbf16>) -> tensor<2x4x8xbf16> {
  %0 = llm.mul %lhs, %rhs : tensor<2x4x8xbf16>, tensor<2x4x8xbf16>
  return %0 : tensor<2x4x8xbf16>
}

// -----

// Tests that a mul by a vector over the last dimension (a suffix of the lhs
// shape) round-trips with the lhs type.
// CHECK-LABEL: func.func @mul_suffix_broadcast(
// CHECK-SAME:      %[[LHS:.*]]: tensor<2x4x8xf32>, %[[RHS:.*]]: tensor<8xf32>) -> tensor<2x4x8xf32>
// CHECK:           %[[RES:.*]] = llm.mul %[[LHS]], %[[RHS]] : tensor<2x4x8xf32>, tensor<8xf32>
// CHECK-NEXT:      return %[[RES]] : tensor<2x4x8xf32>
func.func @mul_suffix_broadcast(%lhs: tensor<2x4x8xf32>, %rhs: tensor<8xf32>) -> tensor<2x4x8xf32> {
  %0 = llm.mul %lhs, %rhs : tensor<2x4x8xf32>, tensor<8xf32>
  return %0 : tensor<2x4x8xf32>
}

// -----

// Tests that gelu with the tanh approximation (GPT-2's gelu_new) round-trips.
// CHECK-LABEL: func.func @gelu_tanh(
// CHECK-SAME:      %[[X:.*]]: tensor<2x4x32xf32>) -> tensor<2x4x32xf32>
// CHECK:           %[[RES:.*]] = llm.gelu %[[X]] approximate = tanh : tensor<2x4x32xf32>
// CHECK-NEXT:      return %[[RES]] : tensor<2x4x32xf32>
func.func @gelu_tanh(%x: tensor<2x4x32xf32>) -> tensor<2x4x32xf32> {
  %0 = llm.gelu %x approximate = tanh : tensor<2x4x32xf32>
  return %0 : tensor<2x4x32xf32>
}

// -----

// Tests that exact (erf) gelu round-trips.
// CHECK-LABEL: func.func @gelu_none(
// CHECK-SAME:      %[[X:.*]]: tensor<2x4x32xf32>) -> tensor<2x4x32xf32>
// CHECK:           %[[RES:.*]] = llm.gelu %[[X]] approximate = none : tensor<2x4x32xf32>
// CHECK-NEXT:      return %[[RES]] : tensor<2x4x32xf32>
func.func @gelu_none(%x: tensor<2x4x32xf32>) -> tensor<2x4x32xf32> {
  %0 = llm.gelu %x approximate = none : tensor<2x4x32xf32>
  return %0 : tensor<2x4x32xf32>
}

// -----

// Tests that silu round-trips.
// CHECK-LABEL: func.func @silu(
// CHECK-SAME:      %[[X:.*]]: tensor<2x4x24xf32>) -> tensor<2x4x24xf32>
// CHECK:           %[[RES:.*]] = llm.silu %[[X]] : tensor<2x4x24xf32>
// CHECK-NEXT:      return %[[RES]] : tensor<2x4x24xf32>
func.func @silu(%x: tensor<2x4x24xf32>) -> tensor<2x4x24xf32> {
  %0 = llm.silu %x : tensor<2x4x24xf32>
  return %0 : tensor<2x4x24xf32>
}

// -----

// Tests that swiglu of a gate and an up projection round-trips.
// CHECK-LABEL: func.func @swiglu(
// CHECK-SAME:      %[[GATE:.*]]: tensor<2x4x24xbf16>, %[[UP:.*]]: tensor<2x4x24xbf16>) -> tensor<2x4x24xbf16>
// CHECK:           %[[RES:.*]] = llm.swiglu %[[GATE]], %[[UP]] : tensor<2x4x24xbf16>
// CHECK-NEXT:      return %[[RES]] : tensor<2x4x24xbf16>
func.func @swiglu(%gate: tensor<2x4x24xbf16>, %up: tensor<2x4x24xbf16>) -> tensor<2x4x24xbf16> {
  %0 = llm.swiglu %gate, %up : tensor<2x4x24xbf16>
  return %0 : tensor<2x4x24xbf16>
}

// -----

// Tests that layer_norm round-trips with its epsilon.
// CHECK-LABEL: func.func @layer_norm(
// CHECK-SAME:      %[[X:.*]]: tensor<2x4x8xf32>, %[[W:.*]]: tensor<8xf32>, %[[B:.*]]: tensor<8xf32>) -> tensor<2x4x8xf32>
// CHECK:           %[[RES:.*]] = llm.layer_norm %[[X]], %[[W]], %[[B]] {epsilon = 1.000000e-05 : f64} : (tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
// CHECK-NEXT:      return %[[RES]] : tensor<2x4x8xf32>
func.func @layer_norm(%x: tensor<2x4x8xf32>, %w: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<2x4x8xf32> {
  %0 = llm.layer_norm %x, %w, %b {epsilon = 1.0e-05 : f64} : (tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
  return %0 : tensor<2x4x8xf32>
}

// -----

// Tests that rms_norm round-trips in bf16 with its epsilon.
// CHECK-LABEL: func.func @rms_norm(
// CHECK-SAME:      %[[X:.*]]: tensor<2x4x8xbf16>, %[[W:.*]]: tensor<8xbf16>) -> tensor<2x4x8xbf16>
// CHECK:           %[[RES:.*]] = llm.rms_norm %[[X]], %[[W]] {epsilon = 1.000000e-05 : f64} : (tensor<2x4x8xbf16>, tensor<8xbf16>) -> tensor<2x4x8xbf16>
// CHECK-NEXT:      return %[[RES]] : tensor<2x4x8xbf16>
func.func @rms_norm(%x: tensor<2x4x8xbf16>, %w: tensor<8xbf16>) -> tensor<2x4x8xbf16> {
  %0 = llm.rms_norm %x, %w {epsilon = 1.0e-05 : f64} : (tensor<2x4x8xbf16>, tensor<8xbf16>) -> tensor<2x4x8xbf16>
  return %0 : tensor<2x4x8xbf16>
}

// -----

// Tests that softmax round-trips with a negative axis and with a
// non-negative one.
// CHECK-LABEL: func.func @softmax(
// CHECK-SAME:      %[[X:.*]]: tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
// CHECK:           %[[LAST:.*]] = llm.softmax %[[X]] axis = -1 : tensor<2x4x8x8xf32>
// CHECK-NEXT:      %[[RES:.*]] = llm.softmax %[[LAST]] axis = 2 : tensor<2x4x8x8xf32>
// CHECK-NEXT:      return %[[RES]] : tensor<2x4x8x8xf32>
func.func @softmax(%x: tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32> {
  %0 = llm.softmax %x axis = -1 : tensor<2x4x8x8xf32>
  %1 = llm.softmax %0 axis = 2 : tensor<2x4x8x8xf32>
  return %1 : tensor<2x4x8x8xf32>
}

// -----

// Tests that causal multi-head attention (Hq = Hkv) round-trips.
// CHECK-LABEL: func.func @attention_causal(
// CHECK-SAME:      %[[Q:.*]]: tensor<2x4x8x16xf32>, %[[K:.*]]: tensor<2x4x8x16xf32>, %[[V:.*]]: tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
// CHECK:           %[[RES:.*]] = llm.attention %[[Q]], %[[K]], %[[V]] causal : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
// CHECK-NEXT:      return %[[RES]] : tensor<2x4x8x16xf32>
func.func @attention_causal(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32> {
  %0 = llm.attention %q, %k, %v causal : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %0 : tensor<2x4x8x16xf32>
}

// -----

// Tests that non-causal attention round-trips without the causal keyword,
// including a query longer than the keys (allowed without a mask).
// CHECK-LABEL: func.func @attention_non_causal(
// CHECK-SAME:      %[[Q:.*]]: tensor<2x4x8x16xf32>, %[[K:.*]]: tensor<2x4x6x16xf32>, %[[V:.*]]: tensor<2x4x6x16xf32>) -> tensor<2x4x8x16xf32>
// CHECK:           %[[RES:.*]] = llm.attention %[[Q]], %[[K]], %[[V]] : (tensor<2x4x8x16xf32>, tensor<2x4x6x16xf32>, tensor<2x4x6x16xf32>) -> tensor<2x4x8x16xf32>
// CHECK-NEXT:      return %[[RES]] : tensor<2x4x8x16xf32>
func.func @attention_non_causal(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x6x16xf32>, %v: tensor<2x4x6x16xf32>) -> tensor<2x4x8x16xf32> {
  %0 = llm.attention %q, %k, %v : (tensor<2x4x8x16xf32>, tensor<2x4x6x16xf32>, tensor<2x4x6x16xf32>) -> tensor<2x4x8x16xf32>
  return %0 : tensor<2x4x8x16xf32>
}

// -----

// Tests that grouped-query attention with 8 query heads over 2 kv heads
// round-trips in f16; the result has the query heads.
// CHECK-LABEL: func.func @attention_grouped_query(
// CHECK-SAME:      %[[Q:.*]]: tensor<1x8x16x8xf16>, %[[K:.*]]: tensor<1x2x16x8xf16>, %[[V:.*]]: tensor<1x2x16x8xf16>) -> tensor<1x8x16x8xf16>
// CHECK:           %[[RES:.*]] = llm.attention %[[Q]], %[[K]], %[[V]] causal : (tensor<1x8x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>) -> tensor<1x8x16x8xf16>
// CHECK-NEXT:      return %[[RES]] : tensor<1x8x16x8xf16>
func.func @attention_grouped_query(%q: tensor<1x8x16x8xf16>, %k: tensor<1x2x16x8xf16>, %v: tensor<1x2x16x8xf16>) -> tensor<1x8x16x8xf16> {
  %0 = llm.attention %q, %k, %v causal : (tensor<1x8x16x8xf16>, tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>) -> tensor<1x8x16x8xf16>
  return %0 : tensor<1x8x16x8xf16>
}

// -----

// Tests that an explicit softmax scale round-trips in the attribute
// dictionary after the causal keyword.
// CHECK-LABEL: func.func @attention_scale(
// CHECK-SAME:      %[[Q:.*]]: tensor<2x4x8x16xf32>, %[[K:.*]]: tensor<2x4x8x16xf32>, %[[V:.*]]: tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
// CHECK:           %[[RES:.*]] = llm.attention %[[Q]], %[[K]], %[[V]] causal {scale = 1.250000e-01 : f64} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
// CHECK-NEXT:      return %[[RES]] : tensor<2x4x8x16xf32>
func.func @attention_scale(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32> {
  %0 = llm.attention %q, %k, %v causal {scale = 0.125 : f64} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %0 : tensor<2x4x8x16xf32>
}

// -----

// Tests that causal attention with a query shorter than the keys (a decode
// step over a KV cache, Tq = 1 < Tk = 12) round-trips.
// CHECK-LABEL: func.func @attention_causal_decode(
// CHECK-SAME:      %[[Q:.*]]: tensor<2x4x1x16xf32>, %[[K:.*]]: tensor<2x4x12x16xf32>, %[[V:.*]]: tensor<2x4x12x16xf32>) -> tensor<2x4x1x16xf32>
// CHECK:           %[[RES:.*]] = llm.attention %[[Q]], %[[K]], %[[V]] causal : (tensor<2x4x1x16xf32>, tensor<2x4x12x16xf32>, tensor<2x4x12x16xf32>) -> tensor<2x4x1x16xf32>
// CHECK-NEXT:      return %[[RES]] : tensor<2x4x1x16xf32>
func.func @attention_causal_decode(%q: tensor<2x4x1x16xf32>, %k: tensor<2x4x12x16xf32>, %v: tensor<2x4x12x16xf32>) -> tensor<2x4x1x16xf32> {
  %0 = llm.attention %q, %k, %v causal : (tensor<2x4x1x16xf32>, tensor<2x4x12x16xf32>, tensor<2x4x12x16xf32>) -> tensor<2x4x1x16xf32>
  return %0 : tensor<2x4x1x16xf32>
}

// -----

// Tests that attention whose value head_dim differs from the query/key
// head_dim round-trips; the result takes the value head_dim.
// CHECK-LABEL: func.func @attention_value_head_dim(
// CHECK-SAME:      %[[Q:.*]]: tensor<1x4x8x16xf32>, %[[K:.*]]: tensor<1x4x8x16xf32>, %[[V:.*]]: tensor<1x4x8x32xf32>) -> tensor<1x4x8x32xf32>
// CHECK:           %[[RES:.*]] = llm.attention %[[Q]], %[[K]], %[[V]] : (tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x32xf32>) -> tensor<1x4x8x32xf32>
// CHECK-NEXT:      return %[[RES]] : tensor<1x4x8x32xf32>
func.func @attention_value_head_dim(%q: tensor<1x4x8x16xf32>, %k: tensor<1x4x8x16xf32>, %v: tensor<1x4x8x32xf32>) -> tensor<1x4x8x32xf32> {
  %0 = llm.attention %q, %k, %v : (tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x32xf32>) -> tensor<1x4x8x32xf32>
  return %0 : tensor<1x4x8x32xf32>
}

// -----

// Tests that rope round-trips with its theta.
// CHECK-LABEL: func.func @rope(
// CHECK-SAME:      %[[X:.*]]: tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
// CHECK:           %[[RES:.*]] = llm.rope %[[X]] theta = 1.000000e+04 : tensor<2x4x8x16xf32>
// CHECK-NEXT:      return %[[RES]] : tensor<2x4x8x16xf32>
func.func @rope(%x: tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32> {
  %0 = llm.rope %x theta = 10000.0 : tensor<2x4x8x16xf32>
  return %0 : tensor<2x4x8x16xf32>
}

// -----

// Tests that a reshape that splits the hidden dimension into heads
// round-trips.
// CHECK-LABEL: func.func @reshape(
// CHECK-SAME:      %[[X:.*]]: tensor<2x8x64xf32>) -> tensor<2x8x4x16xf32>
// CHECK:           %[[RES:.*]] = llm.reshape %[[X]] : tensor<2x8x64xf32> -> tensor<2x8x4x16xf32>
// CHECK-NEXT:      return %[[RES]] : tensor<2x8x4x16xf32>
func.func @reshape(%x: tensor<2x8x64xf32>) -> tensor<2x8x4x16xf32> {
  %0 = llm.reshape %x : tensor<2x8x64xf32> -> tensor<2x8x4x16xf32>
  return %0 : tensor<2x8x4x16xf32>
}

// -----

// Tests that a transpose round-trips with its permutation.
// CHECK-LABEL: func.func @transpose(
// CHECK-SAME:      %[[X:.*]]: tensor<2x8x4x16xf32>) -> tensor<2x4x8x16xf32>
// CHECK:           %[[RES:.*]] = llm.transpose %[[X]] [0, 2, 1, 3] : tensor<2x8x4x16xf32> -> tensor<2x4x8x16xf32>
// CHECK-NEXT:      return %[[RES]] : tensor<2x4x8x16xf32>
func.func @transpose(%x: tensor<2x8x4x16xf32>) -> tensor<2x4x8x16xf32> {
  %0 = llm.transpose %x [0, 2, 1, 3] : tensor<2x8x4x16xf32> -> tensor<2x4x8x16xf32>
  return %0 : tensor<2x4x8x16xf32>
}

// -----

// Tests that a split into pieces of different sizes round-trips, with a
// negative axis kept as written.
// CHECK-LABEL: func.func @split(
// CHECK-SAME:      %[[X:.*]]: tensor<2x8x48xf32>) -> (tensor<2x8x32xf32>, tensor<2x8x8xf32>, tensor<2x8x8xf32>)
// CHECK:           %[[RES:.*]]:3 = llm.split %[[X]] axis = -1 : tensor<2x8x48xf32> -> tensor<2x8x32xf32>, tensor<2x8x8xf32>, tensor<2x8x8xf32>
// CHECK-NEXT:      return %[[RES]]#0, %[[RES]]#1, %[[RES]]#2 : tensor<2x8x32xf32>, tensor<2x8x8xf32>, tensor<2x8x8xf32>
func.func @split(%x: tensor<2x8x48xf32>) -> (tensor<2x8x32xf32>, tensor<2x8x8xf32>, tensor<2x8x8xf32>) {
  %0:3 = llm.split %x axis = -1 : tensor<2x8x48xf32> -> tensor<2x8x32xf32>, tensor<2x8x8xf32>, tensor<2x8x8xf32>
  return %0#0, %0#1, %0#2 : tensor<2x8x32xf32>, tensor<2x8x8xf32>, tensor<2x8x8xf32>
}

// -----

// Tests that a concat along the sequence axis (appending to a KV cache)
// round-trips.
// CHECK-LABEL: func.func @concat(
// CHECK-SAME:      %[[A:.*]]: tensor<1x2x11x8xf32>, %[[B:.*]]: tensor<1x2x1x8xf32>) -> tensor<1x2x12x8xf32>
// CHECK:           %[[RES:.*]] = llm.concat %[[A]], %[[B]] axis = 2 : tensor<1x2x11x8xf32>, tensor<1x2x1x8xf32> -> tensor<1x2x12x8xf32>
// CHECK-NEXT:      return %[[RES]] : tensor<1x2x12x8xf32>
func.func @concat(%a: tensor<1x2x11x8xf32>, %b: tensor<1x2x1x8xf32>) -> tensor<1x2x12x8xf32> {
  %0 = llm.concat %a, %b axis = 2 : tensor<1x2x11x8xf32>, tensor<1x2x1x8xf32> -> tensor<1x2x12x8xf32>
  return %0 : tensor<1x2x12x8xf32>
}

// -----

// Tests that cross_entropy round-trips and yields a scalar of the logits'
// element type.
// CHECK-LABEL: func.func @cross_entropy(
// CHECK-SAME:      %[[LOGITS:.*]]: tensor<2x8x64xf32>, %[[TARGETS:.*]]: tensor<2x8xi32>) -> tensor<f32>
// CHECK:           %[[RES:.*]] = llm.cross_entropy %[[LOGITS]], %[[TARGETS]] : (tensor<2x8x64xf32>, tensor<2x8xi32>) -> tensor<f32>
// CHECK-NEXT:      return %[[RES]] : tensor<f32>
func.func @cross_entropy(%logits: tensor<2x8x64xf32>, %targets: tensor<2x8xi32>) -> tensor<f32> {
  %0 = llm.cross_entropy %logits, %targets : (tensor<2x8x64xf32>, tensor<2x8xi32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// Tests that cross_entropy round-trips with bf16 logits and i64 targets.
// CHECK-LABEL: func.func @cross_entropy_bf16(
// CHECK-SAME:      %[[LOGITS:.*]]: tensor<8x64xbf16>, %[[TARGETS:.*]]: tensor<8xi64>) -> tensor<bf16>
// CHECK:           %[[RES:.*]] = llm.cross_entropy %[[LOGITS]], %[[TARGETS]] : (tensor<8x64xbf16>, tensor<8xi64>) -> tensor<bf16>
// CHECK-NEXT:      return %[[RES]] : tensor<bf16>
func.func @cross_entropy_bf16(%logits: tensor<8x64xbf16>, %targets: tensor<8xi64>) -> tensor<bf16> {
  %0 = llm.cross_entropy %logits, %targets : (tensor<8x64xbf16>, tensor<8xi64>) -> tensor<bf16>
  return %0 : tensor<bf16>
}

// -----

// Tests that the discardable llm.layer attribute round-trips next to an
// op's own attributes.
// CHECK-LABEL: func.func @layer_attr(
// CHECK-SAME:      %[[X:.*]]: tensor<2x4x8xf32>, %[[W:.*]]: tensor<8xf32>) -> tensor<2x4x8xf32>
// CHECK:           %[[RES:.*]] = llm.rms_norm %[[X]], %[[W]] {epsilon = 1.000000e-05 : f64, llm.layer = 3 : i64} : (tensor<2x4x8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
// CHECK-NEXT:      return %[[RES]] : tensor<2x4x8xf32>
func.func @layer_attr(%x: tensor<2x4x8xf32>, %w: tensor<8xf32>) -> tensor<2x4x8xf32> {
  %0 = llm.rms_norm %x, %w {epsilon = 1.0e-05 : f64, llm.layer = 3 : i64} : (tensor<2x4x8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
  return %0 : tensor<2x4x8xf32>
}
