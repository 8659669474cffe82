// RUN: llmc-opt %s --pass-pipeline="builtin.module(func.func(llmc-mixed-precision{weight-copies=false}))" | FileCheck %s
// RUN: llmc-opt %s --pass-pipeline="builtin.module(func.func(llmc-mixed-precision{weight-copies=false}))" -debug-only=llmc-mixed-precision --mlir-disable-threading 2>&1 >/dev/null | FileCheck %s --check-prefix=TRACE
// RUN: llmc-opt %s --pass-pipeline="builtin.module(func.func(llmc-mixed-precision))" | FileCheck %s --check-prefix=WEIGHTS
// RUN: llmc-opt %s --pass-pipeline="builtin.module(func.func(llmc-mixed-precision))" -debug-only=llmc-mixed-precision --mlir-disable-threading 2>&1 >/dev/null | FileCheck %s --check-prefix=WEIGHTS-TRACE

// Tests that every GEMM kernel, fused or not, and attention's forward and
// backward get math = "bf16" beside their
// other parameters, and that other kernels (the norm, the INT8 GEMM) keep
// theirs. The pass accepts any plan function, so it has no error case.
// CHECK-LABEL: func.func @step(
// CHECK:      plan.kernel "matmul" {{.*}} {params = {math = "bf16", transpose_lhs = false, transpose_rhs = true}}
// CHECK:      plan.kernel "matmul_bias_gelu" {{.*}} {params = {approximate = "tanh", math = "bf16", transpose_lhs = false, transpose_rhs = false}}
// CHECK:      plan.kernel "matmul_swiglu" {{.*}} {params = {math = "bf16", transpose_lhs = true, transpose_rhs = false}}
// CHECK:      plan.kernel "matmul_i8w" {{.*}} {params = {transpose_lhs = false, transpose_rhs = true}}
// CHECK:      plan.kernel "rmsnorm_forward" {{.*}} {params = {epsilon = 1.000000e-05 : f64}}
// CHECK:      plan.kernel "attention_forward" {{.*}} {params = {causal = true, math = "bf16", scale = 2.500000e-01 : f64}}
// CHECK:      plan.kernel "attention_backward" {{.*}} {params = {causal = true, math = "bf16", scale = 2.500000e-01 : f64}}
// TRACE: [llmc-mixed-precision] 5 kernel(s) take bf16 operands, 0 activation(s) kept rounded, 0 weight(s) rounded once
// WEIGHTS-TRACE: [llmc-mixed-precision] 5 kernel(s) take bf16 operands, 0 activation(s) kept rounded, 1 weight(s) rounded once
func.func @step() {
  %x = plan.buffer "" activation : memref<4x16xf32>
  %w = plan.buffer "w" param : memref<8x16xf32>
  %y = plan.buffer "" activation : memref<4x8xf32>
  plan.kernel "matmul" ins(%x, %w) outs(%y) {params = {transpose_lhs = false, transpose_rhs = true}} : (memref<4x16xf32>, memref<8x16xf32>) -> memref<4x8xf32>
  %w2 = plan.buffer "w2" param : memref<16x8xf32>
  %b2 = plan.buffer "b2" param : memref<8xf32>
  %pre = plan.buffer "" activation : memref<4x8xf32>
  %g = plan.buffer "" activation : memref<4x8xf32>
  plan.kernel "matmul_bias_gelu" ins(%x, %w2, %b2) outs(%pre, %g) {params = {approximate = "tanh", transpose_lhs = false, transpose_rhs = false}} : (memref<4x16xf32>, memref<16x8xf32>, memref<8xf32>) -> (memref<4x8xf32>, memref<4x8xf32>)
  %xt = plan.buffer "" activation : memref<16x4xf32>
  %up = plan.buffer "" activation : memref<4x8xf32>
  %out = plan.buffer "" activation : memref<4x8xf32>
  plan.kernel "matmul_swiglu" ins(%xt, %w2, %g) outs(%up, %out) {params = {transpose_lhs = true, transpose_rhs = false}} : (memref<16x4xf32>, memref<16x8xf32>, memref<4x8xf32>) -> (memref<4x8xf32>, memref<4x8xf32>)
  %q = plan.buffer "q" param : memref<8x16xi8>
  %s = plan.buffer "q.scale" weight_scale : memref<8xf32>
  %y2 = plan.buffer "" activation : memref<4x8xf32>
  plan.kernel "matmul_i8w" ins(%x, %q, %s) outs(%y2) {params = {transpose_lhs = false, transpose_rhs = true}} : (memref<4x16xf32>, memref<8x16xi8>, memref<8xf32>) -> memref<4x8xf32>
  %nw = plan.buffer "nw" param : memref<16xf32>
  %n = plan.buffer "" activation : memref<4x16xf32>
  %r = plan.buffer "" activation : memref<4xf32>
  plan.kernel "rmsnorm_forward" ins(%x, %nw) outs(%n, %r) {params = {epsilon = 1.0e-05 : f64}} : (memref<4x16xf32>, memref<16xf32>) -> (memref<4x16xf32>, memref<4xf32>)
  %hq = plan.buffer "" activation : memref<1x2x4x16xf32>
  %ho = plan.buffer "" activation : memref<1x2x4x16xf32>
  %lse = plan.buffer "" activation : memref<1x2x4xf32>
  plan.kernel "attention_forward" ins(%hq, %hq, %hq) outs(%ho, %lse) {params = {causal = true, scale = 0.25 : f64}} : (memref<1x2x4x16xf32>, memref<1x2x4x16xf32>, memref<1x2x4x16xf32>) -> (memref<1x2x4x16xf32>, memref<1x2x4xf32>)
  %dq = plan.buffer "" activation : memref<1x2x4x16xf32>
  %dk = plan.buffer "" activation : memref<1x2x4x16xf32>
  %dv = plan.buffer "" activation : memref<1x2x4x16xf32>
  plan.kernel "attention_backward" ins(%ho, %hq, %hq, %hq, %ho, %lse) outs(%dq, %dk, %dv) {params = {causal = true, scale = 0.25 : f64}} : (memref<1x2x4x16xf32>, memref<1x2x4x16xf32>, memref<1x2x4x16xf32>, memref<1x2x4x16xf32>, memref<1x2x4x16xf32>, memref<1x2x4xf32>) -> (memref<1x2x4x16xf32>, memref<1x2x4x16xf32>, memref<1x2x4x16xf32>)
  return
}

