// RUN: llmc-opt %s --split-input-file --llmc-overlap-regather | FileCheck %s

// Tests Megatron's overlap: the backward re-gather of the forward shard %x
// (sequence parallelism) starts before the input-gradient GEMM, which needs
// neither of its buffers, and is waited for where it was, right before the
// weight-gradient GEMM that reads it. Its buffer is declared before the
// start, and the start and the wait share a bucket numbered from 2^32.
// CHECK-LABEL: func.func @regather(
// CHECK:      plan.kernel "all_gather_start" ins(%[[X:.*]]) outs(%[[XG:.*]]) {llm.layer = 0 : i64, llm.role = "backward", params = {axis = "tp", bucket = 4294967296 : i64, dim = 0 : i64}}
// CHECK-NEXT: plan.kernel "matmul" ins(%{{.*}}, %{{.*}}) outs(%{{.*}}) {llm.layer = 0 : i64, llm.role = "backward", params = {transpose_lhs = false, transpose_rhs = true}}
// CHECK-NEXT: plan.kernel "all_gather_wait" ins(%[[X]]) outs(%[[XG]]) {llm.layer = 0 : i64, llm.role = "backward", params = {axis = "tp", bucket = 4294967296 : i64, dim = 0 : i64}}
// CHECK-NEXT: %[[DW:.*]] = plan.buffer "" grad : memref<4x6xf32>
// CHECK-NEXT: plan.kernel "matmul" ins(%[[XG]], %{{.*}}) outs(%[[DW]])
// CHECK-NOT:  plan.kernel "all_gather"
func.func @regather() {
  %in = plan.buffer "" activation : memref<4x4xf32>
  %x = plan.buffer "" activation : memref<4x4xf32>
  plan.kernel "copy" ins(%in) outs(%x) {llm.role = "forward"} : (memref<4x4xf32>) -> memref<4x4xf32>
  %w = plan.buffer "w" param : memref<4x6xf32>
  %xg0 = plan.buffer "" activation : memref<8x4xf32>
  plan.kernel "all_gather" ins(%x) outs(%xg0) {llm.layer = 0 : i64, llm.role = "forward", params = {axis = "tp", dim = 0 : i64}} : (memref<4x4xf32>) -> memref<8x4xf32>
  %y = plan.buffer "" activation : memref<8x6xf32>
  plan.kernel "matmul" ins(%xg0, %w) outs(%y) {llm.layer = 0 : i64, llm.role = "forward", params = {transpose_lhs = false, transpose_rhs = false}} : (memref<8x4xf32>, memref<4x6xf32>) -> memref<8x6xf32>
  %dy = plan.buffer "" activation : memref<8x6xf32>
  %dx = plan.buffer "" activation : memref<8x4xf32>
  plan.kernel "matmul" ins(%dy, %w) outs(%dx) {llm.layer = 0 : i64, llm.role = "backward", params = {transpose_lhs = false, transpose_rhs = true}} : (memref<8x6xf32>, memref<4x6xf32>) -> memref<8x4xf32>
  %xg = plan.buffer "" activation : memref<8x4xf32>
  plan.kernel "all_gather" ins(%x) outs(%xg) {llm.layer = 0 : i64, llm.role = "backward", params = {axis = "tp", dim = 0 : i64}} : (memref<4x4xf32>) -> memref<8x4xf32>
  %dw = plan.buffer "" grad : memref<4x6xf32>
  plan.kernel "matmul" ins(%xg, %dy) outs(%dw) {llm.layer = 0 : i64, llm.role = "backward", params = {transpose_lhs = true, transpose_rhs = false}} : (memref<8x4xf32>, memref<8x6xf32>) -> memref<4x6xf32>
  return
}

// -----

