// How a plan kernel's operands and parameters read as the sizes its
// implementation takes: one reading shared by the CPU dispatch
// (cpu_dispatch.cpp) and the CUDA one (cuda/dispatch.cpp), so both
// backends run the same kernel on the same sizes.
#pragma once

#include "runtime/cpu/paged_attention.h"
#include "runtime/cpu_dispatch.h"
#include "runtime/kernels/adamw.h"
#include "runtime/kernels/gemm_shape.h"

#include <cstdint>
#include <vector>

namespace llmc::comm {
class Communicator;
}

namespace llmc {

int64_t product(const std::vector<int64_t> &shape, size_t begin, size_t end);
// Norms, softmax and cross-entropy work on rows of the last dimension.
inline int64_t last_dim(const std::vector<int64_t> &shape) {
  return shape.back();
}
inline float epsilon(const KernelCall &c) {
  return float(c.param("epsilon").f());
}

// A matmul-like kernel: ins (lhs, rhs, ...), out 0.
kernels::GemmShape gemm_of(const KernelCall &c);

// Attention operands: q (B, Hq, Tq, D), k (B, Hkv, Tk, D), v (B, Hkv, Tk, Dv)
// starting at input `first`.
struct AttentionSizes {
  int64_t B, Hq, Hkv, Tq, Tk, D, Dv;
};
AttentionSizes attention_sizes(const KernelCall &c, int first);

// A paged-cache kernel's sizes from the inputs at these indices (-1: the
// cache is output 0). Block tables and positions are data the engine fills
// in at run time, so they are checked here, on the host, before any kernel
// indexes with them; throws std::runtime_error naming the bad position.
cpu::PagedSizes paged_sizes(const KernelCall &c, int x, int key_cache,
                            int value_cache, int table, int positions);

// split (one in, many outs) or concat (many ins, one out) along `axis`, as
// (outer, sizes[k], inner) views.
struct AxisParts {
  std::vector<int64_t> sizes;
  std::vector<float *> parts;
  int64_t outer, inner;
};
AxisParts axis_parts(const KernelCall &c, bool split);

// extract_slice / insert_slice: the box's offsets and steps (1 when absent).
struct SliceBox {
  std::vector<int64_t> offsets, steps;
};
SliceBox slice_box(const KernelCall &c);

// A collective's block-wise layout along `dim` over `ranks`: `outer` rows
// of `ranks` blocks of `chunk` contiguous elements each.
struct Blocks {
  int64_t outer, ranks, chunk;
};
Blocks blocks_of(const std::vector<int64_t> &block_shape, int64_t dim,
                 int64_t ranks);

// The first vocabulary id of this rank's block of `rows` ids: 0 unless the
// kernel is vocab-parallel.
int64_t vocab_first(const KernelCall &c, int64_t rows);

// An adamw call: the step's hyperparameters (all but grad_scale, the
// clipping factor, which each backend applies where the norm lives) and
// the slice this rank updates (under ZeRO, the moments are this rank's
// slice, and so is the parameter or gradient wherever it is whole).
struct AdamWOperands {
  AdamWHyper hyper;
  float *param, *grad;
  int64_t n;
};
AdamWOperands adamw_operands(const KernelCall &c);

// The bookkeeping of the non-blocking collectives, the same on every
// backend given the axis's communicator: a ZeRO reduce-scatter or an SP
// re-gather started into its bucket (its sizes checked), a DP bucket's
// all-reduces started,
// a bucket waited for, and ZeRO's in-place all-gather of every rank's
// slice. The backend scales by 1/ranks after a wait where the plan says.
void start_reduce_scatter(const KernelCall &c, comm::Communicator &comm);
// ins (this rank's block), outs (every rank's, received rank-major: the
// wait puts them along dim).
void start_all_gather(const KernelCall &c, comm::Communicator &comm);
// Waits for the all-gather started into c's bucket; the backend then puts
// the rank-major blocks along dim where the returned blocks' outer > 1.
Blocks wait_all_gather(const KernelCall &c, comm::Communicator &comm);
void start_all_reduces(const KernelCall &c, comm::Communicator &comm);
void wait_bucket(const KernelCall &c);
void all_gather_slices(const KernelCall &c, comm::Communicator &comm);
inline bool takes_mean(const KernelCall &c) {
  return c.has_param("mean") && c.param("mean").b();
}

} // namespace llmc
