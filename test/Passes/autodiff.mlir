// RUN: llmc-opt %s --split-input-file --llmc-autodiff --verify-diagnostics | FileCheck %s

// Each case checks the exact backward ops of @loss_grad. The gradient of
// Y = op(A)·op(B) + bias is dop(A) = dY·op(B)ᵀ and dop(B) = op(A)ᵀ·dY, with
// the transposes folded into the GEMM flags; a weight shared by a batched
// lhs gets one GEMM over all rows, and a broadcast operand a sum_to. The
// cases at the end are errors, checked by --verify-diagnostics.

//===----------------------------------------------------------------------===//
// Linear layers
//===----------------------------------------------------------------------===//

// Tests a GPT-2 Conv1D layer (weight in x out) with bias on a batched 3-D
// input: dX = dY·Wᵀ, dW = X2ᵀ·dY2 on the inputs reshaped to rows, and
// db = sum_to(dY). Forward ops keep their layer and are tagged forward;
// backward ops are tagged backward with the layer of the op they
// differentiate, and the seed and loss-level ops carry no layer. The loss
// function itself is left untouched.
// CHECK-LABEL: func.func @loss(
// CHECK-NOT:       llm.role
// CHECK-LABEL: func.func @loss_grad(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<2x3x8xf32> {llm.input = "x"}, %[[W:[^:]*]]: tensor<8x4xf32> {llm.param = "w"}, %[[B:[^:]*]]: tensor<4xf32> {llm.param = "b"}, %[[T:[^:]*]]: tensor<2x3xi32> {llm.input = "targets"})
// CHECK-SAME:      -> (tensor<f32> {llm.output = "loss"}, tensor<8x4xf32> {llm.grad_of = "w"}, tensor<4xf32> {llm.grad_of = "b"})
// CHECK:           %[[Y:.*]] = llm.matmul %[[X]], %[[W]], %[[B]] {llm.layer = 3 : i64, llm.role = "forward"} : (tensor<2x3x8xf32>, tensor<8x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
// CHECK-NEXT:      %[[L:.*]] = llm.cross_entropy %[[Y]], %[[T]] {llm.role = "forward"}
// CHECK-NEXT:      %[[ONE:.*]] = arith.constant {llm.role = "backward"} dense<1.000000e+00> : tensor<f32>
// CHECK-NEXT:      %[[DY:.*]] = llm.cross_entropy_grad %[[ONE]], %[[Y]], %[[T]] {llm.role = "backward"} : (tensor<f32>, tensor<2x3x4xf32>, tensor<2x3xi32>) -> tensor<2x3x4xf32>
// CHECK-NEXT:      %[[DX:.*]] = llm.matmul %[[DY]], %[[W]] transpose_rhs {llm.layer = 3 : i64, llm.role = "backward"} : (tensor<2x3x4xf32>, tensor<8x4xf32>) -> tensor<2x3x8xf32>
// CHECK-NEXT:      %[[X2:.*]] = llm.reshape %[[X]] {llm.layer = 3 : i64, llm.role = "backward"} : tensor<2x3x8xf32> -> tensor<6x8xf32>
// CHECK-NEXT:      %[[DY2:.*]] = llm.reshape %[[DY]] {llm.layer = 3 : i64, llm.role = "backward"} : tensor<2x3x4xf32> -> tensor<6x4xf32>
// CHECK-NEXT:      %[[DW:.*]] = llm.matmul %[[X2]], %[[DY2]] transpose_lhs {llm.layer = 3 : i64, llm.role = "backward"} : (tensor<6x8xf32>, tensor<6x4xf32>) -> tensor<8x4xf32>
// CHECK-NEXT:      %[[DB:.*]] = llm.sum_to %[[DY]] {llm.layer = 3 : i64, llm.role = "backward"} : tensor<2x3x4xf32> -> tensor<4xf32>
// CHECK-NEXT:      return %[[L]], %[[DW]], %[[DB]] : tensor<f32>, tensor<8x4xf32>, tensor<4xf32>
func.func @loss(%x: tensor<2x3x8xf32> {llm.input = "x"}, %w: tensor<8x4xf32> {llm.param = "w"},
                %b: tensor<4xf32> {llm.param = "b"}, %t: tensor<2x3xi32> {llm.input = "targets"}) -> tensor<f32> {
  %y = llm.matmul %x, %w, %b {llm.layer = 3 : i64} : (tensor<2x3x8xf32>, tensor<8x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  %l = llm.cross_entropy %y, %t : (tensor<2x3x4xf32>, tensor<2x3xi32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Tests an nn.Linear layer (weight out x in, transpose_rhs) with bias on a
// batched input: dX = dY·W needs no transpose, and dW = dY2ᵀ·X2 comes out
// out x in like the weight.
// CHECK-LABEL: func.func @loss_grad(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<2x3x8xf32>, %[[W:[^:]*]]: tensor<4x8xf32> {llm.param = "w"}, %[[B:[^:]*]]: tensor<4xf32> {llm.param = "b"}, %[[T:[^:]*]]: tensor<2x3xi32>)
// CHECK-SAME:      -> (tensor<f32> {llm.output = "loss"}, tensor<4x8xf32> {llm.grad_of = "w"}, tensor<4xf32> {llm.grad_of = "b"})
// CHECK:           %[[DY:.*]] = llm.cross_entropy_grad
// CHECK-NEXT:      %[[DX:.*]] = llm.matmul %[[DY]], %[[W]] {llm.role = "backward"} : (tensor<2x3x4xf32>, tensor<4x8xf32>) -> tensor<2x3x8xf32>
// CHECK-NEXT:      %[[X2:.*]] = llm.reshape %[[X]] {llm.role = "backward"} : tensor<2x3x8xf32> -> tensor<6x8xf32>
// CHECK-NEXT:      %[[DY2:.*]] = llm.reshape %[[DY]] {llm.role = "backward"} : tensor<2x3x4xf32> -> tensor<6x4xf32>
// CHECK-NEXT:      %[[DW:.*]] = llm.matmul %[[DY2]], %[[X2]] transpose_lhs {llm.role = "backward"} : (tensor<6x4xf32>, tensor<6x8xf32>) -> tensor<4x8xf32>
// CHECK-NEXT:      %[[DB:.*]] = llm.sum_to %[[DY]] {llm.role = "backward"} : tensor<2x3x4xf32> -> tensor<4xf32>
// CHECK-NEXT:      return %{{.*}}, %[[DW]], %[[DB]] : tensor<f32>, tensor<4x8xf32>, tensor<4xf32>
func.func @loss(%x: tensor<2x3x8xf32>, %w: tensor<4x8xf32> {llm.param = "w"}, %b: tensor<4xf32> {llm.param = "b"},
                %t: tensor<2x3xi32>) -> tensor<f32> {
  %y = llm.matmul %x, %w, %b transpose_rhs : (tensor<2x3x8xf32>, tensor<4x8xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  %l = llm.cross_entropy %y, %t : (tensor<2x3x4xf32>, tensor<2x3xi32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Tests a 2-D matmul with transpose_lhs: dop(A) = dY·Bᵀ is transposed back
// to A's layout, and dB = op(A)ᵀ·dY = A·dY needs no transpose.
// CHECK-LABEL: func.func @loss_grad(
// CHECK-SAME:      %[[A:[^:]*]]: tensor<8x4xf32> {llm.param = "a"}, %[[B:[^:]*]]: tensor<8x16xf32> {llm.param = "b"}
// CHECK:           %[[DY:.*]] = llm.cross_entropy_grad
// CHECK-NEXT:      %[[DOPA:.*]] = llm.matmul %[[DY]], %[[B]] transpose_rhs {llm.role = "backward"} : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
// CHECK-NEXT:      %[[DA:.*]] = llm.transpose %[[DOPA]] [1, 0] {llm.role = "backward"} : tensor<4x8xf32> -> tensor<8x4xf32>
// CHECK-NEXT:      %[[DB:.*]] = llm.matmul %[[A]], %[[DY]] {llm.role = "backward"} : (tensor<8x4xf32>, tensor<4x16xf32>) -> tensor<8x16xf32>
// CHECK-NEXT:      return %{{.*}}, %[[DA]], %[[DB]]
func.func @loss(%a: tensor<8x4xf32> {llm.param = "a"}, %b: tensor<8x16xf32> {llm.param = "b"}, %t: tensor<4xi32>) -> tensor<f32> {
  %y = llm.matmul %a, %b transpose_lhs : (tensor<8x4xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %l = llm.cross_entropy %y, %t : (tensor<4x16xf32>, tensor<4xi32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Tests a matmul whose rhs has the lhs's batch dimensions: both gradients
// are batched GEMMs and nothing is summed over the batch.
// CHECK-LABEL: func.func @loss_grad(
// CHECK-SAME:      %[[A:[^:]*]]: tensor<2x4x8xf32> {llm.param = "a"}, %[[B:[^:]*]]: tensor<2x8x16xf32> {llm.param = "b"}
// CHECK:           %[[DY:.*]] = llm.cross_entropy_grad
// CHECK-NEXT:      %[[DA:.*]] = llm.matmul %[[DY]], %[[B]] transpose_rhs {llm.role = "backward"} : (tensor<2x4x16xf32>, tensor<2x8x16xf32>) -> tensor<2x4x8xf32>
// CHECK-NEXT:      %[[DB:.*]] = llm.matmul %[[A]], %[[DY]] transpose_lhs {llm.role = "backward"} : (tensor<2x4x8xf32>, tensor<2x4x16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT:      return %{{.*}}, %[[DA]], %[[DB]]
func.func @loss(%a: tensor<2x4x8xf32> {llm.param = "a"}, %b: tensor<2x8x16xf32> {llm.param = "b"}, %t: tensor<2x4xi32>) -> tensor<f32> {
  %y = llm.matmul %a, %b : (tensor<2x4x8xf32>, tensor<2x8x16xf32>) -> tensor<2x4x16xf32>
  %l = llm.cross_entropy %y, %t : (tensor<2x4x16xf32>, tensor<2x4xi32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Tests a weight shared by a transposed batched lhs: the per-batch weight
// gradients A·dY are summed over the batch with sum_to.
// CHECK-LABEL: func.func @loss_grad(
// CHECK-SAME:      %[[A:[^:]*]]: tensor<2x8x4xf32> {llm.param = "a"}, %[[B:[^:]*]]: tensor<8x16xf32> {llm.param = "b"}
// CHECK:           %[[DY:.*]] = llm.cross_entropy_grad
// CHECK-NEXT:      %[[DOPA:.*]] = llm.matmul %[[DY]], %[[B]] transpose_rhs {llm.role = "backward"} : (tensor<2x4x16xf32>, tensor<8x16xf32>) -> tensor<2x4x8xf32>
// CHECK-NEXT:      %[[DA:.*]] = llm.transpose %[[DOPA]] [0, 2, 1] {llm.role = "backward"} : tensor<2x4x8xf32> -> tensor<2x8x4xf32>
// CHECK-NEXT:      %[[DBS:.*]] = llm.matmul %[[A]], %[[DY]] {llm.role = "backward"} : (tensor<2x8x4xf32>, tensor<2x4x16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT:      %[[DB:.*]] = llm.sum_to %[[DBS]] {llm.role = "backward"} : tensor<2x8x16xf32> -> tensor<8x16xf32>
// CHECK-NEXT:      return %{{.*}}, %[[DA]], %[[DB]]
func.func @loss(%a: tensor<2x8x4xf32> {llm.param = "a"}, %b: tensor<8x16xf32> {llm.param = "b"}, %t: tensor<2x4xi32>) -> tensor<f32> {
  %y = llm.matmul %a, %b transpose_lhs : (tensor<2x8x4xf32>, tensor<8x16xf32>) -> tensor<2x4x16xf32>
  %l = llm.cross_entropy %y, %t : (tensor<2x4x16xf32>, tensor<2x4xi32>) -> tensor<f32>
  return %l : tensor<f32>
}

//===----------------------------------------------------------------------===//
// Elementwise ops and gradient accumulation
//===----------------------------------------------------------------------===//

// -----

// Tests that a value used twice (a residual around gelu) gets the sum of
// its gradients: the residual's dY first, then gelu's.
// CHECK-LABEL: func.func @loss_grad(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<2x8xf32> {llm.param = "x"}
// CHECK:           %[[DY:.*]] = llm.cross_entropy_grad
// CHECK-NEXT:      %[[DG:.*]] = llm.gelu_grad %[[DY]], %[[X]] approximate = none {llm.role = "backward"} : tensor<2x8xf32>
// CHECK-NEXT:      %[[DX:.*]] = llm.add %[[DY]], %[[DG]] {llm.role = "backward"} : tensor<2x8xf32>, tensor<2x8xf32>
// CHECK-NEXT:      return %{{.*}}, %[[DX]]
func.func @loss(%x: tensor<2x8xf32> {llm.param = "x"}, %t: tensor<2xi32>) -> tensor<f32> {
  %h = llm.gelu %x approximate = none : tensor<2x8xf32>
  %y = llm.add %x, %h : tensor<2x8xf32>, tensor<2x8xf32>
  %l = llm.cross_entropy %y, %t : (tensor<2x8xf32>, tensor<2xi32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Tests that both operands of x + x contribute: the gradient is dY + dY.
// CHECK-LABEL: func.func @loss_grad(
// CHECK:           %[[DY:.*]] = llm.cross_entropy_grad
// CHECK-NEXT:      %[[DX:.*]] = llm.add %[[DY]], %[[DY]] {llm.role = "backward"} : tensor<2x8xf32>, tensor<2x8xf32>
// CHECK-NEXT:      return %{{.*}}, %[[DX]]
func.func @loss(%x: tensor<2x8xf32> {llm.param = "x"}, %t: tensor<2xi32>) -> tensor<f32> {
  %y = llm.add %x, %x : tensor<2x8xf32>, tensor<2x8xf32>
  %l = llm.cross_entropy %y, %t : (tensor<2x8xf32>, tensor<2xi32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Tests broadcast operands: the gradient of a position embedding added to
// every batch row and of a per-channel scale are summed down to their shapes;
// mul's gradients are dY times the other operand.
// CHECK-LABEL: func.func @loss_grad(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<2x4x8xf32>, %[[P:[^:]*]]: tensor<4x8xf32> {llm.param = "p"}, %[[S:[^:]*]]: tensor<8xf32> {llm.param = "s"}
// CHECK:           %[[H:.*]] = llm.add %[[X]], %[[P]] {llm.role = "forward"}
// CHECK:           %[[DZ:.*]] = llm.cross_entropy_grad
// CHECK-NEXT:      %[[DH:.*]] = llm.mul %[[DZ]], %[[S]] {llm.role = "backward"} : tensor<2x4x8xf32>, tensor<8xf32>
// CHECK-NEXT:      %[[DSF:.*]] = llm.mul %[[DZ]], %[[H]] {llm.role = "backward"} : tensor<2x4x8xf32>, tensor<2x4x8xf32>
// CHECK-NEXT:      %[[DS:.*]] = llm.sum_to %[[DSF]] {llm.role = "backward"} : tensor<2x4x8xf32> -> tensor<8xf32>
// CHECK-NEXT:      %[[DP:.*]] = llm.sum_to %[[DH]] {llm.role = "backward"} : tensor<2x4x8xf32> -> tensor<4x8xf32>
// CHECK-NEXT:      return %{{.*}}, %[[DP]], %[[DS]] : tensor<f32>, tensor<4x8xf32>, tensor<8xf32>
func.func @loss(%x: tensor<2x4x8xf32>, %p: tensor<4x8xf32> {llm.param = "p"}, %s: tensor<8xf32> {llm.param = "s"},
                %t: tensor<2x4xi32>) -> tensor<f32> {
  %h = llm.add %x, %p : tensor<2x4x8xf32>, tensor<4x8xf32>
  %z = llm.mul %h, %s : tensor<2x4x8xf32>, tensor<8xf32>
  %l = llm.cross_entropy %z, %t : (tensor<2x4x8xf32>, tensor<2x4xi32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Tests the norm, activation and softmax rules in reverse order: softmax_grad
// reads the softmax output, swiglu_grad returns gate and up gradients (up
// first into the sum, as the rules run), the norm gradients recompute from
// the forward input, and each backward op keeps the llm.layer of its forward
// op (none for rms_norm here).
// CHECK-LABEL: func.func @loss_grad(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<2x4x8xf32> {llm.param = "x"}, %[[W:[^:]*]]: tensor<8xf32> {llm.param = "w"}, %[[B:[^:]*]]: tensor<8xf32> {llm.param = "b"}, %[[G:[^:]*]]: tensor<8xf32> {llm.param = "g"}
// CHECK-SAME:      -> (tensor<f32> {llm.output = "loss"}, tensor<2x4x8xf32> {llm.grad_of = "x"}, tensor<8xf32> {llm.grad_of = "w"}, tensor<8xf32> {llm.grad_of = "b"}, tensor<8xf32> {llm.grad_of = "g"})
// CHECK:           %[[LN:.*]] = llm.layer_norm %[[X]], %[[W]], %[[B]]
// CHECK-NEXT:      %[[GE:.*]] = llm.gelu %[[LN]]
// CHECK-NEXT:      %[[RN:.*]] = llm.rms_norm %[[GE]], %[[G]]
// CHECK-NEXT:      %[[SI:.*]] = llm.silu %[[RN]]
// CHECK-NEXT:      %[[SW:.*]] = llm.swiglu %[[SI]], %[[RN]]
// CHECK-NEXT:      %[[SM:.*]] = llm.softmax %[[SW]]
// CHECK:           %[[D0:.*]] = llm.cross_entropy_grad %{{.*}}, %[[SM]], %{{.*}}
// CHECK-NEXT:      %[[D1:.*]] = llm.softmax_grad %[[D0]], %[[SM]] axis = -1 {llm.role = "backward"} : tensor<2x4x8xf32>
// CHECK-NEXT:      %[[DGATE:.*]], %[[DUP:.*]] = llm.swiglu_grad %[[D1]], %[[SI]], %[[RN]] {llm.role = "backward"} : tensor<2x4x8xf32>
// CHECK-NEXT:      %[[D2:.*]] = llm.silu_grad %[[DGATE]], %[[RN]] {llm.role = "backward"} : tensor<2x4x8xf32>
// CHECK-NEXT:      %[[D3:.*]] = llm.add %[[DUP]], %[[D2]] {llm.role = "backward"}
// CHECK-NEXT:      %[[D4:.*]], %[[DG:.*]] = llm.rms_norm_grad %[[D3]], %[[GE]], %[[G]] {epsilon = 1.000000e-05 : f64, llm.role = "backward"} : (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<8xf32>) -> (tensor<2x4x8xf32>, tensor<8xf32>)
// CHECK-NEXT:      %[[D5:.*]] = llm.gelu_grad %[[D4]], %[[LN]] approximate = tanh {llm.layer = 1 : i64, llm.role = "backward"} : tensor<2x4x8xf32>
// CHECK-NEXT:      %[[DX:.*]], %[[DW:.*]], %[[DB:.*]] = llm.layer_norm_grad %[[D5]], %[[X]], %[[W]] {epsilon = 1.000000e-05 : f64, llm.layer = 0 : i64, llm.role = "backward"} : (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<8xf32>) -> (tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>)
// CHECK-NEXT:      return %{{.*}}, %[[DX]], %[[DW]], %[[DB]], %[[DG]]
func.func @loss(%x: tensor<2x4x8xf32> {llm.param = "x"}, %w: tensor<8xf32> {llm.param = "w"}, %b: tensor<8xf32> {llm.param = "b"},
                %g: tensor<8xf32> {llm.param = "g"}, %t: tensor<2x4xi32>) -> tensor<f32> {
  %0 = llm.layer_norm %x, %w, %b {epsilon = 1.0e-05 : f64, llm.layer = 0 : i64} : (tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
  %1 = llm.gelu %0 approximate = tanh {llm.layer = 1 : i64} : tensor<2x4x8xf32>
  %2 = llm.rms_norm %1, %g {epsilon = 1.0e-05 : f64} : (tensor<2x4x8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
  %3 = llm.silu %2 : tensor<2x4x8xf32>
  %4 = llm.swiglu %3, %2 : tensor<2x4x8xf32>
  %5 = llm.softmax %4 axis = -1 : tensor<2x4x8xf32>
  %l = llm.cross_entropy %5, %t : (tensor<2x4x8xf32>, tensor<2x4xi32>) -> tensor<f32>
  return %l : tensor<f32>
}

//===----------------------------------------------------------------------===//
// Attention and rope
//===----------------------------------------------------------------------===//

// -----

// Tests grouped-query attention between ropes: attention_grad reads the
// forward operands and output and keeps causal and the scale; the gradient
// of a rope is the inverse rope, and the gradient of an inverse rope the
// plain one. The transpose before the loss is undone by its inverse
// permutation.
// CHECK-LABEL: func.func @loss_grad(
// CHECK-SAME:      %[[Q:[^:]*]]: tensor<1x4x8x16xf32> {llm.param = "q"}, %[[K:[^:]*]]: tensor<1x2x8x16xf32> {llm.param = "k"}, %[[V:[^:]*]]: tensor<1x2x8x16xf32> {llm.param = "v"}
// CHECK:           %[[RQ:.*]] = llm.rope %[[Q]] theta = 1.000000e+04 {llm.role = "forward"}
// CHECK-NEXT:      %[[RK:.*]] = llm.rope %[[K]] theta = 1.000000e+04 inverse {llm.role = "forward"}
// CHECK-NEXT:      %[[O:.*]] = llm.attention %[[RQ]], %[[RK]], %[[V]] causal
// CHECK:           %[[D0:.*]] = llm.cross_entropy_grad
// CHECK-NEXT:      %[[D1:.*]] = llm.transpose %[[D0]] [0, 2, 1, 3] {llm.role = "backward"} : tensor<1x8x4x16xf32> -> tensor<1x4x8x16xf32>
// CHECK-NEXT:      %[[DQ:.*]], %[[DK:.*]], %[[DV:.*]] = llm.attention_grad %[[D1]], %[[RQ]], %[[RK]], %[[V]], %[[O]] causal {llm.role = "backward", scale = 2.500000e-01 : f64} : (tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x4x8x16xf32>) -> (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>)
// CHECK-NEXT:      %[[DK2:.*]] = llm.rope %[[DK]] theta = 1.000000e+04 {llm.role = "backward"} : tensor<1x2x8x16xf32>
// CHECK-NEXT:      %[[DQ2:.*]] = llm.rope %[[DQ]] theta = 1.000000e+04 inverse {llm.role = "backward"} : tensor<1x4x8x16xf32>
// CHECK-NEXT:      return %{{.*}}, %[[DQ2]], %[[DK2]], %[[DV]]
func.func @loss(%q: tensor<1x4x8x16xf32> {llm.param = "q"}, %k: tensor<1x2x8x16xf32> {llm.param = "k"},
                %v: tensor<1x2x8x16xf32> {llm.param = "v"}, %t: tensor<1x8x4xi32>) -> tensor<f32> {
  %0 = llm.rope %q theta = 10000.0 : tensor<1x4x8x16xf32>
  %1 = llm.rope %k theta = 10000.0 inverse : tensor<1x2x8x16xf32>
  %2 = llm.attention %0, %1, %v causal {scale = 0.25 : f64} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32>
  %3 = llm.transpose %2 [0, 2, 1, 3] : tensor<1x4x8x16xf32> -> tensor<1x8x4x16xf32>
  %l = llm.cross_entropy %3, %t : (tensor<1x8x4x16xf32>, tensor<1x8x4xi32>) -> tensor<f32>
  return %l : tensor<f32>
}

//===----------------------------------------------------------------------===//
// Shape ops, embedding and slices
//===----------------------------------------------------------------------===//

// -----

// Tests that a transpose whose permutation is not its own inverse gets the
// inverse permutation: [1, 2, 0] is undone by [2, 0, 1].
// CHECK-LABEL: func.func @loss_grad(
// CHECK:           %[[DY:.*]] = llm.cross_entropy_grad
// CHECK-NEXT:      %[[DX:.*]] = llm.transpose %[[DY]] [2, 0, 1] {llm.role = "backward"} : tensor<3x4x2xf32> -> tensor<2x3x4xf32>
// CHECK-NEXT:      return %{{.*}}, %[[DX]]
func.func @loss(%x: tensor<2x3x4xf32> {llm.param = "x"}, %t: tensor<3x4xi32>) -> tensor<f32> {
  %y = llm.transpose %x [1, 2, 0] : tensor<2x3x4xf32> -> tensor<3x4x2xf32>
  %l = llm.cross_entropy %y, %t : (tensor<3x4x2xf32>, tensor<3x4xi32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Tests embedding, concat and reshape: the reshape's gradient is reshaped
// back, the concat's is split along the same axis, and the table gets an
// embedding_grad over the same ids (which themselves get no gradient).
// CHECK-LABEL: func.func @loss_grad(
// CHECK-SAME:      %[[E:[^:]*]]: tensor<16x8xf32> {llm.param = "e"}, %[[IDS:[^:]*]]: tensor<2x4xi32>, %[[A:[^:]*]]: tensor<2x4x8xf32> {llm.param = "a"}
// CHECK:           %[[D0:.*]] = llm.cross_entropy_grad
// CHECK-NEXT:      %[[D1:.*]] = llm.reshape %[[D0]] {llm.role = "backward"} : tensor<8x16xf32> -> tensor<2x4x16xf32>
// CHECK-NEXT:      %[[D2:.*]]:2 = llm.split %[[D1]] axis = 2 {llm.role = "backward"} : tensor<2x4x16xf32> -> tensor<2x4x8xf32>, tensor<2x4x8xf32>
// CHECK-NEXT:      %[[DE:.*]] = llm.embedding_grad %[[D2]]#0, %[[IDS]] {llm.role = "backward"} : (tensor<2x4x8xf32>, tensor<2x4xi32>) -> tensor<16x8xf32>
// CHECK-NEXT:      return %{{.*}}, %[[DE]], %[[D2]]#1 : tensor<f32>, tensor<16x8xf32>, tensor<2x4x8xf32>
func.func @loss(%e: tensor<16x8xf32> {llm.param = "e"}, %ids: tensor<2x4xi32>, %a: tensor<2x4x8xf32> {llm.param = "a"},
                %t: tensor<8xi32>) -> tensor<f32> {
  %0 = llm.embedding %e[%ids] : (tensor<16x8xf32>, tensor<2x4xi32>) -> tensor<2x4x8xf32>
  %1 = llm.concat %0, %a axis = 2 : tensor<2x4x8xf32>, tensor<2x4x8xf32> -> tensor<2x4x16xf32>
  %2 = llm.reshape %1 : tensor<2x4x16xf32> -> tensor<8x16xf32>
  %l = llm.cross_entropy %2, %t : (tensor<8x16xf32>, tensor<8xi32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Tests that a split result the loss does not use gets a zero gradient
// before the concat, and that a parameter the loss does not reach gets a
// zero gradient result; both zeros are backward ops.
// CHECK-LABEL: func.func @loss_grad(
// CHECK-SAME:      -> (tensor<f32> {llm.output = "loss"}, tensor<2x8xf32> {llm.grad_of = "x"}, tensor<3x3xf32> {llm.grad_of = "unused"})
// CHECK:           %[[D0:.*]] = llm.cross_entropy_grad
// CHECK-NEXT:      %[[Z:.*]] = arith.constant {llm.role = "backward"} dense<0.000000e+00> : tensor<2x4xf32>
// CHECK-NEXT:      %[[DX:.*]] = llm.concat %[[Z]], %[[D0]] axis = 1 {llm.role = "backward"} : tensor<2x4xf32>, tensor<2x4xf32> -> tensor<2x8xf32>
// CHECK-NEXT:      %[[DU:.*]] = arith.constant {llm.role = "backward"} dense<0.000000e+00> : tensor<3x3xf32>
// CHECK-NEXT:      return %{{.*}}, %[[DX]], %[[DU]] : tensor<f32>, tensor<2x8xf32>, tensor<3x3xf32>
func.func @loss(%x: tensor<2x8xf32> {llm.param = "x"}, %u: tensor<3x3xf32> {llm.param = "unused"}, %t: tensor<2xi32>) -> tensor<f32> {
  %a:2 = llm.split %x axis = 1 : tensor<2x8xf32> -> tensor<2x4xf32>, tensor<2x4xf32>
  %l = llm.cross_entropy %a#1, %t : (tensor<2x4xf32>, tensor<2xi32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Tests that an op off the path to the loss gets no backward op, even when
// it reads a parameter.
// CHECK-LABEL: func.func @loss_grad(
// CHECK:           llm.gelu
// CHECK:           llm.cross_entropy_grad
// CHECK-NOT:       llm.gelu_grad
// CHECK:           return
func.func @loss(%x: tensor<2x8xf32> {llm.param = "x"}, %t: tensor<2xi32>) -> tensor<f32> {
  %dead = llm.gelu %x approximate = tanh : tensor<2x8xf32>
  %l = llm.cross_entropy %x, %t : (tensor<2x8xf32>, tensor<2xi32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Tests the position-embedding slice: the gradient of tensor.extract_slice
// is the slice's gradient inserted into zeros of the table's shape at the
// same offsets, sizes and strides.
// CHECK-LABEL: func.func @loss_grad(
// CHECK-SAME:      %[[WPE:[^:]*]]: tensor<8x4xf32> {llm.param = "wpe"}
// CHECK:           tensor.extract_slice %[[WPE]][3, 0] [2, 4] [1, 1] {llm.role = "forward"}
// CHECK:           %[[D0:.*]] = llm.cross_entropy_grad
// CHECK-NEXT:      %[[Z:.*]] = arith.constant {llm.role = "backward"} dense<0.000000e+00> : tensor<8x4xf32>
// CHECK-NEXT:      %[[DW:.*]] = tensor.insert_slice %[[D0]] into %[[Z]][3, 0] [2, 4] [1, 1] {llm.role = "backward"} : tensor<2x4xf32> into tensor<8x4xf32>
// CHECK-NEXT:      return %{{.*}}, %[[DW]] : tensor<f32>, tensor<8x4xf32>
func.func @loss(%wpe: tensor<8x4xf32> {llm.param = "wpe"}, %t: tensor<2xi32>) -> tensor<f32> {
  %s = tensor.extract_slice %wpe[3, 0] [2, 4] [1, 1] : tensor<8x4xf32> to tensor<2x4xf32>
  %l = llm.cross_entropy %s, %t : (tensor<2x4xf32>, tensor<2xi32>) -> tensor<f32>
  return %l : tensor<f32>
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

// -----

// Tests that a module without the loss function is an error.
// expected-error@+1 {{llmc-autodiff: no function @loss}}
module {
  func.func @objective(%x: tensor<f32>) -> tensor<f32> {
    return %x : tensor<f32>
  }
}

// -----

// Tests that the loss must be a scalar: autodiff seeds dloss = 1.
// expected-error@+1 {{llmc-autodiff: @loss must have one block and return one scalar tensor}}
func.func @loss(%x: tensor<2x8xf32> {llm.param = "x"}) -> tensor<2x8xf32> {
  return %x : tensor<2x8xf32>
}

// -----

// Tests that the loss must be a single result.
// expected-error@+1 {{llmc-autodiff: @loss must have one block and return one scalar tensor}}
func.func @loss(%x: tensor<f32> {llm.param = "x"}) -> (tensor<f32>, tensor<f32>) {
  return %x, %x : tensor<f32>, tensor<f32>
}

// -----

// Tests that an op on the path to the loss without a gradient rule is
// reported where it is.
func.func @loss(%x: tensor<2x8xf32> {llm.param = "x"}, %t: tensor<2xi32>) -> tensor<f32> {
  // expected-error@+1 {{'arith.addf' op has no gradient rule (AutodiffOpInterface)}}
  %y = arith.addf %x, %x : tensor<2x8xf32>
  %l = llm.cross_entropy %y, %t : (tensor<2x8xf32>, tensor<2xi32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Tests that a constant on the path to the loss (here the scale of a mul)
// needs no gradient rule: it has no operands to propagate to.
// CHECK-LABEL: func.func @loss_grad(
// CHECK:       %[[C:.*]] = arith.constant {llm.role = "forward"} dense<2.000000e+00> : tensor<8xf32>
// CHECK:       llm.mul %{{.*}}, %[[C]] {llm.role = "backward"}
func.func @loss(%x: tensor<2x8xf32> {llm.param = "x"}, %t: tensor<2xi32>) -> tensor<f32> {
  %c = arith.constant dense<2.0> : tensor<8xf32>
  %y = llm.mul %x, %c : tensor<2x8xf32>, tensor<8xf32>
  %l = llm.cross_entropy %y, %t : (tensor<2x8xf32>, tensor<2xi32>) -> tensor<f32>
  return %l : tensor<f32>
}
