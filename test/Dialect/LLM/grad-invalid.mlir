// RUN: llmc-opt %s --split-input-file --verify-diagnostics

// One case per error the gradient and optimizer ops report. Ops with
// inferred result types (layer_norm_grad, rms_norm_grad, attention_grad,
// cross_entropy_grad) report a specific error from inferReturnTypes and then
// the generic "failed to infer returned types"; both are expected below.

//===----------------------------------------------------------------------===//
// llm.embedding_grad
//===----------------------------------------------------------------------===//

// Tests that the embedding gradient must be a vocab x hidden table.
func.func @embedding_grad_rank(%dout: tensor<2x8x16xf32>, %ids: tensor<2x8xi32>) {
  // expected-error@+1 {{'llm.embedding_grad' op result must have rank 2 (vocab x hidden), got 64x16x1}}
  %0 = llm.embedding_grad %dout, %ids : (tensor<2x8x16xf32>, tensor<2x8xi32>) -> tensor<64x16x1xf32>
  return
}

// -----

// Tests that dout must have the ids' shape followed by the table's hidden
// size; here the hidden sizes differ.
func.func @embedding_grad_dout_hidden(%dout: tensor<2x8x16xf32>, %ids: tensor<2x8xi32>) {
  // expected-error@+1 {{'llm.embedding_grad' op dout must have shape 2x8x32 (the ids' shape and the hidden size), got 2x8x16}}
  %0 = llm.embedding_grad %dout, %ids : (tensor<2x8x16xf32>, tensor<2x8xi32>) -> tensor<64x32xf32>
  return
}

// -----

// Tests that dout must have the ids' shape before the hidden size.
func.func @embedding_grad_dout_ids(%dout: tensor<2x4x16xf32>, %ids: tensor<2x8xi32>) {
  // expected-error@+1 {{'llm.embedding_grad' op dout must have shape 2x8x16 (the ids' shape and the hidden size), got 2x4x16}}
  %0 = llm.embedding_grad %dout, %ids : (tensor<2x4x16xf32>, tensor<2x8xi32>) -> tensor<64x16xf32>
  return
}

// -----

// Tests that the table gradient must have dout's element type.
func.func @embedding_grad_element_type(%dout: tensor<2x8x16xf32>, %ids: tensor<2x8xi32>) {
  // expected-error@+1 {{'llm.embedding_grad' op result must have the element type of dout}}
  %0 = llm.embedding_grad %dout, %ids : (tensor<2x8x16xf32>, tensor<2x8xi32>) -> tensor<64x16xbf16>
  return
}

//===----------------------------------------------------------------------===//
// llm.sum_to
//===----------------------------------------------------------------------===//

// -----

// Tests that sum_to cannot change the element type.
func.func @sum_to_element_type(%x: tensor<2x4x8xf32>) {
  // expected-error@+1 {{'llm.sum_to' op result must have the element type of the input}}
  %0 = llm.sum_to %x : tensor<2x4x8xf32> -> tensor<8xf16>
  return
}

// -----

// Tests that sum_to sums away leading dimensions only: the result must be a
// suffix of the input shape, not a prefix.
func.func @sum_to_prefix(%x: tensor<2x4x8xf32>) {
  // expected-error@+1 {{'llm.sum_to' op result shape 2x4 must be a suffix of the input shape 2x4x8}}
  %0 = llm.sum_to %x : tensor<2x4x8xf32> -> tensor<2x4xf32>
  return
}

// -----

// Tests that sum_to cannot add dimensions.
func.func @sum_to_higher_rank(%x: tensor<4x8xf32>) {
  // expected-error@+1 {{'llm.sum_to' op result shape 2x4x8 must be a suffix of the input shape 4x8}}
  %0 = llm.sum_to %x : tensor<4x8xf32> -> tensor<2x4x8xf32>
  return
}

//===----------------------------------------------------------------------===//
// llm.softmax_grad
//===----------------------------------------------------------------------===//

// -----

