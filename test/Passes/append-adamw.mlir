// RUN: llmc-opt %s --split-input-file --llmc-append-adamw --verify-diagnostics | FileCheck %s

// The inputs are gradient functions as llmc-autodiff builds them: the loss,
// then one gradient per `llm.param` argument in argument order.

// Tests the @train_step signature: the moments of every parameter are new
// arguments after the others (all first moments, then all second moments,
// in parameter order), and the results are the loss, the gradient norm, then
// the new parameters, first moments and second moments, each named after its
// parameter. The gradient function itself is kept.
// CHECK-LABEL: func.func @loss_grad(
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:      %[[IDS:[^:]*]]: tensor<2x4xi32> {llm.input = "input_ids"},
// CHECK-SAME:      %[[W:[^:]*]]: tensor<8x4xf32> {llm.param = "w"},
// CHECK-SAME:      %[[T:[^:]*]]: tensor<2x4xi32> {llm.input = "targets"},
// CHECK-SAME:      %[[B:[^:]*]]: tensor<4xf32> {llm.param = "b"},
// CHECK-SAME:      %[[MW:[^:]*]]: tensor<8x4xf32> {llm.adam_m = "w"}, %[[MB:[^:]*]]: tensor<4xf32> {llm.adam_m = "b"},
// CHECK-SAME:      %[[VW:[^:]*]]: tensor<8x4xf32> {llm.adam_v = "w"}, %[[VB:[^:]*]]: tensor<4xf32> {llm.adam_v = "b"})
// CHECK-SAME:      -> (tensor<f32> {llm.output = "loss"}, tensor<f32> {llm.output = "grad_norm"},
// CHECK-SAME:          tensor<8x4xf32> {llm.update_of = "w"}, tensor<4xf32> {llm.update_of = "b"},
// CHECK-SAME:          tensor<8x4xf32> {llm.adam_m_of = "w"}, tensor<4xf32> {llm.adam_m_of = "b"},
// CHECK-SAME:          tensor<8x4xf32> {llm.adam_v_of = "w"}, tensor<4xf32> {llm.adam_v_of = "b"})
// CHECK:           %[[L:.*]] = llm.cross_entropy {{.*}} {llm.role = "forward"}
// CHECK:           %[[DW:.*]] = llm.embedding_grad {{.*}} {llm.role = "backward"}
// CHECK-NEXT:      %[[DB:.*]] = llm.sum_to {{.*}} {llm.role = "backward"}
// CHECK-NEXT:      %[[NORM:.*]] = llm.grad_norm %[[DW]], %[[DB]] {llm.role = "optimizer"} : tensor<8x4xf32>, tensor<4xf32> -> tensor<f32>
// CHECK-NEXT:      %[[W2:.*]], %[[MW2:.*]], %[[VW2:.*]] = llm.adamw %[[W]], %[[DW]], %[[MW]], %[[VW]], %[[NORM]] decay {llm.role = "optimizer"} : tensor<8x4xf32>, tensor<f32>
// CHECK-NEXT:      %[[B2:.*]], %[[MB2:.*]], %[[VB2:.*]] = llm.adamw %[[B]], %[[DB]], %[[MB]], %[[VB]], %[[NORM]] {llm.role = "optimizer"} : tensor<4xf32>, tensor<f32>
// CHECK-NEXT:      return %[[L]], %[[NORM]], %[[W2]], %[[B2]], %[[MW2]], %[[MB2]], %[[VW2]], %[[VB2]] :
func.func @loss_grad(%ids: tensor<2x4xi32> {llm.input = "input_ids"}, %w: tensor<8x4xf32> {llm.param = "w"},
                     %t: tensor<2x4xi32> {llm.input = "targets"}, %b: tensor<4xf32> {llm.param = "b"})
    -> (tensor<f32> {llm.output = "loss"}, tensor<8x4xf32> {llm.grad_of = "w"}, tensor<4xf32> {llm.grad_of = "b"}) {
  %e = llm.embedding %w[%ids] {llm.role = "forward"} : (tensor<8x4xf32>, tensor<2x4xi32>) -> tensor<2x4x4xf32>
  %y = llm.add %e, %b {llm.role = "forward"} : tensor<2x4x4xf32>, tensor<4xf32>
  %l = llm.cross_entropy %y, %t {llm.role = "forward"} : (tensor<2x4x4xf32>, tensor<2x4xi32>) -> tensor<f32>
  %one = arith.constant {llm.role = "backward"} dense<1.0> : tensor<f32>
  %dy = llm.cross_entropy_grad %one, %y, %t {llm.role = "backward"} : (tensor<f32>, tensor<2x4x4xf32>, tensor<2x4xi32>) -> tensor<2x4x4xf32>
  %dw = llm.embedding_grad %dy, %ids {llm.role = "backward"} : (tensor<2x4x4xf32>, tensor<2x4xi32>) -> tensor<8x4xf32>
  %db = llm.sum_to %dy {llm.role = "backward"} : tensor<2x4x4xf32> -> tensor<4xf32>
  return %l, %dw, %db : tensor<f32>, tensor<8x4xf32>, tensor<4xf32>
}

