// RUN: llmc-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(llmc-quantize-weights{dtype=bf16}))" | FileCheck %s
// RUN: not llmc-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(llmc-quantize-weights{dtype=fp8}))" 2>&1 | FileCheck %s --check-prefix=DTYPE
// RUN: llmc-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(llmc-quantize-weights{dtype=bf16 math=bf16}))" | FileCheck %s --check-prefix=MATH
// RUN: not llmc-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(llmc-quantize-weights{dtype=int8 math=bf16}))" 2>&1 | FileCheck %s --check-prefix=MATHINT8

// Tests that with dtype=bf16 a weight read only as the right operand of
// GEMMs becomes a bf16 buffer of the same name (no scales), each GEMM a
// matmul_bf16w reading it with its bias.
// CHECK-LABEL: func.func @head(
// CHECK:      %[[X:.*]] = plan.buffer "" activation : memref<4x16xf32>
// CHECK-NEXT: %[[Q:.*]] = plan.buffer "lm_head.weight" param : memref<50x16xbf16>
// CHECK-NEXT: %[[B:.*]] = plan.buffer "lm_head.bias" param : memref<50xf32>
// CHECK:      plan.kernel "matmul_bf16w" ins(%[[X]], %[[Q]], %[[B]]) outs(%{{.*}}) {params = {transpose_lhs = false, transpose_rhs = true}}
// With math=bf16 (bf16-mixed inference) the GEMMs round their activations
// too: math = "bf16" beside their other parameters.
// MATH-LABEL: func.func @head(
// MATH:       plan.kernel "matmul_bf16w" {{.*}} {params = {math = "bf16", transpose_lhs = false, transpose_rhs = true}}
// MATHINT8: llmc-quantize-weights: math 'bf16': expected fp32, or bf16 with dtype bf16
// CHECK-NOT:  weight_scale
// CHECK-NOT:  plan.kernel "matmul"
// DTYPE: llmc-quantize-weights: dtype 'fp8': expected int8, bf16 or fp32
func.func @head() {
  %x = plan.buffer "" activation : memref<4x16xf32>
  %w = plan.buffer "lm_head.weight" param : memref<50x16xf32>
  %b = plan.buffer "lm_head.bias" param : memref<50xf32>
  %y = plan.buffer "" activation : memref<4x50xf32>
  plan.kernel "matmul" ins(%x, %w, %b) outs(%y) {params = {transpose_lhs = false, transpose_rhs = true}} : (memref<4x16xf32>, memref<50x16xf32>, memref<50xf32>) -> memref<4x50xf32>
  return
}

// -----

// Tests that a tied embedding stays fp32 for its lookup and its GEMM reads
// a bf16 copy (`wte.bf16`, a weight_copy) made from it at load.
// CHECK-LABEL: func.func @tied(
// CHECK:      %[[Q:.*]] = plan.buffer "wte.bf16" weight_copy : memref<50x16xbf16>
// CHECK-NEXT: %[[WTE:.*]] = plan.buffer "wte" param : memref<50x16xf32>
// CHECK:      plan.kernel "embedding_forward" ins(%[[WTE]], %{{.*}})
// CHECK:      plan.kernel "matmul_bf16w" ins(%{{.*}}, %[[Q]]) outs
func.func @tied() {
  %ids = plan.buffer "input_ids" input : memref<1x4xi32>
  %wte = plan.buffer "wte" param : memref<50x16xf32>
  %e = plan.buffer "" activation : memref<1x4x16xf32>
  plan.kernel "embedding_forward" ins(%wte, %ids) outs(%e) : (memref<50x16xf32>, memref<1x4xi32>) -> memref<1x4x16xf32>
  %x = plan.buffer "" activation : memref<4x16xf32>
  %logits = plan.buffer "" activation : memref<4x50xf32>
  plan.kernel "matmul" ins(%x, %wte) outs(%logits) {params = {transpose_lhs = false, transpose_rhs = true}} : (memref<4x16xf32>, memref<50x16xf32>) -> memref<4x50xf32>
  return
}
