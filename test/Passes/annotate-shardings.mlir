// RUN: llmc-opt %s --split-input-file --llmc-annotate-shardings --verify-diagnostics | FileCheck %s
// RUN: llmc-opt %s --split-input-file --llmc-annotate-shardings=grid=dp --verify-diagnostics | FileCheck %s --check-prefix=GRID
// RUN: not llmc-opt %s --split-input-file --llmc-annotate-shardings=grid=nope 2>&1 | FileCheck %s --check-prefix=NOGRID

// Each case is a differentiated function as llmc-autodiff builds it, with
// the frontend's `llm.split` marks on its parameters. Every module declares
// a @dp grid as well as @tp, for the second RUN line (grid=dp).

// Tests that every ranked argument is annotated exactly once, at the top of
// the body: the parameter marked `llm.split = {axis = "tp", dim = 1}` is
// split along dimension 1 over @tp, every other ranked argument (an input, an
// unmarked parameter) is replicated over the grid, a scalar is left alone,
// and the body reads the annotated values. Each returned gradient
// (`llm.grad_of`) gets its parameter's sharding, so propagation keeps it a
// local shard; the loss, which is no gradient, is returned as it was.
// CHECK-LABEL: func.func @loss_grad(
// CHECK-SAME: %[[X:[^:]*]]: tensor<4x8xf32> {llm.input = "x"}, %[[W:[^:]*]]: tensor<8x32xf32> {llm.param = "w", llm.split = {axis = "tp", dim = 1 : i64}}, %[[B:[^:]*]]: tensor<32xf32> {llm.param = "b"}, %[[L:[^:]*]]: tensor<f32>)
// CHECK-NEXT: %[[REPX:.*]] = shard.sharding @tp split_axes = {{\[\[}}], []] : !shard.sharding
// CHECK-NEXT: %[[XS:.*]] = shard.shard %[[X]] to %[[REPX]] : tensor<4x8xf32>
// CHECK-NEXT: %[[COL:.*]] = shard.sharding @tp split_axes = {{\[\[}}], [0]] : !shard.sharding
// CHECK-NEXT: %[[WS:.*]] = shard.shard %[[W]] to %[[COL]] : tensor<8x32xf32>
// CHECK-NEXT: %[[REPB:.*]] = shard.sharding @tp split_axes = {{\[\[}}]] : !shard.sharding
// CHECK-NEXT: %[[BS:.*]] = shard.shard %[[B]] to %[[REPB]] : tensor<32xf32>
// CHECK-NOT:  shard.shard %[[L]]
// CHECK-NEXT: %[[Y:.*]] = llm.matmul %[[XS]], %[[WS]], %[[BS]]
// CHECK-NEXT: %[[DW:.*]] = llm.matmul %[[XS]], %[[Y]] transpose_lhs
// CHECK-NEXT: %[[DB:.*]] = llm.sum_to %[[Y]]
// CHECK-NEXT: %[[DWS:.*]] = shard.shard %[[DW]] to %[[COL]] : tensor<8x32xf32>
// CHECK-NEXT: %[[DBS:.*]] = shard.shard %[[DB]] to %[[REPB]] : tensor<32xf32>
// CHECK-NEXT: return %[[L]], %[[DWS]], %[[DBS]] : tensor<f32>, tensor<8x32xf32>, tensor<32xf32>

