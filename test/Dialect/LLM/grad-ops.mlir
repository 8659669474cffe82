// RUN: llmc-opt %s --split-input-file | llmc-opt --split-input-file | FileCheck %s
// RUN: llmc-opt %s --split-input-file --mlir-print-op-generic | llmc-opt --split-input-file | FileCheck %s

// Round trips of the gradient ops llmc-autodiff builds, the optimizer ops
// llmc-append-adamw adds, and rope's `inverse` form.

//===----------------------------------------------------------------------===//
// Gradient ops
//===----------------------------------------------------------------------===//

// Tests that embedding_grad round-trips and returns a table-shaped gradient
// from a dout of the ids' shape followed by the hidden size.
// CHECK-LABEL: func.func @embedding_grad(
// CHECK-SAME:      %[[DOUT:.*]]: tensor<2x8x16xf32>, %[[IDS:.*]]: tensor<2x8xi32>) -> tensor<64x16xf32>
// CHECK:           %[[RES:.*]] = llm.embedding_grad %[[DOUT]], %[[IDS]] : (tensor<2x8x16xf32>, tensor<2x8xi32>) -> tensor<64x16xf32>
// CHECK-NEXT:      return %[[RES]] : tensor<64x16xf32>
func.func @embedding_grad(%dout: tensor<2x8x16xf32>, %ids: tensor<2x8xi32>) -> tensor<64x16xf32> {
  %0 = llm.embedding_grad %dout, %ids : (tensor<2x8x16xf32>, tensor<2x8xi32>) -> tensor<64x16xf32>
  return %0 : tensor<64x16xf32>
}

// -----

// Tests that embedding_grad round-trips in bf16 with rank-1 i64 ids.
// CHECK-LABEL: func.func @embedding_grad_bf16_i64(
// CHECK-SAME:      %[[DOUT:.*]]: tensor<8x16xbf16>, %[[IDS:.*]]: tensor<8xi64>) -> tensor<64x16xbf16>
// CHECK:           %[[RES:.*]] = llm.embedding_grad %[[DOUT]], %[[IDS]] : (tensor<8x16xbf16>, tensor<8xi64>) -> tensor<64x16xbf16>
// CHECK-NEXT:      return %[[RES]] : tensor<64x16xbf16>
func.func @embedding_grad_bf16_i64(%dout: tensor<8x16xbf16>, %ids: tensor<8xi64>) -> tensor<64x16xbf16> {
  %0 = llm.embedding_grad %dout, %ids : (tensor<8x16xbf16>, tensor<8xi64>) -> tensor<64x16xbf16>
  return %0 : tensor<64x16xbf16>
}

// -----

// Tests that sum_to round-trips down to a bias vector, down to a suffix of
// rank 2 (a position embedding), and to the same shape (a no-op sum).
// CHECK-LABEL: func.func @sum_to(
// CHECK-SAME:      %[[X:.*]]: tensor<2x4x8xf32>) -> (tensor<8xf32>, tensor<4x8xf32>, tensor<2x4x8xf32>)
// CHECK:           %[[BIAS:.*]] = llm.sum_to %[[X]] : tensor<2x4x8xf32> -> tensor<8xf32>
// CHECK-NEXT:      %[[POS:.*]] = llm.sum_to %[[X]] : tensor<2x4x8xf32> -> tensor<4x8xf32>
// CHECK-NEXT:      %[[SAME:.*]] = llm.sum_to %[[X]] : tensor<2x4x8xf32> -> tensor<2x4x8xf32>
// CHECK-NEXT:      return %[[BIAS]], %[[POS]], %[[SAME]] : tensor<8xf32>, tensor<4x8xf32>, tensor<2x4x8xf32>
func.func @sum_to(%x: tensor<2x4x8xf32>) -> (tensor<8xf32>, tensor<4x8xf32>, tensor<2x4x8xf32>) {
  %0 = llm.sum_to %x : tensor<2x4x8xf32> -> tensor<8xf32>
  %1 = llm.sum_to %x : tensor<2x4x8xf32> -> tensor<4x8xf32>
  %2 = llm.sum_to %x : tensor<2x4x8xf32> -> tensor<2x4x8xf32>
  return %0, %1, %2 : tensor<8xf32>, tensor<4x8xf32>, tensor<2x4x8xf32>
}

