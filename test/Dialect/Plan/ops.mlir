// RUN: llmc-opt %s --split-input-file | llmc-opt --split-input-file | FileCheck %s
// RUN: llmc-opt %s --split-input-file --mlir-print-op-generic | llmc-opt --split-input-file | FileCheck %s

// Round trips of the plan ops: buffers of every category with and without an
// arena offset, views, and kernel calls with and without params.

//===----------------------------------------------------------------------===//
// plan.buffer
//===----------------------------------------------------------------------===//

// Tests that a buffer round-trips in every category, named or not, before
// memory planning (no offset).
// CHECK-LABEL: func.func @buffer_categories(
// CHECK:           plan.buffer "input_ids" input : memref<2x8xi32>
// CHECK-NEXT:      plan.buffer "transformer.wte.weight" param : memref<64x16xf32>
// CHECK-NEXT:      plan.buffer "transformer.wte.weight" grad : memref<64x16xf32>
// CHECK-NEXT:      plan.buffer "transformer.wte.weight.exp_avg" optimizer_state : memref<64x16xf32>
// CHECK-NEXT:      plan.buffer "" activation : memref<2x8x16xf32>
// CHECK-NEXT:      plan.buffer "" temporary : memref<2x8x16xbf16>
// CHECK-NEXT:      plan.buffer "loss" output : memref<f32>
func.func @buffer_categories() {
  %0 = plan.buffer "input_ids" input : memref<2x8xi32>
  %1 = plan.buffer "transformer.wte.weight" param : memref<64x16xf32>
  %2 = plan.buffer "transformer.wte.weight" grad : memref<64x16xf32>
  %3 = plan.buffer "transformer.wte.weight.exp_avg" optimizer_state : memref<64x16xf32>
  %4 = plan.buffer "" activation : memref<2x8x16xf32>
  %5 = plan.buffer "" temporary : memref<2x8x16xbf16>
  %6 = plan.buffer "loss" output : memref<f32>
  return
}

// -----

// Tests that an arena offset round-trips after the category, including
// offset 0, and that the function's arena size is kept.
// CHECK-LABEL: func.func @buffer_offset()
// CHECK-SAME:      attributes {plan.arena_bytes = 4160 : i64}
// CHECK:           plan.buffer "transformer.wte.weight" param offset 0 : memref<64x16xf32>
// CHECK-NEXT:      plan.buffer "" activation offset 4096 : memref<16xf32>
func.func @buffer_offset() attributes {plan.arena_bytes = 4160 : i64} {
  %0 = plan.buffer "transformer.wte.weight" param offset 0 : memref<64x16xf32>
  %1 = plan.buffer "" activation offset 4096 : memref<16xf32>
  return
}

//===----------------------------------------------------------------------===//
// plan.view
//===----------------------------------------------------------------------===//

// -----

// Tests that views round-trip, splitting and merging dimensions of a buffer
// and of another view.
// CHECK-LABEL: func.func @view(
// CHECK:           %[[B:.*]] = plan.buffer "" activation : memref<2x4x16xf32>
// CHECK-NEXT:      %[[V:.*]] = plan.view %[[B]] : memref<2x4x16xf32> to memref<2x4x2x8xf32>
// CHECK-NEXT:      %[[W:.*]] = plan.view %[[V]] : memref<2x4x2x8xf32> to memref<8x16xf32>
func.func @view() {
  %0 = plan.buffer "" activation : memref<2x4x16xf32>
  %1 = plan.view %0 : memref<2x4x16xf32> to memref<2x4x2x8xf32>
  %2 = plan.view %1 : memref<2x4x2x8xf32> to memref<8x16xf32>
  return
}

//===----------------------------------------------------------------------===//
// plan.kernel
//===----------------------------------------------------------------------===//

// -----

