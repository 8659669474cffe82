// RUN: llmc-opt %s --split-input-file --llmc-insert-grad-allreduce="dp=4 bucket-bytes=64" --verify-diagnostics | FileCheck %s
// RUN: llmc-opt %s --split-input-file --llmc-insert-grad-allreduce=dp=4 --verify-diagnostics | FileCheck %s --check-prefix=ONE-BUCKET
// RUN: llmc-opt %s --split-input-file --llmc-insert-grad-allreduce=dp=1 | FileCheck %s --check-prefix=SINGLE

// Tests that gradients are bucketed in the order the backward pass completes
// them (db is written last here, dw first), that each bucket's all-reduce
// starts right after the kernel completing its last gradient (dw's bucket
// overlaps the kernels after it), and that every bucket is waited for, in
// place, right before the norm. With 64-byte buckets, dw (64 bytes) fills
// bucket 0 and db bucket 1.
// CHECK-LABEL: func.func @train_step()
// CHECK:      %[[DW:.*]] = plan.buffer "w" grad : memref<4x4xf32>
// CHECK:      %[[DB:.*]] = plan.buffer "b" grad : memref<4xf32>
// CHECK:      plan.kernel "fill" outs(%[[DW]])
// CHECK-NEXT: plan.kernel "all_reduce_mean_start" outs(%[[DW]]) {llm.role = "optimizer", params = {axis = "dp", bucket = 0 : i64}}
// CHECK-NEXT: plan.kernel "fill" outs(%[[DB]])
// CHECK-NEXT: plan.kernel "all_reduce_mean_start" outs(%[[DB]]) {llm.role = "optimizer", params = {axis = "dp", bucket = 1 : i64}}
// CHECK:      plan.kernel "all_reduce_mean_wait" outs(%[[DW]]) {llm.role = "optimizer", params = {axis = "dp", bucket = 0 : i64}}
// CHECK-NEXT: plan.kernel "all_reduce_mean_wait" outs(%[[DB]]) {llm.role = "optimizer", params = {axis = "dp", bucket = 1 : i64}}
// CHECK-NEXT: plan.kernel "grad_norm" ins(%[[DW]], %[[DB]])
// The default 25 MiB bucket holds both, started after db's kernel.
// ONE-BUCKET:      plan.kernel "fill" outs(%{{.*}}) {params = {value = 2.000000e+00 : f32}}
// ONE-BUCKET-NEXT: plan.kernel "all_reduce_mean_start" outs(%{{.*}}, %{{.*}}) {llm.role = "optimizer", params = {axis = "dp", bucket = 0 : i64}}
// ONE-BUCKET:      plan.kernel "all_reduce_mean_wait" outs(%{{.*}}, %{{.*}})
// ONE-BUCKET-NEXT: plan.kernel "grad_norm"
// SINGLE-NOT: all_reduce_mean
func.func @train_step() {
  %dw = plan.buffer "w" grad : memref<4x4xf32>
  %db = plan.buffer "b" grad : memref<4xf32>
  plan.kernel "fill" outs(%dw) {params = {value = 1.0 : f32}} : () -> memref<4x4xf32>
  plan.kernel "fill" outs(%db) {params = {value = 2.0 : f32}} : () -> memref<4xf32>
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
