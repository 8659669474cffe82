// RUN: llmc-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(llmc-quantize-weights))" --verify-diagnostics | FileCheck %s

// Tests that a weight read only as the right operand of GEMMs (one (N, K)
// layout, a bias kept) becomes an i8 buffer of the same name with one scale
// per output channel beside it, and each GEMM a matmul_i8w that reads both.
// CHECK-LABEL: func.func @head(
// CHECK:      %[[X:.*]] = plan.buffer "" activation : memref<4x16xf32>
// CHECK-NEXT: %[[Q:.*]] = plan.buffer "lm_head.weight" param : memref<50x16xi8>
// CHECK-NEXT: %[[S:.*]] = plan.buffer "lm_head.weight.scale" weight_scale : memref<50xf32>
// CHECK-NEXT: %[[B:.*]] = plan.buffer "lm_head.bias" param : memref<50xf32>
// CHECK:      plan.kernel "matmul_i8w" ins(%[[X]], %[[Q]], %[[S]], %[[B]]) outs(%{{.*}}) {params = {transpose_lhs = false, transpose_rhs = true}}
// CHECK:      plan.kernel "matmul_i8w" ins(%{{.*}}, %[[Q]], %[[S]], %[[B]])
// CHECK-NOT:  plan.kernel "matmul"
func.func @head() {
  %x = plan.buffer "" activation : memref<4x16xf32>
  %w = plan.buffer "lm_head.weight" param : memref<50x16xf32>
  %b = plan.buffer "lm_head.bias" param : memref<50xf32>
  %y = plan.buffer "" activation : memref<4x50xf32>
  plan.kernel "matmul" ins(%x, %w, %b) outs(%y) {params = {transpose_lhs = false, transpose_rhs = true}} : (memref<4x16xf32>, memref<50x16xf32>, memref<50xf32>) -> memref<4x50xf32>
  %x1 = plan.buffer "" activation : memref<1x16xf32>
  %y1 = plan.buffer "" activation : memref<1x50xf32>
  plan.kernel "matmul" ins(%x1, %w, %b) outs(%y1) {params = {transpose_lhs = false, transpose_rhs = true}} : (memref<1x16xf32>, memref<50x16xf32>, memref<50xf32>) -> memref<1x50xf32>
  return
}

// -----

// Tests that a (K, N) weight (GPT-2's Conv1D) gets a scale per column.
// CHECK-LABEL: func.func @conv1d(
// CHECK: plan.buffer "c_fc.weight" param : memref<16x64xi8>
// CHECK: plan.buffer "c_fc.weight.scale" weight_scale : memref<64xf32>
// CHECK: plan.kernel "matmul_i8w"
func.func @conv1d() {
  %x = plan.buffer "" activation : memref<4x16xf32>
  %w = plan.buffer "c_fc.weight" param : memref<16x64xf32>
  %y = plan.buffer "" activation : memref<4x64xf32>
  plan.kernel "matmul" ins(%x, %w) outs(%y) {params = {transpose_lhs = false, transpose_rhs = false}} : (memref<4x16xf32>, memref<16x64xf32>) -> memref<4x64xf32>
  return
}

// -----

// Tests that a weight also looked up as a table (GPT-2's tied embedding)
// stays fp32 for the lookup, and its GEMM reads an int8 copy made from it at
// load (`<name>.int8`, a weight_copy); a weight read as a GEMM's left
// operand stays fp32.
// CHECK-LABEL: func.func @tied(
// CHECK:      %[[Q:.*]] = plan.buffer "wte.int8" weight_copy : memref<50x16xi8>
// CHECK-NEXT: %[[S:.*]] = plan.buffer "wte.int8.scale" weight_scale : memref<50xf32>
// CHECK-NEXT: %[[WTE:.*]] = plan.buffer "wte" param : memref<50x16xf32>
// CHECK:      plan.kernel "embedding_forward" ins(%[[WTE]], %{{.*}})
// CHECK:      plan.kernel "matmul_i8w" ins(%{{.*}}, %[[Q]], %[[S]])
// CHECK:      %[[W:.*]] = plan.buffer "w" param : memref<4x16xf32>
// CHECK:      plan.kernel "matmul" ins(%[[W]], %{{.*}})
func.func @tied() {
  %ids = plan.buffer "input_ids" input : memref<1x4xi32>
  %wte = plan.buffer "wte" param : memref<50x16xf32>
  %e = plan.buffer "" activation : memref<1x4x16xf32>
  plan.kernel "embedding_forward" ins(%wte, %ids) outs(%e) : (memref<50x16xf32>, memref<1x4xi32>) -> memref<1x4x16xf32>
  %x = plan.buffer "" activation : memref<4x16xf32>
  %logits = plan.buffer "" activation : memref<4x50xf32>
  plan.kernel "matmul" ins(%x, %wte) outs(%logits) {params = {transpose_lhs = false, transpose_rhs = true}} : (memref<4x16xf32>, memref<50x16xf32>) -> memref<4x50xf32>
  %w = plan.buffer "w" param : memref<4x16xf32>
  %out = plan.buffer "" activation : memref<4x4xf32>
  plan.kernel "matmul" ins(%w, %x) outs(%out) {params = {transpose_lhs = false, transpose_rhs = true}} : (memref<4x16xf32>, memref<4x16xf32>) -> memref<4x4xf32>
  return
}

// -----

// Tests that an int8 weight given to a kernel that takes f32 is refused by
// the kernel-table check of every call.
func.func @i8_to_f32_kernel() {
  %w = plan.buffer "w" param : memref<4x16xi8>
  %y = plan.buffer "" activation : memref<4x16xf32>
  // expected-error@+1 {{'plan.kernel' op gelu_forward: ins 0 (x) is i8; expected f32}}
  plan.kernel "gelu_forward" ins(%w) outs(%y) {params = {approximate = "tanh"}} : (memref<4x16xi8>) -> memref<4x16xf32>
  return
}
