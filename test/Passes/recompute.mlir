// RUN: llmc-opt %s --split-input-file --llmc-recompute=mode=selective --verify-diagnostics | FileCheck %s --check-prefix=SEL
// RUN: llmc-opt %s --split-input-file --llmc-recompute --verify-diagnostics | FileCheck %s --check-prefix=FULL
// RUN: llmc-opt %s --split-input-file --llmc-recompute=mode=none --verify-diagnostics | FileCheck %s --check-prefix=NONE
// RUN: not llmc-opt %s --split-input-file --llmc-recompute=mode=partial 2>&1 | FileCheck %s --check-prefix=MODE

// The inputs are @loss_grad functions as llmc-autodiff builds them: forward
// ops tagged `llm.role = "forward"`, backward ops `"backward"`, both with the
// `llm.layer` of the op they compute or differentiate. Layer 0 is a gelu
// feeding an attention; layer 1 scales the attention output by a weight and
// applies a gelu. The backward pass runs layer 1 first, then layer 0.

// Tests selective recomputation: only the attention core runs again, right
// before layer 0's first backward op (its attention_grad), which reads the
// copy's output; the forward attention stays for the forward pass and for
// layer 1's backward, which runs before the copy. Nothing else is copied:
// the copy reads the saved q (the original gelu), and layer 1's backward
// keeps reading its saved forward values.
// SEL-LABEL: func.func @loss_grad(
// SEL-SAME: %[[X:[^:]*]]: tensor<1x2x4x8xf32> {llm.input = "x"}, %[[W:[^:]*]]: tensor<8xf32> {llm.param = "w"}
// SEL-NEXT: %[[Q:.*]] = llm.gelu %[[X]] approximate = tanh {llm.layer = 0 : i64, llm.role = "forward"}
// SEL-NEXT: %[[A:.*]] = llm.attention %[[Q]], %[[X]], %[[X]] causal {llm.layer = 0 : i64, llm.role = "forward"}
// SEL-NEXT: %[[Y:.*]] = llm.mul %[[A]], %[[W]] {llm.layer = 1 : i64, llm.role = "forward"}
// SEL:      llm.gelu_grad %{{.*}}, %[[Y]] approximate = tanh {llm.layer = 1 : i64, llm.role = "backward"}
// SEL:      llm.mul %{{.*}}, %[[A]] {llm.layer = 1 : i64, llm.role = "backward"}
// SEL:      %[[DOUT:.*]] = llm.sum_to
// SEL-NEXT: %[[A2:.*]] = llm.attention %[[Q]], %[[X]], %[[X]] causal {llm.layer = 0 : i64, llm.role = "recompute"}
// SEL-NEXT: llm.attention_grad %{{.*}}, %[[Q]], %[[X]], %[[X]], %[[A2]] causal {llm.layer = 0 : i64, llm.role = "backward"}
// SEL-NOT:  llm.role = "recompute"
// SEL:      return

