// RUN: llmc-opt %s --split-input-file --llmc-lower-shard-collectives --verify-diagnostics | FileCheck %s

// The inputs are what shard-partition leaves: shard collectives on a 1-D
// grid, between llm ops tagged with their pass (`llm.role`) and layer.

// Tests that a sum all-reduce becomes llm.all_reduce on the mesh axis named
// after the grid, and that it takes the role and layer of the op that
// consumes it (a forward value reduced for the backward pass belongs to the
// backward pass), not of the op that produced its input.
// CHECK-LABEL: func.func @all_reduce(
// CHECK-SAME: %[[X:[^:]*]]: tensor<4x8xf32>)
// CHECK-NEXT: %[[P:.*]] = llm.gelu %[[X]] approximate = tanh {llm.layer = 1 : i64, llm.role = "forward"}
// CHECK-NEXT: %[[R:.*]] = llm.all_reduce %[[P]] {axis = "tp", llm.layer = 0 : i64, llm.role = "backward"} : (tensor<4x8xf32>) -> tensor<4x8xf32>
// CHECK-NEXT: %[[Y:.*]] = llm.add %[[R]], %[[X]] {llm.layer = 0 : i64, llm.role = "backward"}
// CHECK-NEXT: return %[[Y]]
shard.grid @tp(shape = 2)
func.func @all_reduce(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %p = llm.gelu %x approximate = tanh {llm.role = "forward", llm.layer = 1 : i64} : tensor<4x8xf32>
  %r = shard.all_reduce %p on @tp grid_axes = [0] : tensor<4x8xf32> -> tensor<4x8xf32>
  %y = llm.add %r, %x {llm.role = "backward", llm.layer = 0 : i64} : tensor<4x8xf32>, tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// Tests that an all-gather, a reduce-scatter and an all-slice become
// llm.all_gather, llm.reduce_scatter and llm.scatter_to_parallel along the
// same tensor dimension, with the result types shard-partition gave them.
// Each is returned, so it has no tagged consumer and belongs to the op it
// completes: it takes its input's producer's role and layer.
// CHECK-LABEL: func.func @gather_scatter_slice(
// CHECK: %[[H:.*]] = llm.gelu %{{.*}} {llm.layer = 3 : i64, llm.role = "forward"}
// CHECK-NEXT: %[[G:.*]] = llm.all_gather %[[H]] {axis = "tp", dim = 0 : i64, llm.layer = 3 : i64, llm.role = "forward"} : (tensor<4x8xf32>) -> tensor<8x8xf32>
// CHECK-NEXT: %[[S:.*]] = llm.reduce_scatter %[[H]] {axis = "tp", dim = 0 : i64, llm.layer = 3 : i64, llm.role = "forward"} : (tensor<4x8xf32>) -> tensor<2x8xf32>
// CHECK-NEXT: %[[C:.*]] = llm.scatter_to_parallel %[[H]] {axis = "tp", dim = 1 : i64, llm.layer = 3 : i64, llm.role = "forward"} : (tensor<4x8xf32>) -> tensor<4x4xf32>
// CHECK-NEXT: return %[[G]], %[[S]], %[[C]]
shard.grid @tp(shape = 2)
func.func @gather_scatter_slice(%x: tensor<4x8xf32>)
    -> (tensor<8x8xf32>, tensor<2x8xf32>, tensor<4x4xf32>) {
  %h = llm.gelu %x approximate = tanh {llm.role = "forward", llm.layer = 3 : i64} : tensor<4x8xf32>
  %g = shard.all_gather %h on @tp grid_axes = [0] gather_axis = 0 : tensor<4x8xf32> -> tensor<8x8xf32>
  %s = shard.reduce_scatter %h on @tp grid_axes = [0] scatter_axis = 0 : tensor<4x8xf32> -> tensor<2x8xf32>
  %c = shard.all_slice %h on @tp grid_axes = [0] slice_axis = 1 : tensor<4x8xf32> -> tensor<4x4xf32>
  return %g, %s, %c : tensor<8x8xf32>, tensor<2x8xf32>, tensor<4x4xf32>
}

// -----

// Tests that a collective of a function argument, which shard-partition puts
// at the entry, moves to just before its first user (a backward pass's
// gradient seed is gathered in the backward pass), and takes that user's
// tags; the grid's name, whatever it is, becomes the axis.
// CHECK-LABEL: func.func @argument_collective_moves(
// CHECK-SAME: %[[X:[^:]*]]: tensor<4x8xf32>, %[[SEED:[^:]*]]: tensor<2x8xf32>)
// CHECK-NEXT: %[[F:.*]] = llm.gelu %[[X]] approximate = tanh {llm.layer = 0 : i64, llm.role = "forward"}
// CHECK-NEXT: %[[G:.*]] = llm.all_gather %[[SEED]] {axis = "model", dim = 0 : i64, llm.layer = 0 : i64, llm.role = "backward"} : (tensor<2x8xf32>) -> tensor<4x8xf32>
// CHECK-NEXT: %[[B:.*]] = llm.mul %[[G]], %[[F]] {llm.layer = 0 : i64, llm.role = "backward"}
// CHECK-NEXT: return %[[B]]
shard.grid @model(shape = 2)
func.func @argument_collective_moves(%x: tensor<4x8xf32>, %seed: tensor<2x8xf32>) -> tensor<4x8xf32> {
  %g = shard.all_gather %seed on @model grid_axes = [0] gather_axis = 0 : tensor<2x8xf32> -> tensor<4x8xf32>
  %f = llm.gelu %x approximate = tanh {llm.role = "forward", llm.layer = 0 : i64} : tensor<4x8xf32>
  %b = llm.mul %g, %f {llm.role = "backward", llm.layer = 0 : i64} : tensor<4x8xf32>, tensor<4x8xf32>
  return %b : tensor<4x8xf32>
}

// -----

// Tests that a function without shard collectives is left as it is.
// CHECK-LABEL: func.func @nothing_to_lower(
// CHECK-NEXT: llm.gelu
// CHECK-NEXT: return
func.func @nothing_to_lower(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %y = llm.gelu %x approximate = tanh : tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// Tests that an all-reduce taking the max is refused: llm.all_reduce sums.
shard.grid @tp(shape = 2)
func.func @all_reduce_max(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error@+1 {{'shard.all_reduce' op llmc-lower-shard-collectives: only sums lower}}
  %r = shard.all_reduce %x on @tp grid_axes = [0] reduction = max : tensor<4x8xf32> -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

// -----

// Tests that a collective over both axes of a 2-D grid is refused: an llm
// collective runs over one named mesh axis.
shard.grid @g(shape = 2x2)
func.func @two_grid_axes(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error@+1 {{'shard.all_reduce' op llmc-lower-shard-collectives: only collectives over one grid axis (axis 0) lower to llm ops}}
  %r = shard.all_reduce %x on @g grid_axes = [0, 1] : tensor<4x8xf32> -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

// -----

// Tests that a collective over a grid axis other than the first is refused,
// for each kind of collective.
shard.grid @g(shape = 2x2)
func.func @second_grid_axis(%x: tensor<4x8xf32>) -> tensor<8x8xf32> {
  // expected-error@+1 {{'shard.all_gather' op llmc-lower-shard-collectives: only collectives over one grid axis (axis 0) lower to llm ops}}
  %r = shard.all_gather %x on @g grid_axes = [1] gather_axis = 0 : tensor<4x8xf32> -> tensor<8x8xf32>
  return %r : tensor<8x8xf32>
}

// -----

shard.grid @g(shape = 2x2)
func.func @second_grid_axis_reduce_scatter(%x: tensor<4x8xf32>) -> tensor<2x8xf32> {
  // expected-error@+1 {{'shard.reduce_scatter' op llmc-lower-shard-collectives: only collectives over one grid axis (axis 0) lower to llm ops}}
  %r = shard.reduce_scatter %x on @g grid_axes = [1] scatter_axis = 0 : tensor<4x8xf32> -> tensor<2x8xf32>
  return %r : tensor<2x8xf32>
}

// -----

shard.grid @g(shape = 2x2)
func.func @second_grid_axis_all_slice(%x: tensor<4x8xf32>) -> tensor<4x4xf32> {
  // expected-error@+1 {{'shard.all_slice' op llmc-lower-shard-collectives: only collectives over one grid axis (axis 0) lower to llm ops}}
  %r = shard.all_slice %x on @g grid_axes = [1] slice_axis = 1 : tensor<4x8xf32> -> tensor<4x4xf32>
  return %r : tensor<4x4xf32>
}

// -----

// Tests that a collective over no grid axis is refused rather than lowered
// to a collective over the whole grid.
shard.grid @tp(shape = 2)
func.func @no_grid_axis(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error@+1 {{'shard.all_reduce' op llmc-lower-shard-collectives: only collectives over one grid axis (axis 0) lower to llm ops}}
  %r = shard.all_reduce %x on @tp : tensor<4x8xf32> -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

// -----

// Tests that a reduce-scatter taking the max is refused: llm.reduce_scatter
// sums.
shard.grid @tp(shape = 2)
func.func @reduce_scatter_max(%x: tensor<4x8xf32>) -> tensor<2x8xf32> {
  // expected-error@+1 {{'shard.reduce_scatter' op llmc-lower-shard-collectives: only sums lower}}
  %r = shard.reduce_scatter %x on @tp grid_axes = [0] reduction = max scatter_axis = 0 : tensor<4x8xf32> -> tensor<2x8xf32>
  return %r : tensor<2x8xf32>
}

// -----

// Tests that axis 0 of a 2-D grid is refused: the llm axis named after the
// grid would be a collective over the whole grid.
shard.grid @g(shape = 2x2)
func.func @axis0_of_2d_grid(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error@+1 {{'shard.all_reduce' op llmc-lower-shard-collectives: only collectives on a 1-D grid lower to llm ops; @g has 2 axes}}
  %r = shard.all_reduce %x on @g grid_axes = [0] : tensor<4x8xf32> -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

// -----

// Tests that a collective with no llm counterpart (an all-to-all, which
// shard-partition emits when a sequence split meets a column split) is
// refused rather than left in place for plan lowering to fail on.
shard.grid @tp(shape = 2)
func.func @all_to_all(%x: tensor<1x4x16xf32>) -> tensor<1x2x32xf32> {
  // expected-error@+1 {{'shard.all_to_all' op llmc-lower-shard-collectives: shard.all_to_all does not lower (no llm collective for it)}}
  %r = shard.all_to_all %x on @tp grid_axes = [0] split_axis = 1 concat_axis = 2 : tensor<1x4x16xf32> -> tensor<1x2x32xf32>
  return %r : tensor<1x2x32xf32>
}
