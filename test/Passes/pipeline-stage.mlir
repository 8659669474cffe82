// RUN: llmc-opt %s --split-input-file --verify-diagnostics --llmc-pipeline-stage="stages=2 stage=1 tied=wte" | FileCheck %s
// RUN: llmc-opt %s --split-input-file --verify-diagnostics --llmc-pipeline-stage="stages=2 stage=1 tied=wte" --llmc-plan-memory | FileCheck %s --check-prefix=MEMORY

// Tests a last pipeline stage: the stage's input and the activation its
// forward kernel writes are read by the backward kernel, so both are
// stashed (the temporary only the backward kernel uses, the parameter and
// the gradient sum are not); the tied embedding's gradient is summed over
// the embedding group just before the norm, which no longer counts it (the
// first stage does) and leaves its squares for the runtime (partial); the
// programs end after the forward kernel, the backward kernels and the norm.
// CHECK-LABEL: func.func @last_stage()
// CHECK-SAME:      plan.program_ends = array<i64: 1, 3, 5>
// CHECK-NEXT:      plan.buffer "hidden_in" input stashed : memref<4xf32>
// CHECK-NEXT:      plan.buffer "wte" param : memref<4xf32>
// CHECK-NEXT:      plan.buffer "w" param : memref<4xf32>
// CHECK-NEXT:      plan.buffer "" activation stashed : memref<4xf32>
// CHECK-NEXT:      plan.buffer "" temporary : memref<4xf32>
// CHECK-NEXT:      plan.buffer "wte" grad live_out : memref<4xf32>
// CHECK-NEXT:      plan.buffer "w" grad live_out : memref<4xf32>
// CHECK-NEXT:      plan.buffer "grad_norm" output live_out : memref<f32>
// CHECK:           plan.kernel "all_reduce_sum" ins(%[[DWTE:.*]]) outs(%[[DWTE]]) {llm.role = "optimizer", params = {axis = "embedding"}}
// CHECK-NEXT:      plan.kernel "grad_norm" ins(%{{[^)]*}}) outs(%{{.*}}) {llm.role = "optimizer", params = {partial = true}} : (memref<4xf32>) -> memref<f32>
// CHECK-NEXT:      plan.kernel "adamw"

// Stashed buffers go one after another into their own region (64 bytes
// each), the others into the arena by liveness.
// MEMORY-LABEL: func.func @last_stage()
// MEMORY-SAME:      plan.stash_bytes = 128 : i64
// MEMORY:           plan.buffer "hidden_in" input stashed offset 0
// MEMORY:           plan.buffer "" activation stashed offset 64
func.func @last_stage() {
  %x = plan.buffer "hidden_in" input : memref<4xf32>
  %wte = plan.buffer "wte" param : memref<4xf32>
  %w = plan.buffer "w" param : memref<4xf32>
  %a = plan.buffer "" activation : memref<4xf32>
  %t = plan.buffer "" temporary : memref<4xf32>
  %dwte = plan.buffer "wte" grad live_out : memref<4xf32>
  %dw = plan.buffer "w" grad live_out : memref<4xf32>
  %norm = plan.buffer "grad_norm" output live_out : memref<f32>
  %mwte = plan.buffer "wte.exp_avg" optimizer_state : memref<4xf32>
  %vwte = plan.buffer "wte.exp_avg_sq" optimizer_state : memref<4xf32>
  %mw = plan.buffer "w.exp_avg" optimizer_state : memref<4xf32>
  %vw = plan.buffer "w.exp_avg_sq" optimizer_state : memref<4xf32>
  plan.kernel "mul" ins(%x, %w) outs(%a) {llm.role = "forward"} : (memref<4xf32>, memref<4xf32>) -> memref<4xf32>
  plan.kernel "mul" ins(%a, %x) outs(%t) {llm.role = "backward"} : (memref<4xf32>, memref<4xf32>) -> memref<4xf32>
  plan.kernel "accumulate_grad" ins(%t) outs(%dw) {llm.role = "backward"} : (memref<4xf32>) -> memref<4xf32>
  plan.kernel "grad_norm" ins(%dwte, %dw) outs(%norm) {llm.role = "optimizer"} : (memref<4xf32>, memref<4xf32>) -> memref<f32>
  plan.kernel "adamw" ins(%dwte, %norm) outs(%wte, %mwte, %vwte) {llm.role = "optimizer", params = {decay = false}} : (memref<4xf32>, memref<f32>) -> (memref<4xf32>, memref<4xf32>, memref<4xf32>)
  plan.kernel "adamw" ins(%dw, %norm) outs(%w, %mw, %vw) {llm.role = "optimizer", params = {decay = false}} : (memref<4xf32>, memref<f32>) -> (memref<4xf32>, memref<4xf32>, memref<4xf32>)
  return
}

// -----

// Tests that a forward kernel after the backward pass is refused: the
// kernels must split into forward, backward and optimizer programs.
func.func @interleaved_roles() {
  %x = plan.buffer "x" input : memref<4xf32>
  %y = plan.buffer "" temporary : memref<4xf32>
  %norm = plan.buffer "grad_norm" output live_out : memref<f32>
  plan.kernel "copy" ins(%x) outs(%y) {llm.role = "backward"} : (memref<4xf32>) -> memref<4xf32>
  // expected-error @+1 {{llmc-pipeline-stage: a forward kernel after the backward kernels}}
  plan.kernel "copy" ins(%y) outs(%x) {llm.role = "forward"} : (memref<4xf32>) -> memref<4xf32>
  plan.kernel "grad_norm" ins(%y) outs(%norm) {llm.role = "optimizer"} : (memref<4xf32>) -> memref<f32>
  return
}
