// RUN: llmc-opt %s --pass-pipeline="builtin.module(func.func(llmc-quantize-weights{dtype=fp32}))" | FileCheck %s

// Tests that with dtype=fp32 only the storage of a (K, N) weight read by
// GEMMs alone changes: the same f32 buffer, its GEMMs matmul_f32w (the
// runtime transposes it to (N, K) at load); an (N, K) weight, and a (K, N)
// one with another user, keep their matmul.
// CHECK-LABEL: func.func @layouts(
// CHECK:      %[[FC:.*]] = plan.buffer "c_fc.weight" param : memref<16x64xf32>
// CHECK:      plan.kernel "matmul_f32w" ins(%{{.*}}, %[[FC]], %{{.*}}) outs(%{{.*}}) {params = {transpose_lhs = false, transpose_rhs = false}}
// CHECK:      plan.kernel "matmul" ins(%{{.*}}, %{{.*}}) outs(%{{.*}}) {params = {transpose_lhs = false, transpose_rhs = true}}
// CHECK:      plan.kernel "matmul" ins(%{{.*}}, %[[SHARED:.*]]) outs
// CHECK:      plan.kernel "gelu_forward" ins(%[[SHARED]])
func.func @layouts() {
  %x = plan.buffer "" activation : memref<4x16xf32>
  %w = plan.buffer "c_fc.weight" param : memref<16x64xf32>
  %b = plan.buffer "c_fc.bias" param : memref<64xf32>
  %y = plan.buffer "" activation : memref<4x64xf32>
  plan.kernel "matmul" ins(%x, %w, %b) outs(%y) {params = {transpose_lhs = false, transpose_rhs = false}} : (memref<4x16xf32>, memref<16x64xf32>, memref<64xf32>) -> memref<4x64xf32>
  %h = plan.buffer "lm_head.weight" param : memref<50x16xf32>
  %l = plan.buffer "" activation : memref<4x50xf32>
  plan.kernel "matmul" ins(%x, %h) outs(%l) {params = {transpose_lhs = false, transpose_rhs = true}} : (memref<4x16xf32>, memref<50x16xf32>) -> memref<4x50xf32>
  %s = plan.buffer "shared.weight" param : memref<16x16xf32>
  %z = plan.buffer "" activation : memref<4x16xf32>
  plan.kernel "matmul" ins(%x, %s) outs(%z) {params = {transpose_lhs = false, transpose_rhs = false}} : (memref<4x16xf32>, memref<16x16xf32>) -> memref<4x16xf32>
  %g = plan.buffer "" activation : memref<16x16xf32>
  plan.kernel "gelu_forward" ins(%s) outs(%g) {params = {approximate = "tanh"}} : (memref<16x16xf32>) -> memref<16x16xf32>
  return
}