// Tests that the softmax_grad axis must be below the rank.
func.func @softmax_grad_axis(%dout: tensor<2x8xf32>, %y: tensor<2x8xf32>) {
  // expected-error@+1 {{'llm.softmax_grad' op axis 2 is out of range for rank 2}}
  %0 = llm.softmax_grad %dout, %y axis = 2 : tensor<2x8xf32>
  return
}

// -----

// Tests that a negative softmax_grad axis must be at least -rank, and is
// reported as given.
func.func @softmax_grad_negative_axis(%dout: tensor<2x8xf32>, %y: tensor<2x8xf32>) {
  // expected-error@+1 {{'llm.softmax_grad' op axis -3 is out of range for rank 2}}
  %0 = llm.softmax_grad %dout, %y axis = -3 : tensor<2x8xf32>
  return
}

//===----------------------------------------------------------------------===//
// llm.layer_norm_grad
//===----------------------------------------------------------------------===//

// -----

// Tests that layer_norm_grad needs an input with a dimension to normalize.
func.func @layer_norm_grad_scalar_input(%dout: tensor<f32>, %x: tensor<f32>, %w: tensor<8xf32>) {
  // expected-error@+2 {{'llm.layer_norm_grad' op input must have rank >= 1}}
  // expected-error@+1 {{failed to infer returned types}}
  %dx, %dw, %db = llm.layer_norm_grad %dout, %x, %w {epsilon = 1.0e-05 : f64} : (tensor<f32>, tensor<f32>, tensor<8xf32>) -> (tensor<f32>, tensor<8xf32>, tensor<8xf32>)
  return
}

// -----

// Tests that the layer_norm_grad weight must have the input's element type.
func.func @layer_norm_grad_weight_element_type(%dout: tensor<2x8xf32>, %x: tensor<2x8xf32>, %w: tensor<8xf16>) {
  // expected-error@+2 {{'llm.layer_norm_grad' op weight must have the element type of the input}}
  // expected-error@+1 {{failed to infer returned types}}
  %dx, %dw, %db = llm.layer_norm_grad %dout, %x, %w {epsilon = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<2x8xf32>, tensor<8xf16>) -> (tensor<2x8xf32>, tensor<8xf16>, tensor<8xf16>)
  return
}

// -----

// Tests that the layer_norm_grad weight must span the input's last
// dimension.
func.func @layer_norm_grad_weight_shape(%dout: tensor<2x8xf32>, %x: tensor<2x8xf32>, %w: tensor<2xf32>) {
  // expected-error@+2 {{'llm.layer_norm_grad' op weight must have shape 8 (the input's last dimension), got 2}}
  // expected-error@+1 {{failed to infer returned types}}
  %dx, %dw, %db = llm.layer_norm_grad %dout, %x, %w {epsilon = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<2x8xf32>, tensor<2xf32>) -> (tensor<2x8xf32>, tensor<2xf32>, tensor<2xf32>)
  return
}

// -----

// Tests that the layer_norm_grad epsilon must be positive.
func.func @layer_norm_grad_epsilon(%dout: tensor<2x8xf32>, %x: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error@+2 {{'llm.layer_norm_grad' op epsilon must be positive}}
  // expected-error@+1 {{failed to infer returned types}}
  %dx, %dw, %db = llm.layer_norm_grad %dout, %x, %w {epsilon = -1.0e-05 : f64} : (tensor<2x8xf32>, tensor<2x8xf32>, tensor<8xf32>) -> (tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>)
  return
}

// -----

// Tests that the layer_norm_grad dout must have the type of the input (the
// type of the forward result).
func.func @layer_norm_grad_dout_type(%dout: tensor<2x4xf32>, %x: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error@+2 {{'llm.layer_norm_grad' op dout type tensor<2x4xf32> must equal the input type tensor<2x8xf32>}}
  // expected-error@+1 {{failed to infer returned types}}
  %dx, %dw, %db = llm.layer_norm_grad %dout, %x, %w {epsilon = 1.0e-05 : f64} : (tensor<2x4xf32>, tensor<2x8xf32>, tensor<8xf32>) -> (tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>)
  return
}