// Tests that the `grid` option picks the grid that replicated arguments are
// annotated on, while a split parameter keeps the grid its `llm.split` names.
// GRID-LABEL: func.func @loss_grad(
// GRID-SAME: %[[X:[^:]*]]: tensor<4x8xf32> {llm.input = "x"}, %[[W:[^:]*]]: tensor<8x32xf32> {{.*}}, %[[B:[^:]*]]: tensor<32xf32> {llm.param = "b"}
// GRID-NEXT: %[[REPX:.*]] = shard.sharding @dp split_axes = {{\[\[}}], []] : !shard.sharding
// GRID-NEXT: shard.shard %[[X]] to %[[REPX]]
// GRID-NEXT: %[[COL:.*]] = shard.sharding @tp split_axes = {{\[\[}}], [0]] : !shard.sharding
// GRID-NEXT: shard.shard %[[W]] to %[[COL]]
// GRID-NEXT: %[[REPB:.*]] = shard.sharding @dp split_axes = {{\[\[}}]] : !shard.sharding
// GRID-NEXT: shard.shard %[[B]] to %[[REPB]]
shard.grid @tp(shape = 2)
shard.grid @dp(shape = 2)
func.func @loss_grad(%x: tensor<4x8xf32> {llm.input = "x"},
                     %w: tensor<8x32xf32> {llm.param = "w", llm.split = {axis = "tp", dim = 1 : i64}},
                     %b: tensor<32xf32> {llm.param = "b"}, %l: tensor<f32>)
    -> (tensor<f32> {llm.output = "loss"}, tensor<8x32xf32> {llm.grad_of = "w"},
        tensor<32xf32> {llm.grad_of = "b"}) {
  %y = llm.matmul %x, %w, %b : (tensor<4x8xf32>, tensor<8x32xf32>, tensor<32xf32>) -> tensor<4x32xf32>
  %dw = llm.matmul %x, %y transpose_lhs : (tensor<4x8xf32>, tensor<4x32xf32>) -> tensor<8x32xf32>
  %db = llm.sum_to %y : tensor<4x32xf32> -> tensor<32xf32>
  return %l, %dw, %db : tensor<f32>, tensor<8x32xf32>, tensor<32xf32>
}

// -----