// An activation only GEMMs read, twice (its forward GEMM, then through a
// view its weight-gradient GEMM), is rounded once after its writer into a
// bf16 buffer, which both GEMMs read (the second through a bf16 view). One
// that another kernel also reads, and one that a single GEMM reads, stay
// fp32.
// CHECK-LABEL: func.func @kept(
// CHECK:      plan.buffer "w" param
// CHECK-NEXT: %[[H:.*]] = plan.buffer "" activation : memref<4x16xf32>
// CHECK-NEXT: %[[HB:.*]] = plan.buffer "" activation : memref<4x16xbf16>
// CHECK:      plan.kernel "copy" ins(%{{.*}}) outs(%[[H]]) {llm.layer = 0 : i64, llm.role = "forward"}
// CHECK-NEXT: plan.kernel "round_bf16" ins(%[[H]]) outs(%[[HB]]) {llm.layer = 0 : i64, llm.role = "forward"} : (memref<4x16xf32>) -> memref<4x16xbf16>
// CHECK:      plan.kernel "matmul" ins(%[[HB]], %{{.*}}) outs(%{{.*}}) {{.*}} : (memref<4x16xbf16>, memref<8x16xf32>)
// CHECK-NOT:  plan.view %[[H]]
// CHECK:      %[[V:.*]] = plan.view %[[HB]] : memref<4x16xbf16> to memref<2x2x16xbf16>
// CHECK-NEXT: plan.kernel "matmul" ins(%{{.*}}, %[[V]]) {{.*}} : (memref<2x2x8xf32>, memref<2x2x16xbf16>)
// CHECK:      plan.kernel "matmul" ins(%[[A:.*]], %{{.*}}) {{.*}} : (memref<4x16xf32>, memref<8x16xf32>)
// CHECK:      plan.kernel "add" ins(%[[A]], %[[A]])
// CHECK:      plan.kernel "matmul" ins(%{{.*}}, %{{.*}}) {{.*}} : (memref<4x16xf32>, memref<8x16xf32>)
// CHECK-NOT:  round_bf16
// TRACE: [llmc-mixed-precision] 4 kernel(s) take bf16 operands, 1 activation(s) kept rounded, 0 weight(s) rounded once
// WEIGHTS-TRACE: [llmc-mixed-precision] 4 kernel(s) take bf16 operands, 1 activation(s) kept rounded, 1 weight(s) rounded once
func.func @kept() {
  %in = plan.buffer "" activation : memref<4x16xf32>
  %w = plan.buffer "w" param : memref<8x16xf32>
  %h = plan.buffer "" activation : memref<4x16xf32>
  plan.kernel "copy" ins(%in) outs(%h) {llm.layer = 0 : i64, llm.role = "forward"} : (memref<4x16xf32>) -> memref<4x16xf32>
  %y = plan.buffer "" activation : memref<4x8xf32>
  plan.kernel "matmul" ins(%h, %w) outs(%y) {params = {transpose_lhs = false, transpose_rhs = true}} : (memref<4x16xf32>, memref<8x16xf32>) -> memref<4x8xf32>
  %dy = plan.buffer "" activation : memref<2x2x8xf32>
  %hv = plan.view %h : memref<4x16xf32> to memref<2x2x16xf32>
  %dw = plan.buffer "" grad : memref<2x8x16xf32>
  plan.kernel "matmul" ins(%dy, %hv) outs(%dw) {params = {transpose_lhs = true, transpose_rhs = false}} : (memref<2x2x8xf32>, memref<2x2x16xf32>) -> memref<2x8x16xf32>
  %a = plan.buffer "" activation : memref<4x16xf32>
  plan.kernel "copy" ins(%in) outs(%a) : (memref<4x16xf32>) -> memref<4x16xf32>
  %ya = plan.buffer "" activation : memref<4x8xf32>
  plan.kernel "matmul" ins(%a, %w) outs(%ya) {params = {transpose_lhs = false, transpose_rhs = true}} : (memref<4x16xf32>, memref<8x16xf32>) -> memref<4x8xf32>
  %s = plan.buffer "" activation : memref<4x16xf32>
  plan.kernel "add" ins(%a, %a) outs(%s) : (memref<4x16xf32>, memref<4x16xf32>) -> memref<4x16xf32>
  %o = plan.buffer "" activation : memref<4x16xf32>
  plan.kernel "copy" ins(%in) outs(%o) : (memref<4x16xf32>) -> memref<4x16xf32>
  %yo = plan.buffer "" activation : memref<4x8xf32>
  plan.kernel "matmul" ins(%o, %w) outs(%yo) {params = {transpose_lhs = false, transpose_rhs = true}} : (memref<4x16xf32>, memref<8x16xf32>) -> memref<4x8xf32>
  return
}

