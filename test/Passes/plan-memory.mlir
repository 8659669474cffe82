// RUN: llmc-opt %s --split-input-file --llmc-plan-memory --verify-diagnostics | FileCheck %s

// Every offset below is worked out by hand from PlanMemory.cpp, not copied
// from the pass output:
//   size      bytes rounded up to 64;
//   lifetime  inputs, params, optimizer state, outputs and gradients no
//             kernel reads: the whole program; every other buffer: from
//             the first to the last kernel (counted in kernel calls, views
//             do not count) that touches it or a view of it;
//   placement largest first (ties in declaration order), each at the lowest
//             offset not used by a placed buffer alive at the same time;
//   arena     the end of the highest buffer.

// Tests that buffers of the whole program never share bytes, even with a
// temporary that lives while they are not used, and that sizes are rounded
// up to 64 bytes: 12 B (x) and 4 B (y) take 64, 80 B (w, w.exp_avg) 128.
// An offset set before planning is replaced.
//   order: w (128), w.exp_avg (128), x, y, t (64 each)
//   w -> 0; w.exp_avg -> 128; x -> 256; y -> 320; t -> 384; arena 448.
// CHECK-LABEL: func.func @persistent()
// CHECK-SAME:      attributes {plan.arena_bytes = 448 : i64}
// CHECK-NEXT:      plan.buffer "x" input offset 256 : memref<3xf32>
// CHECK-NEXT:      plan.buffer "w" param offset 0 : memref<20xf32>
// CHECK-NEXT:      plan.buffer "w.exp_avg" optimizer_state offset 128 : memref<20xf32>
// CHECK-NEXT:      plan.buffer "y" output offset 320 : memref<f32>
// CHECK-NEXT:      plan.buffer "" temporary offset 384 : memref<16xf32>
func.func @persistent() {
  %x = plan.buffer "x" input offset 4096 : memref<3xf32>
  %w = plan.buffer "w" param : memref<20xf32>
  %m = plan.buffer "w.exp_avg" optimizer_state : memref<20xf32>
  %y = plan.buffer "y" output : memref<f32>
  %t = plan.buffer "" temporary : memref<16xf32>
  plan.kernel "grad_norm" ins(%x, %w) outs(%y) : (memref<3xf32>, memref<20xf32>) -> memref<f32>
  plan.kernel "add" ins(%t, %y) outs(%t) : (memref<16xf32>, memref<f32>) -> memref<16xf32>
  return
}

// -----

// Tests that temporaries whose lifetimes are disjoint share an offset, and
// that a kernel's input and output never do: a chain x -> a -> b -> c -> y
// lets a and c share, while b, which meets a at k1 and c at k2, cannot.
//   lifetimes: a [0, 1], b [1, 2], c [2, 3]
//   order: a, b, c (128 each), x, y (64 each)
//   a -> 0; b -> 128 (meets a); c -> 0 (meets only b);
//   x -> 256 (a and c occupy [0, 128), b [128, 256)); y -> 320; arena 384.
// CHECK-LABEL: func.func @disjoint_lifetimes()
// CHECK-SAME:      attributes {plan.arena_bytes = 384 : i64}
// CHECK-NEXT:      plan.buffer "x" input offset 256 : memref<16xf32>
// CHECK-NEXT:      plan.buffer "" temporary offset 0 : memref<32xf32>
// CHECK-NEXT:      plan.buffer "" activation offset 128 : memref<32xf32>
// CHECK-NEXT:      plan.buffer "" temporary offset 0 : memref<32xf32>
// CHECK-NEXT:      plan.buffer "y" output offset 320 : memref<16xf32>
func.func @disjoint_lifetimes() {
  %x = plan.buffer "x" input : memref<16xf32>
  %a = plan.buffer "" temporary : memref<32xf32>
  %b = plan.buffer "" activation : memref<32xf32>
  %c = plan.buffer "" temporary : memref<32xf32>
  %y = plan.buffer "y" output : memref<16xf32>
  plan.kernel "concat" ins(%x, %x) outs(%a) {params = {axis = 0 : i64}} : (memref<16xf32>, memref<16xf32>) -> memref<32xf32>
  plan.kernel "copy" ins(%a) outs(%b) : (memref<32xf32>) -> memref<32xf32>
  plan.kernel "copy" ins(%b) outs(%c) : (memref<32xf32>) -> memref<32xf32>
  plan.kernel "sum_to" ins(%c) outs(%y) : (memref<32xf32>) -> memref<16xf32>
  return
}

