// RUN: llmc-opt %s --split-input-file --verify-diagnostics --pass-pipeline="builtin.module(llmc-autodiff{input-grads=x}, llmc-partition-tensor-parallel)" | FileCheck %s
// RUN: llmc-opt %s --split-input-file --verify-diagnostics --llmc-partition-tensor-parallel="func-name=loss gather-results=true" | FileCheck %s --check-prefix=GATHER

// Each case is a one-device model @loss, as the frontend builds it, whose
// parameters carry `llm.split` marks for a 2-way grid @tp. The first RUN line
// differentiates it as a pipeline stage (llmc-autodiff: its input `x` and the
// seed `grad_<output>` in, `grad_x` and one gradient per parameter out) and
// partitions @loss_grad, the pass's default function. The second partitions
// the forward @loss itself, as an inference plan does, and gathers every
// result that comes out split.

// Tests Megatron's MLP with its backward: fc1 column-parallel (its bias split
// with it), the gelu local, fc2 row-parallel with one all-reduce of its
// partial sums before the bias is added once, and in the backward pass one
// all-reduce of fc1's partial input gradient (f's dual). Every weight and
// gradient is this rank's shard, and each split parameter's `llm.split`
// becomes the `llm.shard` layout checkpoints are loaded by; the replicated
// bias b2 gets none.
// CHECK-LABEL: func.func @loss_grad(
// CHECK-SAME: %[[X:[^:]*]]: tensor<4x8xf32> {llm.input = "x"},
// CHECK-SAME: %[[W1:[^:]*]]: tensor<8x16xf32> {llm.param = "w1", llm.shard = {axis = "tp", blocks = 1 : i64, dim = 1 : i64, parts = 2 : i64}},
// CHECK-SAME: %[[B1:[^:]*]]: tensor<16xf32> {llm.param = "b1", llm.shard = {axis = "tp", blocks = 1 : i64, dim = 0 : i64, parts = 2 : i64}},
// CHECK-SAME: %[[W2:[^:]*]]: tensor<16x8xf32> {llm.param = "w2", llm.shard = {axis = "tp", blocks = 1 : i64, dim = 0 : i64, parts = 2 : i64}},
// CHECK-SAME: %[[B2:[^:]*]]: tensor<8xf32> {llm.param = "b2"},
// CHECK-SAME: %[[DY:[^:]*]]: tensor<4x8xf32> {llm.input = "grad_y"})
// CHECK-SAME: -> (tensor<4x8xf32> {llm.output = "y"}, tensor<4x8xf32> {llm.output = "grad_x"}, tensor<8x16xf32> {llm.grad_of = "w1"}, tensor<16xf32> {llm.grad_of = "b1"}, tensor<16x8xf32> {llm.grad_of = "w2"}, tensor<8xf32> {llm.grad_of = "b2"})
// CHECK-NEXT: %[[H:.*]] = llm.matmul %[[X]], %[[W1]], %[[B1]] {llm.role = "forward"} : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
// CHECK-NEXT: %[[G:.*]] = llm.gelu %[[H]] approximate = tanh {llm.role = "forward"} : tensor<4x16xf32>
// CHECK-NEXT: %[[P:.*]] = llm.matmul %[[G]], %[[W2]] {llm.role = "forward"} : (tensor<4x16xf32>, tensor<16x8xf32>) -> tensor<4x8xf32>
// CHECK-NEXT: %[[S:.*]] = llm.all_reduce %[[P]] {axis = "tp", llm.role = "forward"} : (tensor<4x8xf32>) -> tensor<4x8xf32>
// CHECK-NEXT: %[[Y:.*]] = llm.add %[[S]], %[[B2]] {llm.role = "forward"} : tensor<4x8xf32>, tensor<8xf32>
// CHECK:      %[[DG:.*]] = llm.gelu_grad
// CHECK-NEXT: %[[DXP:.*]] = llm.matmul %[[DG]], %[[W1]] transpose_rhs {llm.role = "backward"} : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
// CHECK-NEXT: %[[DX:.*]] = llm.all_reduce %[[DXP]] {axis = "tp", llm.role = "backward"} : (tensor<4x8xf32>) -> tensor<4x8xf32>
// CHECK-NEXT: %[[DW1:.*]] = llm.matmul %[[X]], %[[DG]] transpose_lhs {llm.role = "backward"} : (tensor<4x8xf32>, tensor<4x16xf32>) -> tensor<8x16xf32>
// CHECK-NOT:  llm.all_reduce
// CHECK-NOT:  shard.
// CHECK:      return %[[Y]], %[[DX]], %[[DW1]], %{{.*}}, %{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<4x8xf32>, tensor<8x16xf32>, tensor<16xf32>, tensor<16x8xf32>, tensor<8xf32>
// The forward alone needs only the forward all-reduce, and its result is
// whole, so gather-results adds nothing.
// GATHER-LABEL: func.func @loss(
// GATHER-SAME: tensor<8x16xf32> {llm.param = "w1", llm.shard = {axis = "tp", blocks = 1 : i64, dim = 1 : i64, parts = 2 : i64}}
// GATHER:      %[[P:.*]] = llm.matmul %{{.*}}, %{{.*}} : (tensor<4x16xf32>, tensor<16x8xf32>) -> tensor<4x8xf32>
// GATHER-NEXT: %[[S:.*]] = llm.all_reduce %[[P]] {axis = "tp"}
// GATHER-NEXT: %[[Y:.*]] = llm.add %[[S]]
// GATHER-NEXT: return %[[Y]] : tensor<4x8xf32>
shard.grid @tp(shape = 2)
func.func @loss(%x: tensor<4x8xf32> {llm.input = "x"},
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

// -----

// Tests that the gradient of an input feeding several column-parallel GEMMs
// (Q, K and V) is all-reduced once, as Megatron does: shard-partition leaves
// all_reduce(a) + all_reduce(b) + all_reduce(c), and the pass sinks the
// all-reduces through the adds, in program order, into one all-reduce of
// a + b + c.
// CHECK-LABEL: func.func @loss_grad(
// CHECK-SAME: %[[WQ:[^:]*]]: tensor<8x8xf32> {llm.param = "wq", llm.shard = {axis = "tp", blocks = 1 : i64, dim = 1 : i64, parts = 2 : i64}}
// CHECK-SAME: %[[WK:[^:]*]]: tensor<8x8xf32> {llm.param = "wk", llm.shard
// CHECK-SAME: %[[WV:[^:]*]]: tensor<8x8xf32> {llm.param = "wv", llm.shard
// CHECK:      llm.all_reduce %{{.*}} {axis = "tp", llm.role = "forward"}
// CHECK:      %[[DV:.*]] = llm.matmul %{{.*}}, %[[WV]] transpose_rhs {llm.role = "backward"} : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
// CHECK:      %[[DK:.*]] = llm.matmul %{{.*}}, %[[WK]] transpose_rhs {llm.role = "backward"} : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
// CHECK-NOT:  llm.all_reduce
// CHECK:      %[[DVK:.*]] = llm.add %[[DV]], %[[DK]] {llm.role = "backward"} : tensor<4x8xf32>, tensor<4x8xf32>
// CHECK-NOT:  llm.all_reduce
// CHECK:      %[[DQ:.*]] = llm.matmul %{{.*}}, %[[WQ]] transpose_rhs {llm.role = "backward"} : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
// CHECK-NOT:  llm.all_reduce
// CHECK:      %[[SUM:.*]] = llm.add %[[DVK]], %[[DQ]] {llm.role = "backward"} : tensor<4x8xf32>, tensor<4x8xf32>
// CHECK-NEXT: %[[DX:.*]] = llm.all_reduce %[[SUM]] {axis = "tp", llm.role = "backward"} : (tensor<4x8xf32>) -> tensor<4x8xf32>
// CHECK-NEXT: return %{{.*}}, %[[DX]],
// The forward alone has one all-reduce, of the row-parallel GEMM's partial
// sums, and its result is whole.
// GATHER-LABEL: func.func @loss(
// GATHER:      llm.all_reduce
// GATHER-NOT:  llm.all_reduce
// GATHER-NOT:  llm.all_gather
// GATHER:      return %{{.*}} : tensor<4x8xf32>
shard.grid @tp(shape = 2)
func.func @loss(%x: tensor<4x8xf32> {llm.input = "x"},
                %wq: tensor<8x16xf32> {llm.param = "wq", llm.split = {axis = "tp", dim = 1 : i64}},
                %wk: tensor<8x16xf32> {llm.param = "wk", llm.split = {axis = "tp", dim = 1 : i64}},
                %wv: tensor<8x16xf32> {llm.param = "wv", llm.split = {axis = "tp", dim = 1 : i64}},
                %wo: tensor<16x8xf32> {llm.param = "wo", llm.split = {axis = "tp", dim = 0 : i64}})
    -> (tensor<4x8xf32> {llm.output = "y"}) {
  %q = llm.matmul %x, %wq : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %k = llm.matmul %x, %wk : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %v = llm.matmul %x, %wv : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %qk = llm.mul %q, %k : tensor<4x16xf32>, tensor<4x16xf32>
  %h = llm.mul %qk, %v : tensor<4x16xf32>, tensor<4x16xf32>
  %y = llm.matmul %h, %wo : (tensor<4x16xf32>, tensor<16x8xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// Tests sequence parallelism: the body marks the residual stream split along
// the sequence (dimension 1), so the stream enters the column-parallel GEMM
// through an all-gather, and the row-parallel GEMM leaves through a
// reduce-scatter into it: shard-partition's all_reduce, bias add and slice
// become a reduce-scatter and the bias added to the slice. In the backward
// pass the seed is gathered for the GEMMs and the input gradient's partial
// sums are reduce-scattered (all_reduce then slice, fused); the bias
// gradient, a sum over this rank's tokens only, is all-reduced.
// CHECK-LABEL: func.func @loss_grad(
// CHECK-SAME: %[[X:[^:]*]]: tensor<1x2x8xf32> {llm.input = "x"}
// CHECK-SAME: %[[W1:[^:]*]]: tensor<8x16xf32> {llm.param = "w1"
// CHECK-SAME: %[[B1:[^:]*]]: tensor<16xf32> {llm.param = "b1"
// CHECK-SAME: %[[W2:[^:]*]]: tensor<16x8xf32> {llm.param = "w2"
// CHECK-SAME: %[[B2:[^:]*]]: tensor<8xf32> {llm.param = "b2"}
// CHECK-SAME: %[[DY:[^:]*]]: tensor<1x2x8xf32> {llm.input = "grad_y"})
// CHECK-SAME: -> (tensor<1x2x8xf32> {llm.output = "y"}, tensor<1x2x8xf32> {llm.output = "grad_x"},
// CHECK-NEXT: %[[XG:.*]] = llm.all_gather %[[X]] {axis = "tp", dim = 1 : i64, llm.layer = 0 : i64, llm.role = "forward"} : (tensor<1x2x8xf32>) -> tensor<1x4x8xf32>
// CHECK-NEXT: %[[H:.*]] = llm.matmul %[[XG]], %[[W1]], %[[B1]] {llm.layer = 0 : i64, llm.role = "forward"} : (tensor<1x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<1x4x16xf32>
// CHECK-NEXT: %[[G:.*]] = llm.gelu %[[H]]
// CHECK-NEXT: %[[P:.*]] = llm.matmul %[[G]], %[[W2]] {llm.layer = 0 : i64, llm.role = "forward"} : (tensor<1x4x16xf32>, tensor<16x8xf32>) -> tensor<1x4x8xf32>
// CHECK-NEXT: %[[RS:.*]] = llm.reduce_scatter %[[P]] {axis = "tp", dim = 1 : i64, llm.layer = 0 : i64, llm.role = "forward"} : (tensor<1x4x8xf32>) -> tensor<1x2x8xf32>
// CHECK-NEXT: %[[M:.*]] = llm.add %[[RS]], %[[B2]] {llm.layer = 0 : i64, llm.role = "forward"} : tensor<1x2x8xf32>, tensor<8xf32>
// CHECK-NEXT: %[[Y:.*]] = llm.add %[[X]], %[[M]] {llm.layer = 0 : i64, llm.role = "forward"} : tensor<1x2x8xf32>, tensor<1x2x8xf32>
// CHECK-NEXT: %[[DYG:.*]] = llm.all_gather %[[DY]] {axis = "tp", dim = 1 : i64, llm.layer = 0 : i64, llm.role = "backward"} : (tensor<1x2x8xf32>) -> tensor<1x4x8xf32>
// CHECK-NEXT: llm.matmul %[[DYG]], %[[W2]] transpose_rhs
// CHECK:      %[[DB2P:.*]] = llm.sum_to %[[DY]] {llm.layer = 0 : i64, llm.role = "backward"} : tensor<1x2x8xf32> -> tensor<8xf32>
// CHECK-NEXT: %[[DB2:.*]] = llm.all_reduce %[[DB2P]] {axis = "tp", llm.layer = 0 : i64, llm.role = "backward"} : (tensor<8xf32>) -> tensor<8xf32>
// CHECK:      %[[DXP:.*]] = llm.matmul %{{.*}}, %[[W1]] transpose_rhs {llm.layer = 0 : i64, llm.role = "backward"} : (tensor<1x4x16xf32>, tensor<8x16xf32>) -> tensor<1x4x8xf32>
// CHECK-NOT:  llm.scatter_to_parallel
// CHECK:      %[[DXS:.*]] = llm.reduce_scatter %[[DXP]] {axis = "tp", dim = 1 : i64, llm.layer = 0 : i64, llm.role = "backward"} : (tensor<1x4x8xf32>) -> tensor<1x2x8xf32>
// CHECK-NEXT: %[[DX:.*]] = llm.add %[[DY]], %[[DXS]] {llm.layer = 0 : i64, llm.role = "backward"}
// CHECK-NEXT: return %[[Y]], %[[DX]], %{{.*}}, %{{.*}}, %{{.*}}, %[[DB2]] :
// The forward alone returns this rank's slice of the sequence, which
// gather-results gathers back to the whole sequence at the return.
// GATHER-LABEL: func.func @loss(
// GATHER-SAME: -> (tensor<1x4x8xf32> {llm.output = "y"})
// GATHER:      %[[RS:.*]] = llm.reduce_scatter %{{.*}} {axis = "tp", dim = 1 : i64, llm.layer = 0 : i64}
// GATHER:      %[[Y:.*]] = llm.add %{{.*}}, %{{.*}} {llm.layer = 0 : i64} : tensor<1x2x8xf32>, tensor<1x2x8xf32>
// GATHER-NEXT: %[[YG:.*]] = llm.all_gather %[[Y]] {axis = "tp", dim = 1 : i64} : (tensor<1x2x8xf32>) -> tensor<1x4x8xf32>
// GATHER-NEXT: return %[[YG]] : tensor<1x4x8xf32>
shard.grid @tp(shape = 2)
func.func @loss(%x: tensor<1x4x8xf32> {llm.input = "x"},
                %w1: tensor<8x32xf32> {llm.param = "w1", llm.split = {axis = "tp", dim = 1 : i64}},
                %b1: tensor<32xf32> {llm.param = "b1", llm.split = {axis = "tp", dim = 0 : i64}},
                %w2: tensor<32x8xf32> {llm.param = "w2", llm.split = {axis = "tp", dim = 0 : i64}},
                %b2: tensor<8xf32> {llm.param = "b2"})
    -> (tensor<1x4x8xf32> {llm.output = "y"}) {
  %seq = shard.sharding @tp split_axes = [[], [0]] : !shard.sharding
  %xs = shard.shard %x to %seq : tensor<1x4x8xf32>
  %h = llm.matmul %xs, %w1, %b1 {llm.layer = 0 : i64} : (tensor<1x4x8xf32>, tensor<8x32xf32>, tensor<32xf32>) -> tensor<1x4x32xf32>
  %g = llm.gelu %h approximate = tanh {llm.layer = 0 : i64} : tensor<1x4x32xf32>
  %m = llm.matmul %g, %w2, %b2 {llm.layer = 0 : i64} : (tensor<1x4x32xf32>, tensor<32x8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
  %y = llm.add %xs, %m {llm.layer = 0 : i64} : tensor<1x4x8xf32>, tensor<1x4x8xf32>
  %ys = shard.shard %y to %seq : tensor<1x4x8xf32>
  return %ys : tensor<1x4x8xf32>
}

// -----

// Tests a vocab-parallel LM head (the weight split along the vocabulary):
// the differentiated step returns this rank's columns of the logits, and the
// gradient seed, which arrives whole, is sliced to them. With gather-results
// the forward's logits are all-gathered along the vocabulary, and the
// function's result type is the whole [4, 16] again.
// CHECK-LABEL: func.func @loss_grad(
// CHECK-SAME: %[[X:[^:]*]]: tensor<4x8xf32> {llm.input = "x"}, %[[W:[^:]*]]: tensor<8x8xf32> {llm.param = "wte", llm.shard = {axis = "tp", blocks = 1 : i64, dim = 0 : i64, parts = 2 : i64}}, %[[DL:[^:]*]]: tensor<4x16xf32> {llm.input = "grad_logits"})
// CHECK-SAME: -> (tensor<4x8xf32> {llm.output = "logits"}, tensor<4x8xf32> {llm.output = "grad_x"}, tensor<8x8xf32> {llm.grad_of = "wte"})
// CHECK-NEXT: %[[L:.*]] = llm.matmul %[[X]], %[[W]] transpose_rhs {llm.role = "forward"} : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
// CHECK-NEXT: %[[DLS:.*]] = llm.scatter_to_parallel %[[DL]] {axis = "tp", dim = 1 : i64, llm.role = "backward"} : (tensor<4x16xf32>) -> tensor<4x8xf32>
// CHECK:      return %[[L]], %{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<4x8xf32>, tensor<8x8xf32>
// GATHER-LABEL: func.func @loss(
// GATHER-SAME: %[[X:[^:]*]]: tensor<4x8xf32> {llm.input = "x"}, %[[W:[^:]*]]: tensor<8x8xf32> {llm.param = "wte", llm.shard = {axis = "tp", blocks = 1 : i64, dim = 0 : i64, parts = 2 : i64}}) -> (tensor<4x16xf32> {llm.output = "logits"})
// GATHER-NEXT: %[[L:.*]] = llm.matmul %[[X]], %[[W]] transpose_rhs : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
// GATHER-NEXT: %[[LG:.*]] = llm.all_gather %[[L]] {axis = "tp", dim = 1 : i64} : (tensor<4x8xf32>) -> tensor<4x16xf32>
// GATHER-NEXT: return %[[LG]] : tensor<4x16xf32>
shard.grid @tp(shape = 2)
func.func @loss(%x: tensor<4x8xf32> {llm.input = "x"},
                %wte: tensor<16x8xf32> {llm.param = "wte", llm.split = {axis = "tp", dim = 0 : i64}})
    -> (tensor<4x16xf32> {llm.output = "logits"}) {
  %l = llm.matmul %x, %wte transpose_rhs : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  return %l : tensor<4x16xf32>
}

// -----

// Tests a blocked split (GPT-2's fused c_attn, [C, 3C] seen as [C, 3, C] and
// split along its last dimension): the argument is stored merged, as in the
// checkpoint, as [C, 3·C/tp] with `blocks = 3` along dimension 1, reshaped to
// its blocks on entry; its gradient is merged back right where it is
// complete.
// CHECK-LABEL: func.func @loss_grad(
// CHECK-SAME: %[[W:[^:]*]]: tensor<8x12xf32> {llm.param = "c_attn", llm.shard = {axis = "tp", blocks = 3 : i64, dim = 1 : i64, parts = 2 : i64}}
// CHECK-SAME: -> (tensor<4x4xf32> {llm.output = "y"}, tensor<4x8xf32> {llm.output = "grad_x"}, tensor<8x12xf32> {llm.grad_of = "c_attn"})
// CHECK-NEXT: %[[WB:.*]] = llm.reshape %[[W]] : tensor<8x12xf32> -> tensor<8x3x4xf32>
// CHECK-NEXT: llm.split %[[WB]] axis = 1 {llm.role = "forward"} : tensor<8x3x4xf32> -> tensor<8x1x4xf32>, tensor<8x1x4xf32>, tensor<8x1x4xf32>
// CHECK:      %[[DWB:.*]] = llm.concat {{.*}} -> tensor<8x3x4xf32>
// CHECK-NEXT: %[[DW:.*]] = llm.reshape %[[DWB]] : tensor<8x3x4xf32> -> tensor<8x12xf32>
// CHECK:      return %{{.*}}, %{{.*}}, %[[DW]] : tensor<4x4xf32>, tensor<4x8xf32>, tensor<8x12xf32>
// GATHER-LABEL: func.func @loss(
// GATHER-SAME: tensor<8x12xf32> {llm.param = "c_attn", llm.shard = {axis = "tp", blocks = 3 : i64, dim = 1 : i64, parts = 2 : i64}}) -> (tensor<4x8xf32> {llm.output = "y"})
// GATHER:      llm.all_gather %{{.*}} {axis = "tp", dim = 1 : i64} : (tensor<4x4xf32>) -> tensor<4x8xf32>
// GATHER-NEXT: return
shard.grid @tp(shape = 2)
func.func @loss(%x: tensor<4x8xf32> {llm.input = "x"},
                %w: tensor<8x3x8xf32> {llm.param = "c_attn", llm.split = {axis = "tp", dim = 2 : i64, blocked}})
    -> (tensor<4x8xf32> {llm.output = "y"}) {
  %b:3 = llm.split %w axis = 1 : tensor<8x3x8xf32> -> tensor<8x1x8xf32>, tensor<8x1x8xf32>, tensor<8x1x8xf32>
  %wq = llm.reshape %b#0 : tensor<8x1x8xf32> -> tensor<8x8xf32>
  %wk = llm.reshape %b#1 : tensor<8x1x8xf32> -> tensor<8x8xf32>
  %wv = llm.reshape %b#2 : tensor<8x1x8xf32> -> tensor<8x8xf32>
  %q = llm.matmul %x, %wq : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %k = llm.matmul %x, %wk : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %v = llm.matmul %x, %wv : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %qk = llm.mul %q, %k : tensor<4x8xf32>, tensor<4x8xf32>
  %y = llm.mul %qk, %v : tensor<4x8xf32>, tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// Tests that a function without `llm.split` marks (tensor parallelism off)
// is left as it is: no grid is needed, nothing is annotated or recorded.
// CHECK-LABEL: func.func @loss_grad(
// CHECK-SAME: %{{[^:]*}}: tensor<8x8xf32> {llm.param = "w"}
// CHECK-NOT:  llm.shard
// CHECK-NOT:  llm.all_reduce
// CHECK:      return
// GATHER-LABEL: func.func @loss(
// GATHER-SAME: %{{[^:]*}}: tensor<8x8xf32> {llm.param = "w"}) -> (tensor<4x8xf32> {llm.output = "y"})
// GATHER-NEXT: llm.matmul
// GATHER-NEXT: return
func.func @loss(%x: tensor<4x8xf32> {llm.input = "x"}, %w: tensor<8x8xf32> {llm.param = "w"})
    -> (tensor<4x8xf32> {llm.output = "y"}) {
  %y = llm.matmul %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// Tests that attention whose 3 heads the 2-way grid cannot split evenly is
// refused, naming the mesh option, before anything is partitioned.
shard.grid @tp(shape = 2)
func.func @loss(%x: tensor<1x3x4x8xf32> {llm.input = "x"},
                %w: tensor<8x8xf32> {llm.param = "w", llm.split = {axis = "tp", dim = 1 : i64}})
    -> (tensor<1x3x4x8xf32> {llm.output = "y"}) {
  %q = llm.matmul %x, %w : (tensor<1x3x4x8xf32>, tensor<8x8xf32>) -> tensor<1x3x4x8xf32>
  // expected-error@+1 {{'llm.attention' op has heads that --mesh tp=2 does not divide}}
  %a = llm.attention %q, %q, %q causal : (tensor<1x3x4x8xf32>, tensor<1x3x4x8xf32>, tensor<1x3x4x8xf32>) -> tensor<1x3x4x8xf32>
  return %a : tensor<1x3x4x8xf32>
}

// -----

// Tests that `llm.split` marks naming a grid the module does not declare are
// refused.
// expected-error@+1 {{llmc-partition-tensor-parallel: no 1-D grid @tp for its llm.split marks}}
func.func @loss(%x: tensor<4x8xf32> {llm.input = "x"},
                %w: tensor<8x8xf32> {llm.param = "w", llm.split = {axis = "tp", dim = 1 : i64}})
    -> (tensor<4x8xf32> {llm.output = "y"}) {
  %y = llm.matmul %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// Tests that a grid of more than one dimension is refused: the marks name one
// mesh axis, which a 1-D grid is.
shard.grid @tp(shape = 2x2)
// expected-error@+1 {{llmc-partition-tensor-parallel: no 1-D grid @tp for its llm.split marks}}
func.func @loss(%x: tensor<4x8xf32> {llm.input = "x"},
                %w: tensor<8x8xf32> {llm.param = "w", llm.split = {axis = "tp", dim = 1 : i64}})
    -> (tensor<4x8xf32> {llm.output = "y"}) {
  %y = llm.matmul %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// Tests a blocked split one of whose pieces nothing reads (a fused weight
// whose third block the model ignores): propagation annotates values through
// their users, so that result has no sharding, and the split's model gives it
// the one its loops imply (the pieces split like the operand) instead of
// crashing. Its gradient is zero, split the same way.
// CHECK-LABEL: func.func @loss_grad(
// CHECK-SAME: %[[W:[^:]*]]: tensor<8x12xf32> {llm.param = "c_attn", llm.shard = {axis = "tp", blocks = 3 : i64, dim = 1 : i64, parts = 2 : i64}}
// CHECK:      %[[WB:.*]] = llm.reshape %[[W]] : tensor<8x12xf32> -> tensor<8x3x4xf32>
// CHECK:      %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : tensor<8x1x4xf32>
// CHECK:      llm.split %[[WB]] axis = 1 {llm.role = "forward"} : tensor<8x3x4xf32> -> tensor<8x1x4xf32>, tensor<8x1x4xf32>, tensor<8x1x4xf32>
// CHECK:      llm.concat %{{.*}}, %{{.*}}, %[[ZERO]] axis = 1 {{.*}} -> tensor<8x3x4xf32>
// GATHER-LABEL: func.func @loss(
// GATHER:      llm.split %{{.*}} axis = 1 : tensor<8x3x4xf32> -> tensor<8x1x4xf32>, tensor<8x1x4xf32>, tensor<8x1x4xf32>
// GATHER:      llm.all_gather %{{.*}} {axis = "tp", dim = 1 : i64} : (tensor<4x4xf32>) -> tensor<4x8xf32>
// GATHER-NEXT: return
shard.grid @tp(shape = 2)
func.func @loss(%x: tensor<4x8xf32> {llm.input = "x"},
                %w: tensor<8x3x8xf32> {llm.param = "c_attn", llm.split = {axis = "tp", dim = 2 : i64, blocked}})
    -> (tensor<4x8xf32> {llm.output = "y"}) {
  %b:3 = llm.split %w axis = 1 : tensor<8x3x8xf32> -> tensor<8x1x8xf32>, tensor<8x1x8xf32>, tensor<8x1x8xf32>
  %wq = llm.reshape %b#0 : tensor<8x1x8xf32> -> tensor<8x8xf32>
  %wk = llm.reshape %b#1 : tensor<8x1x8xf32> -> tensor<8x8xf32>
  %q = llm.matmul %x, %wq : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %k = llm.matmul %x, %wk : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %y = llm.mul %q, %k : tensor<4x8xf32>, tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}
