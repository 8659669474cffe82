// RUN: llmc-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(llmc-fuse-sibling-gemms))" | FileCheck %s

// Tests that q, k and v, each read by one GEMM of the prefill and one of
// the decode step (grouped kv: k and v have fewer rows), become one weight
// of their rows in order, with each checkpoint tensor's name, rows and
// shard in plan.parts; each step's three GEMMs one GEMM and a split.
// CHECK-LABEL: func.func @qkv(
// CHECK:      %[[W:.*]] = plan.buffer "l.{q,k,v}_proj.weight" param {plan.parts = [{name = "l.q_proj.weight", rows = 8 : i64, shard = {axis = "tp", blocks = 1 : i64, dim = 0 : i64, parts = 2 : i64}}, {name = "l.k_proj.weight", rows = 4 : i64}, {name = "l.v_proj.weight", rows = 4 : i64}]} : memref<16x16xf32>
// CHECK-NOT:  plan.buffer "l.q_proj.weight"
// CHECK:      %[[X:.*]] = plan.buffer "" activation : memref<4x16xf32>
// CHECK:      %[[Y:.*]] = plan.buffer "" activation : memref<4x16xf32>
// CHECK-NEXT: plan.kernel "matmul" ins(%[[X]], %[[W]]) outs(%[[Y]]) {llm.layer = 0 : i64, params = {transpose_lhs = false, transpose_rhs = true}} : (memref<4x16xf32>, memref<16x16xf32>) -> memref<4x16xf32>
// CHECK:      plan.kernel "split" ins(%[[Y]]) outs({{.*}}) {llm.layer = 0 : i64, params = {axis = 1 : i64}} : (memref<4x16xf32>) -> (memref<4x8xf32>, memref<4x4xf32>, memref<4x4xf32>)
// CHECK:      plan.kernel "matmul" ins(%{{.*}}, %[[W]]) {{.*}} : (memref<1x16xf32>, memref<16x16xf32>) -> memref<1x16xf32>
// CHECK:      plan.kernel "split"
// CHECK-NOT:  plan.kernel "matmul"
func.func @qkv() {
  %wq = plan.buffer "l.q_proj.weight" param {plan.shard = {axis = "tp", blocks = 1 : i64, dim = 0 : i64, parts = 2 : i64}} : memref<8x16xf32>
  %wk = plan.buffer "l.k_proj.weight" param : memref<4x16xf32>
  %wv = plan.buffer "l.v_proj.weight" param : memref<4x16xf32>
  %x = plan.buffer "" activation : memref<4x16xf32>
  %q = plan.buffer "" activation : memref<4x8xf32>
  plan.kernel "matmul" ins(%x, %wq) outs(%q) {llm.layer = 0 : i64, params = {transpose_lhs = false, transpose_rhs = true}} : (memref<4x16xf32>, memref<8x16xf32>) -> memref<4x8xf32>
  %k = plan.buffer "" activation : memref<4x4xf32>
  plan.kernel "matmul" ins(%x, %wk) outs(%k) {llm.layer = 0 : i64, params = {transpose_lhs = false, transpose_rhs = true}} : (memref<4x16xf32>, memref<4x16xf32>) -> memref<4x4xf32>
  %v = plan.buffer "" activation : memref<4x4xf32>
  plan.kernel "matmul" ins(%x, %wv) outs(%v) {llm.layer = 0 : i64, params = {transpose_lhs = false, transpose_rhs = true}} : (memref<4x16xf32>, memref<4x16xf32>) -> memref<4x4xf32>
  %s = plan.buffer "" activation : memref<4x8xf32>
  plan.kernel "add" ins(%q, %q) outs(%s) : (memref<4x8xf32>, memref<4x8xf32>) -> memref<4x8xf32>
  %x1 = plan.buffer "" activation : memref<1x16xf32>
  %q1 = plan.buffer "" activation : memref<1x8xf32>
  plan.kernel "matmul" ins(%x1, %wq) outs(%q1) {llm.layer = 0 : i64, params = {transpose_lhs = false, transpose_rhs = true}} : (memref<1x16xf32>, memref<8x16xf32>) -> memref<1x8xf32>
  %k1 = plan.buffer "" activation : memref<1x4xf32>
  plan.kernel "matmul" ins(%x1, %wk) outs(%k1) {llm.layer = 0 : i64, params = {transpose_lhs = false, transpose_rhs = true}} : (memref<1x16xf32>, memref<4x16xf32>) -> memref<1x4xf32>
  %v1 = plan.buffer "" activation : memref<1x4xf32>
  plan.kernel "matmul" ins(%x1, %wv) outs(%v1) {llm.layer = 0 : i64, params = {transpose_lhs = false, transpose_rhs = true}} : (memref<1x16xf32>, memref<4x16xf32>) -> memref<1x4xf32>
  return
}

