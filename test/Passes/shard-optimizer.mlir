// RUN: llmc-opt %s --split-input-file --llmc-shard-optimizer="dp=2 stage=2" --verify-diagnostics | FileCheck %s

// Hand-written train steps for llmc-shard-optimizer; shard-optimizer.test
// runs it on a whole compiled model.

// Tests ZeRO-2 on one parameter: the moments become flat half-size slices
// that record the full shape, the gradient's reduce-scatter (mean over dp)
// into a new slice starts right after the kernel that finishes it and is
// waited for just before the norm, the norm and AdamW read the slice (with
// `zero_axis`), and the updated parameter's slices are gathered back in
// place through a flat view.
// CHECK-LABEL: func.func @train_step()
// CHECK-NEXT: %[[W:.*]] = plan.buffer "w" param : memref<4x4xf32>
// CHECK-NEXT: %[[M:.*]] = plan.buffer "w.exp_avg" optimizer_state {plan.zero_slice = {axis = "dp", blocks = 1 : i64, dim = 0 : i64, full_shape = array<i64: 4, 4>, parts = 2 : i64}} : memref<8xf32>
// CHECK-NEXT: %[[V:.*]] = plan.buffer "w.exp_avg_sq" optimizer_state {plan.zero_slice = {axis = "dp", blocks = 1 : i64, dim = 0 : i64, full_shape = array<i64: 4, 4>, parts = 2 : i64}} : memref<8xf32>
// CHECK-NEXT: %[[S:.*]] = plan.buffer "" grad {plan.zero_slice = {axis = "dp", blocks = 1 : i64, dim = 0 : i64, full_shape = array<i64: 4, 4>, parts = 2 : i64}} : memref<8xf32>
// CHECK-NEXT: %[[DW:.*]] = plan.buffer "w" grad : memref<4x4xf32>
// CHECK-NEXT: plan.kernel "fill" outs(%[[DW]])
// CHECK-NEXT: %[[FLAT:.*]] = plan.view %[[DW]] : memref<4x4xf32> to memref<16xf32>
// CHECK-NEXT: plan.kernel "reduce_scatter_start" ins(%[[FLAT]]) outs(%[[S]]) {llm.role = "backward", params = {axis = "dp", bucket = 0 : i64}} : (memref<16xf32>) -> memref<8xf32>
// CHECK-NEXT: %[[N:.*]] = plan.buffer "grad_norm" output : memref<f32>
// CHECK-NEXT: plan.kernel "reduce_scatter_wait" ins(%[[FLAT]]) outs(%[[S]]) {llm.role = "optimizer", params = {axis = "dp", bucket = 0 : i64, mean = true}} : (memref<16xf32>) -> memref<8xf32>
// CHECK-NEXT: plan.kernel "grad_norm" ins(%[[S]]) outs(%[[N]]) {llm.role = "optimizer", params = {zero_axis = "dp"}} : (memref<8xf32>) -> memref<f32>
// CHECK-NEXT: plan.kernel "adamw" ins(%[[S]], %[[N]]) outs(%[[W]], %[[M]], %[[V]]) {llm.role = "optimizer", params = {decay = true, zero_axis = "dp"}} : (memref<8xf32>, memref<f32>) -> (memref<4x4xf32>, memref<8xf32>, memref<8xf32>)
// CHECK-NEXT: %[[WF:.*]] = plan.view %[[W]] : memref<4x4xf32> to memref<16xf32>
// CHECK-NEXT: plan.kernel "all_gather_inplace" outs(%[[WF]]) {llm.role = "optimizer", params = {axis = "dp"}} : () -> memref<16xf32>
// CHECK-NEXT: return
func.func @train_step() {
  %w = plan.buffer "w" param : memref<4x4xf32>
  %m = plan.buffer "w.exp_avg" optimizer_state : memref<4x4xf32>
  %v = plan.buffer "w.exp_avg_sq" optimizer_state : memref<4x4xf32>
  %dw = plan.buffer "w" grad : memref<4x4xf32>
  plan.kernel "fill" outs(%dw) {llm.role = "backward", params = {value = 1.0 : f32}} : () -> memref<4x4xf32>
  %n = plan.buffer "grad_norm" output : memref<f32>
  plan.kernel "grad_norm" ins(%dw) outs(%n) {llm.role = "optimizer"} : (memref<4x4xf32>) -> memref<f32>
  plan.kernel "adamw" ins(%dw, %n) outs(%w, %m, %v) {llm.role = "optimizer", params = {decay = true}} : (memref<4x4xf32>, memref<f32>) -> (memref<4x4xf32>, memref<4x4xf32>, memref<4x4xf32>)
  return
}

// -----

