// RUN: llmc-opt %s --split-input-file --llmc-fuse-kernels --verify-diagnostics | FileCheck %s

// Tests that a residual add followed by a layer norm of the sum becomes one
// add_layernorm_forward kernel that keeps the sum (the residual stream) and
// the norm's statistics, with the norm's epsilon and the pair's tags.
// CHECK-LABEL: func.func @add_layernorm(
// CHECK:      plan.buffer "b" param
// CHECK-NEXT: %[[S:.*]] = plan.buffer "" activation : memref<4x8xf32>
// CHECK-NEXT: %[[O:.*]] = plan.buffer "" activation : memref<4x8xf32>
// CHECK-NEXT: %[[M:.*]] = plan.buffer "" activation : memref<4xf32>
// CHECK-NEXT: %[[R:.*]] = plan.buffer "" activation : memref<4xf32>
// CHECK-NEXT: plan.kernel "add_layernorm_forward" ins(%{{[0-9]+}}, %{{[0-9]+}}, %{{[0-9]+}}, %{{[0-9]+}}) outs(%[[S]], %[[O]], %[[M]], %[[R]]) {llm.layer = 2 : i64, llm.role = "forward", params = {epsilon = 1.000000e-05 : f64}}
// CHECK-NOT:  plan.kernel "add"
// CHECK-NOT:  plan.kernel "layernorm_forward"
func.func @add_layernorm() {
  %a = plan.buffer "" activation : memref<4x8xf32>
  %b = plan.buffer "" activation : memref<4x8xf32>
  %w = plan.buffer "w" param : memref<8xf32>
  %bias = plan.buffer "b" param : memref<8xf32>
  %s = plan.buffer "" activation : memref<4x8xf32>
  plan.kernel "add" ins(%a, %b) outs(%s) {llm.layer = 2 : i64, llm.role = "forward"} : (memref<4x8xf32>, memref<4x8xf32>) -> memref<4x8xf32>
  %o = plan.buffer "" activation : memref<4x8xf32>
  %m = plan.buffer "" activation : memref<4xf32>
  %r = plan.buffer "" activation : memref<4xf32>
  plan.kernel "layernorm_forward" ins(%s, %w, %bias) outs(%o, %m, %r) {llm.layer = 2 : i64, llm.role = "forward", params = {epsilon = 1.0e-05 : f64}} : (memref<4x8xf32>, memref<8xf32>, memref<8xf32>) -> (memref<4x8xf32>, memref<4xf32>, memref<4xf32>)
  return
}

// -----

// Tests the RMSNorm variant.
// CHECK-LABEL: func.func @add_rmsnorm(
// CHECK:      plan.kernel "add_rmsnorm_forward" ins(%{{.*}}, %{{.*}}, %{{.*}}) outs(%{{.*}}, %{{.*}}, %{{.*}}) {params = {epsilon = 9.9999999999999995E-7 : f64}} : (memref<4x8xf32>, memref<4x8xf32>, memref<8xf32>) -> (memref<4x8xf32>, memref<4x8xf32>, memref<4xf32>)
func.func @add_rmsnorm() {
  %a = plan.buffer "" activation : memref<4x8xf32>
  %b = plan.buffer "" activation : memref<4x8xf32>
  %w = plan.buffer "w" param : memref<8xf32>
  %s = plan.buffer "" activation : memref<4x8xf32>
  plan.kernel "add" ins(%a, %b) outs(%s) : (memref<4x8xf32>, memref<4x8xf32>) -> memref<4x8xf32>
  %o = plan.buffer "" activation : memref<4x8xf32>
  %r = plan.buffer "" activation : memref<4xf32>
  plan.kernel "rmsnorm_forward" ins(%s, %w) outs(%o, %r) {params = {epsilon = 1.0e-06 : f64}} : (memref<4x8xf32>, memref<8xf32>) -> (memref<4x8xf32>, memref<4xf32>)
  return
}

// -----

