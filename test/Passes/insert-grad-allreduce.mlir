// RUN: llmc-opt %s --split-input-file --llmc-insert-grad-allreduce=dp=4 --verify-diagnostics | FileCheck %s
// RUN: llmc-opt %s --split-input-file --llmc-insert-grad-allreduce=dp=1 | FileCheck %s --check-prefix=ONE

// Tests that each gradient the norm reads is averaged over the dp ranks, in
// place, right before the norm (so AdamW sees averaged gradients too), and
// that a one-rank plan is left alone.
// CHECK-LABEL: func.func @train_step()
// CHECK:      %[[DW:.*]] = plan.buffer "w" grad : memref<4x4xf32>
// CHECK:      %[[DB:.*]] = plan.buffer "b" grad : memref<4xf32>
// CHECK:      %[[N:.*]] = plan.buffer "grad_norm" output
// CHECK-NEXT: plan.kernel "all_reduce_mean" outs(%[[DW]]) {llm.role = "optimizer", params = {axis = "dp"}} : () -> memref<4x4xf32>
// CHECK-NEXT: plan.kernel "all_reduce_mean" outs(%[[DB]]) {llm.role = "optimizer", params = {axis = "dp"}} : () -> memref<4xf32>
// CHECK-NEXT: plan.kernel "grad_norm" ins(%[[DW]], %[[DB]]) outs(%[[N]])
// ONE-NOT: all_reduce_mean
func.func @train_step() {
  %dw = plan.buffer "w" grad : memref<4x4xf32>
  %db = plan.buffer "b" grad : memref<4xf32>
  plan.kernel "fill" outs(%dw) {params = {value = 1.0 : f32}} : () -> memref<4x4xf32>
  plan.kernel "fill" outs(%db) {params = {value = 1.0 : f32}} : () -> memref<4xf32>
  %n = plan.buffer "grad_norm" output : memref<f32>
  plan.kernel "grad_norm" ins(%dw, %db) outs(%n) {llm.role = "optimizer"} : (memref<4x4xf32>, memref<4xf32>) -> memref<f32>
  return
}

// -----

// Tests that a plan program without a gradient norm is refused.
// expected-error@+1 {{llmc-insert-grad-allreduce: the program has no grad_norm kernel (run it on a train step)}}
func.func @forward_only() {
  %x = plan.buffer "x" output : memref<4xf32>
  plan.kernel "fill" outs(%x) {params = {value = 1.0 : f32}} : () -> memref<4xf32>
  return
}