// Tests full recomputation: each layer's forward ops that its backward pass
// reads run again before the layer's first backward op. Layer 1's backward
// reads the mul (gelu_grad's input), so the mul is copied before gelu_grad;
// its gelu, which no backward op reads, is not. Layer 0's attention_grad
// reads q and the attention, so both run again, the copied attention reading
// the copied q. A value of layer 0 that layer 1's backward reads (the
// attention output, before layer 0's recomputation) keeps the original.
// FULL-LABEL: func.func @loss_grad(
// FULL-SAME: %[[X:[^:]*]]: tensor<1x2x4x8xf32> {llm.input = "x"}, %[[W:[^:]*]]: tensor<8xf32> {llm.param = "w"}
// FULL-NEXT: %[[Q:.*]] = llm.gelu %[[X]] approximate = tanh {llm.layer = 0 : i64, llm.role = "forward"}
// FULL-NEXT: %[[A:.*]] = llm.attention %[[Q]], %[[X]], %[[X]] causal {llm.layer = 0 : i64, llm.role = "forward"}
// FULL-NEXT: %[[Y:.*]] = llm.mul %[[A]], %[[W]] {llm.layer = 1 : i64, llm.role = "forward"}
// FULL-NEXT: %[[H:.*]] = llm.gelu %[[Y]] approximate = tanh {llm.layer = 1 : i64, llm.role = "forward"}
// FULL:      %[[DH:.*]] = llm.reshape %{{.*}} {llm.role = "backward"} : tensor<8x8xf32> -> tensor<1x2x4x8xf32>
// FULL-NEXT: %[[Y2:.*]] = llm.mul %[[A]], %[[W]] {llm.layer = 1 : i64, llm.role = "recompute"}
// FULL-NEXT: %[[DY:.*]] = llm.gelu_grad %[[DH]], %[[Y2]] approximate = tanh {llm.layer = 1 : i64, llm.role = "backward"}
// FULL-NEXT: %[[DA:.*]] = llm.mul %[[DY]], %[[W]] {llm.layer = 1 : i64, llm.role = "backward"}
// FULL-NEXT: llm.mul %[[DY]], %[[A]] {llm.layer = 1 : i64, llm.role = "backward"}
// FULL-NEXT: llm.sum_to
// FULL-NEXT: %[[Q2:.*]] = llm.gelu %[[X]] approximate = tanh {llm.layer = 0 : i64, llm.role = "recompute"}
// FULL-NEXT: %[[A2:.*]] = llm.attention %[[Q2]], %[[X]], %[[X]] causal {llm.layer = 0 : i64, llm.role = "recompute"}
// FULL-NEXT: llm.attention_grad %[[DA]], %[[Q2]], %[[X]], %[[X]], %[[A2]] causal {llm.layer = 0 : i64, llm.role = "backward"}
// FULL-NOT:  llm.role = "recompute"
// FULL:      return

// Tests that mode=none leaves a function that copies no weights as it is.
// NONE-LABEL: func.func @loss_grad(
// NONE-NOT: llm.role = "recompute"
// NONE: return

// Tests that a mode other than none, selective or full is refused when the
// pass options are parsed.
// MODE: for the --mode option: Cannot find option named 'partial'!
func.func @loss_grad(%x: tensor<1x2x4x8xf32> {llm.input = "x"}, %w: tensor<8xf32> {llm.param = "w"},
                     %t: tensor<8xi32> {llm.input = "targets"})
    -> (tensor<f32> {llm.output = "loss"}, tensor<8xf32> {llm.grad_of = "w"}) {
  %q = llm.gelu %x approximate = tanh {llm.layer = 0 : i64, llm.role = "forward"} : tensor<1x2x4x8xf32>
  %a = llm.attention %q, %x, %x causal {llm.layer = 0 : i64, llm.role = "forward"} : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %y = llm.mul %a, %w {llm.layer = 1 : i64, llm.role = "forward"} : tensor<1x2x4x8xf32>, tensor<8xf32>
  %h = llm.gelu %y approximate = tanh {llm.layer = 1 : i64, llm.role = "forward"} : tensor<1x2x4x8xf32>
  %logits = llm.reshape %h {llm.role = "forward"} : tensor<1x2x4x8xf32> -> tensor<8x8xf32>
  %l = llm.cross_entropy %logits, %t {llm.role = "forward"} : (tensor<8x8xf32>, tensor<8xi32>) -> tensor<f32>
  %one = arith.constant {llm.role = "backward"} dense<1.000000e+00> : tensor<f32>
  %dlogits = llm.cross_entropy_grad %one, %logits, %t {llm.role = "backward"} : (tensor<f32>, tensor<8x8xf32>, tensor<8xi32>) -> tensor<8x8xf32>
  %dh = llm.reshape %dlogits {llm.role = "backward"} : tensor<8x8xf32> -> tensor<1x2x4x8xf32>
  %dy = llm.gelu_grad %dh, %y approximate = tanh {llm.layer = 1 : i64, llm.role = "backward"} : tensor<1x2x4x8xf32>
  %da = llm.mul %dy, %w {llm.layer = 1 : i64, llm.role = "backward"} : tensor<1x2x4x8xf32>, tensor<8xf32>
  %dyw = llm.mul %dy, %a {llm.layer = 1 : i64, llm.role = "backward"} : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>
  %dw = llm.sum_to %dyw {llm.layer = 1 : i64, llm.role = "backward"} : tensor<1x2x4x8xf32> -> tensor<8xf32>
  %dq, %dk, %dv = llm.attention_grad %da, %q, %x, %x, %a causal {llm.layer = 0 : i64, llm.role = "backward"} : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
  return %l, %dw : tensor<f32>, tensor<8xf32>
}

// -----