// -----

// Tests that gelu_grad round-trips with both approximations, dout first.
// CHECK-LABEL: func.func @gelu_grad(
// CHECK-SAME:      %[[DOUT:.*]]: tensor<2x4x32xf32>, %[[X:.*]]: tensor<2x4x32xf32>) -> (tensor<2x4x32xf32>, tensor<2x4x32xf32>)
// CHECK:           %[[TANH:.*]] = llm.gelu_grad %[[DOUT]], %[[X]] approximate = tanh : tensor<2x4x32xf32>
// CHECK-NEXT:      %[[ERF:.*]] = llm.gelu_grad %[[DOUT]], %[[X]] approximate = none : tensor<2x4x32xf32>
// CHECK-NEXT:      return %[[TANH]], %[[ERF]] : tensor<2x4x32xf32>, tensor<2x4x32xf32>
func.func @gelu_grad(%dout: tensor<2x4x32xf32>, %x: tensor<2x4x32xf32>) -> (tensor<2x4x32xf32>, tensor<2x4x32xf32>) {
  %0 = llm.gelu_grad %dout, %x approximate = tanh : tensor<2x4x32xf32>
  %1 = llm.gelu_grad %dout, %x approximate = none : tensor<2x4x32xf32>
  return %0, %1 : tensor<2x4x32xf32>, tensor<2x4x32xf32>
}

// -----

// Tests that silu_grad round-trips.
// CHECK-LABEL: func.func @silu_grad(
// CHECK-SAME:      %[[DOUT:.*]]: tensor<2x4x24xf32>, %[[X:.*]]: tensor<2x4x24xf32>) -> tensor<2x4x24xf32>
// CHECK:           %[[RES:.*]] = llm.silu_grad %[[DOUT]], %[[X]] : tensor<2x4x24xf32>
// CHECK-NEXT:      return %[[RES]] : tensor<2x4x24xf32>
func.func @silu_grad(%dout: tensor<2x4x24xf32>, %x: tensor<2x4x24xf32>) -> tensor<2x4x24xf32> {
  %0 = llm.silu_grad %dout, %x : tensor<2x4x24xf32>
  return %0 : tensor<2x4x24xf32>
}

// -----

// Tests that swiglu_grad round-trips with its two results, the gate's
// gradient first, printed under their result names.
// CHECK-LABEL: func.func @swiglu_grad(
// CHECK-SAME:      %[[DOUT:.*]]: tensor<2x4x24xbf16>, %[[GATE:.*]]: tensor<2x4x24xbf16>, %[[UP:.*]]: tensor<2x4x24xbf16>) -> (tensor<2x4x24xbf16>, tensor<2x4x24xbf16>)
// CHECK:           %[[DGATE:.*]], %[[DUP:.*]] = llm.swiglu_grad %[[DOUT]], %[[GATE]], %[[UP]] : tensor<2x4x24xbf16>
// CHECK-NEXT:      return %[[DGATE]], %[[DUP]] : tensor<2x4x24xbf16>, tensor<2x4x24xbf16>
func.func @swiglu_grad(%dout: tensor<2x4x24xbf16>, %gate: tensor<2x4x24xbf16>, %up: tensor<2x4x24xbf16>) -> (tensor<2x4x24xbf16>, tensor<2x4x24xbf16>) {
  %dgate, %dup = llm.swiglu_grad %dout, %gate, %up : tensor<2x4x24xbf16>
  return %dgate, %dup : tensor<2x4x24xbf16>, tensor<2x4x24xbf16>
}

// -----

// Tests that layer_norm_grad round-trips with its epsilon and returns the
// input, weight and bias gradients.
// CHECK-LABEL: func.func @layer_norm_grad(
// CHECK-SAME:      %[[DOUT:.*]]: tensor<2x4x8xf32>, %[[X:.*]]: tensor<2x4x8xf32>, %[[W:.*]]: tensor<8xf32>) -> (tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>)
// CHECK:           %[[DX:.*]], %[[DW:.*]], %[[DB:.*]] = llm.layer_norm_grad %[[DOUT]], %[[X]], %[[W]] {epsilon = 1.000000e-05 : f64} : (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<8xf32>) -> (tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>)
// CHECK-NEXT:      return %[[DX]], %[[DW]], %[[DB]] : tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>
func.func @layer_norm_grad(%dout: tensor<2x4x8xf32>, %x: tensor<2x4x8xf32>, %w: tensor<8xf32>) -> (tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>) {
  %dx, %dw, %db = llm.layer_norm_grad %dout, %x, %w {epsilon = 1.0e-05 : f64} : (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<8xf32>) -> (tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>)
  return %dx, %dw, %db : tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>
}

