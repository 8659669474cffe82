// RUN: llmc-opt %s --split-input-file --llmc-paged-kv-cache="block-tokens=2 blocks=4" --verify-diagnostics | FileCheck %s
// RUN: not llmc-opt %s --split-input-file --llmc-paged-kv-cache="block-tokens=0 blocks=4" 2>&1 | FileCheck %s --check-prefix=SIZES

// Hand-written forwards for llmc-paged-kv-cache; paged-kv-cache.test runs it
// on the frontend's whole models.

// Tests the rewrite of a one-layer forward: positions and a block table
// (one row of 4 tokens / 2 per block = 2 entries) become inputs and the
// layer's key and value caches ([blocks, heads, block-tokens, head-dim])
// arguments; the attention writes this step's keys and values into the
// caches and reads them through the table; and the LM head runs on each
// sequence's last token, so the step returns `logits` [batch, vocab].
// CHECK-LABEL: func.func @forward(
// CHECK-SAME: %[[IDS:[^:]*]]: tensor<1x4xi32> {llm.input = "input_ids"}, %[[WTE:[^:]*]]: tensor<16x8xf32> {llm.param = "wte"},
// CHECK-SAME: %[[POS:[^:]*]]: tensor<1x4xi32> {llm.input = "positions"}, %[[TABLE:[^:]*]]: tensor<1x2xi32> {llm.input = "block_tables"},
// CHECK-SAME: %[[KC:[^:]*]]: tensor<4x1x2x8xf32> {llm.kv_cache = "layers.0.key"}, %[[VC:[^:]*]]: tensor<4x1x2x8xf32> {llm.kv_cache = "layers.0.value"})
// CHECK-SAME: -> (tensor<1x16xf32> {llm.output = "logits"})
// CHECK:      %[[Q:.*]] = llm.reshape
// CHECK-NEXT: %[[K:.*]] = llm.kv_cache_write %[[Q]] into %[[KC]], %[[TABLE]], %[[POS]] {llm.layer = 0 : i64}
// CHECK-NEXT: %[[V:.*]] = llm.kv_cache_write %[[Q]] into %[[VC]], %[[TABLE]], %[[POS]] {llm.layer = 0 : i64}
// CHECK-NEXT: %[[A:.*]] = llm.paged_attention %[[Q]], %[[K]], %[[V]], %[[TABLE]], %[[POS]] {llm.layer = 0 : i64}
// CHECK-NEXT: %[[H:.*]] = llm.reshape %[[A]]
// CHECK-NEXT: %[[LAST:.*]] = llm.last_token %[[H]], %[[POS]] : (tensor<1x4x8xf32>, tensor<1x4xi32>) -> tensor<1x8xf32>
// CHECK-NEXT: %[[L:.*]] = llm.matmul %[[LAST]], %[[WTE]] transpose_rhs : (tensor<1x8xf32>, tensor<16x8xf32>) -> tensor<1x16xf32>
// CHECK-NEXT: return %[[L]] : tensor<1x16xf32>
// Tests that block sizes that are not positive are refused.
// SIZES: error: llmc-paged-kv-cache: block-tokens and blocks must be positive
func.func @forward(%ids: tensor<1x4xi32> {llm.input = "input_ids"}, %wte: tensor<16x8xf32> {llm.param = "wte"}) -> tensor<1x4x16xf32> {
  %x = llm.embedding %wte[%ids] : (tensor<16x8xf32>, tensor<1x4xi32>) -> tensor<1x4x8xf32>
  %q = llm.reshape %x : tensor<1x4x8xf32> -> tensor<1x1x4x8xf32>
  %a = llm.attention %q, %q, %q causal {llm.layer = 0 : i64} : (tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32>
  %h = llm.reshape %a : tensor<1x1x4x8xf32> -> tensor<1x4x8xf32>
  %l = llm.matmul %h, %wte transpose_rhs : (tensor<1x4x8xf32>, tensor<16x8xf32>) -> tensor<1x4x16xf32>
  return %l : tensor<1x4x16xf32>
}

// -----

// Tests that the pass needs the forward it rewrites.
// expected-error@+1 {{llmc-paged-kv-cache: no single-block function @forward}}
module {
  func.func @loss(%x: tensor<f32>) -> tensor<f32> {
    return %x : tensor<f32>
  }
}

// -----

// Tests that the forward's first argument must be the token ids [batch,
// tokens], marked as an input.
// expected-error@+1 {{llmc-paged-kv-cache: argument 0 of @forward must be the token ids [batch, tokens]}}
func.func @forward(%x: tensor<1x4x8xf32> {llm.input = "x"}) -> tensor<1x4x8xf32> {
  return %x : tensor<1x4x8xf32>
}

// -----

// Tests that a bidirectional attention, which a cache of earlier tokens
// cannot serve, is refused.
func.func @forward(%ids: tensor<1x4xi32> {llm.input = "input_ids"}, %wte: tensor<16x8xf32> {llm.param = "wte"}) -> tensor<1x4x8xf32> {
  %x = llm.embedding %wte[%ids] : (tensor<16x8xf32>, tensor<1x4xi32>) -> tensor<1x4x8xf32>
  %q = llm.reshape %x : tensor<1x4x8xf32> -> tensor<1x1x4x8xf32>
  // expected-error@+1 {{'llm.attention' op llmc-paged-kv-cache: only causal attention reads a KV cache}}
  %a = llm.attention %q, %q, %q {llm.layer = 0 : i64} : (tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32>
  %h = llm.reshape %a : tensor<1x1x4x8xf32> -> tensor<1x4x8xf32>
  return %h : tensor<1x4x8xf32>
}

// -----

// Tests that an inverse rope, which only a backward pass has, is refused.
func.func @forward(%ids: tensor<1x4xi32> {llm.input = "input_ids"}, %wte: tensor<16x8xf32> {llm.param = "wte"}) -> tensor<1x4x8xf32> {
  %x = llm.embedding %wte[%ids] : (tensor<16x8xf32>, tensor<1x4xi32>) -> tensor<1x4x8xf32>
  %q = llm.reshape %x : tensor<1x4x8xf32> -> tensor<1x1x4x8xf32>
  // expected-error@+1 {{'llm.rope' op llmc-paged-kv-cache: an inverse rope in a forward (run it before autodiff)}}
  %r = llm.rope %q theta = 1.0e+04 inverse : tensor<1x1x4x8xf32>
  %h = llm.reshape %r : tensor<1x1x4x8xf32> -> tensor<1x4x8xf32>
  return %h : tensor<1x4x8xf32>
}

// -----

// Tests that a slice of a parameter that does not start at row 0 (so is not
// the first T rows of a learned position table) is refused.
func.func @forward(%ids: tensor<1x4xi32> {llm.input = "input_ids"}, %wpe: tensor<16x8xf32> {llm.param = "wpe"}) -> tensor<4x8xf32> {
  // expected-error@+1 {{'tensor.extract_slice' op llmc-paged-kv-cache: a slice of a parameter that is not a position table}}
  %p = tensor.extract_slice %wpe[2, 0] [4, 8] [1, 1] : tensor<16x8xf32> to tensor<4x8xf32>
  return %p : tensor<4x8xf32>
}

// -----

// Tests that a forward without arguments, so without token ids, is refused.
// expected-error@+1 {{llmc-paged-kv-cache: argument 0 of @forward must be the token ids [batch, tokens]}}
func.func @forward() {
  return
}

// -----

// Tests that a forward that returns nothing, so no logits, is refused.
// expected-error@+1 {{llmc-paged-kv-cache: @forward must return the logits [batch, tokens, vocab]}}
func.func @forward(%ids: tensor<1x4xi32> {llm.input = "input_ids"}) {
  return
}