// -----

// Tests that weight decay applies exactly to tensors of rank >= 2: a rank-3
// tensor decays, a vector and a scalar do not.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:      %[[A:[^:]*]]: tensor<2x3x4xf32> {llm.param = "a"}, %[[S:[^:]*]]: tensor<f32> {llm.param = "s"}, %[[V:[^:]*]]: tensor<4xf32> {llm.param = "v"}
// CHECK:           %[[NORM:.*]] = llm.grad_norm %{{.*}}, %{{.*}}, %{{.*}} {llm.role = "optimizer"} : tensor<2x3x4xf32>, tensor<f32>, tensor<4xf32> -> tensor<f32>
// CHECK-NEXT:      llm.adamw %[[A]], {{.*}}, %[[NORM]] decay {llm.role = "optimizer"} : tensor<2x3x4xf32>, tensor<f32>
// CHECK-NEXT:      llm.adamw %[[S]], {{.*}}, %[[NORM]] {llm.role = "optimizer"} : tensor<f32>, tensor<f32>
// CHECK-NEXT:      llm.adamw %[[V]], {{.*}}, %[[NORM]] {llm.role = "optimizer"} : tensor<4xf32>, tensor<f32>
// CHECK-NEXT:      return
func.func @loss_grad(%a: tensor<2x3x4xf32> {llm.param = "a"}, %s: tensor<f32> {llm.param = "s"}, %v: tensor<4xf32> {llm.param = "v"})
    -> (tensor<f32> {llm.output = "loss"}, tensor<2x3x4xf32> {llm.grad_of = "a"}, tensor<f32> {llm.grad_of = "s"}, tensor<4xf32> {llm.grad_of = "v"}) {
  return %s, %a, %s, %v : tensor<f32>, tensor<2x3x4xf32>, tensor<f32>, tensor<4xf32>
}

// -----

// Tests that the gradient norm has the loss's element type while each
// update keeps its parameter's type (bf16 parameters, f32 loss).
// CHECK-LABEL: func.func @train_step(
// CHECK:           %[[NORM:.*]] = llm.grad_norm %{{.*}} {llm.role = "optimizer"} : tensor<4x4xbf16> -> tensor<f32>
// CHECK-NEXT:      llm.adamw %{{.*}}, %[[NORM]] decay {llm.role = "optimizer"} : tensor<4x4xbf16>, tensor<f32>
func.func @loss_grad(%l: tensor<f32>, %w: tensor<4x4xbf16> {llm.param = "w"})
    -> (tensor<f32> {llm.output = "loss"}, tensor<4x4xbf16> {llm.grad_of = "w"}) {
  return %l, %w : tensor<f32>, tensor<4x4xbf16>
}

// -----

// Tests that the pass needs the gradient function llmc-autodiff builds.
// expected-error@+1 {{llmc-append-adamw: no function @loss_grad (run llmc-autodiff first)}}
module {
  func.func @loss(%x: tensor<f32> {llm.param = "x"}) -> tensor<f32> {
    return %x : tensor<f32>
  }
}

// -----

// Tests that the gradient function must return one gradient per parameter.
// expected-error@+1 {{llmc-append-adamw: @loss_grad returns 1 gradients for 2 parameters}}
func.func @loss_grad(%w: tensor<4x4xf32> {llm.param = "w"}, %b: tensor<4xf32> {llm.param = "b"})
    -> (tensor<f32> {llm.output = "loss"}, tensor<4x4xf32> {llm.grad_of = "w"}) {
  %l = llm.grad_norm %w : tensor<4x4xf32> -> tensor<f32>
  return %l, %w : tensor<f32>, tensor<4x4xf32>
}

// -----

// Tests that a gradient function without parameters is an error, not an
// llm.grad_norm of nothing.
// expected-error@+1 {{llmc-append-adamw: @loss_grad has no llm.param arguments to update}}
func.func @loss_grad(%x: tensor<2xf32>) -> (tensor<f32> {llm.output = "loss"}) {
  %c = arith.constant dense<0.0> : tensor<f32>
  return %c : tensor<f32>
}

// -----

// Tests that a declaration of the gradient function, with no body to append
// the optimizer to, is an error.
// expected-error@+1 {{llmc-append-adamw: @loss_grad has no body (run llmc-autodiff first)}}
func.func private @loss_grad(tensor<4xf32> {llm.param = "w"}) -> (tensor<f32> {llm.output = "loss"}, tensor<4xf32> {llm.grad_of = "w"})