// -----

// Tests that rms_norm_grad round-trips in bf16 and returns the input and
// weight gradients.
// CHECK-LABEL: func.func @rms_norm_grad(
// CHECK-SAME:      %[[DOUT:.*]]: tensor<2x4x8xbf16>, %[[X:.*]]: tensor<2x4x8xbf16>, %[[W:.*]]: tensor<8xbf16>) -> (tensor<2x4x8xbf16>, tensor<8xbf16>)
// CHECK:           %[[DX:.*]], %[[DW:.*]] = llm.rms_norm_grad %[[DOUT]], %[[X]], %[[W]] {epsilon = 1.000000e-05 : f64} : (tensor<2x4x8xbf16>, tensor<2x4x8xbf16>, tensor<8xbf16>) -> (tensor<2x4x8xbf16>, tensor<8xbf16>)
// CHECK-NEXT:      return %[[DX]], %[[DW]] : tensor<2x4x8xbf16>, tensor<8xbf16>
func.func @rms_norm_grad(%dout: tensor<2x4x8xbf16>, %x: tensor<2x4x8xbf16>, %w: tensor<8xbf16>) -> (tensor<2x4x8xbf16>, tensor<8xbf16>) {
  %dx, %dw = llm.rms_norm_grad %dout, %x, %w {epsilon = 1.0e-05 : f64} : (tensor<2x4x8xbf16>, tensor<2x4x8xbf16>, tensor<8xbf16>) -> (tensor<2x4x8xbf16>, tensor<8xbf16>)
  return %dx, %dw : tensor<2x4x8xbf16>, tensor<8xbf16>
}

// -----

// Tests that softmax_grad round-trips with a negative axis and with a
// non-negative one.
// CHECK-LABEL: func.func @softmax_grad(
// CHECK-SAME:      %[[DOUT:.*]]: tensor<2x4x8x8xf32>, %[[Y:.*]]: tensor<2x4x8x8xf32>) -> (tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>)
// CHECK:           %[[LAST:.*]] = llm.softmax_grad %[[DOUT]], %[[Y]] axis = -1 : tensor<2x4x8x8xf32>
// CHECK-NEXT:      %[[TWO:.*]] = llm.softmax_grad %[[DOUT]], %[[Y]] axis = 2 : tensor<2x4x8x8xf32>
// CHECK-NEXT:      return %[[LAST]], %[[TWO]] : tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>
func.func @softmax_grad(%dout: tensor<2x4x8x8xf32>, %y: tensor<2x4x8x8xf32>) -> (tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>) {
  %0 = llm.softmax_grad %dout, %y axis = -1 : tensor<2x4x8x8xf32>
  %1 = llm.softmax_grad %dout, %y axis = 2 : tensor<2x4x8x8xf32>
  return %0, %1 : tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>
}

// -----

// Tests that causal attention_grad round-trips and returns gradients with
// the query, key and value types.
// CHECK-LABEL: func.func @attention_grad_causal(
// CHECK-SAME:      %[[DOUT:.*]]: tensor<2x4x8x16xf32>, %[[Q:.*]]: tensor<2x4x8x16xf32>, %[[K:.*]]: tensor<2x4x8x16xf32>, %[[V:.*]]: tensor<2x4x8x16xf32>, %[[OUT:.*]]: tensor<2x4x8x16xf32>)
// CHECK:           %[[DQ:.*]], %[[DK:.*]], %[[DV:.*]] = llm.attention_grad %[[DOUT]], %[[Q]], %[[K]], %[[V]], %[[OUT]] causal : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>)
// CHECK-NEXT:      return %[[DQ]], %[[DK]], %[[DV]]
func.func @attention_grad_causal(%dout: tensor<2x4x8x16xf32>, %q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %out: tensor<2x4x8x16xf32>) -> (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) {
  %dq, %dk, %dv = llm.attention_grad %dout, %q, %k, %v, %out causal : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>)
  return %dq, %dk, %dv : tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>
}