// -----

// Tests that reading a view keeps the viewed buffer alive: a, written at k0
// and read through a view at k2, cannot share with b (written at k1), while
// c, written at k3 after the view's last use, can take a's bytes.
//   lifetimes: a [0, 2] (through the view), b [1, 1], c [3, 3]
//   order: x, a, b, c, y (64 each)
//   x -> 0; a -> 64; b -> 128 (meets x and a); c -> 64 (meets only x and
//   y, and y is placed after it); y -> 192; arena 256.
// CHECK-LABEL: func.func @view_lifetime()
// CHECK-SAME:      attributes {plan.arena_bytes = 256 : i64}
// CHECK-NEXT:      plan.buffer "x" input offset 0 : memref<16xf32>
// CHECK-NEXT:      plan.buffer "" activation offset 64 : memref<4x4xf32>
// CHECK-NEXT:      plan.buffer "" temporary offset 128 : memref<16xf32>
// CHECK-NEXT:      plan.buffer "" temporary offset 64 : memref<16xf32>
// CHECK-NEXT:      plan.buffer "y" output offset 192 : memref<16xf32>
// CHECK-NEXT:      plan.view
func.func @view_lifetime() {
  %x = plan.buffer "x" input : memref<16xf32>
  %a = plan.buffer "" activation : memref<4x4xf32>
  %b = plan.buffer "" temporary : memref<16xf32>
  %c = plan.buffer "" temporary : memref<16xf32>
  %y = plan.buffer "y" output : memref<16xf32>
  %v = plan.view %a : memref<4x4xf32> to memref<16xf32>
  plan.kernel "copy" ins(%x) outs(%a) : (memref<16xf32>) -> memref<4x4xf32>
  plan.kernel "copy" ins(%x) outs(%b) : (memref<16xf32>) -> memref<16xf32>
  plan.kernel "copy" ins(%v) outs(%y) : (memref<16xf32>) -> memref<16xf32>
  plan.kernel "copy" ins(%x) outs(%c) : (memref<16xf32>) -> memref<16xf32>
  return
}

// -----

// Tests that larger buffers are placed first: 50 f32 (200 B) round to 256,
// 3 f32 (12 B) and 9 f32 (36 B) to 64.
//   all alive at k0; order: l (256), s, h (64 each)
//   l -> 0; s -> 256; h -> 320; arena 384.
// CHECK-LABEL: func.func @largest_first()
// CHECK-SAME:      attributes {plan.arena_bytes = 384 : i64}
// CHECK-NEXT:      plan.buffer "" temporary offset 256 : memref<3xf32>
// CHECK-NEXT:      plan.buffer "" temporary offset 0 : memref<50xf32>
// CHECK-NEXT:      plan.buffer "" temporary offset 320 : memref<9xf32>
func.func @largest_first() {
  %s = plan.buffer "" temporary : memref<3xf32>
  %l = plan.buffer "" temporary : memref<50xf32>
  %h = plan.buffer "" temporary : memref<9xf32>
  plan.kernel "grad_norm" ins(%s, %h) outs(%l) : (memref<3xf32>, memref<9xf32>) -> memref<50xf32>
  return
}

// -----