// With weight copies (the default), a weight that its forward GEMM and its
// input-gradient GEMM read, and AdamW writes after them, is rounded once
// before the first GEMM into "w.bf16", which both GEMMs read; another
// kernel (here a copy, as an embedding's lookup) still reads the fp32
// master. A weight written between its two GEMMs, and one that a single
// GEMM reads, stay fp32.
// WEIGHTS-LABEL: func.func @weights(
// WEIGHTS:      %[[W:.*]] = plan.buffer "w" param : memref<8x16xf32>
// WEIGHTS-NEXT: %[[WB:.*]] = plan.buffer "w.bf16" activation : memref<8x16xbf16>
// WEIGHTS:      plan.kernel "copy" ins(%[[W]])
// WEIGHTS:      plan.kernel "round_bf16" ins(%[[W]]) outs(%[[WB]]) {llm.layer = 0 : i64, llm.role = "forward"} : (memref<8x16xf32>) -> memref<8x16xbf16>
// WEIGHTS-NEXT: plan.kernel "matmul" ins(%{{.*}}, %[[WB]]) {{.*}} : (memref<4x16xf32>, memref<8x16xbf16>)
// WEIGHTS:      plan.kernel "matmul" ins(%{{.*}}, %[[WB]]) {{.*}} : (memref<4x8xf32>, memref<8x16xbf16>)
// WEIGHTS:      plan.kernel "adamw" ins(%{{.*}}, %{{.*}}) outs(%[[W]],
// WEIGHTS-NOT:  round_bf16
// WEIGHTS-TRACE: [llmc-mixed-precision] 5 kernel(s) take bf16 operands, 0 activation(s) kept rounded, 1 weight(s) rounded once
func.func @weights() {
  %w = plan.buffer "w" param : memref<8x16xf32>
  %m = plan.buffer "w.exp_avg" optimizer_state : memref<8x16xf32>
  %v = plan.buffer "w.exp_avg_sq" optimizer_state : memref<8x16xf32>
  %x = plan.buffer "" activation : memref<4x16xf32>
  %e = plan.buffer "" activation : memref<8x16xf32>
  plan.kernel "copy" ins(%w) outs(%e) {llm.layer = 0 : i64, llm.role = "forward"} : (memref<8x16xf32>) -> memref<8x16xf32>
  %y = plan.buffer "" activation : memref<4x8xf32>
  plan.kernel "matmul" ins(%x, %w) outs(%y) {llm.layer = 0 : i64, llm.role = "forward", params = {transpose_lhs = false, transpose_rhs = true}} : (memref<4x16xf32>, memref<8x16xf32>) -> memref<4x8xf32>
  %dy = plan.buffer "" activation : memref<4x8xf32>
  %dx = plan.buffer "" activation : memref<4x16xf32>
  plan.kernel "matmul" ins(%dy, %w) outs(%dx) {llm.layer = 0 : i64, llm.role = "backward", params = {transpose_lhs = false, transpose_rhs = false}} : (memref<4x8xf32>, memref<8x16xf32>) -> memref<4x16xf32>
  %g = plan.buffer "w" grad : memref<8x16xf32>
  %scale = plan.buffer "" activation : memref<f32>
  plan.kernel "adamw" ins(%g, %scale) outs(%w, %m, %v) {llm.role = "optimizer", params = {decay = true}} : (memref<8x16xf32>, memref<f32>) -> (memref<8x16xf32>, memref<8x16xf32>, memref<8x16xf32>)
  %u = plan.buffer "u" param : memref<8x16xf32>
  %yu = plan.buffer "" activation : memref<4x8xf32>
  plan.kernel "matmul" ins(%x, %u) outs(%yu) {params = {transpose_lhs = false, transpose_rhs = true}} : (memref<4x16xf32>, memref<8x16xf32>) -> memref<4x8xf32>
  plan.kernel "copy" ins(%e) outs(%u) : (memref<8x16xf32>) -> memref<8x16xf32>
  %dxu = plan.buffer "" activation : memref<4x16xf32>
  plan.kernel "matmul" ins(%dy, %u) outs(%dxu) {params = {transpose_lhs = false, transpose_rhs = false}} : (memref<4x8xf32>, memref<8x16xf32>) -> memref<4x16xf32>
  %one = plan.buffer "one" param : memref<8x16xf32>
  %yo = plan.buffer "" activation : memref<4x8xf32>
  plan.kernel "matmul" ins(%x, %one) outs(%yo) {params = {transpose_lhs = false, transpose_rhs = true}} : (memref<4x16xf32>, memref<8x16xf32>) -> memref<4x8xf32>
  return
}