// -----

// Tests that grouped-query attention_grad round-trips in f16 without causal
// and with an explicit scale: key and value gradients keep the kv heads, and
// the value head_dim may differ.
// CHECK-LABEL: func.func @attention_grad_grouped_query(
// CHECK-SAME:      %[[DOUT:.*]]: tensor<1x8x16x32xf16>, %[[Q:.*]]: tensor<1x8x16x8xf16>, %[[K:.*]]: tensor<1x2x12x8xf16>, %[[V:.*]]: tensor<1x2x12x32xf16>, %[[OUT:.*]]: tensor<1x8x16x32xf16>)
// CHECK:           %[[DQ:.*]], %[[DK:.*]], %[[DV:.*]] = llm.attention_grad %[[DOUT]], %[[Q]], %[[K]], %[[V]], %[[OUT]] {scale = 1.250000e-01 : f64} : (tensor<1x8x16x32xf16>, tensor<1x8x16x8xf16>, tensor<1x2x12x8xf16>, tensor<1x2x12x32xf16>, tensor<1x8x16x32xf16>) -> (tensor<1x8x16x8xf16>, tensor<1x2x12x8xf16>, tensor<1x2x12x32xf16>)
// CHECK-NEXT:      return %[[DQ]], %[[DK]], %[[DV]]
func.func @attention_grad_grouped_query(%dout: tensor<1x8x16x32xf16>, %q: tensor<1x8x16x8xf16>, %k: tensor<1x2x12x8xf16>, %v: tensor<1x2x12x32xf16>, %out: tensor<1x8x16x32xf16>) -> (tensor<1x8x16x8xf16>, tensor<1x2x12x8xf16>, tensor<1x2x12x32xf16>) {
  %dq, %dk, %dv = llm.attention_grad %dout, %q, %k, %v, %out {scale = 0.125 : f64} : (tensor<1x8x16x32xf16>, tensor<1x8x16x8xf16>, tensor<1x2x12x8xf16>, tensor<1x2x12x32xf16>, tensor<1x8x16x32xf16>) -> (tensor<1x8x16x8xf16>, tensor<1x2x12x8xf16>, tensor<1x2x12x32xf16>)
  return %dq, %dk, %dv : tensor<1x8x16x8xf16>, tensor<1x2x12x8xf16>, tensor<1x2x12x32xf16>
}

// -----

// Tests that cross_entropy_grad round-trips with a scalar dloss and returns
// a gradient of the logits' type.
// CHECK-LABEL: func.func @cross_entropy_grad(
// CHECK-SAME:      %[[DLOSS:.*]]: tensor<f32>, %[[LOGITS:.*]]: tensor<2x8x64xf32>, %[[TARGETS:.*]]: tensor<2x8xi64>) -> tensor<2x8x64xf32>
// CHECK:           %[[RES:.*]] = llm.cross_entropy_grad %[[DLOSS]], %[[LOGITS]], %[[TARGETS]] : (tensor<f32>, tensor<2x8x64xf32>, tensor<2x8xi64>) -> tensor<2x8x64xf32>
// CHECK-NEXT:      return %[[RES]] : tensor<2x8x64xf32>
func.func @cross_entropy_grad(%dloss: tensor<f32>, %logits: tensor<2x8x64xf32>, %targets: tensor<2x8xi64>) -> tensor<2x8x64xf32> {
  %0 = llm.cross_entropy_grad %dloss, %logits, %targets : (tensor<f32>, tensor<2x8x64xf32>, tensor<2x8xi64>) -> tensor<2x8x64xf32>
  return %0 : tensor<2x8x64xf32>
}

//===----------------------------------------------------------------------===//
// Optimizer ops
//===----------------------------------------------------------------------===//

// -----