// Tests what stays: the forward all-gather, the backward all-gather of a
// gradient (the backward pass wrote it), and re-gathers whose preceding
// kernel is no GEMM or a GEMM that reads the gathered shard.
// CHECK-LABEL: func.func @stays(
// CHECK-NOT:  all_gather_start
// CHECK-COUNT-4: plan.kernel "all_gather"
// CHECK-NOT:  all_gather_start
func.func @stays() {
  %in = plan.buffer "" activation : memref<4x4xf32>
  %x = plan.buffer "" activation : memref<4x4xf32>
  plan.kernel "copy" ins(%in) outs(%x) {llm.role = "forward"} : (memref<4x4xf32>) -> memref<4x4xf32>
  %xg0 = plan.buffer "" activation : memref<8x4xf32>
  plan.kernel "all_gather" ins(%x) outs(%xg0) {llm.role = "forward", params = {axis = "tp", dim = 0 : i64}} : (memref<4x4xf32>) -> memref<8x4xf32>
  %w = plan.buffer "w" param : memref<4x4xf32>
  %g = plan.buffer "" activation : memref<4x4xf32>
  %g2 = plan.buffer "" activation : memref<4x4xf32>
  plan.kernel "matmul" ins(%g, %w) outs(%g2) {llm.role = "backward", params = {transpose_lhs = false, transpose_rhs = false}} : (memref<4x4xf32>, memref<4x4xf32>) -> memref<4x4xf32>
  %gg = plan.buffer "" activation : memref<8x4xf32>
  plan.kernel "all_gather" ins(%g2) outs(%gg) {llm.role = "backward", params = {axis = "tp", dim = 0 : i64}} : (memref<4x4xf32>) -> memref<8x4xf32>
  %xg1 = plan.buffer "" activation : memref<8x4xf32>
  plan.kernel "all_gather" ins(%x) outs(%xg1) {llm.role = "backward", params = {axis = "tp", dim = 0 : i64}} : (memref<4x4xf32>) -> memref<8x4xf32>
  %h = plan.buffer "" activation : memref<4x4xf32>
  plan.kernel "matmul" ins(%x, %w) outs(%h) {llm.role = "backward", params = {transpose_lhs = false, transpose_rhs = false}} : (memref<4x4xf32>, memref<4x4xf32>) -> memref<4x4xf32>
  %xg2 = plan.buffer "" activation : memref<8x4xf32>
  plan.kernel "all_gather" ins(%x) outs(%xg2) {llm.role = "backward", params = {axis = "tp", dim = 0 : i64}} : (memref<4x4xf32>) -> memref<8x4xf32>
  return
}

// -----

// Tests that a GEMM of another layer does not take the start: pipeline
// stages are cut by layer, and the start and the wait run in one program.
// CHECK-LABEL: func.func @other_layer(
// CHECK-NOT:  all_gather_start
// CHECK:      plan.kernel "all_gather" ins
func.func @other_layer() {
  %in = plan.buffer "" activation : memref<4x4xf32>
  %x = plan.buffer "" activation : memref<4x4xf32>
  plan.kernel "copy" ins(%in) outs(%x) {llm.layer = 0 : i64, llm.role = "forward"} : (memref<4x4xf32>) -> memref<4x4xf32>
  %w = plan.buffer "w" param : memref<4x4xf32>
  %g = plan.buffer "" activation : memref<4x4xf32>
  %g2 = plan.buffer "" activation : memref<4x4xf32>
  plan.kernel "matmul" ins(%g, %w) outs(%g2) {llm.layer = 1 : i64, llm.role = "backward", params = {transpose_lhs = false, transpose_rhs = false}} : (memref<4x4xf32>, memref<4x4xf32>) -> memref<4x4xf32>
  %xg = plan.buffer "" activation : memref<8x4xf32>
  plan.kernel "all_gather" ins(%x) outs(%xg) {llm.layer = 0 : i64, llm.role = "backward", params = {axis = "tp", dim = 0 : i64}} : (memref<4x4xf32>) -> memref<8x4xf32>
  return
}