// -----

// Tests what stays apart: gate and up (their GEMM fuses with SwiGLU), a
// weight another program multiplies alone, and siblings whose input is
// written between them.
// CHECK-LABEL: func.func @apart(
// CHECK-COUNT-7: plan.kernel "matmul"
// CHECK-NOT:  plan.kernel "split"
func.func @apart() {
  %x = plan.buffer "" activation : memref<4x16xf32>
  %wg = plan.buffer "gate.weight" param : memref<8x16xf32>
  %wu = plan.buffer "up.weight" param : memref<8x16xf32>
  %g = plan.buffer "" activation : memref<4x8xf32>
  plan.kernel "matmul" ins(%x, %wg) outs(%g) {params = {transpose_lhs = false, transpose_rhs = true}} : (memref<4x16xf32>, memref<8x16xf32>) -> memref<4x8xf32>
  %u = plan.buffer "" activation : memref<4x8xf32>
  plan.kernel "matmul" ins(%x, %wu) outs(%u) {params = {transpose_lhs = false, transpose_rhs = true}} : (memref<4x16xf32>, memref<8x16xf32>) -> memref<4x8xf32>
  %h = plan.buffer "" activation : memref<4x8xf32>
  plan.kernel "swiglu_forward" ins(%g, %u) outs(%h) : (memref<4x8xf32>, memref<4x8xf32>) -> memref<4x8xf32>
  %wa = plan.buffer "a.weight" param : memref<8x16xf32>
  %wb = plan.buffer "b.weight" param : memref<8x16xf32>
  %a = plan.buffer "" activation : memref<4x8xf32>
  plan.kernel "matmul" ins(%x, %wa) outs(%a) {params = {transpose_lhs = false, transpose_rhs = true}} : (memref<4x16xf32>, memref<8x16xf32>) -> memref<4x8xf32>
  %b = plan.buffer "" activation : memref<4x8xf32>
  plan.kernel "matmul" ins(%x, %wb) outs(%b) {params = {transpose_lhs = false, transpose_rhs = true}} : (memref<4x16xf32>, memref<8x16xf32>) -> memref<4x8xf32>
  %x1 = plan.buffer "" activation : memref<1x16xf32>
  %a1 = plan.buffer "" activation : memref<1x8xf32>
  plan.kernel "matmul" ins(%x1, %wa) outs(%a1) {params = {transpose_lhs = false, transpose_rhs = true}} : (memref<1x16xf32>, memref<8x16xf32>) -> memref<1x8xf32>
  %wc = plan.buffer "c.weight" param : memref<8x16xf32>
  %wd = plan.buffer "d.weight" param : memref<8x16xf32>
  %c = plan.buffer "" activation : memref<4x8xf32>
  plan.kernel "matmul" ins(%x, %wc) outs(%c) {params = {transpose_lhs = false, transpose_rhs = true}} : (memref<4x16xf32>, memref<8x16xf32>) -> memref<4x8xf32>
  plan.kernel "copy" ins(%x) outs(%x) : (memref<4x16xf32>) -> memref<4x16xf32>
  %d = plan.buffer "" activation : memref<4x8xf32>
  plan.kernel "matmul" ins(%x, %wd) outs(%d) {params = {transpose_lhs = false, transpose_rhs = true}} : (memref<4x16xf32>, memref<8x16xf32>) -> memref<4x8xf32>
  return
}