// Tests a pipeline stage, whose forward output the function also returns
// (for the next stage): the backward op reads the recomputed value, but the
// return keeps the original, which the forward pass sends on. A layer whose
// backward pass does not run here (layer 1, differentiated by a later
// stage) is not recomputed.
// SEL-LABEL: func.func @loss_grad(
// SEL-SAME: %[[Q:[^:]*]]: tensor<1x2x4x8xf32> {llm.input = "q"}
// SEL-NEXT: %[[A:.*]] = llm.attention %[[Q]], %[[Q]], %[[Q]] causal {llm.layer = 0 : i64, llm.role = "forward"}
// SEL-NEXT: %[[B:.*]] = llm.attention %[[A]], %[[A]], %[[A]] causal {llm.layer = 1 : i64, llm.role = "forward"}
// SEL-NEXT: %[[A2:.*]] = llm.attention %[[Q]], %[[Q]], %[[Q]] causal {llm.layer = 0 : i64, llm.role = "recompute"}
// SEL-NEXT: llm.attention_grad %{{[^,]*}}, %[[Q]], %[[Q]], %[[Q]], %[[A2]] causal {llm.layer = 0 : i64, llm.role = "backward"}
// SEL-NOT:  llm.role = "recompute"
// SEL:      return %[[A]], %[[B]], %{{.*}} :
// FULL-LABEL: func.func @loss_grad(
// FULL:      %[[A:.*]] = llm.attention {{.*}} {llm.layer = 0 : i64, llm.role = "forward"}
// FULL-NEXT: %[[B:.*]] = llm.attention {{.*}} {llm.layer = 1 : i64, llm.role = "forward"}
// FULL-NEXT: %[[A2:.*]] = llm.attention {{.*}} {llm.layer = 0 : i64, llm.role = "recompute"}
// FULL-NEXT: llm.attention_grad {{.*}}, %[[A2]] causal
// FULL-NOT:  llm.role = "recompute"
// FULL:      return %[[A]], %[[B]], %{{.*}} :
func.func @loss_grad(%q: tensor<1x2x4x8xf32> {llm.input = "q"}, %g: tensor<1x2x4x8xf32> {llm.input = "grad_a"})
    -> (tensor<1x2x4x8xf32> {llm.output = "a"}, tensor<1x2x4x8xf32> {llm.output = "b"},
        tensor<1x2x4x8xf32> {llm.output = "grad_q"}) {
  %a = llm.attention %q, %q, %q causal {llm.layer = 0 : i64, llm.role = "forward"} : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %b = llm.attention %a, %a, %a causal {llm.layer = 1 : i64, llm.role = "forward"} : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %dq, %dk, %dv = llm.attention_grad %g, %q, %q, %q, %a causal {llm.layer = 0 : i64, llm.role = "backward"} : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
  return %a, %b, %dq : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>
}

// -----

// Tests that the pass needs the gradient function llmc-autodiff builds:
// @<func-name>_grad, here @loss_grad, not any other _grad function.
// expected-error@+1 {{llmc-recompute: no function @loss_grad (run llmc-autodiff first)}}
module {
  func.func @stage_grad(%x: tensor<4xf32>) -> tensor<4xf32> {
    return %x : tensor<4xf32>
  }
}

// -----

// Tests that a declaration of the gradient function, with no body to
// recompute in, is an error.
// expected-error@+1 {{llmc-recompute: @loss_grad has no body (run llmc-autodiff first)}}
func.func private @loss_grad(tensor<4xf32>) -> tensor<f32>

// -----

