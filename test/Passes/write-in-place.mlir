// RUN: llmc-opt %s --split-input-file --llmc-write-in-place | FileCheck %s

// Tests memory fusion: a chain of elementwise kernels whose inputs die at
// them walks one buffer. gelu_backward's gradient %g dies there, so its
// result takes %g's bytes; the add then writes over that result, which also
// dies there. %x, read again later, keeps its own bytes.
// CHECK-LABEL: func.func @chain(
// CHECK:      plan.kernel "gelu_backward" ins(%[[G:[0-9]+]], %[[X:[0-9]+]]) outs(%[[G]])
// CHECK-NEXT: plan.kernel "add" ins(%[[G]], %{{[0-9]+}}) outs(%[[G]])
// CHECK-NEXT: plan.buffer "" output
// CHECK-NEXT: plan.kernel "add" ins(%[[G]], %[[X]]) outs(%{{[0-9]+}})
func.func @chain() {
  %x = plan.buffer "" activation : memref<4x8xf32>
  %y = plan.buffer "" temporary : memref<4x8xf32>
  %g = plan.buffer "" temporary : memref<4x8xf32>
  %d = plan.buffer "" temporary : memref<4x8xf32>
  plan.kernel "gelu_backward" ins(%g, %x) outs(%d) {params = {approximate = "tanh"}} : (memref<4x8xf32>, memref<4x8xf32>) -> memref<4x8xf32>
  %s = plan.buffer "" temporary : memref<4x8xf32>
  plan.kernel "add" ins(%d, %y) outs(%s) : (memref<4x8xf32>, memref<4x8xf32>) -> memref<4x8xf32>
  %o = plan.buffer "" output : memref<4x8xf32>
  plan.kernel "add" ins(%s, %x) outs(%o) : (memref<4x8xf32>, memref<4x8xf32>) -> memref<4x8xf32>
  return
}

// -----

// Tests what keeps its own buffer: a result whose input is read later, of
// another shape (a broadcast), named, of another category, or returned
// (live_out); and kernels that are not elementwise (a norm reads its whole
// row).
// CHECK-LABEL: func.func @kept(
// CHECK:     %15 = plan.buffer "" output
func.func @kept() {
  %a = plan.buffer "" temporary : memref<4x8xf32>
  %b = plan.buffer "" temporary : memref<8xf32>
  %r1 = plan.buffer "" temporary : memref<4x8xf32>
  plan.kernel "add" ins(%a, %b) outs(%r1) : (memref<4x8xf32>, memref<8xf32>) -> memref<4x8xf32>
  %n = plan.buffer "hidden" temporary : memref<4x8xf32>
  %r2 = plan.buffer "" temporary : memref<4x8xf32>
  plan.kernel "silu_forward" ins(%n) outs(%r2) : (memref<4x8xf32>) -> memref<4x8xf32>
  %p = plan.buffer "w" param : memref<4x8xf32>
  %r3 = plan.buffer "" temporary : memref<4x8xf32>
  plan.kernel "silu_forward" ins(%p) outs(%r3) : (memref<4x8xf32>) -> memref<4x8xf32>
  %r4 = plan.buffer "" temporary live_out : memref<4x8xf32>
  plan.kernel "silu_forward" ins(%r1) outs(%r4) : (memref<4x8xf32>) -> memref<4x8xf32>
  %w = plan.buffer "" param : memref<8xf32>
  %bias = plan.buffer "" param : memref<8xf32>
  %m = plan.buffer "" temporary : memref<4xf32>
  %v = plan.buffer "" temporary : memref<4xf32>
  %r5 = plan.buffer "" temporary : memref<4x8xf32>
  plan.kernel "layernorm_forward" ins(%r2, %w, %bias) outs(%r5, %m, %v) {params = {epsilon = 1.0e-05 : f64}} : (memref<4x8xf32>, memref<8xf32>, memref<8xf32>) -> (memref<4x8xf32>, memref<4xf32>, memref<4xf32>)
  %r6 = plan.buffer "" temporary : memref<4x8xf32>
  plan.kernel "mul" ins(%a, %r3) outs(%r6) : (memref<4x8xf32>, memref<4x8xf32>) -> memref<4x8xf32>
  %o = plan.buffer "" output : memref<4x8xf32>
  plan.kernel "add" ins(%r5, %r6) outs(%o) : (memref<4x8xf32>, memref<4x8xf32>) -> memref<4x8xf32>
  %o2 = plan.buffer "" output : memref<4x8xf32>
  plan.kernel "add" ins(%a, %r3) outs(%o2) : (memref<4x8xf32>, memref<4x8xf32>) -> memref<4x8xf32>
  return
}