// Tests that a kernel round-trips with its ins, outs, params and the
// discardable attributes it keeps from its op; the default empty params are
// not printed.
// CHECK-LABEL: func.func @kernel(
// CHECK:           %[[X:.*]] = plan.buffer "x" input : memref<2x8xf32>
// CHECK-NEXT:      %[[W:.*]] = plan.buffer "w" param : memref<8xf32>
// CHECK-NEXT:      %[[B:.*]] = plan.buffer "b" param : memref<8xf32>
// CHECK-NEXT:      %[[Y:.*]] = plan.buffer "" activation : memref<2x8xf32>
// CHECK-NEXT:      %[[MEAN:.*]] = plan.buffer "" activation : memref<2xf32>
// CHECK-NEXT:      %[[RSTD:.*]] = plan.buffer "" activation : memref<2xf32>
// CHECK-NEXT:      plan.kernel "layernorm_forward" ins(%[[X]], %[[W]], %[[B]]) outs(%[[Y]], %[[MEAN]], %[[RSTD]]) {llm.layer = 0 : i64, llm.role = "forward", params = {epsilon = 1.000000e-05 : f64}} : (memref<2x8xf32>, memref<8xf32>, memref<8xf32>) -> (memref<2x8xf32>, memref<2xf32>, memref<2xf32>)
// CHECK-NEXT:      plan.kernel "add" ins(%[[Y]], %[[X]]) outs(%[[Y]]) : (memref<2x8xf32>, memref<2x8xf32>) -> memref<2x8xf32>
func.func @kernel() {
  %x = plan.buffer "x" input : memref<2x8xf32>
  %w = plan.buffer "w" param : memref<8xf32>
  %b = plan.buffer "b" param : memref<8xf32>
  %y = plan.buffer "" activation : memref<2x8xf32>
  %mean = plan.buffer "" activation : memref<2xf32>
  %rstd = plan.buffer "" activation : memref<2xf32>
  plan.kernel "layernorm_forward" ins(%x, %w, %b) outs(%y, %mean, %rstd) {llm.layer = 0 : i64, llm.role = "forward", params = {epsilon = 1.0e-05 : f64}} : (memref<2x8xf32>, memref<8xf32>, memref<8xf32>) -> (memref<2x8xf32>, memref<2xf32>, memref<2xf32>)
  plan.kernel "add" ins(%y, %x) outs(%y) {params = {}} : (memref<2x8xf32>, memref<2x8xf32>) -> memref<2x8xf32>
  return
}

// -----

// Tests that a kernel reading views round-trips with in-place outs: an
// AdamW update lists the parameter and moments it rewrites in outs only.
// CHECK-LABEL: func.func @kernel_in_place(
// CHECK:           %[[P:.*]] = plan.buffer "w" param : memref<4x4xf32>
// CHECK-NEXT:      %[[M:.*]] = plan.buffer "w.exp_avg" optimizer_state : memref<4x4xf32>
// CHECK-NEXT:      %[[V:.*]] = plan.buffer "w.exp_avg_sq" optimizer_state : memref<4x4xf32>
// CHECK-NEXT:      %[[G:.*]] = plan.buffer "w" grad : memref<16xf32>
// CHECK-NEXT:      %[[N:.*]] = plan.buffer "grad_norm" output : memref<f32>
// CHECK-NEXT:      %[[GV:.*]] = plan.view %[[G]] : memref<16xf32> to memref<4x4xf32>
// CHECK-NEXT:      plan.kernel "adamw" ins(%[[GV]], %[[N]]) outs(%[[P]], %[[M]], %[[V]]) {params = {decay = true}} : (memref<4x4xf32>, memref<f32>) -> (memref<4x4xf32>, memref<4x4xf32>, memref<4x4xf32>)
func.func @kernel_in_place() {
  %p = plan.buffer "w" param : memref<4x4xf32>
  %m = plan.buffer "w.exp_avg" optimizer_state : memref<4x4xf32>
  %v = plan.buffer "w.exp_avg_sq" optimizer_state : memref<4x4xf32>
  %g = plan.buffer "w" grad : memref<16xf32>
  %n = plan.buffer "grad_norm" output : memref<f32>
  %gv = plan.view %g : memref<16xf32> to memref<4x4xf32>
  plan.kernel "adamw" ins(%gv, %n) outs(%p, %m, %v) {params = {decay = true}} : (memref<4x4xf32>, memref<f32>) -> (memref<4x4xf32>, memref<4x4xf32>, memref<4x4xf32>)
  return
}

// -----

// Tests that a kernel without ins round-trips: llmc-lower-to-plan lowers
// every float splat constant (the loss seed, the zeros of unused gradients)
// to such a "fill".
// CHECK-LABEL: func.func @kernel_no_ins(
// CHECK:           %[[B:.*]] = plan.buffer "" temporary : memref<f32>
// CHECK-NEXT:      plan.kernel "fill" outs(%[[B]]) {params = {value = 1.000000e+00 : f32}} : () -> memref<f32>
func.func @kernel_no_ins() {
  %0 = plan.buffer "" temporary : memref<f32>
  "plan.kernel"(%0) <{callee = "fill", operandSegmentSizes = array<i32: 0, 1>, params = {value = 1.0 : f32}}> : (memref<f32>) -> ()
  return
}
