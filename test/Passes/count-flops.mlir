// RUN: llmc-opt %s --split-input-file --llmc-count-flops=annotate-ops --verify-diagnostics | FileCheck %s

// Every count below is worked out by hand from the getFlopCount methods of
// LLMOps.cpp, not copied from the pass output:
//   matmul     matmul = 2 * batch * M * N * K,
//              vector = batch * M * N with a bias
//   attention  scores = B * Hq * Tq * Tk (the full square, causal or not),
//              attention = 2 * scores * D + 2 * scores * Dv,
//              vector = 5 * scores
//   vector ops per result element: add 1, mul 1, gelu 8, silu 4, swiglu 5,
//              layer_norm 8, rms_norm 5, softmax 5, rope 3;
//              cross_entropy 5 per logit
//   embedding, reshape, transpose, split and concat count zero.

// Tests that a plain matmul counts 2·M·N·K and no vector work.
//   M = 4, N = 16, K = 8: matmul = 2 * 4 * 16 * 8 = 1024.
// CHECK-LABEL: func.func @matmul(
// CHECK-SAME:      attributes {llm.flops = {attention = 0 : i64, matmul = 1024 : i64, vector = 0 : i64}}
// CHECK:           llm.matmul %{{.*}}, %{{.*}} {llm.flops = {attention = 0 : i64, matmul = 1024 : i64, vector = 0 : i64}} : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
func.func @matmul(%lhs: tensor<4x8xf32>, %rhs: tensor<8x16xf32>) -> tensor<4x16xf32> {
  %0 = llm.matmul %lhs, %rhs : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// Tests that a batched matmul with a shared weight counts every batch, and
// its bias one vector flop per output element.
//   batch = 2, M = 4, N = 16, K = 8: matmul = 2 * 2 * 4 * 16 * 8 = 2048;
//   bias: vector = 2 * 4 * 16 = 128.
// CHECK-LABEL: func.func @matmul_bias_batch(
// CHECK-SAME:      attributes {llm.flops = {attention = 0 : i64, matmul = 2048 : i64, vector = 128 : i64}}
// CHECK:           llm.matmul %{{.*}}, %{{.*}}, %{{.*}} {llm.flops = {attention = 0 : i64, matmul = 2048 : i64, vector = 128 : i64}} : (tensor<2x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
func.func @matmul_bias_batch(%lhs: tensor<2x4x8xf32>, %rhs: tensor<8x16xf32>, %bias: tensor<16xf32>) -> tensor<2x4x16xf32> {
  %0 = llm.matmul %lhs, %rhs, %bias : (tensor<2x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
  return %0 : tensor<2x4x16xf32>
}

// -----

// Tests that M, N and K are read after both transposes, with a batched rhs.
//   lhs 8x4 transposed: M = 4, K = 8; rhs 5x8 transposed: N = 5;
//   batch = 2 * 3 = 6: matmul = 2 * 6 * 4 * 5 * 8 = 1920.
// CHECK-LABEL: func.func @matmul_transposes(
// CHECK-SAME:      attributes {llm.flops = {attention = 0 : i64, matmul = 1920 : i64, vector = 0 : i64}}
// CHECK:           llm.matmul %{{.*}}, %{{.*}} transpose_lhs transpose_rhs {llm.flops = {attention = 0 : i64, matmul = 1920 : i64, vector = 0 : i64}} : (tensor<2x3x8x4xf32>, tensor<2x3x5x8xf32>) -> tensor<2x3x4x5xf32>
func.func @matmul_transposes(%lhs: tensor<2x3x8x4xf32>, %rhs: tensor<2x3x5x8xf32>) -> tensor<2x3x4x5xf32> {
  %0 = llm.matmul %lhs, %rhs transpose_lhs transpose_rhs : (tensor<2x3x8x4xf32>, tensor<2x3x5x8xf32>) -> tensor<2x3x4x5xf32>
  return %0 : tensor<2x3x4x5xf32>
}

// -----

// Tests that causal attention counts the full Tq×Tk square, not half of it.
//   B = 2, Hq = 4, Tq = Tk = 8, D = Dv = 16: scores = 2 * 4 * 8 * 8 = 512;
//   attention = 4 * 512 * 16 = 32768; vector = 5 * 512 = 2560.
// CHECK-LABEL: func.func @attention_causal(
// CHECK-SAME:      attributes {llm.flops = {attention = 32768 : i64, matmul = 0 : i64, vector = 2560 : i64}}
// CHECK:           llm.attention %{{.*}}, %{{.*}}, %{{.*}} causal {llm.flops = {attention = 32768 : i64, matmul = 0 : i64, vector = 2560 : i64}} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
func.func @attention_causal(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32> {
  %0 = llm.attention %q, %k, %v causal : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %0 : tensor<2x4x8x16xf32>
}

// -----

// Tests that grouped-query attention counts the query heads, and a decode
// step (Tq < Tk) counts Tq·Tk scores; the scale does not change the count.
//   B = 1, Hq = 8 (Hkv = 2), Tq = 1, Tk = 12, D = Dv = 8:
//   scores = 1 * 8 * 1 * 12 = 96; attention = 4 * 96 * 8 = 3072;
//   vector = 5 * 96 = 480.
// CHECK-LABEL: func.func @attention_grouped_query_decode(
// CHECK-SAME:      attributes {llm.flops = {attention = 3072 : i64, matmul = 0 : i64, vector = 480 : i64}}
// CHECK:           llm.attention %{{.*}}, %{{.*}}, %{{.*}} causal {llm.flops = {attention = 3072 : i64, matmul = 0 : i64, vector = 480 : i64}, scale = 5.000000e-01 : f64} : (tensor<1x8x1x8xbf16>, tensor<1x2x12x8xbf16>, tensor<1x2x12x8xbf16>) -> tensor<1x8x1x8xbf16>
func.func @attention_grouped_query_decode(%q: tensor<1x8x1x8xbf16>, %k: tensor<1x2x12x8xbf16>, %v: tensor<1x2x12x8xbf16>) -> tensor<1x8x1x8xbf16> {
  %0 = llm.attention %q, %k, %v causal {scale = 0.5 : f64} : (tensor<1x8x1x8xbf16>, tensor<1x2x12x8xbf16>, tensor<1x2x12x8xbf16>) -> tensor<1x8x1x8xbf16>
  return %0 : tensor<1x8x1x8xbf16>
}

// -----

// Tests that QKᵀ is counted with the key head_dim and P·V with the value
// head_dim when they differ.
//   B = 1, Hq = 2, Tq = Tk = 4, D = 8, Dv = 16: scores = 1 * 2 * 4 * 4 = 32;
//   attention = 2 * 32 * 8 + 2 * 32 * 16 = 512 + 1024 = 1536;
//   vector = 5 * 32 = 160.
// CHECK-LABEL: func.func @attention_value_head_dim(
// CHECK-SAME:      attributes {llm.flops = {attention = 1536 : i64, matmul = 0 : i64, vector = 160 : i64}}
// CHECK:           llm.attention %{{.*}}, %{{.*}}, %{{.*}} {llm.flops = {attention = 1536 : i64, matmul = 0 : i64, vector = 160 : i64}} : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x16xf32>) -> tensor<1x2x4x16xf32>
func.func @attention_value_head_dim(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x16xf32>) -> tensor<1x2x4x16xf32> {
  %0 = llm.attention %q, %k, %v : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x16xf32>) -> tensor<1x2x4x16xf32>
  return %0 : tensor<1x2x4x16xf32>
}

// -----

// Tests that the elementwise ops count their nominal vector flops; a
// broadcast rhs does not change the count, which follows the result.
//   64 elements (2x4x8): add 1 * 64 = 64, mul 1 * 64 = 64,
//   gelu 8 * 64 = 512, silu 4 * 64 = 256, swiglu 5 * 64 = 320;
//   total vector = 64 + 64 + 512 + 256 + 320 = 1216.
// CHECK-LABEL: func.func @elementwise(
// CHECK-SAME:      attributes {llm.flops = {attention = 0 : i64, matmul = 0 : i64, vector = 1216 : i64}}
// CHECK:           %[[ADD:.*]] = llm.add %{{.*}}, %{{.*}} {llm.flops = {attention = 0 : i64, matmul = 0 : i64, vector = 64 : i64}} : tensor<2x4x8xf32>, tensor<2x4x8xf32>
// CHECK-NEXT:      %[[MUL:.*]] = llm.mul %[[ADD]], %{{.*}} {llm.flops = {attention = 0 : i64, matmul = 0 : i64, vector = 64 : i64}} : tensor<2x4x8xf32>, tensor<8xf32>
// CHECK-NEXT:      %[[GELU:.*]] = llm.gelu %[[MUL]] approximate = tanh {llm.flops = {attention = 0 : i64, matmul = 0 : i64, vector = 512 : i64}} : tensor<2x4x8xf32>
// CHECK-NEXT:      %[[SILU:.*]] = llm.silu %[[GELU]] {llm.flops = {attention = 0 : i64, matmul = 0 : i64, vector = 256 : i64}} : tensor<2x4x8xf32>
// CHECK-NEXT:      llm.swiglu %[[SILU]], %{{.*}} {llm.flops = {attention = 0 : i64, matmul = 0 : i64, vector = 320 : i64}} : tensor<2x4x8xf32>
func.func @elementwise(%x: tensor<2x4x8xf32>, %y: tensor<2x4x8xf32>, %s: tensor<8xf32>) -> tensor<2x4x8xf32> {
  %0 = llm.add %x, %y : tensor<2x4x8xf32>, tensor<2x4x8xf32>
  %1 = llm.mul %0, %s : tensor<2x4x8xf32>, tensor<8xf32>
  %2 = llm.gelu %1 approximate = tanh : tensor<2x4x8xf32>
  %3 = llm.silu %2 : tensor<2x4x8xf32>
  %4 = llm.swiglu %3, %y : tensor<2x4x8xf32>
  return %4 : tensor<2x4x8xf32>
}

// -----

// Tests that the norms, softmax and rope count their nominal vector flops.
//   64 elements (4x16): layer_norm 8 * 64 = 512, rms_norm 5 * 64 = 320;
//   64 elements (1x2x4x8): rope 3 * 64 = 192, softmax 5 * 64 = 320;
//   total vector = 512 + 320 + 192 + 320 = 1344.
// CHECK-LABEL: func.func @norms_softmax_rope(
// CHECK-SAME:      attributes {llm.flops = {attention = 0 : i64, matmul = 0 : i64, vector = 1344 : i64}}
// CHECK:           %[[LN:.*]] = llm.layer_norm %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 1.000000e-05 : f64, llm.flops = {attention = 0 : i64, matmul = 0 : i64, vector = 512 : i64}} : (tensor<4x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
// CHECK-NEXT:      llm.rms_norm %[[LN]], %{{.*}} {epsilon = 1.000000e-05 : f64, llm.flops = {attention = 0 : i64, matmul = 0 : i64, vector = 320 : i64}} : (tensor<4x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
// CHECK-NEXT:      %[[ROPE:.*]] = llm.rope %{{.*}} theta = 1.000000e+04 {llm.flops = {attention = 0 : i64, matmul = 0 : i64, vector = 192 : i64}} : tensor<1x2x4x8xf32>
// CHECK-NEXT:      llm.softmax %[[ROPE]] axis = -1 {llm.flops = {attention = 0 : i64, matmul = 0 : i64, vector = 320 : i64}} : tensor<1x2x4x8xf32>
func.func @norms_softmax_rope(%x: tensor<4x16xf32>, %w: tensor<16xf32>, %b: tensor<16xf32>, %h: tensor<1x2x4x8xf32>) -> (tensor<4x16xf32>, tensor<1x2x4x8xf32>) {
  %0 = llm.layer_norm %x, %w, %b {epsilon = 1.0e-05 : f64} : (tensor<4x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %1 = llm.rms_norm %0, %w {epsilon = 1.0e-05 : f64} : (tensor<4x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %2 = llm.rope %h theta = 10000.0 : tensor<1x2x4x8xf32>
  %3 = llm.softmax %2 axis = -1 : tensor<1x2x4x8xf32>
  return %1, %3 : tensor<4x16xf32>, tensor<1x2x4x8xf32>
}

// -----

// Tests that cross_entropy counts 5 per logit and an embedding lookup zero.
//   logits 2x8x64 = 1024 elements: vector = 5 * 1024 = 5120.
// CHECK-LABEL: func.func @embedding_cross_entropy(
// CHECK-SAME:      attributes {llm.flops = {attention = 0 : i64, matmul = 0 : i64, vector = 5120 : i64}}
// CHECK:           %[[EMB:.*]] = llm.embedding %{{.*}}[%{{.*}}] {llm.flops = {attention = 0 : i64, matmul = 0 : i64, vector = 0 : i64}} : (tensor<100x64xf32>, tensor<2x8xi32>) -> tensor<2x8x64xf32>
// CHECK-NEXT:      llm.cross_entropy %[[EMB]], %{{.*}} {llm.flops = {attention = 0 : i64, matmul = 0 : i64, vector = 5120 : i64}} : (tensor<2x8x64xf32>, tensor<2x8xi32>) -> tensor<f32>
func.func @embedding_cross_entropy(%table: tensor<100x64xf32>, %ids: tensor<2x8xi32>, %targets: tensor<2x8xi32>) -> tensor<f32> {
  %0 = llm.embedding %table[%ids] : (tensor<100x64xf32>, tensor<2x8xi32>) -> tensor<2x8x64xf32>
  %1 = llm.cross_entropy %0, %targets : (tensor<2x8x64xf32>, tensor<2x8xi32>) -> tensor<f32>
  return %1 : tensor<f32>
}

// -----

// Tests that the data movement ops are annotated with zero counts and the
// function total is zero.
//   reshape, transpose, split, concat: 0 each; total = 0.
// CHECK-LABEL: func.func @movement(
// CHECK-SAME:      attributes {llm.flops = {attention = 0 : i64, matmul = 0 : i64, vector = 0 : i64}}
// CHECK:           %[[R:.*]] = llm.reshape %{{.*}} {llm.flops = {attention = 0 : i64, matmul = 0 : i64, vector = 0 : i64}} : tensor<2x4x16xf32> -> tensor<2x4x2x8xf32>
// CHECK-NEXT:      %[[T:.*]] = llm.transpose %[[R]] [0, 2, 1, 3] {llm.flops = {attention = 0 : i64, matmul = 0 : i64, vector = 0 : i64}} : tensor<2x4x2x8xf32> -> tensor<2x2x4x8xf32>
// CHECK-NEXT:      %[[S:.*]]:2 = llm.split %[[T]] axis = 1 {llm.flops = {attention = 0 : i64, matmul = 0 : i64, vector = 0 : i64}} : tensor<2x2x4x8xf32> -> tensor<2x1x4x8xf32>, tensor<2x1x4x8xf32>
// CHECK-NEXT:      llm.concat %[[S]]#1, %[[S]]#0 axis = 1 {llm.flops = {attention = 0 : i64, matmul = 0 : i64, vector = 0 : i64}} : tensor<2x1x4x8xf32>, tensor<2x1x4x8xf32> -> tensor<2x2x4x8xf32>
func.func @movement(%x: tensor<2x4x16xf32>) -> tensor<2x2x4x8xf32> {
  %0 = llm.reshape %x : tensor<2x4x16xf32> -> tensor<2x4x2x8xf32>
  %1 = llm.transpose %0 [0, 2, 1, 3] : tensor<2x4x2x8xf32> -> tensor<2x2x4x8xf32>
  %2:2 = llm.split %1 axis = 1 : tensor<2x2x4x8xf32> -> tensor<2x1x4x8xf32>, tensor<2x1x4x8xf32>
  %3 = llm.concat %2#1, %2#0 axis = 1 : tensor<2x1x4x8xf32>, tensor<2x1x4x8xf32> -> tensor<2x2x4x8xf32>
  return %3 : tensor<2x2x4x8xf32>
}

// -----

// Tests that the function total sums every kind of work over a GPT-2 style
// attention block (B = 1, T = 4, C = 16, 2 heads of 8).
//   layer_norm 1x4x16:         vector 8 * 64 = 512
//   qkv matmul 16 -> 48:       matmul 2 * 4 * 48 * 16 = 6144,
//                              bias vector 4 * 48 = 192
//   reshape, transpose, split: 0
//   attention B=1 H=2 T=4 D=8: scores 1 * 2 * 4 * 4 = 32,
//                              attention 4 * 32 * 8 = 1024, vector 5 * 32 = 160
//   transpose, reshape:        0
//   proj matmul 16 -> 16:      matmul 2 * 4 * 16 * 16 = 2048,
//                              bias vector 4 * 16 = 64
//   residual add 1x4x16:       vector 64
//   total: attention = 1024, matmul = 6144 + 2048 = 8192,
//          vector = 512 + 192 + 160 + 64 + 64 = 992.
// CHECK-LABEL: func.func @attention_block(
// CHECK-SAME:      attributes {llm.flops = {attention = 1024 : i64, matmul = 8192 : i64, vector = 992 : i64}}
// CHECK:           llm.layer_norm {{.*}}llm.flops = {attention = 0 : i64, matmul = 0 : i64, vector = 512 : i64}}
// CHECK:           llm.matmul {{.*}}llm.flops = {attention = 0 : i64, matmul = 6144 : i64, vector = 192 : i64}}
// CHECK:           llm.attention {{.*}}llm.flops = {attention = 1024 : i64, matmul = 0 : i64, vector = 160 : i64}}
// CHECK:           llm.matmul {{.*}}llm.flops = {attention = 0 : i64, matmul = 2048 : i64, vector = 64 : i64}}
// CHECK:           llm.add {{.*}}llm.flops = {attention = 0 : i64, matmul = 0 : i64, vector = 64 : i64}}
func.func @attention_block(%x: tensor<1x4x16xf32>, %ln_w: tensor<16xf32>, %ln_b: tensor<16xf32>,
                           %attn_w: tensor<16x48xf32>, %attn_b: tensor<48xf32>,
                           %proj_w: tensor<16x16xf32>, %proj_b: tensor<16xf32>) -> tensor<1x4x16xf32> {
  %h = llm.layer_norm %x, %ln_w, %ln_b {epsilon = 1.0e-05 : f64} : (tensor<1x4x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<1x4x16xf32>
  %qkv = llm.matmul %h, %attn_w, %attn_b : (tensor<1x4x16xf32>, tensor<16x48xf32>, tensor<48xf32>) -> tensor<1x4x48xf32>
  %heads = llm.reshape %qkv : tensor<1x4x48xf32> -> tensor<1x4x6x8xf32>
  %heads_t = llm.transpose %heads [0, 2, 1, 3] : tensor<1x4x6x8xf32> -> tensor<1x6x4x8xf32>
  %q, %k, %v = llm.split %heads_t axis = 1 : tensor<1x6x4x8xf32> -> tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>
  %o = llm.attention %q, %k, %v causal : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %o_t = llm.transpose %o [0, 2, 1, 3] : tensor<1x2x4x8xf32> -> tensor<1x4x2x8xf32>
  %o_flat = llm.reshape %o_t : tensor<1x4x2x8xf32> -> tensor<1x4x16xf32>
  %proj = llm.matmul %o_flat, %proj_w, %proj_b : (tensor<1x4x16xf32>, tensor<16x16xf32>, tensor<16xf32>) -> tensor<1x4x16xf32>
  %y = llm.add %x, %proj : tensor<1x4x16xf32>, tensor<1x4x16xf32>
  return %y : tensor<1x4x16xf32>
}

// -----

// Tests that a count past 2^63 is an error rather than wrapping:
//   M = N = K = 2^21: matmul = 2 * 2^63 = 2^64, which would read as 0.
func.func @matmul_overflow(%x: tensor<2097152x2097152xf32>, %w: tensor<2097152x2097152xf32>) -> tensor<2097152x2097152xf32> {
  // expected-error@+1 {{'llm.matmul' op llmc-count-flops: flop count overflows 64 bits}}
  %y = llm.matmul %x, %w : (tensor<2097152x2097152xf32>, tensor<2097152x2097152xf32>) -> tensor<2097152x2097152xf32>
  return %y : tensor<2097152x2097152xf32>
}

// -----

// Tests that a function total past 2^63 is an error rather than wrapping:
// each matmul counts 2 * 2^20 * 2^20 * 2^21 = 2^62, the two 2^63.
// expected-error@+1 {{llmc-count-flops: the flop count of @total_overflow overflows 64 bits}}
func.func @total_overflow(%x: tensor<1048576x2097152xf32>, %w: tensor<2097152x1048576xf32>) -> tensor<1048576x1048576xf32> {
  %y = llm.matmul %x, %w : (tensor<1048576x2097152xf32>, tensor<2097152x1048576xf32>) -> tensor<1048576x1048576xf32>
  %z = llm.matmul %x, %w : (tensor<1048576x2097152xf32>, tensor<2097152x1048576xf32>) -> tensor<1048576x1048576xf32>
  %s = llm.add %y, %z : tensor<1048576x1048576xf32>, tensor<1048576x1048576xf32>
  return %s : tensor<1048576x1048576xf32>
}