// -----

// Tests that the declared layer_norm_grad results must be the inferred ones:
// the bias gradient has the weight's type.
func.func @layer_norm_grad_result_type(%dout: tensor<2x8xf32>, %x: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error@+2 {{'llm.layer_norm_grad' op inferred type(s) 'tensor<2x8xf32>', 'tensor<8xf32>', 'tensor<8xf32>' are incompatible with return type(s) of operation 'tensor<2x8xf32>', 'tensor<8xf32>', 'tensor<2x8xf32>'}}
  // expected-error@+1 {{failed to infer returned types}}
  %dx, %dw, %db = llm.layer_norm_grad %dout, %x, %w {epsilon = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<2x8xf32>, tensor<8xf32>) -> (tensor<2x8xf32>, tensor<8xf32>, tensor<2x8xf32>)
  return
}

//===----------------------------------------------------------------------===//
// llm.rms_norm_grad
//===----------------------------------------------------------------------===//

// -----

// Tests that rms_norm_grad needs an input with a dimension to normalize.
func.func @rms_norm_grad_scalar_input(%dout: tensor<f32>, %x: tensor<f32>, %w: tensor<8xf32>) {
  // expected-error@+2 {{'llm.rms_norm_grad' op input must have rank >= 1}}
  // expected-error@+1 {{failed to infer returned types}}
  %dx, %dw = llm.rms_norm_grad %dout, %x, %w {epsilon = 1.0e-05 : f64} : (tensor<f32>, tensor<f32>, tensor<8xf32>) -> (tensor<f32>, tensor<8xf32>)
  return
}

// -----

// Tests that the rms_norm_grad weight must have the input's element type.
func.func @rms_norm_grad_weight_element_type(%dout: tensor<2x8xbf16>, %x: tensor<2x8xbf16>, %w: tensor<8xf32>) {
  // expected-error@+2 {{'llm.rms_norm_grad' op weight must have the element type of the input}}
  // expected-error@+1 {{failed to infer returned types}}
  %dx, %dw = llm.rms_norm_grad %dout, %x, %w {epsilon = 1.0e-05 : f64} : (tensor<2x8xbf16>, tensor<2x8xbf16>, tensor<8xf32>) -> (tensor<2x8xbf16>, tensor<8xf32>)
  return
}

// -----

// Tests that the rms_norm_grad weight must span the input's last dimension.
func.func @rms_norm_grad_weight_shape(%dout: tensor<2x8xf32>, %x: tensor<2x8xf32>, %w: tensor<2x8xf32>) {
  // expected-error@+2 {{'llm.rms_norm_grad' op weight must have shape 8 (the input's last dimension), got 2x8}}
  // expected-error@+1 {{failed to infer returned types}}
  %dx, %dw = llm.rms_norm_grad %dout, %x, %w {epsilon = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>)
  return
}

// -----

// Tests that an rms_norm_grad epsilon of zero is rejected.
func.func @rms_norm_grad_epsilon(%dout: tensor<2x8xf32>, %x: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error@+2 {{'llm.rms_norm_grad' op epsilon must be positive}}
  // expected-error@+1 {{failed to infer returned types}}
  %dx, %dw = llm.rms_norm_grad %dout, %x, %w {epsilon = 0.0 : f64} : (tensor<2x8xf32>, tensor<2x8xf32>, tensor<8xf32>) -> (tensor<2x8xf32>, tensor<8xf32>)
  return
}

// -----

// Tests that the rms_norm_grad dout must have the type of the input; here
// only the element type differs.
func.func @rms_norm_grad_dout_type(%dout: tensor<2x8xbf16>, %x: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error@+2 {{'llm.rms_norm_grad' op dout type tensor<2x8xbf16> must equal the input type tensor<2x8xf32>}}
  // expected-error@+1 {{failed to infer returned types}}
  %dx, %dw = llm.rms_norm_grad %dout, %x, %w {epsilon = 1.0e-05 : f64} : (tensor<2x8xbf16>, tensor<2x8xf32>, tensor<8xf32>) -> (tensor<2x8xf32>, tensor<8xf32>)
  return
}

