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

// Tests that a kernel must be one the kernel table declares.
func.func @kernel_empty_callee() {
  %0 = plan.buffer "" activation : memref<4xf32>
  // expected-error@+1 {{'plan.kernel' op '' is not a kernel of the kernel table (runtime/kernels/kernel_table.def)}}
  plan.kernel "" ins(%0) outs(%0) : (memref<4xf32>) -> memref<4xf32>
  return
}

// -----

// Tests that a misspelt kernel name is refused where it is emitted.
func.func @kernel_unknown() {
  %0 = plan.buffer "" activation : memref<4xf32>
  // expected-error@+1 {{'plan.kernel' op 'layer_norm_forward' is not a kernel of the kernel table}}
  plan.kernel "layer_norm_forward" ins(%0) outs(%0) : (memref<4xf32>) -> memref<4xf32>
  return
}

// -----

// Tests that a kernel must write what its table entry says (a kernel without
// effects would be dead); the custom syntax cannot express no outs, so this
// is written in generic form.
func.func @kernel_no_outs() {
  %0 = plan.buffer "" activation : memref<4xf32>
  // expected-error@+1 {{'plan.kernel' op grad_norm: takes outs (norm), got 0}}
  "plan.kernel"(%0) <{callee = "grad_norm", operandSegmentSizes = array<i32: 1, 0>}> : (memref<4xf32>) -> ()
  return
}

// -----

// Tests that a kernel gets exactly its table's inputs (an optional bias may
// be left out, nothing more).
func.func @kernel_arity() {
  %a = plan.buffer "" activation : memref<4x4xf32>
  // expected-error@+1 {{'plan.kernel' op matmul: takes ins (lhs, rhs, bias?), got 1}}
  plan.kernel "matmul" ins(%a) outs(%a) {params = {transpose_lhs = false, transpose_rhs = false}} : (memref<4x4xf32>) -> memref<4x4xf32>
  return
}

// -----

// Tests that token ids must be i32.
func.func @kernel_dtype() {
  %t = plan.buffer "" param : memref<8x4xf32>
  %ids = plan.buffer "" input : memref<2xf32>
  %o = plan.buffer "" activation : memref<2x4xf32>
  // expected-error@+1 {{'plan.kernel' op embedding_forward: ins 1 (ids) is f32; expected i32}}
  plan.kernel "embedding_forward" ins(%t, %ids) outs(%o) : (memref<8x4xf32>, memref<2xf32>) -> memref<2x4xf32>
  return
}

// -----

// Tests that a GEMM takes a bf16 operand (an activation round_bf16 kept)
// only with bf16 math, and an i8 one never.
func.func @gemm_bf16_operand_needs_bf16_math() {
  %x = plan.buffer "" activation : memref<4x8xbf16>
  %w = plan.buffer "w" param : memref<8x4xf32>
  %y = plan.buffer "" activation : memref<4x4xf32>
  // expected-error@+1 {{'plan.kernel' op matmul: lhs is bf16; only a GEMM with math bf16 takes bf16 operands}}
  plan.kernel "matmul" ins(%x, %w) outs(%y) {params = {transpose_lhs = false, transpose_rhs = false}} : (memref<4x8xbf16>, memref<8x4xf32>) -> memref<4x4xf32>
  return
}

// -----

func.func @gemm_i8_operand() {
  %x = plan.buffer "" activation : memref<4x8xi8>
  %w = plan.buffer "w" param : memref<8x4xf32>
  %y = plan.buffer "" activation : memref<4x4xf32>
  // expected-error@+1 {{'plan.kernel' op matmul: ins 0 (lhs) is i8; expected f32 or bf16}}
  plan.kernel "matmul" ins(%x, %w) outs(%y) {params = {math = "bf16", transpose_lhs = false, transpose_rhs = false}} : (memref<4x8xi8>, memref<8x4xf32>) -> memref<4x4xf32>
  return
}

// -----

// Tests that kernels take only element types a backend runs.
func.func @kernel_element_type() {
  %0 = plan.buffer "" activation : memref<4xf16>
  // expected-error@+1 {{'plan.kernel' op kernel 'copy' has an operand of type 'memref<4xf16>'; kernels take f32, i32 and i8 buffers}}
  plan.kernel "copy" ins(%0) outs(%0) : (memref<4xf16>) -> memref<4xf16>
  return
}

// -----

// Tests that a required parameter must be there.
func.func @kernel_missing_param() {
  %0 = plan.buffer "" activation : memref<2x8xf32>
  %w = plan.buffer "" param : memref<8xf32>
  %s = plan.buffer "" activation : memref<2xf32>
  // expected-error@+1 {{'plan.kernel' op layernorm_forward: needs parameter 'epsilon' (float)}}
  plan.kernel "layernorm_forward" ins(%0, %w, %w) outs(%0, %s, %s) : (memref<2x8xf32>, memref<8xf32>, memref<8xf32>) -> (memref<2x8xf32>, memref<2xf32>, memref<2xf32>)
  return
}

// -----

// Tests that a parameter must have its table type.
func.func @kernel_param_type() {
  %0 = plan.buffer "" activation : memref<4xf32>
  // expected-error@+1 {{'plan.kernel' op fill: parameter 'value' is int; expected float}}
  plan.kernel "fill" outs(%0) {params = {value = 1 : i64}} : () -> memref<4xf32>
  return
}

// -----

// Tests that a parameter the table does not declare is refused (a typo would
// otherwise be ignored and the default used).
func.func @kernel_unknown_param() {
  %0 = plan.buffer "" activation : memref<4xf32>
  // expected-error@+1 {{'plan.kernel' op copy: has no parameter 'epsilon'}}
  plan.kernel "copy" ins(%0) outs(%0) {params = {epsilon = 1.0 : f64}} : (memref<4xf32>) -> memref<4xf32>
  return
}

// -----

// Tests that a parameter must be of a kind the plan file holds.
func.func @kernel_param_kind() {
  %0 = plan.buffer "" activation : memref<4xf32>
  // expected-error@+1 {{'plan.kernel' op kernel 'fill' parameter 'value' is not a bool, integer, float, string or i64 array}}
  plan.kernel "fill" outs(%0) {params = {value = [1.0]}} : () -> memref<4xf32>
  return
}

// -----

// Tests that shapes are checked by the kernel's rule: a GEMM whose operands
// do not share K.
func.func @kernel_shape_rule() {
  %a = plan.buffer "" activation : memref<2x3xf32>
  %b = plan.buffer "" param : memref<4x5xf32>
  %c = plan.buffer "" activation : memref<2x5xf32>
  // expected-error@+1 {{'plan.kernel' op matmul: lhs (2, 3) and rhs (4, 5) do not multiply into out (2, 5)}}
  plan.kernel "matmul" ins(%a, %b) outs(%c) {params = {transpose_lhs = false, transpose_rhs = false}} : (memref<2x3xf32>, memref<4x5xf32>) -> memref<2x5xf32>
  return
}
