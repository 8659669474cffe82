// RUN: llmc-opt %s --pass-pipeline="builtin.module(llmc-autodiff{func-name=mlp input-grads=x}, func.func(llmc-gspmd-partition))" | FileCheck %s

// Tests the GSPMD way end to end on GPT-2's MLP, through the registered
// llmc-gspmd-partition pipeline that llmc-partition-tensor-parallel runs:
// llmc-autodiff differentiates the one-device MLP (its output's gradient
// `grad_y` in, the input's gradient `grad_x` out), the weights' llm.split
// marks become shardings (llmc-annotate-shardings), sharding-propagation and
// shard-partition split the whole differentiated function, and its
// collectives become llm collectives on the "tp" axis
// (llmc-lower-shard-collectives). The result is Megatron's tensor-parallel
// MLP with its backward: local shards of every weight and gradient, and
// exactly two all-reduces, of fc2's partial output (g) and of fc1's
// partial input gradient (f's dual).
// CHECK-LABEL: func.func @mlp_grad(
// CHECK-SAME: tensor<4x8xf32> {llm.input = "x"}, %{{.*}}: tensor<8x16xf32> {llm.param = "w1", llm.split = {axis = "tp", dim = 1 : i64}}, %{{.*}}: tensor<16xf32> {llm.param = "b1", llm.split = {axis = "tp", dim = 0 : i64}}, %{{.*}}: tensor<16x8xf32> {llm.param = "w2", llm.split = {axis = "tp", dim = 0 : i64}}, %{{.*}}: tensor<8xf32> {llm.param = "b2"}, %{{.*}}: tensor<4x8xf32> {llm.input = "grad_y"})
// CHECK-SAME: -> (tensor<4x8xf32> {llm.output = "y"}, tensor<4x8xf32> {llm.output = "grad_x"}, tensor<8x16xf32> {llm.grad_of = "w1"}, tensor<16xf32> {llm.grad_of = "b1"}, tensor<16x8xf32> {llm.grad_of = "w2"}, tensor<8xf32> {llm.grad_of = "b2"})
// CHECK: %[[P:.*]] = llm.matmul %{{.*}}, %{{.*}} {llm.role = "forward"} : (tensor<4x16xf32>, tensor<16x8xf32>) -> tensor<4x8xf32>
// CHECK: llm.all_reduce %[[P]] {axis = "tp", llm.role = "forward"} : (tensor<4x8xf32>) -> tensor<4x8xf32>
// CHECK: %[[DXP:.*]] = llm.matmul %{{.*}}, %{{.*}} transpose_rhs {llm.role = "backward"} : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
// CHECK: llm.all_reduce %[[DXP]] {axis = "tp", llm.role = "backward"}
// CHECK-NOT: llm.all_reduce
// CHECK-NOT: shard.
// CHECK: return
shard.grid @tp(shape = 2)
func.func @mlp(%x: tensor<4x8xf32> {llm.input = "x"},
               %w1: tensor<8x32xf32> {llm.param = "w1", llm.split = {axis = "tp", dim = 1 : i64}},
               %b1: tensor<32xf32> {llm.param = "b1", llm.split = {axis = "tp", dim = 0 : i64}},
               %w2: tensor<32x8xf32> {llm.param = "w2", llm.split = {axis = "tp", dim = 0 : i64}},
               %b2: tensor<8xf32> {llm.param = "b2"})
    -> (tensor<4x8xf32> {llm.output = "y"}) {
  %h = llm.matmul %x, %w1, %b1 : (tensor<4x8xf32>, tensor<8x32xf32>, tensor<32xf32>) -> tensor<4x32xf32>
  %g = llm.gelu %h approximate = tanh : tensor<4x32xf32>
  %p = llm.matmul %g, %w2 : (tensor<4x32xf32>, tensor<32x8xf32>) -> tensor<4x8xf32>
  %y = llm.add %p, %b2 : tensor<4x8xf32>, tensor<8xf32>
  return %y : tensor<4x8xf32>
}