// Tests that grad_norm round-trips over one gradient and over gradients of
// different shapes.
// CHECK-LABEL: func.func @grad_norm(
// CHECK-SAME:      %[[DW:.*]]: tensor<64x64xf32>, %[[DB:.*]]: tensor<64xf32>) -> (tensor<f32>, tensor<f32>)
// CHECK:           %[[ONE:.*]] = llm.grad_norm %[[DW]] : tensor<64x64xf32> -> tensor<f32>
// CHECK-NEXT:      %[[TWO:.*]] = llm.grad_norm %[[DW]], %[[DB]] : tensor<64x64xf32>, tensor<64xf32> -> tensor<f32>
// CHECK-NEXT:      return %[[ONE]], %[[TWO]] : tensor<f32>, tensor<f32>
func.func @grad_norm(%dw: tensor<64x64xf32>, %db: tensor<64xf32>) -> (tensor<f32>, tensor<f32>) {
  %0 = llm.grad_norm %dw : tensor<64x64xf32> -> tensor<f32>
  %1 = llm.grad_norm %dw, %db : tensor<64x64xf32>, tensor<64xf32> -> tensor<f32>
  return %0, %1 : tensor<f32>, tensor<f32>
}

// -----

// Tests that adamw round-trips with `decay` (a matrix) and without it (a
// vector), returning the new parameter and moments.
// CHECK-LABEL: func.func @adamw(
// CHECK-SAME:      %[[W:[^:]*]]: tensor<64x64xf32>, %[[DW:[^:]*]]: tensor<64x64xf32>, %[[MW:[^:]*]]: tensor<64x64xf32>, %[[VW:[^:]*]]: tensor<64x64xf32>,
// CHECK-SAME:      %[[B:[^:]*]]: tensor<64xf32>, %[[DB:[^:]*]]: tensor<64xf32>, %[[MB:[^:]*]]: tensor<64xf32>, %[[VB:[^:]*]]: tensor<64xf32>, %[[NORM:[^:]*]]: tensor<f32>)
// CHECK:           %[[W2:.*]], %[[MW2:.*]], %[[VW2:.*]] = llm.adamw %[[W]], %[[DW]], %[[MW]], %[[VW]], %[[NORM]] decay : tensor<64x64xf32>, tensor<f32>
// CHECK-NEXT:      %[[B2:.*]], %[[MB2:.*]], %[[VB2:.*]] = llm.adamw %[[B]], %[[DB]], %[[MB]], %[[VB]], %[[NORM]] : tensor<64xf32>, tensor<f32>
// CHECK-NEXT:      return %[[W2]], %[[MW2]], %[[VW2]], %[[B2]], %[[MB2]], %[[VB2]]
func.func @adamw(%w: tensor<64x64xf32>, %dw: tensor<64x64xf32>, %mw: tensor<64x64xf32>, %vw: tensor<64x64xf32>,
                 %b: tensor<64xf32>, %db: tensor<64xf32>, %mb: tensor<64xf32>, %vb: tensor<64xf32>, %norm: tensor<f32>)
    -> (tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) {
  %w2, %mw2, %vw2 = llm.adamw %w, %dw, %mw, %vw, %norm decay : tensor<64x64xf32>, tensor<f32>
  %b2, %mb2, %vb2 = llm.adamw %b, %db, %mb, %vb, %norm : tensor<64xf32>, tensor<f32>
  return %w2, %mw2, %vw2, %b2, %mb2, %vb2 : tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>
}

//===----------------------------------------------------------------------===//
// llm.rope inverse
//===----------------------------------------------------------------------===//

// -----

// Tests that rope round-trips with and without `inverse`, which prints after
// theta.
// CHECK-LABEL: func.func @rope_inverse(
// CHECK-SAME:      %[[X:.*]]: tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
// CHECK:           %[[FWD:.*]] = llm.rope %[[X]] theta = 1.000000e+04 : tensor<2x4x8x16xf32>
// CHECK-NEXT:      %[[INV:.*]] = llm.rope %[[FWD]] theta = 1.000000e+04 inverse : tensor<2x4x8x16xf32>
// CHECK-NEXT:      return %[[INV]] : tensor<2x4x8x16xf32>
func.func @rope_inverse(%x: tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32> {
  %0 = llm.rope %x theta = 10000.0 : tensor<2x4x8x16xf32>
  %1 = llm.rope %0 theta = 10000.0 inverse : tensor<2x4x8x16xf32>
  return %1 : tensor<2x4x8x16xf32>
}