//===----------------------------------------------------------------------===//
// llm.attention_grad
//===----------------------------------------------------------------------===//

// -----

// Tests that attention_grad operands must be [batch, heads, sequence,
// head_dim].
func.func @attention_grad_rank(%dout: tensor<2x4x8x16xf32>, %q: tensor<2x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %out: tensor<2x4x8x16xf32>) {
  // expected-error@+2 {{'llm.attention_grad' op query, key and value must have rank 4 (batch, heads, sequence, head_dim)}}
  // expected-error@+1 {{failed to infer returned types}}
  %dq, %dk, %dv = llm.attention_grad %dout, %q, %k, %v, %out : (tensor<2x4x8x16xf32>, tensor<2x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> (tensor<2x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>)
  return
}

// -----

// Tests that attention_grad query, key and value must share an element type.
func.func @attention_grad_element_type(%dout: tensor<2x4x8x16xf32>, %q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xbf16>, %v: tensor<2x4x8x16xf32>, %out: tensor<2x4x8x16xf32>) {
  // expected-error@+2 {{'llm.attention_grad' op query, key and value must have the same element type}}
  // expected-error@+1 {{failed to infer returned types}}
  %dq, %dk, %dv = llm.attention_grad %dout, %q, %k, %v, %out : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xbf16>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> (tensor<2x4x8x16xf32>, tensor<2x4x8x16xbf16>, tensor<2x4x8x16xf32>)
  return
}

// -----

// Tests that attention_grad query, key and value must share a batch size.
func.func @attention_grad_batch(%dout: tensor<2x4x8x16xf32>, %q: tensor<2x4x8x16xf32>, %k: tensor<1x4x8x16xf32>, %v: tensor<1x4x8x16xf32>, %out: tensor<2x4x8x16xf32>) {
  // expected-error@+2 {{'llm.attention_grad' op query, key and value must have the same batch size}}
  // expected-error@+1 {{failed to infer returned types}}
  %dq, %dk, %dv = llm.attention_grad %dout, %q, %k, %v, %out : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<2x4x8x16xf32>) -> (tensor<2x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>)
  return
}

// -----

// Tests that attention_grad key and value must agree in heads and sequence
// length; here the heads differ.
func.func @attention_grad_key_value(%dout: tensor<2x4x8x16xf32>, %q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x2x8x16xf32>, %out: tensor<2x4x8x16xf32>) {
  // expected-error@+2 {{'llm.attention_grad' op key 2x4x8x16 and value 2x2x8x16 must agree in heads and sequence length}}
  // expected-error@+1 {{failed to infer returned types}}
  %dq, %dk, %dv = llm.attention_grad %dout, %q, %k, %v, %out : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x2x8x16xf32>, tensor<2x4x8x16xf32>) -> (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x2x8x16xf32>)
  return
}

// -----

// Tests that attention_grad query and key must have the same head_dim.
func.func @attention_grad_head_dim(%dout: tensor<2x4x8x16xf32>, %q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x8xf32>, %v: tensor<2x4x8x16xf32>, %out: tensor<2x4x8x16xf32>) {
  // expected-error@+2 {{'llm.attention_grad' op query head_dim 16 differs from key head_dim 8}}
  // expected-error@+1 {{failed to infer returned types}}
  %dq, %dk, %dv = llm.attention_grad %dout, %q, %k, %v, %out : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> (tensor<2x4x8x16xf32>, tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32>)
  return
}

// -----