// Tests that a GEMM with a bias followed by GELU of its output becomes one
// matmul_bias_gelu kernel that keeps the pre-activation for the backward.
// CHECK-LABEL: func.func @matmul_bias_gelu(
// CHECK:      plan.buffer "b" param
// CHECK-NEXT: %[[PRE:.*]] = plan.buffer "" activation : memref<4x16xf32>
// CHECK-NEXT: %[[OUT:.*]] = plan.buffer "" activation : memref<4x16xf32>
// CHECK-NEXT: plan.kernel "matmul_bias_gelu" ins(%{{.*}}, %{{.*}}, %{{.*}}) outs(%[[PRE]], %[[OUT]]) {params = {approximate = "tanh", transpose_lhs = false, transpose_rhs = false}}
// CHECK-NOT:  plan.kernel "gelu_forward"
func.func @matmul_bias_gelu() {
  %x = plan.buffer "" activation : memref<4x8xf32>
  %w = plan.buffer "w" param : memref<8x16xf32>
  %b = plan.buffer "b" param : memref<16xf32>
  %pre = plan.buffer "" activation : memref<4x16xf32>
  plan.kernel "matmul" ins(%x, %w, %b) outs(%pre) {params = {transpose_lhs = false, transpose_rhs = false}} : (memref<4x8xf32>, memref<8x16xf32>, memref<16xf32>) -> memref<4x16xf32>
  %out = plan.buffer "" activation : memref<4x16xf32>
  plan.kernel "gelu_forward" ins(%pre) outs(%out) {params = {approximate = "tanh"}} : (memref<4x16xf32>) -> memref<4x16xf32>
  return
}

// -----

// Tests that LLaMA's up projection followed by the SwiGLU that reads it as
// `up` becomes one matmul_swiglu kernel: the GEMM's operands, then the gate;
// up is kept for the backward pass. The gate projection before it stays.
// CHECK-LABEL: func.func @matmul_swiglu(
// CHECK:      %[[X:.*]] = plan.buffer "" activation : memref<4x8xf32>
// CHECK-NEXT: %[[WG:.*]] = plan.buffer "wg" param
// CHECK-NEXT: %[[WU:.*]] = plan.buffer "wu" param
// CHECK-NEXT: %[[GATE:.*]] = plan.buffer "" activation : memref<4x16xf32>
// CHECK-NEXT: plan.kernel "matmul" ins(%[[X]], %[[WG]]) outs(%[[GATE]])
// CHECK-NEXT: %[[UP:.*]] = plan.buffer "" activation : memref<4x16xf32>
// CHECK-NEXT: %[[OUT:.*]] = plan.buffer "" activation : memref<4x16xf32>
// CHECK-NEXT: plan.kernel "matmul_swiglu" ins(%[[X]], %[[WU]], %[[GATE]]) outs(%[[UP]], %[[OUT]]) {params = {transpose_lhs = false, transpose_rhs = true}}
// CHECK-NOT:  plan.kernel "swiglu_forward"
func.func @matmul_swiglu() {
  %x = plan.buffer "" activation : memref<4x8xf32>
  %wg = plan.buffer "wg" param : memref<16x8xf32>
  %wu = plan.buffer "wu" param : memref<16x8xf32>
  %gate = plan.buffer "" activation : memref<4x16xf32>
  plan.kernel "matmul" ins(%x, %wg) outs(%gate) {params = {transpose_lhs = false, transpose_rhs = true}} : (memref<4x8xf32>, memref<16x8xf32>) -> memref<4x16xf32>
  %up = plan.buffer "" activation : memref<4x16xf32>
  plan.kernel "matmul" ins(%x, %wu) outs(%up) {params = {transpose_lhs = false, transpose_rhs = true}} : (memref<4x8xf32>, memref<16x8xf32>) -> memref<4x16xf32>
  %out = plan.buffer "" activation : memref<4x16xf32>
  plan.kernel "swiglu_forward" ins(%gate, %up) outs(%out) : (memref<4x16xf32>, memref<4x16xf32>) -> memref<4x16xf32>
  return
}

// -----

// Tests that SwiGLU reading the GEMM's output as its gate (the first
// operand) is left alone: matmul_swiglu computes only `up` in its epilogue.
// CHECK-LABEL: func.func @swiglu_of_gate(
// CHECK: plan.kernel "matmul"
// CHECK: plan.kernel "matmul"
// CHECK: plan.kernel "swiglu_forward"
func.func @swiglu_of_gate() {
  %x = plan.buffer "" activation : memref<4x8xf32>
  %wg = plan.buffer "wg" param : memref<16x8xf32>
  %wu = plan.buffer "wu" param : memref<16x8xf32>
  %up = plan.buffer "" activation : memref<4x16xf32>
  plan.kernel "matmul" ins(%x, %wu) outs(%up) {params = {transpose_lhs = false, transpose_rhs = true}} : (memref<4x8xf32>, memref<16x8xf32>) -> memref<4x16xf32>
  %gate = plan.buffer "" activation : memref<4x16xf32>
  plan.kernel "matmul" ins(%x, %wg) outs(%gate) {params = {transpose_lhs = false, transpose_rhs = true}} : (memref<4x8xf32>, memref<16x8xf32>) -> memref<4x16xf32>
  %out = plan.buffer "" activation : memref<4x16xf32>
  plan.kernel "swiglu_forward" ins(%gate, %up) outs(%out) : (memref<4x16xf32>, memref<4x16xf32>) -> memref<4x16xf32>
  return
}

