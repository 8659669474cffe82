// RUN: llmc-opt %s --split-input-file --verify-diagnostics

// One case per error the plan ops report.

//===----------------------------------------------------------------------===//
// plan.buffer
//===----------------------------------------------------------------------===//

// Tests that a buffer must be row-major: a transposed layout is rejected.
func.func @buffer_layout() {
  // expected-error@+1 {{'plan.buffer' op buffer must have the identity (row-major) layout}}
  %0 = plan.buffer "" activation : memref<4x8xf32, affine_map<(d0, d1) -> (d1, d0)>>
  return
}

// -----

// Tests that a padded row stride is rejected too: arena buffers are dense.
func.func @buffer_strided() {
  // expected-error@+1 {{'plan.buffer' op buffer must have the identity (row-major) layout}}
  %0 = plan.buffer "" activation : memref<4x8xf32, strided<[16, 1]>>
  return
}

// -----

// Tests that a buffer's elements must be whole bytes, so its size in bytes
// is exact.
func.func @buffer_sub_byte() {
  // expected-error@+1 {{'plan.buffer' op element type must be an integer or float of whole bytes}}
  %0 = plan.buffer "mask" input : memref<16xi1>
  return
}

// -----

// Tests that index elements, whose size depends on the target, are refused
// rather than sized.
func.func @buffer_index() {
  // expected-error@+1 {{'plan.buffer' op element type must be an integer or float of whole bytes}}
  %0 = plan.buffer "i" temporary : memref<4xindex>
  return
}

// -----

// Tests that an arena offset cannot be negative.
func.func @buffer_negative_offset() {
  // expected-error@+1 {{'plan.buffer' op offset must be non-negative}}
  %0 = plan.buffer "w" param offset -64 : memref<16xf32>
  return
}

// -----

// Tests that a buffer has a static shape: the arena is laid out at compile
// time.
func.func @buffer_dynamic_shape() {
  // expected-error@+1 {{'plan.buffer' op result #0 must be statically shaped memref of any type values, but got 'memref<?xf32>'}}
  %0 = plan.buffer "" activation : memref<?xf32>
  return
}

//===----------------------------------------------------------------------===//
// plan.view
//===----------------------------------------------------------------------===//

// -----

// Tests that a view's source must be row-major.
func.func @view_source_layout(%m: memref<4x8xf32, strided<[16, 1]>>) {
  // expected-error@+1 {{'plan.view' op views need the identity (row-major) layout}}
  %0 = plan.view %m : memref<4x8xf32, strided<[16, 1]>> to memref<32xf32>
  return
}

// -----

// Tests that a view's result must be row-major.
func.func @view_result_layout() {
  %0 = plan.buffer "" activation : memref<32xf32>
  // expected-error@+1 {{'plan.view' op views need the identity (row-major) layout}}
  %1 = plan.view %0 : memref<32xf32> to memref<4x8xf32, affine_map<(d0, d1) -> (d1, d0)>>
  return
}

// -----

// Tests that a view cannot reinterpret the element type.
func.func @view_element_type() {
  %0 = plan.buffer "" activation : memref<32xf32>
  // expected-error@+1 {{'plan.view' op view must keep the element type}}
  %1 = plan.view %0 : memref<32xf32> to memref<4x8xi32>
  return
}

// -----

// Tests that a view must keep the element count.
func.func @view_element_count() {
  %0 = plan.buffer "" activation : memref<32xf32>
  // expected-error@+1 {{'plan.view' op view of 32 elements cannot have 64}}
  %1 = plan.view %0 : memref<32xf32> to memref<8x8xf32>
  return
}

//===----------------------------------------------------------------------===//
// plan.kernel
//===----------------------------------------------------------------------===//

// -----

// Tests that a kernel must name its callee.
func.func @kernel_empty_callee() {
  %0 = plan.buffer "" activation : memref<4xf32>
  // expected-error@+1 {{'plan.kernel' op callee must not be empty}}
  plan.kernel "" ins(%0) outs(%0) : (memref<4xf32>) -> memref<4xf32>
  return
}

// -----

// Tests that a kernel must write a buffer (a kernel without effects would be
// dead); the custom syntax cannot express no outs, so this is written in
// generic form.
func.func @kernel_no_outs() {
  %0 = plan.buffer "" activation : memref<4xf32>
  // expected-error@+1 {{'plan.kernel' op kernel 'grad_norm' writes no buffer}}
  "plan.kernel"(%0) <{callee = "grad_norm", operandSegmentSizes = array<i32: 1, 0>}> : (memref<4xf32>) -> ()
  return
}