// Tests that the attention_grad kv heads must divide the query heads.
func.func @attention_grad_kv_heads(%dout: tensor<1x8x16x8xf32>, %q: tensor<1x8x16x8xf32>, %k: tensor<1x3x16x8xf32>, %v: tensor<1x3x16x8xf32>, %out: tensor<1x8x16x8xf32>) {
  // expected-error@+2 {{'llm.attention_grad' op kv heads (3) must divide query heads (8)}}
  // expected-error@+1 {{failed to infer returned types}}
  %dq, %dk, %dv = llm.attention_grad %dout, %q, %k, %v, %out causal : (tensor<1x8x16x8xf32>, tensor<1x8x16x8xf32>, tensor<1x3x16x8xf32>, tensor<1x3x16x8xf32>, tensor<1x8x16x8xf32>) -> (tensor<1x8x16x8xf32>, tensor<1x3x16x8xf32>, tensor<1x3x16x8xf32>)
  return
}

// -----

// Tests that causal attention_grad rejects a query longer than the keys.
func.func @attention_grad_causal_query_length(%dout: tensor<2x4x8x16xf32>, %q: tensor<2x4x8x16xf32>, %k: tensor<2x4x4x16xf32>, %v: tensor<2x4x4x16xf32>, %out: tensor<2x4x8x16xf32>) {
  // expected-error@+2 {{'llm.attention_grad' op causal attention needs query length (8) <= key length (4)}}
  // expected-error@+1 {{failed to infer returned types}}
  %dq, %dk, %dv = llm.attention_grad %dout, %q, %k, %v, %out causal : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x4x16xf32>, tensor<2x4x4x16xf32>, tensor<2x4x8x16xf32>) -> (tensor<2x4x8x16xf32>, tensor<2x4x4x16xf32>, tensor<2x4x4x16xf32>)
  return
}

// -----

// Tests that an explicit attention_grad scale must be positive.
func.func @attention_grad_scale(%dout: tensor<2x4x8x16xf32>, %q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %out: tensor<2x4x8x16xf32>) {
  // expected-error@+2 {{'llm.attention_grad' op scale must be positive}}
  // expected-error@+1 {{failed to infer returned types}}
  %dq, %dk, %dv = llm.attention_grad %dout, %q, %k, %v, %out causal {scale = 0.0 : f64} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>)
  return
}

// -----