// Tests that a parameter whose size dp does not divide is refused: ZeRO
// gives every rank an equal flat slice. The message names dp's value.
func.func @train_step() {
  %w = plan.buffer "w" param : memref<3xf32>
  %m = plan.buffer "w.exp_avg" optimizer_state : memref<3xf32>
  %v = plan.buffer "w.exp_avg_sq" optimizer_state : memref<3xf32>
  %dw = plan.buffer "w" grad : memref<3xf32>
  plan.kernel "fill" outs(%dw) {llm.role = "backward", params = {value = 1.0 : f32}} : () -> memref<3xf32>
  %n = plan.buffer "grad_norm" output : memref<f32>
  plan.kernel "grad_norm" ins(%dw) outs(%n) {llm.role = "optimizer"} : (memref<3xf32>) -> memref<f32>
  // expected-error@+1 {{llmc-shard-optimizer: ZeRO splits every parameter into dp=2 equal slices, but 'w' has 3 elements}}
  plan.kernel "adamw" ins(%dw, %n) outs(%w, %m, %v) {llm.role = "optimizer", params = {decay = false}} : (memref<3xf32>, memref<f32>) -> (memref<3xf32>, memref<3xf32>, memref<3xf32>)
  return
}

// -----

// Tests that a plan program without a gradient norm is refused.
// expected-error@+1 {{llmc-shard-optimizer: the program has no grad_norm kernel (run it on a train step)}}
func.func @forward_only() {
  %x = plan.buffer "x" output : memref<4xf32>
  plan.kernel "fill" outs(%x) {params = {value = 1.0 : f32}} : () -> memref<4xf32>
  return
}

// -----

// Tests that a tensor-level function next to the plan program, which has no
// kernels, is left alone.
// CHECK-LABEL: func.func @loss_grad(
// CHECK-NEXT: return
func.func @loss_grad(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

// -----

// Tests that an AdamW whose parameter is a function argument, not a
// plan.buffer the pass can slice, is refused.
func.func @train_step(%w: memref<4x4xf32>) {
  %m = plan.buffer "w.exp_avg" optimizer_state : memref<4x4xf32>
  %v = plan.buffer "w.exp_avg_sq" optimizer_state : memref<4x4xf32>
  %dw = plan.buffer "w" grad : memref<4x4xf32>
  plan.kernel "fill" outs(%dw) {llm.role = "backward", params = {value = 1.0 : f32}} : () -> memref<4x4xf32>
  %n = plan.buffer "grad_norm" output : memref<f32>
  plan.kernel "grad_norm" ins(%dw) outs(%n) {llm.role = "optimizer"} : (memref<4x4xf32>) -> memref<f32>
  // expected-error@+1 {{'plan.kernel' op llmc-shard-optimizer: AdamW's parameter must be a plan.buffer}}
  plan.kernel "adamw" ins(%dw, %n) outs(%w, %m, %v) {llm.role = "optimizer", params = {decay = true}} : (memref<4x4xf32>, memref<f32>) -> (memref<4x4xf32>, memref<4x4xf32>, memref<4x4xf32>)
  return
}

// -----

// Tests that a gradient the norm reads that is a function argument, not a
// plan.buffer the pass can reduce-scatter into a slice, is refused.
func.func @train_step(%dw: memref<4x4xf32>) {
  %w = plan.buffer "w" param : memref<4x4xf32>
  %m = plan.buffer "w.exp_avg" optimizer_state : memref<4x4xf32>
  %v = plan.buffer "w.exp_avg_sq" optimizer_state : memref<4x4xf32>
  %n = plan.buffer "grad_norm" output : memref<f32>
  // expected-error@+1 {{'plan.kernel' op llmc-shard-optimizer: the gradient norm's input #0 must be a plan.buffer}}
  plan.kernel "grad_norm" ins(%dw) outs(%n) {llm.role = "optimizer"} : (memref<4x4xf32>) -> memref<f32>
  plan.kernel "adamw" ins(%dw, %n) outs(%w, %m, %v) {llm.role = "optimizer", params = {decay = true}} : (memref<4x4xf32>, memref<f32>) -> (memref<4x4xf32>, memref<4x4xf32>, memref<4x4xf32>)
  return
}

// -----

// Tests that an AdamW whose gradient the norm does not read (so has no
// reduce-scattered slice to update from) is refused.
func.func @train_step() {
  %w = plan.buffer "w" param : memref<4x4xf32>
  %m = plan.buffer "w.exp_avg" optimizer_state : memref<4x4xf32>
  %v = plan.buffer "w.exp_avg_sq" optimizer_state : memref<4x4xf32>
  %dw = plan.buffer "w" grad : memref<4x4xf32>
  %other = plan.buffer "other" grad : memref<4x4xf32>
  plan.kernel "fill" outs(%dw) {llm.role = "backward", params = {value = 1.0 : f32}} : () -> memref<4x4xf32>
  plan.kernel "fill" outs(%other) {llm.role = "backward", params = {value = 1.0 : f32}} : () -> memref<4x4xf32>
  %n = plan.buffer "grad_norm" output : memref<f32>
  plan.kernel "grad_norm" ins(%other) outs(%n) {llm.role = "optimizer"} : (memref<4x4xf32>) -> memref<f32>
  // expected-error@+1 {{'plan.kernel' op llmc-shard-optimizer: AdamW's gradient must be an input of the grad_norm kernel}}
  plan.kernel "adamw" ins(%dw, %n) outs(%w, %m, %v) {llm.role = "optimizer", params = {decay = true}} : (memref<4x4xf32>, memref<f32>) -> (memref<4x4xf32>, memref<4x4xf32>, memref<4x4xf32>)
  return
}