// Tests sequence parallelism's entry: an argument the body already annotates
// (the residual stream split along the sequence) gets no second annotation,
// and the seed `grad_y` of an output `y` that the body returns through a
// shard.shard is sharded as `y` is (a copy of its sharding), not replicated.
// CHECK-LABEL: func.func @seed_of_annotated_output(
// CHECK-SAME: %[[H:[^:]*]]: tensor<4x8xf32> {llm.input = "h"}, %[[W:[^:]*]]: tensor<8x8xf32> {llm.param = "w"}, %[[G:[^:]*]]: tensor<4x8xf32> {llm.input = "grad_y"})
// CHECK-NEXT: %[[REP:.*]] = shard.sharding @tp split_axes = {{\[\[}}], []] : !shard.sharding
// CHECK-NEXT: %[[WS:.*]] = shard.shard %[[W]] to %[[REP]]
// CHECK-NEXT: %[[SEQ:.*]] = shard.sharding @tp split_axes = {{\[\[}}0]] : !shard.sharding
// CHECK-NEXT: %[[GS:.*]] = shard.shard %[[G]] to %[[SEQ]] : tensor<4x8xf32>
// CHECK-NEXT: %[[ORIG:.*]] = shard.sharding @tp split_axes = {{\[\[}}0]] : !shard.sharding
// CHECK-NEXT: %[[HS:.*]] = shard.shard %[[H]] to %[[ORIG]]
// CHECK-NOT:  shard.shard %[[H]]
// CHECK:      %[[Y:.*]] = llm.matmul %[[HS]], %[[WS]]
// CHECK:      %[[YS:.*]] = shard.shard %[[Y]] to %[[ORIG]]
// CHECK:      llm.add %[[GS]], %[[YS]]
shard.grid @tp(shape = 2)
shard.grid @dp(shape = 2)
func.func @seed_of_annotated_output(%h: tensor<4x8xf32> {llm.input = "h"},
                                    %w: tensor<8x8xf32> {llm.param = "w"},
                                    %g: tensor<4x8xf32> {llm.input = "grad_y"})
    -> (tensor<4x8xf32> {llm.output = "y"}, tensor<4x8xf32> {llm.output = "z"}) {
  %seq = shard.sharding @tp split_axes = [[0]] : !shard.sharding
  %hs = shard.shard %h to %seq : tensor<4x8xf32>
  %y = llm.matmul %hs, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %ys = shard.shard %y to %seq : tensor<4x8xf32>
  %z = llm.add %g, %ys : tensor<4x8xf32>, tensor<4x8xf32>
  return %ys, %z : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// Tests that an llm.split naming a grid that does not exist is refused
// instead of building a sharding the verifier rejects.
shard.grid @tp(shape = 2)
// expected-error@+1 {{llmc-annotate-shardings: no grid @sp for the llm.split of argument 1}}
func.func @split_on_missing_grid(%x: tensor<4x8xf32> {llm.input = "x"},
                                 %w: tensor<8x32xf32> {llm.param = "w", llm.split = {axis = "sp", dim = 1 : i64}})
    -> tensor<4x32xf32> {
  %y = llm.matmul %x, %w : (tensor<4x8xf32>, tensor<8x32xf32>) -> tensor<4x32xf32>
  return %y : tensor<4x32xf32>
}

// -----

// Tests that a `grid` option naming a grid that does not exist is refused
// (the NOGRID run, where every function with a replicated argument, this
// one included, fails so).
// NOGRID: error: llmc-annotate-shardings: no grid @nope (option grid=) to replicate argument 0 over
// CHECK-LABEL: func.func @replicated(
// CHECK-NEXT: shard.sharding @tp split_axes = {{\[\[}}], []] : !shard.sharding
// GRID-LABEL: func.func @replicated(
// GRID-NEXT: shard.sharding @dp split_axes = {{\[\[}}], []] : !shard.sharding
shard.grid @tp(shape = 2)
shard.grid @dp(shape = 2)
func.func @replicated(%x: tensor<4x8xf32> {llm.input = "x"}) -> tensor<4x8xf32> {
  return %x : tensor<4x8xf32>
}

// -----

// Tests that a declaration, which has no body to annotate, is left alone.
// CHECK-LABEL: func.func private @external(tensor<4x8xf32> {llm.param = "w", llm.split = {axis = "tp", dim = 1 : i64}}) -> tensor<4x8xf32>
// CHECK-NOT: shard.
shard.grid @tp(shape = 2)
func.func private @external(tensor<4x8xf32> {llm.param = "w", llm.split = {axis = "tp", dim = 1 : i64}}) -> tensor<4x8xf32>

// -----

// Tests that a split along a dimension the parameter does not have is
// refused instead of building an invalid sharding.
shard.grid @tp(shape = 2)
// expected-error@+1 {{llmc-annotate-shardings: argument 1 has a malformed llm.split {axis = "tp", dim = 2 : i64}}}
func.func @split_dim_out_of_range(%x: tensor<4x8xf32> {llm.input = "x"},
                                  %w: tensor<8x32xf32> {llm.param = "w", llm.split = {axis = "tp", dim = 2 : i64}})
    -> tensor<4x32xf32> {
  %y = llm.matmul %x, %w : (tensor<4x8xf32>, tensor<8x32xf32>) -> tensor<4x32xf32>
  return %y : tensor<4x32xf32>
}

// -----

// Tests that a split that names no grid axis is refused.
shard.grid @tp(shape = 2)
// expected-error@+1 {{llmc-annotate-shardings: argument 0 has a malformed llm.split {dim = 0 : i64}}}
func.func @split_without_axis(%w: tensor<8x32xf32> {llm.param = "w", llm.split = {dim = 0 : i64}})
    -> tensor<8x32xf32> {
  return %w : tensor<8x32xf32>
}

// -----

// Tests that a negative split dimension is refused.
shard.grid @tp(shape = 2)
// expected-error@+1 {{llmc-annotate-shardings: argument 0 has a malformed llm.split {axis = "tp", dim = -1 : i64}}}
func.func @split_negative_dim(%w: tensor<8x32xf32> {llm.param = "w", llm.split = {axis = "tp", dim = -1 : i64}})
    -> tensor<8x32xf32> {
  return %w : tensor<8x32xf32>
}

