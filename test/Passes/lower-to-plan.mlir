// RUN: llmc-opt %s --split-input-file --llmc-lower-to-plan --verify-diagnostics | FileCheck %s

// Each case lowers a hand-written @train_step and checks the kernel names
// and the order of their ins and outs: the contract with runtime/executor.

//===----------------------------------------------------------------------===//
// Buffers
//===----------------------------------------------------------------------===//

// Tests that arguments become buffers in argument order, named after their
// Hugging Face parameter (moments get PyTorch's exp_avg / exp_avg_sq
// suffixes) and unnamed inputs otherwise; results named by llm.output and
// llm.grad_of rename their buffers and make them output and grad buffers.
// A result buffer is an activation under a forward (or missing) role and a
// temporary otherwise. The tensor function is replaced by an argument-less
// program of the same name; other functions are left alone.
// CHECK-LABEL: func.func @train_step() {
// CHECK-NEXT:      %[[IDS:.*]] = plan.buffer "input_ids" input : memref<2x4xi32>
// CHECK-NEXT:      %[[W:.*]] = plan.buffer "w" param : memref<16x8xf32>
// CHECK-NEXT:      plan.buffer "w.exp_avg" optimizer_state : memref<16x8xf32>
// CHECK-NEXT:      plan.buffer "w.exp_avg_sq" optimizer_state : memref<16x8xf32>
// CHECK-NEXT:      %[[X:.*]] = plan.buffer "" input : memref<2x4x8xf32>
// CHECK-NEXT:      %[[E:.*]] = plan.buffer "hidden" output live_out : memref<2x4x8xf32>
// CHECK-NEXT:      plan.kernel "embedding_forward" ins(%[[W]], %[[IDS]]) outs(%[[E]]) : (memref<16x8xf32>, memref<2x4xi32>) -> memref<2x4x8xf32>
// CHECK-NEXT:      %[[Y:.*]] = plan.buffer "x" grad live_out : memref<2x4x8xf32>
// CHECK-NEXT:      plan.kernel "add" ins(%[[E]], %[[X]]) outs(%[[Y]]) {llm.role = "backward"}
// CHECK-NEXT:      %[[Z:.*]] = plan.buffer "" temporary : memref<2x4x8xf32>
// CHECK-NEXT:      plan.kernel "mul" ins(%[[E]], %[[X]]) outs(%[[Z]]) {llm.role = "optimizer"}
// CHECK-NEXT:      %[[F:.*]] = plan.buffer "" activation : memref<2x4x8xf32>
// CHECK-NEXT:      plan.kernel "add" ins(%[[E]], %[[E]]) outs(%[[F]]) {llm.role = "forward"}
// CHECK-NEXT:      return
// CHECK-NOT:   func.func @train_step
// CHECK-LABEL: func.func @other(
// CHECK-SAME:      %{{.*}}: tensor<2xf32>) -> tensor<2xf32>
func.func @train_step(%ids: tensor<2x4xi32> {llm.input = "input_ids"}, %w: tensor<16x8xf32> {llm.param = "w"},
                      %m: tensor<16x8xf32> {llm.adam_m = "w"}, %v: tensor<16x8xf32> {llm.adam_v = "w"},
                      %x: tensor<2x4x8xf32>)
    -> (tensor<2x4x8xf32> {llm.output = "hidden"}, tensor<2x4x8xf32> {llm.grad_of = "x"}, tensor<2x4x8xf32>) {
  %e = llm.embedding %w[%ids] : (tensor<16x8xf32>, tensor<2x4xi32>) -> tensor<2x4x8xf32>
  %y = llm.add %e, %x {llm.role = "backward"} : tensor<2x4x8xf32>, tensor<2x4x8xf32>
  %z = llm.mul %e, %x {llm.role = "optimizer"} : tensor<2x4x8xf32>, tensor<2x4x8xf32>
  %f = llm.add %e, %e {llm.role = "forward"} : tensor<2x4x8xf32>, tensor<2x4x8xf32>
  return %e, %y, %z : tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>
}
func.func @other(%x: tensor<2xf32>) -> tensor<2xf32> {
  return %x : tensor<2xf32>
}

//===----------------------------------------------------------------------===//
// Forward kernels
//===----------------------------------------------------------------------===//

// -----