// Tests gradients: a live_out one is what the program returns and lives
// throughout, even though a kernel reads it; one that is not (as AdamW reads
// gradients in a train step) is a temporary whose bytes a later buffer may
// take.
//   lifetimes: dw whole, db [1, 2], t [3, 3]
//   order: x, dw, db, t, n (64 each)
//   x -> 0; dw -> 64; db -> 128; t -> 128 (db is dead); n -> 192; arena 256.
// CHECK-LABEL: func.func @grads()
// CHECK-SAME:      attributes {plan.arena_bytes = 256 : i64}
// CHECK-NEXT:      plan.buffer "x" input offset 0 : memref<16xf32>
// CHECK-NEXT:      plan.buffer "w" grad live_out offset 64 : memref<16xf32>
// CHECK-NEXT:      plan.buffer "b" grad offset 128 : memref<16xf32>
// CHECK-NEXT:      plan.buffer "" temporary offset 128 : memref<16xf32>
// CHECK-NEXT:      plan.buffer "grad_norm" output offset 192 : memref<f32>
func.func @grads() {
  %x = plan.buffer "x" input : memref<16xf32>
  %dw = plan.buffer "w" grad live_out : memref<16xf32>
  %db = plan.buffer "b" grad : memref<16xf32>
  %t = plan.buffer "" temporary : memref<16xf32>
  %n = plan.buffer "grad_norm" output : memref<f32>
  plan.kernel "copy" ins(%x) outs(%dw) : (memref<16xf32>) -> memref<16xf32>
  plan.kernel "copy" ins(%x) outs(%db) : (memref<16xf32>) -> memref<16xf32>
  plan.kernel "grad_norm" ins(%db) outs(%n) : (memref<16xf32>) -> memref<f32>
  plan.kernel "copy" ins(%x) outs(%t) : (memref<16xf32>) -> memref<16xf32>
  return
}

// -----

// Tests that a gradient read only through a view still counts as read.
//   lifetimes: g [0, 1] (through the view), t [2, 2]
//   order: x, g, t, n (64 each)
//   x -> 0; g -> 64; t -> 64 (g is dead); n -> 128; arena 192.
// CHECK-LABEL: func.func @grad_read_through_view()
// CHECK-SAME:      attributes {plan.arena_bytes = 192 : i64}
// CHECK-NEXT:      plan.buffer "x" input offset 0 : memref<16xf32>
// CHECK-NEXT:      plan.buffer "w" grad offset 64 : memref<4x4xf32>
// CHECK-NEXT:      plan.buffer "" temporary offset 64 : memref<16xf32>
// CHECK-NEXT:      plan.buffer "grad_norm" output offset 128 : memref<f32>
func.func @grad_read_through_view() {
  %x = plan.buffer "x" input : memref<16xf32>
  %g = plan.buffer "w" grad : memref<4x4xf32>
  %t = plan.buffer "" temporary : memref<16xf32>
  %n = plan.buffer "grad_norm" output : memref<f32>
  %v = plan.view %g : memref<4x4xf32> to memref<16xf32>
  plan.kernel "copy" ins(%x) outs(%g) : (memref<16xf32>) -> memref<4x4xf32>
  plan.kernel "grad_norm" ins(%v) outs(%n) : (memref<16xf32>) -> memref<f32>
  plan.kernel "copy" ins(%x) outs(%t) : (memref<16xf32>) -> memref<16xf32>
  return
}

// -----

// Tests that functions without buffers (the tensor functions a train
// pipeline keeps next to the plan) are left alone.
// CHECK-LABEL: func.func @tensors(
// CHECK-NOT:       plan.arena_bytes
// CHECK:           return
func.func @tensors(%x: tensor<2xf32>) -> tensor<2xf32> {
  return %x : tensor<2xf32>
}

// -----

// Tests that a kernel operand with no plan.buffer behind it (a function
// argument: there are no bytes in the arena to place) is an error.
func.func @argument(%in: memref<4x8xf32>) {
  %o = plan.buffer "" activation : memref<4x8xf32>
  // expected-error@+1 {{'plan.kernel' op llmc-plan-memory: operand #0 is not a plan.buffer (or a view of one)}}
  plan.kernel "gelu_forward" ins(%in) outs(%o) {params = {approximate = "tanh"}} : (memref<4x8xf32>) -> memref<4x8xf32>
  return
}
