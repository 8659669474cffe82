// RUN: llmc-opt %s --split-input-file --verify-diagnostics

// Ops with inferred result types report a specific error from
// inferReturnTypes and then the generic "failed to infer returned types";
// both are expected below. llm.add and llm.mul infer their result type while
// parsing, so they report only the specific error.

//===----------------------------------------------------------------------===//
// Type constraints and result inference
//===----------------------------------------------------------------------===//

// Tests that a tensor with a dynamic dimension is rejected: models are
// static-shaped.
func.func @dynamic_shape(%lhs: tensor<?x8xf32>, %rhs: tensor<8x16xf32>) {
  // expected-error@+1 {{'llm.matmul' op operand #0 must be statically shaped tensor of floating-point values, but got 'tensor<?x8xf32>'}}
  %0 = llm.matmul %lhs, %rhs : (tensor<?x8xf32>, tensor<8x16xf32>) -> tensor<?x16xf32>
  return
}

// -----

// Tests that embedding ids must be integers.
func.func @embedding_float_ids(%table: tensor<64x16xf32>, %ids: tensor<2x8xf32>) {
  // expected-error@+1 {{'llm.embedding' op operand #1 must be statically shaped tensor of 32-bit signless integer or 64-bit signless integer values, but got 'tensor<2x8xf32>'}}
  %0 = llm.embedding %table[%ids] : (tensor<64x16xf32>, tensor<2x8xf32>) -> tensor<2x8x16xf32>
  return
}

// -----

// Tests that a result type that differs from the inferred one is rejected.
func.func @inferred_type_mismatch(%lhs: tensor<4x8xf32>, %rhs: tensor<8x16xf32>) {
  // expected-error@+2 {{'llm.matmul' op inferred type(s) 'tensor<4x16xf32>' are incompatible with return type(s) of operation 'tensor<4x8xf32>'}}
  // expected-error@+1 {{'llm.matmul' op failed to infer returned types}}
  %0 = llm.matmul %lhs, %rhs : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  return
}

//===----------------------------------------------------------------------===//
// llm.embedding
//===----------------------------------------------------------------------===//

// -----

// Tests that an embedding table must be a matrix.
func.func @embedding_table_rank(%table: tensor<64xf32>, %ids: tensor<2x8xi32>) {
  // expected-error@+2 {{'llm.embedding' op table must have rank 2 (vocab x hidden), got 64}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.embedding %table[%ids] : (tensor<64xf32>, tensor<2x8xi32>) -> tensor<2x8xf32>
  return
}

//===----------------------------------------------------------------------===//
// llm.matmul
//===----------------------------------------------------------------------===//

// -----

// Tests that matmul operands must share an element type.
func.func @matmul_element_type(%lhs: tensor<4x8xf32>, %rhs: tensor<8x16xf16>) {
  // expected-error@+2 {{'llm.matmul' op lhs and rhs must have the same element type}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.matmul %lhs, %rhs : (tensor<4x8xf32>, tensor<8x16xf16>) -> tensor<4x16xf32>
  return
}

// -----

// Tests that the lhs of a matmul must be at least a matrix.
func.func @matmul_lhs_rank(%lhs: tensor<8xf32>, %rhs: tensor<8x16xf32>) {
  // expected-error@+2 {{'llm.matmul' op lhs must have rank >= 2, got 8}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.matmul %lhs, %rhs : (tensor<8xf32>, tensor<8x16xf32>) -> tensor<16xf32>
  return
}

// -----

// Tests that the rhs must be a shared matrix or have the rank of the lhs.
func.func @matmul_rhs_rank(%lhs: tensor<2x3x4x8xf32>, %rhs: tensor<3x8x16xf32>) {
  // expected-error@+2 {{'llm.matmul' op rhs must have rank 2 or the rank of lhs (4), got 3x8x16}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.matmul %lhs, %rhs : (tensor<2x3x4x8xf32>, tensor<3x8x16xf32>) -> tensor<2x3x4x16xf32>
  return
}

// -----

// Tests that a batched rhs must have the batch dimensions of the lhs.
func.func @matmul_batch_mismatch(%lhs: tensor<2x3x4x8xf32>, %rhs: tensor<2x5x8x16xf32>) {
  // expected-error@+2 {{'llm.matmul' op batch dimensions of lhs (2x3) and rhs (2x5) must match}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.matmul %lhs, %rhs : (tensor<2x3x4x8xf32>, tensor<2x5x8x16xf32>) -> tensor<2x3x4x16xf32>
  return
}