// Tests the linear-algebra and elementwise kernels: matmul passes both
// transpose flags (false too) and the bias as a third input; gelu its
// approximation by name; kernels keep llm.layer and llm.role.
// CHECK-LABEL: func.func @train_step() {
// CHECK:           %[[X:.*]] = plan.buffer "x" input : memref<2x4x8xf32>
// CHECK-NEXT:      %[[W:.*]] = plan.buffer "w" param : memref<16x8xf32>
// CHECK-NEXT:      %[[B:.*]] = plan.buffer "b" param : memref<16xf32>
// CHECK-NEXT:      %[[H:.*]] = plan.buffer "" activation : memref<2x4x16xf32>
// CHECK-NEXT:      plan.kernel "matmul" ins(%[[X]], %[[W]], %[[B]]) outs(%[[H]]) {llm.layer = 2 : i64, llm.role = "forward", params = {transpose_lhs = false, transpose_rhs = true}} : (memref<2x4x8xf32>, memref<16x8xf32>, memref<16xf32>) -> memref<2x4x16xf32>
// CHECK-NEXT:      %[[G:.*]] = plan.buffer "" activation : memref<2x4x16xf32>
// CHECK-NEXT:      plan.kernel "gelu_forward" ins(%[[H]]) outs(%[[G]]) {llm.layer = 2 : i64, params = {approximate = "tanh"}}
// CHECK-NEXT:      %[[GE:.*]] = plan.buffer "" activation : memref<2x4x16xf32>
// CHECK-NEXT:      plan.kernel "gelu_forward" ins(%[[G]]) outs(%[[GE]]) {params = {approximate = "none"}}
// CHECK-NEXT:      %[[S:.*]] = plan.buffer "" activation : memref<2x4x16xf32>
// CHECK-NEXT:      plan.kernel "silu_forward" ins(%[[GE]]) outs(%[[S]]) :
// CHECK-NEXT:      %[[SW:.*]] = plan.buffer "" activation : memref<2x4x16xf32>
// CHECK-NEXT:      plan.kernel "swiglu_forward" ins(%[[S]], %[[GE]]) outs(%[[SW]]) :
// CHECK-NEXT:      %[[P:.*]] = plan.buffer "" activation : memref<2x16x16xf32>
// CHECK-NEXT:      plan.kernel "matmul" ins(%[[SW]], %[[SW]]) outs(%[[P]]) {params = {transpose_lhs = true, transpose_rhs = false}} : (memref<2x4x16xf32>, memref<2x4x16xf32>) -> memref<2x16x16xf32>
// CHECK-NEXT:      return
func.func @train_step(%x: tensor<2x4x8xf32> {llm.input = "x"}, %w: tensor<16x8xf32> {llm.param = "w"}, %b: tensor<16xf32> {llm.param = "b"}) {
  %h = llm.matmul %x, %w, %b transpose_rhs {llm.layer = 2 : i64, llm.role = "forward"} : (tensor<2x4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
  %g = llm.gelu %h approximate = tanh {llm.layer = 2 : i64} : tensor<2x4x16xf32>
  %ge = llm.gelu %g approximate = none : tensor<2x4x16xf32>
  %s = llm.silu %ge : tensor<2x4x16xf32>
  %sw = llm.swiglu %s, %ge : tensor<2x4x16xf32>
  %p = llm.matmul %sw, %sw transpose_lhs : (tensor<2x4x16xf32>, tensor<2x4x16xf32>) -> tensor<2x16x16xf32>
  return
}

// -----

// Tests the shape kernels: reshape becomes a view of its input's buffer (no
// kernel, no copy), transpose a "permute" with the permutation, split one
// kernel writing every piece, concat one kernel reading every piece, and
// the slices of a position table "extract_slice" / "insert_slice" with
// their static offsets (insert_slice reads the slice, then the destination).
// CHECK-LABEL: func.func @train_step() {
// CHECK:           %[[X:.*]] = plan.buffer "" input : memref<2x4x8xf32>
// CHECK-NEXT:      %[[T:.*]] = plan.buffer "" input : memref<8x8xf32>
// CHECK-NEXT:      %[[V:.*]] = plan.view %[[X]] : memref<2x4x8xf32> to memref<2x4x2x4xf32>
// CHECK-NEXT:      %[[P:.*]] = plan.buffer "" activation : memref<2x2x4x4xf32>
// CHECK-NEXT:      plan.kernel "permute" ins(%[[V]]) outs(%[[P]]) {params = {permutation = array<i64: 0, 2, 1, 3>}} : (memref<2x4x2x4xf32>) -> memref<2x2x4x4xf32>
// CHECK-NEXT:      %[[S0:.*]] = plan.buffer "" activation : memref<2x4x2xf32>
// CHECK-NEXT:      %[[S1:.*]] = plan.buffer "" activation : memref<2x4x6xf32>
// CHECK-NEXT:      plan.kernel "split" ins(%[[X]]) outs(%[[S0]], %[[S1]]) {params = {axis = -1 : i64}} : (memref<2x4x8xf32>) -> (memref<2x4x2xf32>, memref<2x4x6xf32>)
// CHECK-NEXT:      %[[C:.*]] = plan.buffer "" activation : memref<2x4x8xf32>
// CHECK-NEXT:      plan.kernel "concat" ins(%[[S1]], %[[S0]]) outs(%[[C]]) {params = {axis = 2 : i64}} : (memref<2x4x6xf32>, memref<2x4x2xf32>) -> memref<2x4x8xf32>
// CHECK-NEXT:      %[[E:.*]] = plan.buffer "" activation : memref<4x8xf32>
// CHECK-NEXT:      plan.kernel "extract_slice" ins(%[[T]]) outs(%[[E]]) {params = {offsets = array<i64: 2, 0>}} : (memref<8x8xf32>) -> memref<4x8xf32>
// CHECK-NEXT:      %[[I:.*]] = plan.buffer "" activation : memref<8x8xf32>
// CHECK-NEXT:      plan.kernel "insert_slice" ins(%[[E]], %[[T]]) outs(%[[I]]) {params = {offsets = array<i64: 4, 0>}} : (memref<4x8xf32>, memref<8x8xf32>) -> memref<8x8xf32>
// CHECK-NEXT:      return
func.func @train_step(%x: tensor<2x4x8xf32>, %t: tensor<8x8xf32>) {
  %r = llm.reshape %x : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
  %p = llm.transpose %r [0, 2, 1, 3] : tensor<2x4x2x4xf32> -> tensor<2x2x4x4xf32>
  %s:2 = llm.split %x axis = -1 : tensor<2x4x8xf32> -> tensor<2x4x2xf32>, tensor<2x4x6xf32>
  %c = llm.concat %s#1, %s#0 axis = 2 : tensor<2x4x6xf32>, tensor<2x4x2xf32> -> tensor<2x4x8xf32>
  %e = tensor.extract_slice %t[2, 0] [4, 8] [1, 1] : tensor<8x8xf32> to tensor<4x8xf32>
  %i = tensor.insert_slice %e into %t[4, 0] [4, 8] [1, 1] : tensor<4x8xf32> into tensor<8x8xf32>
  return
}

// -----

// Tests that a reshape of a reshape views the view, and that a kernel reads
// the view where the op read the reshape.
// CHECK-LABEL: func.func @train_step() {
// CHECK:           %[[X:.*]] = plan.buffer "" input : memref<2x4x8xf32>
// CHECK-NEXT:      %[[V1:.*]] = plan.view %[[X]] : memref<2x4x8xf32> to memref<8x8xf32>
// CHECK-NEXT:      %[[V2:.*]] = plan.view %[[V1]] : memref<8x8xf32> to memref<64xf32>
// CHECK-NEXT:      %[[Y:.*]] = plan.buffer "" activation : memref<8x8xf32>
// CHECK-NEXT:      plan.kernel "softmax_forward" ins(%[[V1]]) outs(%[[Y]])
// CHECK-NEXT:      %[[Z:.*]] = plan.buffer "" activation : memref<64xf32>
// CHECK-NEXT:      plan.kernel "silu_forward" ins(%[[V2]]) outs(%[[Z]])
func.func @train_step(%x: tensor<2x4x8xf32>) {
  %0 = llm.reshape %x : tensor<2x4x8xf32> -> tensor<8x8xf32>
  %1 = llm.reshape %0 : tensor<8x8xf32> -> tensor<64xf32>
  %2 = llm.softmax %0 axis = 1 : tensor<8x8xf32>
  %3 = llm.silu %1 : tensor<64xf32>
  return
}

//===----------------------------------------------------------------------===//
// Saved statistics: forward kernels write them, backward kernels read them
//===----------------------------------------------------------------------===//

// -----

// Tests that layernorm_forward also writes the mean and rstd of every row
// (f32 even for a f32 model) and that layernorm_backward reads them after
// dout, input and weight, writing dinput, dweight and dbias.
// CHECK-LABEL: func.func @train_step() {
// CHECK:           %[[X:.*]] = plan.buffer "" input : memref<2x4x8xf32>
// CHECK-NEXT:      %[[W:.*]] = plan.buffer "w" param : memref<8xf32>
// CHECK-NEXT:      %[[B:.*]] = plan.buffer "b" param : memref<8xf32>
// CHECK-NEXT:      %[[DY:.*]] = plan.buffer "" input : memref<2x4x8xf32>
// CHECK-NEXT:      %[[Y:.*]] = plan.buffer "" activation : memref<2x4x8xf32>
// CHECK-NEXT:      %[[MEAN:.*]] = plan.buffer "" activation : memref<8xf32>
// CHECK-NEXT:      %[[RSTD:.*]] = plan.buffer "" activation : memref<8xf32>
// CHECK-NEXT:      plan.kernel "layernorm_forward" ins(%[[X]], %[[W]], %[[B]]) outs(%[[Y]], %[[MEAN]], %[[RSTD]]) {llm.role = "forward", params = {epsilon = 1.000000e-05 : f64}}
// CHECK-NEXT:      %[[DX:.*]] = plan.buffer "" temporary : memref<2x4x8xf32>
// CHECK-NEXT:      %[[DW:.*]] = plan.buffer "" temporary : memref<8xf32>
// CHECK-NEXT:      %[[DB:.*]] = plan.buffer "" temporary : memref<8xf32>
// CHECK-NEXT:      plan.kernel "layernorm_backward" ins(%[[DY]], %[[X]], %[[W]], %[[MEAN]], %[[RSTD]]) outs(%[[DX]], %[[DW]], %[[DB]]) {llm.role = "backward", params = {epsilon = 1.000000e-05 : f64}} : (memref<2x4x8xf32>, memref<2x4x8xf32>, memref<8xf32>, memref<8xf32>, memref<8xf32>) -> (memref<2x4x8xf32>, memref<8xf32>, memref<8xf32>)
func.func @train_step(%x: tensor<2x4x8xf32>, %w: tensor<8xf32> {llm.param = "w"}, %b: tensor<8xf32> {llm.param = "b"}, %dy: tensor<2x4x8xf32>) {
  %y = llm.layer_norm %x, %w, %b {epsilon = 1.0e-05 : f64, llm.role = "forward"} : (tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
  %dx, %dw, %db = llm.layer_norm_grad %dy, %x, %w {epsilon = 1.0e-05 : f64, llm.role = "backward"} : (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<8xf32>) -> (tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>)
  return
}

// -----

// Tests that with two layer norms, each backward kernel reads the statistics
// of the forward norm of its own input and weight, not the latest ones.
// CHECK-LABEL: func.func @train_step() {
// CHECK:           plan.kernel "layernorm_forward" ins(%{{.*}}, %{{.*}}, %{{.*}}) outs(%{{.*}}, %[[MEAN0:.*]], %[[RSTD0:.*]]) {params
// CHECK:           plan.kernel "layernorm_forward" ins(%{{.*}}, %{{.*}}, %{{.*}}) outs(%{{.*}}, %[[MEAN1:.*]], %[[RSTD1:.*]]) {params
// CHECK:           plan.kernel "layernorm_backward" ins(%{{.*}}, %{{.*}}, %{{.*}}, %[[MEAN1]], %[[RSTD1]])
// CHECK:           plan.kernel "layernorm_backward" ins(%{{.*}}, %{{.*}}, %{{.*}}, %[[MEAN0]], %[[RSTD0]])
func.func @train_step(%x: tensor<2x8xf32>, %w0: tensor<8xf32>, %w1: tensor<8xf32>, %b: tensor<8xf32>, %dy: tensor<2x8xf32>) {
  %h = llm.layer_norm %x, %w0, %b {epsilon = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  %y = llm.layer_norm %h, %w1, %b {epsilon = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  %dh, %dw1, %db1 = llm.layer_norm_grad %dy, %h, %w1 {epsilon = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<2x8xf32>, tensor<8xf32>) -> (tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>)
  %dx, %dw0, %db0 = llm.layer_norm_grad %dh, %x, %w0 {epsilon = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<2x8xf32>, tensor<8xf32>) -> (tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>)
  return
}

// -----

// Tests that rmsnorm_forward also writes the rstd of every row and that
// rmsnorm_backward reads it after dout, input and weight.
// CHECK-LABEL: func.func @train_step() {
// CHECK:           %[[X:.*]] = plan.buffer "" input : memref<2x4x8xf32>
// CHECK-NEXT:      %[[W:.*]] = plan.buffer "" input : memref<8xf32>
// CHECK-NEXT:      %[[DY:.*]] = plan.buffer "" input : memref<2x4x8xf32>
// CHECK-NEXT:      %[[Y:.*]] = plan.buffer "" activation : memref<2x4x8xf32>
// CHECK-NEXT:      %[[RSTD:.*]] = plan.buffer "" activation : memref<8xf32>
// CHECK-NEXT:      plan.kernel "rmsnorm_forward" ins(%[[X]], %[[W]]) outs(%[[Y]], %[[RSTD]]) {params = {epsilon = 1.000000e-05 : f64}}
// CHECK-NEXT:      %[[DX:.*]] = plan.buffer "" temporary : memref<2x4x8xf32>
// CHECK-NEXT:      %[[DW:.*]] = plan.buffer "" temporary : memref<8xf32>
// CHECK-NEXT:      plan.kernel "rmsnorm_backward" ins(%[[DY]], %[[X]], %[[W]], %[[RSTD]]) outs(%[[DX]], %[[DW]]) {llm.role = "backward", params = {epsilon = 1.000000e-05 : f64}} : (memref<2x4x8xf32>, memref<2x4x8xf32>, memref<8xf32>, memref<8xf32>) -> (memref<2x4x8xf32>, memref<8xf32>)
func.func @train_step(%x: tensor<2x4x8xf32>, %w: tensor<8xf32>, %dy: tensor<2x4x8xf32>) {
  %y = llm.rms_norm %x, %w {epsilon = 1.0e-05 : f64} : (tensor<2x4x8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
  %dx, %dw = llm.rms_norm_grad %dy, %x, %w {epsilon = 1.0e-05 : f64, llm.role = "backward"} : (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<8xf32>) -> (tensor<2x4x8xf32>, tensor<8xf32>)
  return
}

// -----

// Tests that attention_forward also writes the log-sum-exp of every query
// row, [B, Hq, Tq] in f32, with causal and the default scale 1/sqrt(4) made
// explicit; attention_backward reads dout, q, k, v, the output and then the
// log-sum-exp, and writes dq, dk and dv (grouped-query: dk and dv have the
// kv heads).
// CHECK-LABEL: func.func @train_step() {
// CHECK:           %[[Q:.*]] = plan.buffer "" input : memref<1x4x8x4xf32>
// CHECK-NEXT:      %[[K:.*]] = plan.buffer "" input : memref<1x2x8x4xf32>
// CHECK-NEXT:      %[[V:.*]] = plan.buffer "" input : memref<1x2x8x4xf32>
// CHECK-NEXT:      %[[DY:.*]] = plan.buffer "" input : memref<1x4x8x4xf32>
// CHECK-NEXT:      %[[O:.*]] = plan.buffer "" activation : memref<1x4x8x4xf32>
// CHECK-NEXT:      %[[LSE:.*]] = plan.buffer "" activation : memref<1x4x8xf32>
// CHECK-NEXT:      plan.kernel "attention_forward" ins(%[[Q]], %[[K]], %[[V]]) outs(%[[O]], %[[LSE]]) {llm.layer = 1 : i64, params = {causal = true, scale = 5.000000e-01 : f64}} : (memref<1x4x8x4xf32>, memref<1x2x8x4xf32>, memref<1x2x8x4xf32>) -> (memref<1x4x8x4xf32>, memref<1x4x8xf32>)
// CHECK-NEXT:      %[[DQ:.*]] = plan.buffer "" temporary : memref<1x4x8x4xf32>
// CHECK-NEXT:      %[[DK:.*]] = plan.buffer "" temporary : memref<1x2x8x4xf32>
// CHECK-NEXT:      %[[DV:.*]] = plan.buffer "" temporary : memref<1x2x8x4xf32>
// CHECK-NEXT:      plan.kernel "attention_backward" ins(%[[DY]], %[[Q]], %[[K]], %[[V]], %[[O]], %[[LSE]]) outs(%[[DQ]], %[[DK]], %[[DV]]) {llm.layer = 1 : i64, llm.role = "backward", params = {causal = true, scale = 5.000000e-01 : f64}}
// CHECK-NEXT:      %[[O2:.*]] = plan.buffer "" activation : memref<1x4x8x4xf32>
// CHECK-NEXT:      %[[LSE2:.*]] = plan.buffer "" activation : memref<1x4x8xf32>
// CHECK-NEXT:      plan.kernel "attention_forward" ins(%[[Q]], %[[K]], %[[V]]) outs(%[[O2]], %[[LSE2]]) {params = {causal = false, scale = 1.250000e-01 : f64}}
func.func @train_step(%q: tensor<1x4x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>, %dy: tensor<1x4x8x4xf32>) {
  %o = llm.attention %q, %k, %v causal {llm.layer = 1 : i64} : (tensor<1x4x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x4x8x4xf32>
  %dq, %dk, %dv = llm.attention_grad %dy, %q, %k, %v, %o causal {llm.layer = 1 : i64, llm.role = "backward"} : (tensor<1x4x8x4xf32>, tensor<1x4x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x4x8x4xf32>) -> (tensor<1x4x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>)
  %o2 = llm.attention %q, %k, %v {scale = 0.125 : f64} : (tensor<1x4x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x4x8x4xf32>
  return
}

//===----------------------------------------------------------------------===//
// Other backward kernels
//===----------------------------------------------------------------------===//

// -----

// Tests the backward kernels that need no saved statistics; each reads dout
// first, then what its forward op read (softmax: its output), and a rope
// with `inverse` (rope's gradient) lowers to "rope_backward".
// CHECK-LABEL: func.func @train_step() {
// CHECK:           %[[DY:.*]] = plan.buffer "" input : memref<2x4x8xf32>
// CHECK-NEXT:      %[[X:.*]] = plan.buffer "" input : memref<2x4x8xf32>
// CHECK-NEXT:      %[[IDS:.*]] = plan.buffer "" input : memref<2x4xi32>
// CHECK-NEXT:      %[[R:.*]] = plan.buffer "" input : memref<1x2x4x8xf32>
// CHECK-NEXT:      %[[DL:.*]] = plan.buffer "" input : memref<f32>
// CHECK-NEXT:      %[[B0:.*]] = plan.buffer "" temporary : memref<16x8xf32>
// CHECK-NEXT:      plan.kernel "embedding_backward" ins(%[[DY]], %[[IDS]]) outs(%[[B0]]) {llm.role = "backward"} : (memref<2x4x8xf32>, memref<2x4xi32>) -> memref<16x8xf32>
// CHECK-NEXT:      %[[B1:.*]] = plan.buffer "" temporary : memref<4x8xf32>
// CHECK-NEXT:      plan.kernel "sum_to" ins(%[[DY]]) outs(%[[B1]]) {llm.role = "backward"} : (memref<2x4x8xf32>) -> memref<4x8xf32>
// CHECK-NEXT:      %[[B2:.*]] = plan.buffer "" temporary : memref<2x4x8xf32>
// CHECK-NEXT:      plan.kernel "gelu_backward" ins(%[[DY]], %[[X]]) outs(%[[B2]]) {llm.role = "backward", params = {approximate = "tanh"}}
// CHECK-NEXT:      %[[B3:.*]] = plan.buffer "" temporary : memref<2x4x8xf32>
// CHECK-NEXT:      plan.kernel "silu_backward" ins(%[[DY]], %[[X]]) outs(%[[B3]]) {llm.role = "backward"}
// CHECK-NEXT:      %[[DG:.*]] = plan.buffer "" temporary : memref<2x4x8xf32>
// CHECK-NEXT:      %[[DU:.*]] = plan.buffer "" temporary : memref<2x4x8xf32>
// CHECK-NEXT:      plan.kernel "swiglu_backward" ins(%[[DY]], %[[X]], %[[B3]]) outs(%[[DG]], %[[DU]]) {llm.role = "backward"}
// CHECK-NEXT:      %[[B5:.*]] = plan.buffer "" temporary : memref<2x4x8xf32>
// CHECK-NEXT:      plan.kernel "softmax_backward" ins(%[[DY]], %[[X]]) outs(%[[B5]]) {llm.role = "backward"}
// CHECK-NEXT:      %[[B6:.*]] = plan.buffer "" temporary : memref<2x4x8xf32>
// CHECK-NEXT:      plan.kernel "cross_entropy_backward" ins(%[[DL]], %[[X]], %[[IDS]]) outs(%[[B6]]) {llm.role = "backward"} : (memref<f32>, memref<2x4x8xf32>, memref<2x4xi32>) -> memref<2x4x8xf32>
// CHECK-NEXT:      %[[B7:.*]] = plan.buffer "" temporary : memref<1x2x4x8xf32>
// CHECK-NEXT:      plan.kernel "rope_backward" ins(%[[R]]) outs(%[[B7]]) {llm.role = "backward", params = {theta = 1.000000e+04 : f64}}
// CHECK-NEXT:      %[[B8:.*]] = plan.buffer "" temporary : memref<1x2x4x8xf32>
// CHECK-NEXT:      plan.kernel "rope_forward" ins(%[[B7]]) outs(%[[B8]]) {llm.role = "backward", params = {theta = 1.000000e+04 : f64}}
func.func @train_step(%dy: tensor<2x4x8xf32>, %x: tensor<2x4x8xf32>, %ids: tensor<2x4xi32>, %r: tensor<1x2x4x8xf32>, %dl: tensor<f32>) {
  %0 = llm.embedding_grad %dy, %ids {llm.role = "backward"} : (tensor<2x4x8xf32>, tensor<2x4xi32>) -> tensor<16x8xf32>
  %1 = llm.sum_to %dy {llm.role = "backward"} : tensor<2x4x8xf32> -> tensor<4x8xf32>
  %2 = llm.gelu_grad %dy, %x approximate = tanh {llm.role = "backward"} : tensor<2x4x8xf32>
  %3 = llm.silu_grad %dy, %x {llm.role = "backward"} : tensor<2x4x8xf32>
  %4, %5 = llm.swiglu_grad %dy, %x, %3 {llm.role = "backward"} : tensor<2x4x8xf32>
  %6 = llm.softmax_grad %dy, %x axis = 2 {llm.role = "backward"} : tensor<2x4x8xf32>
  %7 = llm.cross_entropy_grad %dl, %x, %ids {llm.role = "backward"} : (tensor<f32>, tensor<2x4x8xf32>, tensor<2x4xi32>) -> tensor<2x4x8xf32>
  %8 = llm.rope %r theta = 10000.0 inverse {llm.role = "backward"} : tensor<1x2x4x8xf32>
  %9 = llm.rope %8 theta = 10000.0 {llm.role = "backward"} : tensor<1x2x4x8xf32>
  return
}

// -----

// Tests that float splat constants (the loss seed, zero gradients) lower to
// "fill" kernels with their value and no ins, and the loss to
// "cross_entropy_forward".
// CHECK-LABEL: func.func @train_step() {
// CHECK:           %[[X:.*]] = plan.buffer "" input : memref<2x8xf32>
// CHECK-NEXT:      %[[T:.*]] = plan.buffer "" input : memref<2xi32>
// CHECK-NEXT:      %[[L:.*]] = plan.buffer "loss" output live_out : memref<f32>
// CHECK-NEXT:      plan.kernel "cross_entropy_forward" ins(%[[X]], %[[T]]) outs(%[[L]]) : (memref<2x8xf32>, memref<2xi32>) -> memref<f32>
// CHECK-NEXT:      %[[ONE:.*]] = plan.buffer "" temporary : memref<f32>
// CHECK-NEXT:      plan.kernel "fill" outs(%[[ONE]]) {llm.role = "backward", params = {value = 1.000000e+00 : f32}} : () -> memref<f32>
// CHECK-NEXT:      %[[Z:.*]] = plan.buffer "" temporary : memref<3x3xf32>
// CHECK-NEXT:      plan.kernel "fill" outs(%[[Z]]) {llm.role = "backward", params = {value = 0.000000e+00 : f32}} : () -> memref<3x3xf32>
func.func @train_step(%x: tensor<2x8xf32>, %t: tensor<2xi32>) -> (tensor<f32> {llm.output = "loss"}) {
  %l = llm.cross_entropy %x, %t : (tensor<2x8xf32>, tensor<2xi32>) -> tensor<f32>
  %one = arith.constant {llm.role = "backward"} dense<1.0> : tensor<f32>
  %z = arith.constant {llm.role = "backward"} dense<0.0> : tensor<3x3xf32>
  return %l : tensor<f32>
}

//===----------------------------------------------------------------------===//
// Optimizer kernels
//===----------------------------------------------------------------------===//

// -----

// Tests that grad_norm reads every gradient and AdamW updates in place: its
// kernel reads the gradient and the norm and writes the parameter and moment
// buffers themselves, so returning the new values adds no buffer. The
// gradient buffer becomes a grad buffer named after its parameter.
// CHECK-LABEL: func.func @train_step() {
// CHECK:           %[[W:.*]] = plan.buffer "w" param : memref<4x4xf32>
// CHECK-NEXT:      %[[B:.*]] = plan.buffer "b" param : memref<4xf32>
// CHECK-NEXT:      %[[DIN:.*]] = plan.buffer "" input : memref<4x4xf32>
// CHECK-NEXT:      %[[MW:.*]] = plan.buffer "w.exp_avg" optimizer_state : memref<4x4xf32>
// CHECK-NEXT:      %[[MB:.*]] = plan.buffer "b.exp_avg" optimizer_state : memref<4xf32>
// CHECK-NEXT:      %[[VW:.*]] = plan.buffer "w.exp_avg_sq" optimizer_state : memref<4x4xf32>
// CHECK-NEXT:      %[[VB:.*]] = plan.buffer "b.exp_avg_sq" optimizer_state : memref<4xf32>
// CHECK-NEXT:      %[[DW:.*]] = plan.buffer "w" grad : memref<4x4xf32>
// CHECK-NEXT:      plan.kernel "silu_backward" ins(%[[DIN]], %[[W]]) outs(%[[DW]])
// CHECK-NEXT:      %[[DB:.*]] = plan.buffer "b" grad : memref<4xf32>
// CHECK-NEXT:      plan.kernel "sum_to" ins(%[[DW]]) outs(%[[DB]])
// CHECK-NEXT:      %[[N:.*]] = plan.buffer "grad_norm" output live_out : memref<f32>
// CHECK-NEXT:      plan.kernel "grad_norm" ins(%[[DW]], %[[DB]]) outs(%[[N]]) {llm.role = "optimizer"} : (memref<4x4xf32>, memref<4xf32>) -> memref<f32>
// CHECK-NEXT:      plan.kernel "adamw" ins(%[[DW]], %[[N]]) outs(%[[W]], %[[MW]], %[[VW]]) {llm.role = "optimizer", params = {decay = true}} : (memref<4x4xf32>, memref<f32>) -> (memref<4x4xf32>, memref<4x4xf32>, memref<4x4xf32>)
// CHECK-NEXT:      plan.kernel "adamw" ins(%[[DB]], %[[N]]) outs(%[[B]], %[[MB]], %[[VB]]) {llm.role = "optimizer", params = {decay = false}} : (memref<4xf32>, memref<f32>) -> (memref<4xf32>, memref<4xf32>, memref<4xf32>)
// CHECK-NEXT:      return
func.func @train_step(%w: tensor<4x4xf32> {llm.param = "w"}, %b: tensor<4xf32> {llm.param = "b"}, %din: tensor<4x4xf32>,
                      %mw: tensor<4x4xf32> {llm.adam_m = "w"}, %mb: tensor<4xf32> {llm.adam_m = "b"},
                      %vw: tensor<4x4xf32> {llm.adam_v = "w"}, %vb: tensor<4xf32> {llm.adam_v = "b"})
    -> (tensor<f32> {llm.output = "grad_norm"}, tensor<4x4xf32> {llm.update_of = "w"}, tensor<4xf32> {llm.update_of = "b"},
        tensor<4x4xf32> {llm.adam_m_of = "w"}, tensor<4xf32> {llm.adam_m_of = "b"},
        tensor<4x4xf32> {llm.adam_v_of = "w"}, tensor<4xf32> {llm.adam_v_of = "b"}) {
  %dw = llm.silu_grad %din, %w {llm.role = "backward"} : tensor<4x4xf32>
  %db = llm.sum_to %dw {llm.role = "backward"} : tensor<4x4xf32> -> tensor<4xf32>
  %n = llm.grad_norm %dw, %db {llm.role = "optimizer"} : tensor<4x4xf32>, tensor<4xf32> -> tensor<f32>
  %w2, %mw2, %vw2 = llm.adamw %w, %dw, %mw, %vw, %n decay {llm.role = "optimizer"} : tensor<4x4xf32>, tensor<f32>
  %b2, %mb2, %vb2 = llm.adamw %b, %db, %mb, %vb, %n {llm.role = "optimizer"} : tensor<4xf32>, tensor<f32>
  return %n, %w2, %b2, %mw2, %mb2, %vw2, %vb2 : tensor<f32>, tensor<4x4xf32>, tensor<4xf32>, tensor<4x4xf32>, tensor<4xf32>, tensor<4x4xf32>, tensor<4xf32>
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

// -----

// Tests that the function to lower must exist.
// expected-error@+1 {{llmc-lower-to-plan: no single-block function @train_step}}
module {
  func.func @loss(%x: tensor<f32>) -> tensor<f32> {
    return %x : tensor<f32>
  }
}

// -----

// Tests that a layer norm gradient needs the forward norm whose statistics
// it reads.
func.func @train_step(%x: tensor<2x8xf32>, %w: tensor<8xf32>, %dy: tensor<2x8xf32>) {
  // expected-error@+1 {{'llm.layer_norm_grad' op has no forward llm.layer_norm to read its statistics from}}
  %dx, %dw, %db = llm.layer_norm_grad %dy, %x, %w {epsilon = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<2x8xf32>, tensor<8xf32>) -> (tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>)
  return
}

// -----

// Tests that an RMS norm gradient needs the forward norm of the same input
// and weight: a norm of another weight does not do.
func.func @train_step(%x: tensor<2x8xf32>, %w: tensor<8xf32>, %w2: tensor<8xf32>, %dy: tensor<2x8xf32>) {
  %y = llm.rms_norm %x, %w2 {epsilon = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  // expected-error@+1 {{'llm.rms_norm_grad' op has no forward llm.rms_norm to read its statistics from}}
  %dx, %dw = llm.rms_norm_grad %dy, %x, %w {epsilon = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<2x8xf32>, tensor<8xf32>) -> (tensor<2x8xf32>, tensor<8xf32>)
  return
}

// -----

// Tests that an attention gradient needs the forward attention's output,
// whose log-sum-exp it reads.
func.func @train_step(%q: tensor<1x2x4x8xf32>, %o: tensor<1x2x4x8xf32>) {
  // expected-error@+1 {{'llm.attention_grad' op output must come from an llm.attention}}
  %dq, %dk, %dv = llm.attention_grad %o, %q, %q, %q, %o causal : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
  return
}

// -----

// Tests that the softmax kernel works along the last axis only.
func.func @train_step(%x: tensor<2x8xf32>) {
  // expected-error@+1 {{'llm.softmax' op lowers only along the last axis}}
  %0 = llm.softmax %x axis = 0 : tensor<2x8xf32>
  return
}

// -----

// Tests that the softmax backward kernel works along the last axis only;
// -2 is not the last axis.
func.func @train_step(%dy: tensor<2x8xf32>, %y: tensor<2x8xf32>) {
  // expected-error@+1 {{'llm.softmax_grad' op lowers only along the last axis}}
  %0 = llm.softmax_grad %dy, %y axis = -2 : tensor<2x8xf32>
  return
}

// -----

// Tests that an op without a kernel is reported.
func.func @train_step(%x: tensor<2x8xf32>) {
  // expected-error@+1 {{'arith.addf' op has no plan lowering}}
  %0 = arith.addf %x, %x : tensor<2x8xf32>
  return
}

// -----

// Tests that a constant that is not a splat cannot be a fill.
func.func @train_step() {
  // expected-error@+1 {{'arith.constant' op only float splat constants lower to plans}}
  %0 = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
  return
}

// -----

// Tests that an integer splat cannot be a fill either.
func.func @train_step() {
  // expected-error@+1 {{'arith.constant' op only float splat constants lower to plans}}
  %0 = arith.constant dense<1> : tensor<2xi32>
  return
}

// -----

// Tests that strided slices (a negative stride walks backwards from its
// offset, as ONNX's Slice with a negative step) keep their strides.
// CHECK-LABEL: func.func @train_step() {
// CHECK:      plan.kernel "extract_slice" {{.*}} {params = {offsets = array<i64: 7, 0>, strides = array<i64: -2, 1>}} : (memref<8x4xf32>) -> memref<4x4xf32>
// CHECK:      plan.kernel "insert_slice" {{.*}} {params = {offsets = array<i64: 0, 0>, strides = array<i64: 4, 1>}}
func.func @train_step(%x: tensor<8x4xf32>, %s: tensor<2x4xf32>) -> (tensor<4x4xf32>, tensor<8x4xf32>) {
  %0 = tensor.extract_slice %x[7, 0] [4, 4] [-2, 1] : tensor<8x4xf32> to tensor<4x4xf32>
  %1 = tensor.insert_slice %s into %x[0, 0] [2, 4] [4, 1] : tensor<2x4xf32> into tensor<8x4xf32>
  return %0, %1 : tensor<4x4xf32>, tensor<8x4xf32>
}

// -----

// Tests that a slice of stride 0 (one element repeated) has no kernel.
func.func @train_step(%x: tensor<8x4xf32>) {
  // expected-error@+1 {{'tensor.extract_slice' op only static slices with nonzero strides lower to plans}}
  %0 = tensor.extract_slice %x[1, 0] [4, 4] [0, 1] : tensor<8x4xf32> to tensor<4x4xf32>
  return
}

// -----

// Tests that an argument that is not a ranked tensor is refused with a
// diagnostic rather than lowered.
// expected-error@+1 {{llmc-lower-to-plan: argument 1 has type 'index'; plans take ranked tensors only}}
func.func @train_step(%x: tensor<2x8xf32>, %i: index) -> tensor<2x8xf32> {
  return %x : tensor<2x8xf32>
}