// Under ZeRO-3 a weight's slice is gathered before the GEMMs that read it.
// When only bf16 GEMMs read what is gathered, the slice is rounded first
// and the ranks gather bf16, which the GEMMs read through views. A gather
// that another kernel reads (a norm's weight) stays fp32.
// CHECK-LABEL: func.func @zero3(
// WEIGHTS-LABEL: func.func @zero3(
// CHECK:      %[[S:.*]] = plan.buffer "w" param : memref<64xf32>
// CHECK:      %[[S16:.*]] = plan.buffer "w.bf16" temporary : memref<64xbf16>
// CHECK-NEXT: plan.kernel "round_bf16" ins(%[[S]]) outs(%[[S16]]) {llm.layer = 0 : i64, llm.role = "forward"}
// CHECK-NEXT: %[[W16:.*]] = plan.buffer "" temporary : memref<128xbf16>
// CHECK-NEXT: plan.kernel "all_gather" ins(%[[S16]]) outs(%[[W16]]) {{.*}} : (memref<64xbf16>) -> memref<128xbf16>
// CHECK:      %[[V1:.*]] = plan.view %[[W16]] : memref<128xbf16> to memref<8x16xbf16>
// CHECK-NEXT: plan.kernel "matmul" ins(%{{.*}}, %[[V1]])
// CHECK:      %[[V2:.*]] = plan.view %[[W16]] : memref<128xbf16> to memref<8x16xbf16>
// CHECK-NEXT: plan.kernel "matmul" ins(%{{.*}}, %[[V2]])
// CHECK:      plan.kernel "all_gather" {{.*}} : (memref<8xf32>) -> memref<16xf32>
// CHECK-NOT:  round_bf16
// TRACE: [llmc-mixed-precision] 2 kernel(s) take bf16 operands, 0 activation(s) kept rounded, 0 weight(s) rounded once, 1 gather(s) in bf16
// WEIGHTS-TRACE: [llmc-mixed-precision] 2 kernel(s) take bf16 operands, 0 activation(s) kept rounded, 0 weight(s) rounded once, 1 gather(s) in bf16
func.func @zero3() {
  %s = plan.buffer "w" param : memref<64xf32>
  %w = plan.buffer "" temporary : memref<128xf32>
  plan.kernel "all_gather" ins(%s) outs(%w) {llm.layer = 0 : i64, llm.role = "forward", params = {axis = "dp", dim = 0 : i64}} : (memref<64xf32>) -> memref<128xf32>
  %x = plan.buffer "" activation : memref<4x16xf32>
  %y = plan.buffer "" activation : memref<4x8xf32>
  %w1 = plan.view %w : memref<128xf32> to memref<8x16xf32>
  plan.kernel "matmul" ins(%x, %w1) outs(%y) {llm.layer = 0 : i64, llm.role = "forward", params = {transpose_lhs = false, transpose_rhs = true}} : (memref<4x16xf32>, memref<8x16xf32>) -> memref<4x8xf32>
  %dy = plan.buffer "" activation : memref<4x8xf32>
  %dx = plan.buffer "" activation : memref<4x16xf32>
  %w2 = plan.view %w : memref<128xf32> to memref<8x16xf32>
  plan.kernel "matmul" ins(%dy, %w2) outs(%dx) {llm.layer = 0 : i64, llm.role = "backward", params = {transpose_lhs = false, transpose_rhs = false}} : (memref<4x8xf32>, memref<8x16xf32>) -> memref<4x16xf32>
  %g = plan.buffer "g" param : memref<8xf32>
  %gw = plan.buffer "" temporary : memref<16xf32>
  plan.kernel "all_gather" ins(%g) outs(%gw) {params = {axis = "dp", dim = 0 : i64}} : (memref<8xf32>) -> memref<16xf32>
  %h = plan.buffer "" activation : memref<4x16xf32>
  %r = plan.buffer "" activation : memref<4xf32>
  plan.kernel "rmsnorm_forward" ins(%x, %gw) outs(%h, %r) {params = {epsilon = 1.000000e-05 : f64}} : (memref<4x16xf32>, memref<16xf32>) -> (memref<4x16xf32>, memref<4xf32>)
  return
}