// -----

// Tests that the contracting dimensions must agree after the transposes: a
// 16x8 nn.Linear weight used without transpose_rhs.
func.func @matmul_contracting(%lhs: tensor<4x8xf32>, %rhs: tensor<16x8xf32>) {
  // expected-error@+2 {{'llm.matmul' op contracting dimensions differ: lhs has 8, rhs has 16}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.matmul %lhs, %rhs : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

// Tests that the bias must have the element type of the lhs.
func.func @matmul_bias_element_type(%lhs: tensor<4x8xf32>, %rhs: tensor<8x16xf32>, %bias: tensor<16xbf16>) {
  // expected-error@+2 {{'llm.matmul' op bias must have the element type of lhs}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.matmul %lhs, %rhs, %bias : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<16xbf16>) -> tensor<4x16xf32>
  return
}

// -----

// Tests that the bias must be a vector over N (after transpose_rhs, N is the
// rows of the rhs).
func.func @matmul_bias_shape(%lhs: tensor<4x8xf32>, %rhs: tensor<16x8xf32>, %bias: tensor<8xf32>) {
  // expected-error@+2 {{'llm.matmul' op bias must have shape 16, got 8}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.matmul %lhs, %rhs, %bias transpose_rhs : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<8xf32>) -> tensor<4x16xf32>
  return
}

//===----------------------------------------------------------------------===//
// llm.add, llm.mul
//===----------------------------------------------------------------------===//

// -----

// Tests that add operands must share an element type.
func.func @add_element_type(%lhs: tensor<2x8xf32>, %rhs: tensor<2x8xf16>) {
  // expected-error@+1 {{'llm.add' op lhs and rhs must have the same element type}}
  %0 = llm.add %lhs, %rhs : tensor<2x8xf32>, tensor<2x8xf16>
  return
}

// -----

// Tests that the rhs of a mul must be the lhs shape or a suffix of it, not a
// prefix.
func.func @mul_not_suffix(%lhs: tensor<2x4x8xf32>, %rhs: tensor<2x4xf32>) {
  // expected-error@+1 {{'llm.mul' op rhs shape 2x4 must equal the lhs shape 2x4x8 or a suffix of it}}
  %0 = llm.mul %lhs, %rhs : tensor<2x4x8xf32>, tensor<2x4xf32>
  return
}

//===----------------------------------------------------------------------===//
// llm.layer_norm, llm.rms_norm
//===----------------------------------------------------------------------===//

// -----

// Tests that a norm needs an input with a last dimension.
func.func @layer_norm_scalar_input(%x: tensor<f32>, %w: tensor<f32>, %b: tensor<f32>) {
  // expected-error@+2 {{'llm.layer_norm' op input must have rank >= 1}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.layer_norm %x, %w, %b {epsilon = 1.0e-05 : f64} : (tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<f32>
  return
}

// -----

// Tests that the layer_norm weight must have the element type of the input.
func.func @layer_norm_weight_element_type(%x: tensor<2x8xf32>, %w: tensor<8xf16>, %b: tensor<8xf32>) {
  // expected-error@+2 {{'llm.layer_norm' op weight must have the element type of the input}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.layer_norm %x, %w, %b {epsilon = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<8xf16>, tensor<8xf32>) -> tensor<2x8xf32>
  return
}

// -----

// Tests that the layer_norm bias must have the element type of the input.
func.func @layer_norm_bias_element_type(%x: tensor<2x8xf32>, %w: tensor<8xf32>, %b: tensor<8xf16>) {
  // expected-error@+2 {{'llm.layer_norm' op bias must have the element type of the input}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.layer_norm %x, %w, %b {epsilon = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<8xf32>, tensor<8xf16>) -> tensor<2x8xf32>
  return
}

// -----

// Tests that the layer_norm weight must be a vector over the last dimension.
func.func @layer_norm_weight_shape(%x: tensor<2x8xf32>, %w: tensor<2x8xf32>, %b: tensor<8xf32>) {
  // expected-error@+2 {{'llm.layer_norm' op weight must have shape 8 (the input's last dimension), got 2x8}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.layer_norm %x, %w, %b {epsilon = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return
}

// -----

// Tests that the layer_norm bias must be a vector over the last dimension.
func.func @layer_norm_bias_shape(%x: tensor<2x8xf32>, %w: tensor<8xf32>, %b: tensor<2xf32>) {
  // expected-error@+2 {{'llm.layer_norm' op bias must have shape 8 (the input's last dimension), got 2}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.layer_norm %x, %w, %b {epsilon = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<8xf32>, tensor<2xf32>) -> tensor<2x8xf32>
  return
}

// -----

// Tests that the layer_norm epsilon must be positive.
func.func @layer_norm_epsilon(%x: tensor<2x8xf32>, %w: tensor<8xf32>, %b: tensor<8xf32>) {
  // expected-error@+2 {{'llm.layer_norm' op epsilon must be positive}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.layer_norm %x, %w, %b {epsilon = -1.0e-05 : f64} : (tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return
}

// -----

// Tests that the rms_norm weight must be a vector over the last dimension.
func.func @rms_norm_weight_shape(%x: tensor<2x8xbf16>, %w: tensor<4xbf16>) {
  // expected-error@+2 {{'llm.rms_norm' op weight must have shape 8 (the input's last dimension), got 4}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.rms_norm %x, %w {epsilon = 1.0e-06 : f64} : (tensor<2x8xbf16>, tensor<4xbf16>) -> tensor<2x8xbf16>
  return
}

// -----

// Tests that an rms_norm epsilon of zero is rejected.
func.func @rms_norm_epsilon_zero(%x: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error@+2 {{'llm.rms_norm' op epsilon must be positive}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.rms_norm %x, %w {epsilon = 0.0 : f64} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return
}

//===----------------------------------------------------------------------===//
// llm.softmax
//===----------------------------------------------------------------------===//

// -----

// Tests that the softmax axis must be below the rank.
func.func @softmax_axis(%x: tensor<2x8xf32>) {
  // expected-error@+1 {{'llm.softmax' op axis 2 is out of range for rank 2}}
  %0 = llm.softmax %x axis = 2 : tensor<2x8xf32>
  return
}

// -----

// Tests that a negative softmax axis must be at least -rank, and is reported
// as given.
func.func @softmax_negative_axis(%x: tensor<2x8xf32>) {
  // expected-error@+1 {{'llm.softmax' op axis -3 is out of range for rank 2}}
  %0 = llm.softmax %x axis = -3 : tensor<2x8xf32>
  return
}

//===----------------------------------------------------------------------===//
// llm.attention
//===----------------------------------------------------------------------===//

// -----

// Tests that attention operands must be [batch, heads, sequence, head_dim].
func.func @attention_rank(%q: tensor<2x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>) {
  // expected-error@+2 {{'llm.attention' op query, key and value must have rank 4 (batch, heads, sequence, head_dim)}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.attention %q, %k, %v : (tensor<2x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return
}

// -----

// Tests that attention operands must share an element type.
func.func @attention_element_type(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf16>) {
  // expected-error@+2 {{'llm.attention' op query, key and value must have the same element type}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.attention %q, %k, %v : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf16>) -> tensor<2x4x8x16xf32>
  return
}

// -----

// Tests that attention operands must share a batch size.
func.func @attention_batch(%q: tensor<2x4x8x16xf32>, %k: tensor<1x4x8x16xf32>, %v: tensor<1x4x8x16xf32>) {
  // expected-error@+2 {{'llm.attention' op query, key and value must have the same batch size}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.attention %q, %k, %v : (tensor<2x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return
}

// -----

// Tests that key and value must have the same heads and sequence length.
func.func @attention_key_value(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x6x16xf32>) {
  // expected-error@+2 {{'llm.attention' op key 2x4x8x16 and value 2x4x6x16 must agree in heads and sequence length}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.attention %q, %k, %v : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x6x16xf32>) -> tensor<2x4x8x16xf32>
  return
}

// -----

// Tests that query and key must have the same head_dim.
func.func @attention_head_dim(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x8xf32>, %v: tensor<2x4x8x16xf32>) {
  // expected-error@+2 {{'llm.attention' op query head_dim 16 differs from key head_dim 8}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.attention %q, %k, %v : (tensor<2x4x8x16xf32>, tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return
}

// -----

// Tests that the kv heads must divide the query heads (grouped-query
// attention with 8 query heads cannot use 3 kv heads).
func.func @attention_kv_heads(%q: tensor<1x8x16x8xf32>, %k: tensor<1x3x16x8xf32>, %v: tensor<1x3x16x8xf32>) {
  // expected-error@+2 {{'llm.attention' op kv heads (3) must divide query heads (8)}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.attention %q, %k, %v causal : (tensor<1x8x16x8xf32>, tensor<1x3x16x8xf32>, tensor<1x3x16x8xf32>) -> tensor<1x8x16x8xf32>
  return
}

// -----

// Tests that zero kv heads are rejected with the same message rather than
// dividing by zero.
func.func @attention_zero_kv_heads(%q: tensor<1x8x16x8xf32>, %k: tensor<1x0x16x8xf32>, %v: tensor<1x0x16x8xf32>) {
  // expected-error@+2 {{'llm.attention' op kv heads (0) must divide query heads (8)}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.attention %q, %k, %v : (tensor<1x8x16x8xf32>, tensor<1x0x16x8xf32>, tensor<1x0x16x8xf32>) -> tensor<1x8x16x8xf32>
  return
}

// -----

// Tests that causal attention rejects a query longer than the keys.
func.func @attention_causal_query_length(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x4x16xf32>, %v: tensor<2x4x4x16xf32>) {
  // expected-error@+2 {{'llm.attention' op causal attention needs query length (8) <= key length (4)}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.attention %q, %k, %v causal : (tensor<2x4x8x16xf32>, tensor<2x4x4x16xf32>, tensor<2x4x4x16xf32>) -> tensor<2x4x8x16xf32>
  return
}

// -----

// Tests that an explicit attention scale must be positive.
func.func @attention_scale(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>) {
  // expected-error@+2 {{'llm.attention' op scale must be positive}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.attention %q, %k, %v causal {scale = -0.25 : f64} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return
}

//===----------------------------------------------------------------------===//
// llm.rope
//===----------------------------------------------------------------------===//

// -----

// Tests that rope needs a [batch, heads, sequence, head_dim] input.
func.func @rope_rank(%x: tensor<2x8x64xf32>) {
  // expected-error@+1 {{'llm.rope' op input must have rank 4 (batch, heads, sequence, head_dim), got 2x8x64}}
  %0 = llm.rope %x theta = 10000.0 : tensor<2x8x64xf32>
  return
}

// -----

// Tests that rope needs an even head_dim to rotate pairs.
func.func @rope_odd_head_dim(%x: tensor<2x4x8x15xf32>) {
  // expected-error@+1 {{'llm.rope' op head_dim must be even, got 15}}
  %0 = llm.rope %x theta = 10000.0 : tensor<2x4x8x15xf32>
  return
}

// -----

// Tests that the rope theta must be positive.
func.func @rope_theta(%x: tensor<2x4x8x16xf32>) {
  // expected-error@+1 {{'llm.rope' op theta must be positive}}
  %0 = llm.rope %x theta = 0.0 : tensor<2x4x8x16xf32>
  return
}

//===----------------------------------------------------------------------===//
// llm.reshape, llm.transpose
//===----------------------------------------------------------------------===//

// -----

// Tests that a reshape cannot change the element type.
func.func @reshape_element_type(%x: tensor<2x8xf32>) {
  // expected-error@+1 {{'llm.reshape' op result must have the element type of the input}}
  %0 = llm.reshape %x : tensor<2x8xf32> -> tensor<16xf16>
  return
}

// -----

// Tests that a reshape must keep the element count.
func.func @reshape_element_count(%x: tensor<2x8x64xf32>) {
  // expected-error@+1 {{'llm.reshape' op cannot reshape 2x8x64 (1024 elements) to 2x8x4x8 (512 elements)}}
  %0 = llm.reshape %x : tensor<2x8x64xf32> -> tensor<2x8x4x8xf32>
  return
}

// -----

// Tests that a permutation must have one entry per input dimension.
func.func @transpose_permutation_size(%x: tensor<2x8xf32>) {
  // expected-error@+2 {{'llm.transpose' op permutation has 3 entries but the input has rank 2}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.transpose %x [1, 0, 2] : tensor<2x8xf32> -> tensor<8x2xf32>
  return
}

// -----

// Tests that a permutation may not repeat a dimension.
func.func @transpose_permutation_repeated(%x: tensor<2x4x8xf32>) {
  // expected-error@+2 {{'llm.transpose' op permutation must hold each of 0..2 exactly once}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.transpose %x [0, 1, 1] : tensor<2x4x8xf32> -> tensor<2x4x4xf32>
  return
}

// -----

// Tests that a permutation may not name a dimension out of range.
func.func @transpose_permutation_out_of_range(%x: tensor<2x4x8xf32>) {
  // expected-error@+2 {{'llm.transpose' op permutation must hold each of 0..2 exactly once}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.transpose %x [0, 3, 1] : tensor<2x4x8xf32> -> tensor<2x8x4xf32>
  return
}

//===----------------------------------------------------------------------===//
// llm.split
//===----------------------------------------------------------------------===//

// -----

// Tests that the split axis must be in [-rank, rank).
func.func @split_axis(%x: tensor<2x8xf32>) {
  // expected-error@+1 {{'llm.split' op axis 2 is out of range for rank 2}}
  %0:2 = llm.split %x axis = 2 : tensor<2x8xf32> -> tensor<2x4xf32>, tensor<2x4xf32>
  return
}

// -----

// Tests that a split must have a result; the custom syntax cannot express
// none, so this is written in generic form.
func.func @split_no_results(%x: tensor<2x8xf32>) {
  // expected-error@+1 {{'llm.split' op must have at least one result}}
  "llm.split"(%x) <{axis = 1 : i64}> : (tensor<2x8xf32>) -> ()
  return
}

// -----

// Tests that split results must have the input's element type.
func.func @split_element_type(%x: tensor<2x8xf32>) {
  // expected-error@+1 {{'llm.split' op result 1 must have the input's element type}}
  %0:2 = llm.split %x axis = 1 : tensor<2x8xf32> -> tensor<2x4xf32>, tensor<2x4xf16>
  return
}

// -----

// Tests that split results must have the input's rank.
func.func @split_rank(%x: tensor<2x8xf32>) {
  // expected-error@+1 {{'llm.split' op result 0 must have the input's rank}}
  %0:2 = llm.split %x axis = 1 : tensor<2x8xf32> -> tensor<2x4x1xf32>, tensor<2x4xf32>
  return
}

// -----

// Tests that split results must equal the input off the split axis.
func.func @split_other_dimension(%x: tensor<2x8xf32>) {
  // expected-error@+1 {{'llm.split' op result 1 differs from the input in dimension 0, which is not the split axis}}
  %0:2 = llm.split %x axis = 1 : tensor<2x8xf32> -> tensor<2x4xf32>, tensor<3x4xf32>
  return
}

// -----

// Tests that the result sizes along the split axis must add up to the
// input's; the message names the axis after normalizing -1.
func.func @split_sizes(%x: tensor<2x8xf32>) {
  // expected-error@+1 {{'llm.split' op result sizes along axis -1 add up to 7, but the input has 8}}
  %0:2 = llm.split %x axis = -1 : tensor<2x8xf32> -> tensor<2x4xf32>, tensor<2x3xf32>
  return
}

//===----------------------------------------------------------------------===//
// llm.concat
//===----------------------------------------------------------------------===//

// -----

// Tests that a concat must have an input; the custom syntax cannot express
// none, so this is written in generic form.
func.func @concat_no_inputs() {
  // expected-error@+2 {{'llm.concat' op must have at least one input}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = "llm.concat"() <{axis = 0 : i64}> : () -> tensor<2x8xf32>
  return
}

// -----

// Tests that the concat axis must be in [-rank, rank).
func.func @concat_axis(%a: tensor<2x8xf32>, %b: tensor<2x8xf32>) {
  // expected-error@+2 {{'llm.concat' op axis 2 is out of range for rank 2}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.concat %a, %b axis = 2 : tensor<2x8xf32>, tensor<2x8xf32> -> tensor<2x16xf32>
  return
}

// -----

// Tests that concat inputs must share the element type of input 0.
func.func @concat_element_type(%a: tensor<2x8xf32>, %b: tensor<2x8xbf16>) {
  // expected-error@+2 {{'llm.concat' op input 1 must have the element type and rank of input 0}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.concat %a, %b axis = 0 : tensor<2x8xf32>, tensor<2x8xbf16> -> tensor<4x8xf32>
  return
}

// -----

// Tests that concat inputs must share the rank of input 0.
func.func @concat_rank(%a: tensor<2x8xf32>, %b: tensor<2x8xf32>, %c: tensor<2x8x1xf32>) {
  // expected-error@+2 {{'llm.concat' op input 2 must have the element type and rank of input 0}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.concat %a, %b, %c axis = 0 : tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8x1xf32> -> tensor<6x8xf32>
  return
}

// -----

// Tests that concat inputs must agree off the concat axis.
func.func @concat_other_dimension(%a: tensor<2x8xf32>, %b: tensor<3x4xf32>) {
  // expected-error@+2 {{'llm.concat' op input 1 differs from input 0 in dimension 1, which is not the axis}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.concat %a, %b axis = 0 : tensor<2x8xf32>, tensor<3x4xf32> -> tensor<5x8xf32>
  return
}

//===----------------------------------------------------------------------===//
// llm.cross_entropy
//===----------------------------------------------------------------------===//

// -----

// Tests that cross_entropy logits must have a vocabulary dimension.
func.func @cross_entropy_scalar_logits(%logits: tensor<f32>, %targets: tensor<i32>) {
  // expected-error@+2 {{'llm.cross_entropy' op logits must have rank >= 1}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.cross_entropy %logits, %targets : (tensor<f32>, tensor<i32>) -> tensor<f32>
  return
}

// -----

// Tests that cross_entropy targets must have the logits shape without the
// vocabulary dimension.
func.func @cross_entropy_targets_shape(%logits: tensor<2x8x64xf32>, %targets: tensor<2x4xi32>) {
  // expected-error@+2 {{'llm.cross_entropy' op targets shape 2x4 must equal the logits shape without its last dimension (2x8)}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.cross_entropy %logits, %targets : (tensor<2x8x64xf32>, tensor<2x4xi32>) -> tensor<f32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Collectives
//===----------------------------------------------------------------------===//

// Tests that an all-gather's result must be its input repeated along dim.
func.func @all_gather_shape(%x: tensor<2x4x16xf32>) {
  // expected-error@+1 {{'llm.all_gather' op the result 2x6x16 must be the block 2x4x16 repeated along dim 1}}
  %0 = llm.all_gather %x {axis = "tp", dim = 1 : i64} : (tensor<2x4x16xf32>) -> tensor<2x6x16xf32>
  return
}

// -----

// Tests that a reduce-scatter may split only along dim.
func.func @reduce_scatter_shape(%x: tensor<2x8x16xf32>) {
  // expected-error@+1 {{'llm.reduce_scatter' op the input 2x8x16 must be the block 2x4x8 repeated along dim 1}}
  %0 = llm.reduce_scatter %x {axis = "tp", dim = 1 : i64} : (tensor<2x8x16xf32>) -> tensor<2x4x8xf32>
  return
}

// -----

// Tests that dim must name a dimension.
func.func @scatter_dim(%x: tensor<2x8xf32>) {
  // expected-error@+1 {{'llm.scatter_to_parallel' op dim 2 must name a dimension of both 2x8 and 2x4}}
  %0 = llm.scatter_to_parallel %x {axis = "tp", dim = 2 : i64} : (tensor<2x8xf32>) -> tensor<2x4xf32>
  return
}

// -----

// Tests that a sharded gradient norm flags every gradient.
func.func @grad_norm_flags(%a: tensor<4xf32>, %b: tensor<4xf32>) {
  // expected-error@+1 {{'llm.grad_norm' op has 1 `sharded` flags for 2 gradients}}
  %0 = llm.grad_norm %a, %b {axis = "tp", sharded = array<i1: true>} : tensor<4xf32>, tensor<4xf32> -> tensor<f32>
  return
}

// -----

// Tests that a general op's kind must be one the kernels know.
func.func @unary_kind(%x: tensor<4xf32>) {
  // expected-error@+1 {{'llm.unary' op kind 'gelu' is not one of neg, abs, relu, exp, log, sqrt, reciprocal, tanh, sigmoid, erf, sin, cos, floor, ceil, sign}}
  %0 = llm.unary %x kind = "gelu" : tensor<4xf32>
  return
}

// -----

// Tests that llm.binary's operands must broadcast.
func.func @binary_broadcast(%a: tensor<3x4xf32>, %b: tensor<3xf32>) {
  // expected-error@+2 {{'llm.binary' op shapes 3x4 and 3 do not broadcast}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.binary %a, %b kind = "add" : (tensor<3x4xf32>, tensor<3xf32>) -> tensor<3x4xf32>
  return
}

// -----

// Tests that llm.reduce's axes must be increasing dimensions.
func.func @reduce_axes(%x: tensor<3x4xf32>) {
  // expected-error@+2 {{'llm.reduce' op axes must be increasing dimensions of the input}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.reduce %x kind = "sum" axes = [1, 0] : tensor<3x4xf32> -> tensor<f32>
  return
}