// Tests that a value computed from parameters alone (the pieces of a fused
// weight, split for three GEMMs as GPT-2's c_attn is under tensor
// parallelism) is made again before the layer's backward pass in every
// mode, none included, instead of kept: the backward GEMM reads the copy.
// SEL-LABEL: func.func @loss_grad(
// SEL-SAME: %[[X:[^:]*]]: tensor<4x8xf32> {llm.input = "x"}, %[[W:[^:]*]]: tensor<8x16xf32> {llm.param = "w"}
// SEL-NEXT: %[[P:.*]]:2 = llm.split %[[W]] axis = 1 {llm.layer = 0 : i64, llm.role = "forward"}
// SEL-NEXT: %[[Y:.*]] = llm.matmul %[[X]], %[[P]]#0 {llm.layer = 0 : i64, llm.role = "forward"}
// SEL-NEXT: %[[P2:.*]]:2 = llm.split %[[W]] axis = 1 {llm.layer = 0 : i64, llm.role = "recompute"}
// SEL-NEXT: llm.matmul %[[Y]], %[[P2]]#0 transpose_rhs {llm.layer = 0 : i64, llm.role = "backward"}
// FULL-LABEL: func.func @loss_grad(%{{[^:]*}}: tensor<4x8xf32>
// FULL: llm.split %{{.*}} axis = 1 {llm.layer = 0 : i64, llm.role = "recompute"}
// NONE-LABEL: func.func @loss_grad(%{{[^:]*}}: tensor<4x8xf32>
// NONE: %[[P2:.*]]:2 = llm.split %{{.*}} axis = 1 {llm.layer = 0 : i64, llm.role = "recompute"}
// NONE-NEXT: llm.matmul %{{.*}}, %[[P2]]#0 transpose_rhs {llm.layer = 0 : i64, llm.role = "backward"}
func.func @loss_grad(%x: tensor<4x8xf32> {llm.input = "x"}, %w: tensor<8x16xf32> {llm.param = "w"})
    -> tensor<4x8xf32> {
  %p:2 = llm.split %w axis = 1 {llm.layer = 0 : i64, llm.role = "forward"} : tensor<8x16xf32> -> tensor<8x8xf32>, tensor<8x8xf32>
  %y = llm.matmul %x, %p#0 {llm.layer = 0 : i64, llm.role = "forward"} : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %dx = llm.matmul %y, %p#0 transpose_rhs {llm.layer = 0 : i64, llm.role = "backward"} : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  return %dx : tensor<4x8xf32>
}

// -----

// Tests that under sequence parallelism a forward all-gather that the
// backward pass reads (a column-parallel GEMM's input, for its weight
// gradient) runs again right before that backward op in every mode: the
// shard is kept between the passes, not the gathered tensor, and the
// forward GEMM keeps the original gather.
// SEL-LABEL: func.func @loss_grad(%{{[^:]*}}: tensor<4x8xf32> {llm.input = "x"}, %{{[^:]*}}: tensor<16x8xf32> {llm.input = "dy"})
// SEL:      %[[G:.*]] = llm.all_gather %[[X:.*]] {axis = "tp", dim = 0 : i64, llm.layer = 0 : i64, llm.role = "forward"}
// SEL-NEXT: llm.matmul %[[G]], %[[G]] transpose_rhs {llm.layer = 0 : i64, llm.role = "forward"}
// SEL-NEXT: %[[G2:.*]] = llm.all_gather %[[X]] {axis = "tp", dim = 0 : i64, llm.layer = 0 : i64, llm.role = "recompute"}
// SEL-NEXT: llm.matmul %[[G2]], %{{.*}} transpose_lhs {llm.layer = 0 : i64, llm.role = "backward"}
// NONE-LABEL: func.func @loss_grad(%{{[^:]*}}: tensor<4x8xf32> {llm.input = "x"}, %{{[^:]*}}: tensor<16x8xf32> {llm.input = "dy"})
// NONE: llm.all_gather %{{.*}} {axis = "tp", dim = 0 : i64, llm.layer = 0 : i64, llm.role = "recompute"}
// NONE-NEXT: llm.matmul %{{.*}}, %{{.*}} transpose_lhs {llm.layer = 0 : i64, llm.role = "backward"}
func.func @loss_grad(%x: tensor<4x8xf32> {llm.input = "x"}, %dy: tensor<16x8xf32> {llm.input = "dy"})
    -> (tensor<16x16xf32>, tensor<8x8xf32>) {
  %g = llm.all_gather %x {axis = "tp", dim = 0 : i64, llm.layer = 0 : i64, llm.role = "forward"} : (tensor<4x8xf32>) -> tensor<16x8xf32>
  %y = llm.matmul %g, %g transpose_rhs {llm.layer = 0 : i64, llm.role = "forward"} : (tensor<16x8xf32>, tensor<16x8xf32>) -> tensor<16x16xf32>
  %dw = llm.matmul %g, %dy transpose_lhs {llm.layer = 0 : i64, llm.role = "backward"} : (tensor<16x8xf32>, tensor<16x8xf32>) -> tensor<8x8xf32>
  return %y, %dw : tensor<16x16xf32>, tensor<8x8xf32>
}