// Tests that the forward output passed to attention_grad must have the
// attention's output type [B, Hq, Tq, Dv]; here it has the kv heads.
func.func @attention_grad_output_type(%dout: tensor<1x2x16x8xf32>, %q: tensor<1x8x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %out: tensor<1x2x16x8xf32>) {
  // expected-error@+2 {{'llm.attention_grad' op output must have the attention output type 1x8x16x8}}
  // expected-error@+1 {{failed to infer returned types}}
  %dq, %dk, %dv = llm.attention_grad %dout, %q, %k, %v, %out causal : (tensor<1x2x16x8xf32>, tensor<1x8x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> (tensor<1x8x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>)
  return
}

// -----

// Tests that the attention_grad dout must have the type of the forward
// output.
func.func @attention_grad_dout_type(%dout: tensor<2x4x8x8xf32>, %q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %out: tensor<2x4x8x16xf32>) {
  // expected-error@+2 {{'llm.attention_grad' op dout type tensor<2x4x8x8xf32> must equal the output type tensor<2x4x8x16xf32>}}
  // expected-error@+1 {{failed to infer returned types}}
  %dq, %dk, %dv = llm.attention_grad %dout, %q, %k, %v, %out : (tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>)
  return
}

//===----------------------------------------------------------------------===//
// llm.cross_entropy_grad
//===----------------------------------------------------------------------===//

// -----

// Tests that cross_entropy_grad logits must have a vocabulary dimension.
func.func @cross_entropy_grad_scalar_logits(%dloss: tensor<f32>, %logits: tensor<f32>, %targets: tensor<i32>) {
  // expected-error@+2 {{'llm.cross_entropy_grad' op logits must have rank >= 1}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.cross_entropy_grad %dloss, %logits, %targets : (tensor<f32>, tensor<f32>, tensor<i32>) -> tensor<f32>
  return
}

// -----

// Tests that cross_entropy_grad targets must have the logits shape without
// the vocabulary dimension.
func.func @cross_entropy_grad_targets_shape(%dloss: tensor<f32>, %logits: tensor<2x8x64xf32>, %targets: tensor<2x8x64xi32>) {
  // expected-error@+2 {{'llm.cross_entropy_grad' op targets shape 2x8x64 must equal the logits shape without its last dimension (2x8)}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.cross_entropy_grad %dloss, %logits, %targets : (tensor<f32>, tensor<2x8x64xf32>, tensor<2x8x64xi32>) -> tensor<2x8x64xf32>
  return
}

// -----

// Tests that dloss must be a scalar of the logits' element type.
func.func @cross_entropy_grad_dloss_type(%dloss: tensor<bf16>, %logits: tensor<2x8x64xf32>, %targets: tensor<2x8xi32>) {
  // expected-error@+2 {{'llm.cross_entropy_grad' op dloss must be a scalar of the logits' element type}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = llm.cross_entropy_grad %dloss, %logits, %targets : (tensor<bf16>, tensor<2x8x64xf32>, tensor<2x8xi32>) -> tensor<2x8x64xf32>
  return
}

// -----

// Tests that dloss must be a 0-d tensor, which its type constraint checks
// before inference runs.
func.func @cross_entropy_grad_dloss_rank(%dloss: tensor<1xf32>, %logits: tensor<2x8x64xf32>, %targets: tensor<2x8xi32>) {
  // expected-error@+1 {{'llm.cross_entropy_grad' op operand #0 must be 0D tensor of floating-point values, but got 'tensor<1xf32>'}}
  %0 = llm.cross_entropy_grad %dloss, %logits, %targets : (tensor<1xf32>, tensor<2x8x64xf32>, tensor<2x8xi32>) -> tensor<2x8x64xf32>
  return
}

//===----------------------------------------------------------------------===//
// llm.grad_norm, llm.adamw
//===----------------------------------------------------------------------===//

// -----

// Tests that grad_norm needs a gradient; the custom syntax cannot express
// none, so this is written in generic form.
func.func @grad_norm_empty() {
  // expected-error@+1 {{'llm.grad_norm' op needs at least one gradient}}
  %0 = "llm.grad_norm"() : () -> tensor<f32>
  return
}

// -----

// Tests that the gradient norm is a scalar.
func.func @grad_norm_result_rank(%dw: tensor<4x4xf32>) {
  // expected-error@+1 {{'llm.grad_norm' op result #0 must be 0D tensor of floating-point values, but got 'tensor<1xf32>'}}
  %0 = llm.grad_norm %dw : tensor<4x4xf32> -> tensor<1xf32>
  return
}

// -----

// Tests that adamw's parameter, gradient, moments and results share one
// type; the custom syntax names the type once, so this is written in generic
// form with an f16 second moment.
func.func @adamw_types(%p: tensor<4x4xf32>, %g: tensor<4x4xf32>, %m: tensor<4x4xf32>, %v: tensor<4x4xf16>, %norm: tensor<f32>) {
  // expected-error@+1 {{'llm.adamw' op failed to verify that all of {param, grad, m, v, new_param, new_m, new_v} have same type}}
  %0:3 = "llm.adamw"(%p, %g, %m, %v, %norm) : (tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf16>, tensor<f32>) -> (tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>)
  return
}

// -----

// Tests that the gradient norm adamw reads is a scalar.
func.func @adamw_grad_norm_rank(%p: tensor<4x4xf32>, %g: tensor<4x4xf32>, %m: tensor<4x4xf32>, %v: tensor<4x4xf32>, %norm: tensor<1xf32>) {
  // expected-error@+1 {{'llm.adamw' op operand #4 must be 0D tensor of floating-point values, but got 'tensor<1xf32>'}}
  %0:3 = llm.adamw %p, %g, %m, %v, %norm decay : tensor<4x4xf32>, tensor<1xf32>
  return
}