// -----

// Tests what is left alone: a pair across a layer boundary (pipeline stages
// are cut by layer), a broadcast add, a GEMM without bias, a norm that does
// not read the add's result, and a consumer that is not adjacent.
// CHECK-LABEL: func.func @not_fused(
// CHECK: plan.kernel "add"
// CHECK: plan.kernel "layernorm_forward"
// CHECK: plan.kernel "add"
// CHECK: plan.kernel "layernorm_forward"
// CHECK: plan.kernel "matmul"
// CHECK: plan.kernel "gelu_forward"
// CHECK: plan.kernel "add"
// CHECK: plan.kernel "layernorm_forward"
// CHECK: plan.kernel "matmul"
// CHECK: plan.kernel "add"
// CHECK: plan.kernel "gelu_forward"
// CHECK-NOT: _forward"{{.*}}add_
func.func @not_fused() {
  %a = plan.buffer "" activation : memref<4x8xf32>
  %b = plan.buffer "" activation : memref<4x8xf32>
  %row = plan.buffer "" activation : memref<8xf32>
  %w = plan.buffer "w" param : memref<8xf32>
  %bias = plan.buffer "b" param : memref<8xf32>
  %s = plan.buffer "" activation : memref<4x8xf32>
  %o = plan.buffer "" activation : memref<4x8xf32>
  %m = plan.buffer "" activation : memref<4xf32>
  %r = plan.buffer "" activation : memref<4xf32>
  plan.kernel "add" ins(%a, %b) outs(%s) {llm.layer = 0 : i64} : (memref<4x8xf32>, memref<4x8xf32>) -> memref<4x8xf32>
  plan.kernel "layernorm_forward" ins(%s, %w, %bias) outs(%o, %m, %r) {llm.layer = 1 : i64, params = {epsilon = 1.0e-05 : f64}} : (memref<4x8xf32>, memref<8xf32>, memref<8xf32>) -> (memref<4x8xf32>, memref<4xf32>, memref<4xf32>)
  plan.kernel "add" ins(%a, %row) outs(%s) : (memref<4x8xf32>, memref<8xf32>) -> memref<4x8xf32>
  plan.kernel "layernorm_forward" ins(%s, %w, %bias) outs(%o, %m, %r) {params = {epsilon = 1.0e-05 : f64}} : (memref<4x8xf32>, memref<8xf32>, memref<8xf32>) -> (memref<4x8xf32>, memref<4xf32>, memref<4xf32>)
  %wm = plan.buffer "wm" param : memref<8x8xf32>
  plan.kernel "matmul" ins(%a, %wm) outs(%s) {params = {transpose_lhs = false, transpose_rhs = false}} : (memref<4x8xf32>, memref<8x8xf32>) -> memref<4x8xf32>
  plan.kernel "gelu_forward" ins(%s) outs(%o) {params = {approximate = "tanh"}} : (memref<4x8xf32>) -> memref<4x8xf32>
  plan.kernel "add" ins(%a, %b) outs(%s) : (memref<4x8xf32>, memref<4x8xf32>) -> memref<4x8xf32>
  plan.kernel "layernorm_forward" ins(%b, %w, %bias) outs(%o, %m, %r) {params = {epsilon = 1.0e-05 : f64}} : (memref<4x8xf32>, memref<8xf32>, memref<8xf32>) -> (memref<4x8xf32>, memref<4xf32>, memref<4xf32>)
  plan.kernel "matmul" ins(%a, %wm, %w) outs(%s) {params = {transpose_lhs = false, transpose_rhs = false}} : (memref<4x8xf32>, memref<8x8xf32>, memref<8xf32>) -> memref<4x8xf32>
  plan.kernel "add" ins(%a, %b) outs(%b) : (memref<4x8xf32>, memref<4x8xf32>) -> memref<4x8xf32>
  plan.kernel "gelu_forward" ins(%s) outs(%o) {params = {approximate = "tanh"}} : (memref<4x8xf32>) -> memref<4x8xf32>
  return
}

// -----

// Tests that a kernel call the kernel table does not know is refused before
// the pass runs (the plan.kernel verifier checks each call against the
// table): nothing is fused into an unknown kernel.
func.func @unknown_kernel() {
  %a = plan.buffer "" activation : memref<4x8xf32>
  %s = plan.buffer "" activation : memref<4x8xf32>
  // expected-error@+1 {{'plan.kernel' op 'add_everything' is not a kernel of the kernel table}}
  plan.kernel "add_everything" ins(%a, %a) outs(%s) : (memref<4x8xf32>, memref<4x8xf32>) -> memref<4x8xf32>
  return
}
