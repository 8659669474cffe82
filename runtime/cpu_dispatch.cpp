// The CPU implementation of every plan kernel; see cpu_dispatch.h.
#include "runtime/cpu_dispatch.h"

#include "runtime/cpu/bf16.h"

#include "runtime/comm/communicator.h"
#include "runtime/cpu/activation.h"
#include "runtime/cpu/adamw.h"
#include "runtime/cpu/attention.h"
#include "runtime/cpu/cross_entropy.h"
#include "runtime/cpu/elementwise.h"
#include "runtime/cpu/embedding.h"
#include "runtime/cpu/fused.h"
#include "runtime/cpu/general.h"
#include "runtime/cpu/layernorm.h"
#include "runtime/cpu/layout.h"
#include "runtime/cpu/matmul.h"
#include "runtime/cpu/paged_attention.h"
#include "runtime/cpu/quantized.h"
#include "runtime/cpu/rmsnorm.h"
#include "runtime/cpu/rope.h"
#include "runtime/cpu/softmax.h"
#include "runtime/cpu/weights_bf16.h"
#include "runtime/executor.h"
#include "runtime/kernel_operands.h"
#include "runtime/kernels/gemm_shape.h"
#include "runtime/kernels/kernel_table.h"
#include "runtime/plan/plan_file.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace llmc {

//===----------------------------------------------------------------------===//
// KernelCall
//===----------------------------------------------------------------------===//

float *KernelCall::in(int i) const { return exec_.f32(kernel_.ins(i)); }
float *KernelCall::out(int i) const { return exec_.f32(kernel_.outs(i)); }
const int32_t *KernelCall::ids(int i) const {
  return exec_.i32(kernel_.ins(i));
}
const int32_t *KernelCall::host_ids(int i) const {
  return exec_.host_ids(kernel_.ins(i));
}
const int8_t *KernelCall::i8(int i) const {
  return reinterpret_cast<const int8_t *>(exec_.f32(kernel_.ins(i)));
}
const uint16_t *KernelCall::bf16(int i) const {
  return reinterpret_cast<const uint16_t *>(exec_.f32(kernel_.ins(i)));
}
bool KernelCall::in_is_bf16(int i) const {
  return exec_.plan().tensors(kernel_.ins(i)).dtype() == planfile::BF16;
}
std::vector<int64_t> KernelCall::in_shape(int i) const {
  const auto &shape = exec_.plan().tensors(kernel_.ins(i)).shape();
  return {shape.begin(), shape.end()};
}
std::vector<int64_t> KernelCall::out_shape(int i) const {
  const auto &shape = exec_.plan().tensors(kernel_.outs(i)).shape();
  return {shape.begin(), shape.end()};
}
int64_t KernelCall::n_in(int i) const {
  return exec_.num_elements(kernel_.ins(i));
}
int64_t KernelCall::n_out(int i) const {
  return exec_.num_elements(kernel_.outs(i));
}
const planfile::Param &KernelCall::param(const char *name) const {
  auto it = kernel_.params().find(name);
  if (it == kernel_.params().end())
    throw std::runtime_error("kernel '" + kernel_.name() +
                             "' has no parameter '" + name + "'");
  return it->second;
}

bool KernelCall::has_param(const char *name) const {
  return kernel_.params().count(name) != 0;
}

bool KernelCall::has_bf16_math() const { return plan::has_bf16_math(kernel_); }

namespace {

// Copies the box `offsets + strides * index(small)` between a large and a
// small row-major tensor: into `small` when `extract`, into `large`
// otherwise.
void copy_box(float *large, const std::vector<int64_t> &large_shape,
              float *small, const std::vector<int64_t> &small_shape,
              const std::vector<int64_t> &offsets,
              const std::vector<int64_t> &strides, bool extract) {
  int rank = int(small_shape.size());
  int64_t inner = small_shape.back(), step = strides[rank - 1];
  int64_t rows = product(small_shape, 0, rank - 1);
  std::vector<int64_t> idx(rank, 0);
  for (int64_t r = 0; r < rows; ++r) {
    // Decompose the small row index, then locate it in the large tensor.
    int64_t rem = r, large_index = 0;
    for (int d = rank - 2; d >= 0; --d) {
      idx[d] = rem % small_shape[d];
      rem /= small_shape[d];
    }
    for (int d = 0; d < rank - 1; ++d)
      large_index =
          large_index * large_shape[d] + idx[d] * strides[d] + offsets[d];
    large_index = large_index * large_shape[rank - 1] + offsets[rank - 1];
    float *l = large + large_index, *s = small + r * inner;
    if (step == 1 && extract)
      std::memcpy(s, l, inner * sizeof(float));
    else if (step == 1)
      std::memcpy(l, s, inner * sizeof(float));
    else if (extract)
      for (int64_t i = 0; i < inner; ++i)
        s[i] = l[i * step];
    else
      for (int64_t i = 0; i < inner; ++i)
        l[i * step] = s[i];
  }
}

bool gelu_tanh(const KernelCall &c) {
  return c.param("approximate").s() == "tanh";
}

//===----------------------------------------------------------------------===//
// Kernels, by family
//===----------------------------------------------------------------------===//

comm::Communicator &axis_comm(const KernelCall &c, const char *param = "axis") {
  return c.executor().communicator(c.param(param).s());
}

void embedding_forward(const KernelCall &c) {
  auto table = c.in_shape(0);
  cpu::embedding_forward(c.out(0), c.in(0), c.ids(1), c.n_in(1), table[0],
                         table[1], vocab_first(c, table[0]));
}
void embedding_backward(const KernelCall &c) {
  auto table = c.out_shape(0);
  cpu::embedding_backward(c.out(0), c.in(0), c.ids(1), c.n_in(1), table[0],
                          table[1], vocab_first(c, table[0]));
}

// A GEMM's `math`: bf16 in a bf16-mixed plan, fp32 when absent.
cpu::GemmMath gemm_math(const KernelCall &c) {
  return c.has_bf16_math() ? cpu::GemmMath::BF16 : cpu::GemmMath::FP32;
}
// A GEMM's operands: lhs and rhs as fp32 pointers, and with bf16 math the
// roundings it may share (runtime/bf16_reuse.h) or the plan's bf16 buffers
// themselves (round_bf16's), whose fp32 pointer is then null.
struct GemmOperands {
  const float *lhs, *rhs;
  cpu::Bf16Operands bf16;
};
GemmOperands gemm_operands(const KernelCall &c) {
  GemmOperands g{c.in(0), c.in(1), {}};
  if (gemm_math(c) != cpu::GemmMath::BF16)
    return g;
  if (c.index() >= 0)
    g.bf16 = c.executor().bf16_operands(c.index());
  for (int s = 0; s < 2; ++s)
    if (c.in_is_bf16(s)) {
      (s == 0 ? g.bf16.a : g.bf16.b) = {c.bf16(s), nullptr};
      (s == 0 ? g.lhs : g.rhs) = nullptr;
    }
  return g;
}
void matmul(const KernelCall &c) {
  kernels::GemmShape g = gemm_of(c);
  GemmOperands ops = gemm_operands(c);
  cpu::matmul_forward(
      c.out(0), ops.lhs, ops.rhs, c.num_ins() > 2 ? c.in(2) : nullptr, g.batch,
      g.M, g.N, g.K, g.trans_a, g.trans_b, g.b_batched, gemm_math(c), ops.bf16);
}
void matmul_bias_gelu(const KernelCall &c) {
  kernels::GemmShape g = gemm_of(c);
  GemmOperands ops = gemm_operands(c);
  cpu::matmul_bias_gelu_forward(
      c.out(0), c.out(1), ops.lhs, ops.rhs, c.in(2), g.batch, g.M, g.N, g.K,
      g.trans_a, g.trans_b, g.b_batched, gelu_tanh(c), gemm_math(c), ops.bf16);
}
void matmul_i8w(const KernelCall &c) {
  kernels::GemmShape g = gemm_of(c);
  cpu::matmul_i8w_forward(c.out(0), c.in(0), c.i8(1), c.in(2),
                          c.num_ins() > 3 ? c.in(3) : nullptr, g.batch * g.M,
                          g.N, g.K);
}
void matmul_f32w(const KernelCall &c) {
  // The weight is stored (N, K): a transposed rhs whatever the plan says.
  kernels::GemmShape g = gemm_of(c);
  cpu::matmul_forward(c.out(0), c.in(0), c.in(1),
                      c.num_ins() > 2 ? c.in(2) : nullptr, 1, g.batch * g.M,
                      g.N, g.K, false, true, false);
}
void matmul_bf16w(const KernelCall &c) {
  kernels::GemmShape g = gemm_of(c);
  cpu::matmul_bf16w_forward(c.out(0), c.in(0), c.bf16(1),
                            c.num_ins() > 2 ? c.in(2) : nullptr, g.batch * g.M,
                            g.N, g.K, gemm_math(c));
}
void matmul_swiglu(const KernelCall &c) {
  kernels::GemmShape g = gemm_of(c);
  GemmOperands ops = gemm_operands(c);
  cpu::matmul_swiglu_forward(c.out(0), c.out(1), ops.lhs, ops.rhs, c.in(2),
                             g.batch, g.M, g.N, g.K, g.trans_a, g.trans_b,
                             g.b_batched, gemm_math(c), ops.bf16);
}
void sum_to(const KernelCall &c) {
  cpu::sum_rows(c.out(0), c.in(0), c.n_in(0) / c.n_out(0), c.n_out(0));
}

void add(const KernelCall &c) {
  cpu::add_forward(c.out(0), c.in(0), c.in(1), c.n_in(0), c.n_in(1));
}
// ins (this microbatch's gradient), outs (the running sum, += in place).
void accumulate_grad(const KernelCall &c) {
  cpu::add_forward(c.out(0), c.out(0), c.in(0), c.n_out(0), c.n_in(0));
}
void mul(const KernelCall &c) {
  cpu::mul_forward(c.out(0), c.in(0), c.in(1), c.n_in(0), c.n_in(1));
}

void unary(const KernelCall &c) {
  cpu::unary_forward(c.param("kind").s(), c.out(0), c.in(0), c.n_in(0));
}
void binary(const KernelCall &c) {
  cpu::binary_forward(c.param("kind").s(), c.out(0), c.out_shape(0), c.in(0),
                      c.in_shape(0), c.in(1), c.in_shape(1));
}
void where(const KernelCall &c) {
  cpu::where_forward(c.out(0), c.out_shape(0), c.in(0), c.in_shape(0), c.in(1),
                     c.in_shape(1), c.in(2), c.in_shape(2));
}
void reduce(const KernelCall &c) {
  const auto &axes = c.param("axes").ints().values();
  cpu::reduce_forward(c.param("kind").s(), c.out(0), c.in(0), c.in_shape(0),
                      {axes.begin(), axes.end()});
}
void gelu_forward(const KernelCall &c) {
  (gelu_tanh(c) ? cpu::gelu_tanh_forward
                : cpu::gelu_erf_forward)(c.out(0), c.in(0), c.n_out(0));
}
void gelu_backward(const KernelCall &c) {
  (gelu_tanh(c) ? cpu::gelu_tanh_backward : cpu::gelu_erf_backward)(
      c.out(0), c.in(0), c.in(1), c.n_out(0));
}
void silu_forward(const KernelCall &c) {
  cpu::silu_forward(c.out(0), c.in(0), c.n_out(0));
}
void silu_backward(const KernelCall &c) {
  cpu::silu_backward(c.out(0), c.in(0), c.in(1), c.n_out(0));
}
void swiglu_forward(const KernelCall &c) {
  cpu::swiglu_forward(c.out(0), c.in(0), c.in(1), c.n_out(0));
}
void swiglu_backward(const KernelCall &c) {
  cpu::swiglu_backward(c.out(0), c.out(1), c.in(0), c.in(1), c.in(2),
                       c.n_out(0));
}

void layernorm_forward(const KernelCall &c) {
  int64_t C = last_dim(c.in_shape(0));
  cpu::layernorm_forward(c.out(0), c.out(1), c.out(2), c.in(0), c.in(1),
                         c.in(2), c.n_in(0) / C, C, epsilon(c));
}
void layernorm_backward(const KernelCall &c) {
  int64_t C = last_dim(c.in_shape(1));
  cpu::layernorm_backward(c.out(0), c.out(1), c.out(2), c.in(0), c.in(1),
                          c.in(2), c.in(3), c.in(4), c.n_in(1) / C, C);
}
void add_layernorm_forward(const KernelCall &c) {
  int64_t C = last_dim(c.in_shape(0));
  cpu::add_layernorm_forward(c.out(0), c.out(1), c.out(2), c.out(3), c.in(0),
                             c.in(1), c.in(2), c.in(3), c.n_in(0) / C, C,
                             epsilon(c));
}
void rmsnorm_forward(const KernelCall &c) {
  int64_t C = last_dim(c.in_shape(0));
  cpu::rmsnorm_forward(c.out(0), c.out(1), c.in(0), c.in(1), c.n_in(0) / C, C,
                       epsilon(c));
}
void rmsnorm_backward(const KernelCall &c) {
  int64_t C = last_dim(c.in_shape(1));
  cpu::rmsnorm_backward(c.out(0), c.out(1), c.in(0), c.in(1), c.in(2), c.in(3),
                        c.n_in(1) / C, C);
}
void add_rmsnorm_forward(const KernelCall &c) {
  int64_t C = last_dim(c.in_shape(0));
  cpu::add_rmsnorm_forward(c.out(0), c.out(1), c.out(2), c.in(0), c.in(1),
                           c.in(2), c.n_in(0) / C, C, epsilon(c));
}
void softmax_forward(const KernelCall &c) {
  int64_t C = last_dim(c.in_shape(0));
  cpu::softmax_forward(c.out(0), c.in(0), c.n_in(0) / C, C);
}
void softmax_backward(const KernelCall &c) {
  int64_t C = last_dim(c.in_shape(0));
  cpu::softmax_backward(c.out(0), c.in(0), c.in(1), c.n_in(0) / C, C);
}

void attention_forward(const KernelCall &c) {
  AttentionSizes s = attention_sizes(c, 0);
  cpu::attention_forward(c.out(0), c.out(1), c.in(0), c.in(1), c.in(2), s.B,
                         s.Hq, s.Hkv, s.Tq, s.Tk, s.D, s.Dv,
                         float(c.param("scale").f()), c.param("causal").b(),
                         gemm_math(c));
}
void attention_backward(const KernelCall &c) {
  AttentionSizes s = attention_sizes(c, 1);
  cpu::attention_backward(c.out(0), c.out(1), c.out(2), c.in(0), c.in(1),
                          c.in(2), c.in(3), c.in(4), c.in(5), s.B, s.Hq, s.Hkv,
                          s.Tq, s.Tk, s.D, s.Dv, float(c.param("scale").f()),
                          c.param("causal").b(), gemm_math(c));
}
void rope(const KernelCall &c, bool inverse) {
  auto s = c.in_shape(0);
  (inverse ? cpu::rope_backward
           : cpu::rope_forward)(c.out(0), c.in(0), s[0], s[1], s[2], s[3],
                                float(c.param("theta").f()), 0);
}
void rope_forward(const KernelCall &c) { rope(c, false); }
void rope_backward(const KernelCall &c) { rope(c, true); }

// ins (x, block_table, positions), outs (cache) updated in place.
void kv_cache_write(const KernelCall &c) {
  cpu::PagedSizes s = paged_sizes(c, 0, -1, -1, 1, 2);
  auto x = c.in_shape(0);
  cpu::kv_cache_write(c.out(0), c.in(0), c.ids(1), c.ids(2), x[1], x[3], s);
}
void paged_attention(const KernelCall &c) {
  cpu::PagedSizes s = paged_sizes(c, 0, 1, 2, 3, 4);
  cpu::paged_attention(c.out(0), c.in(0), c.in(1), c.in(2), c.ids(3), c.ids(4),
                       float(c.param("scale").f()), s);
}
void rope_at(const KernelCall &c) {
  auto s = c.in_shape(0);
  cpu::rope_at_forward(c.out(0), c.in(0), c.ids(1), s[0], s[1], s[2], s[3],
                       float(c.param("theta").f()));
}
void last_token(const KernelCall &c) {
  auto s = c.in_shape(0);
  cpu::last_token(c.out(0), c.in(0), c.ids(1), s[0], s[1], s[2]);
}

void permute(const KernelCall &c) {
  auto s = c.in_shape(0);
  std::vector<int> perm;
  for (int64_t p : c.param("permutation").ints().values())
    perm.push_back(int(p));
  cpu::permute(c.out(0), c.in(0), s.data(), perm.data(), int(s.size()));
}
// split (one in, many outs) and concat (many ins, one out) along an axis.
void split_or_concat(const KernelCall &c, bool split) {
  AxisParts p = axis_parts(c, split);
  int n = int(p.sizes.size());
  if (split)
    cpu::split(p.parts.data(), c.in(0), p.sizes.data(), n, p.outer, p.inner);
  else
    cpu::concat(c.out(0), p.parts.data(), p.sizes.data(), n, p.outer, p.inner);
}
void split(const KernelCall &c) { split_or_concat(c, true); }
void concat(const KernelCall &c) { split_or_concat(c, false); }
void slice(const KernelCall &c, bool extract) {
  SliceBox box = slice_box(c);
  if (extract) {
    copy_box(c.in(0), c.in_shape(0), c.out(0), c.out_shape(0), box.offsets,
             box.steps, true);
    return;
  }
  if (c.out(0) != c.in(1))
    std::memcpy(c.out(0), c.in(1), c.n_out(0) * sizeof(float));
  copy_box(c.out(0), c.out_shape(0), c.in(0), c.in_shape(0), box.offsets,
           box.steps, false);
}
void extract_slice(const KernelCall &c) { slice(c, true); }
void insert_slice(const KernelCall &c) { slice(c, false); }
void copy(const KernelCall &c) {
  std::memcpy(c.out(0), c.in(0), c.n_out(0) * sizeof(float));
}
void round_bf16(const KernelCall &c) {
  cpu::round_to_bf16(reinterpret_cast<uint16_t *>(c.out(0)), c.in(0),
                     c.n_out(0));
}
void fill(const KernelCall &c) {
  std::fill(c.out(0), c.out(0) + c.n_out(0), float(c.param("value").f()));
}

void cross_entropy_forward(const KernelCall &c) {
  *c.out(0) = cpu::cross_entropy_forward(nullptr, c.in(0), c.ids(1), c.n_in(1),
                                         last_dim(c.in_shape(0)));
}
void cross_entropy_backward(const KernelCall &c) {
  cpu::cross_entropy_backward(c.out(0), *c.in(0), c.in(1), c.ids(2), c.n_in(2),
                              last_dim(c.in_shape(1)));
}

// ins (logits, targets), outs (stats): see cpu/cross_entropy.h.
void cross_entropy_vp_partial(const KernelCall &c) {
  int64_t V = last_dim(c.in_shape(0));
  cpu::cross_entropy_vp_partial(c.out(0), c.in(0), c.ids(1), c.n_in(1), V,
                                vocab_first(c, V));
}
// ins (gathered stats), outs (loss, lse).
void cross_entropy_vp_finish(const KernelCall &c) {
  int64_t N = c.n_out(1);
  *c.out(0) =
      cpu::cross_entropy_vp_finish(c.out(1), c.in(0), N, c.n_in(0) / (3 * N));
}
// ins (dloss, logits, targets, lse), outs (dlogits).
void cross_entropy_vp_backward(const KernelCall &c) {
  int64_t V = last_dim(c.in_shape(1));
  cpu::cross_entropy_vp_backward(c.out(0), *c.in(0), c.in(1), c.ids(2), c.in(3),
                                 c.n_in(2), V, vocab_first(c, V));
}

// With `axis`, the squares of the gradients flagged `sharded` are summed over
// the axis's ranks (each holds a shard); the others are on every rank alike.
// With `zero_axis`, every gradient is a ZeRO slice, and the total is summed
// over that axis too.
void grad_norm(const KernelCall &c) {
  double replicated = 0.0, sharded = 0.0;
  bool split = c.has_param("axis");
  for (int i = 0; i < c.num_ins(); ++i) {
    double ss = cpu::sum_squares(c.in(i), c.n_in(i));
    if (split && c.param("sharded").ints().values(i))
      sharded += ss;
    else
      replicated += ss;
  }
  if (split) {
    float total = float(sharded);
    axis_comm(c).all_reduce(&total, 1);
    sharded = total;
  }
  float total = float(replicated + sharded);
  if (c.has_param("zero_axis"))
    axis_comm(c, "zero_axis").all_reduce(&total, 1);
  // A pipeline stage's squares: the runtime adds the stages' up.
  if (c.has_param("partial") && c.param("partial").b()) {
    *c.out(0) = total;
    return;
  }
  *c.out(0) = std::sqrt(total);
}

//===----------------------------------------------------------------------===//
// Collectives over one mesh axis, along dimension `dim`: a tensor's block
// for rank r is slice r of `dim`. Blocks are contiguous only when every
// dimension before `dim` is 1, so otherwise they go through a staging copy.
//===----------------------------------------------------------------------===//

// [outer][ranks][chunk] <-> [ranks][outer][chunk].
void to_rank_major(float *dst, const float *src, const Blocks &b) {
  for (int64_t o = 0; o < b.outer; ++o)
    for (int64_t r = 0; r < b.ranks; ++r)
      std::memcpy(dst + (r * b.outer + o) * b.chunk,
                  src + (o * b.ranks + r) * b.chunk, b.chunk * sizeof(float));
}
void from_rank_major(float *dst, const float *src, const Blocks &b) {
  for (int64_t o = 0; o < b.outer; ++o)
    for (int64_t r = 0; r < b.ranks; ++r)
      std::memcpy(dst + (o * b.ranks + r) * b.chunk,
                  src + (r * b.outer + o) * b.chunk, b.chunk * sizeof(float));
}

std::vector<float> &staging(size_t n) {
  static thread_local std::vector<float> buffer;
  if (buffer.size() < n)
    buffer.resize(n);
  return buffer;
}

void all_reduce_sum(const KernelCall &c) {
  if (c.out(0) != c.in(0))
    std::memcpy(c.out(0), c.in(0), c.n_out(0) * sizeof(float));
  axis_comm(c).all_reduce(c.out(0), size_t(c.n_out(0)));
}

void all_gather(const KernelCall &c) {
  comm::Communicator &comm = axis_comm(c);
  Blocks b = blocks_of(c.in_shape(0), c.param("dim").i(), comm.size());
  size_t n = size_t(c.n_in(0));
  if (c.in_is_bf16(0)) // along dim 0 (the kernel table's rule)
    return comm.all_gather(c.in(0), c.out(0), n, comm::DType::BF16);
  if (b.outer == 1)
    return comm.all_gather(c.in(0), c.out(0), n);
  float *stage = staging(size_t(c.n_out(0))).data();
  comm.all_gather(c.in(0), stage, n);
  from_rank_major(c.out(0), stage, b);
}

// ins (this rank's block), outs (all of them): starts the non-blocking
// all-gather, which receives the blocks rank-major.
void all_gather_start(const KernelCall &c) {
  start_all_gather(c, axis_comm(c));
}

// ins (the block, kept alive until here), outs: waits, then puts the
// rank-major blocks along dim.
void all_gather_wait(const KernelCall &c) {
  Blocks b = wait_all_gather(c, axis_comm(c));
  if (b.outer == 1)
    return;
  float *stage = staging(size_t(c.n_out(0))).data();
  std::memcpy(stage, c.out(0), size_t(c.n_out(0)) * sizeof(float));
  from_rank_major(c.out(0), stage, b);
}

// With `mean`, the sums are divided by the ranks (ZeRO's gradient slices).
void reduce_scatter(const KernelCall &c) {
  comm::Communicator &comm = axis_comm(c);
  Blocks b = blocks_of(c.out_shape(0), c.param("dim").i(), comm.size());
  size_t n = size_t(c.n_out(0));
  if (b.outer == 1) {
    comm.reduce_scatter(c.in(0), c.out(0), n);
  } else {
    float *stage = staging(size_t(c.n_in(0))).data();
    to_rank_major(stage, c.in(0), b);
    comm.reduce_scatter(stage, c.out(0), n);
  }
  if (takes_mean(c))
    cpu::scale_inplace(c.out(0), c.n_out(0), 1.0f / float(comm.size()));
}

// ins (a whole flat gradient), outs (this rank's slice): starts its
// non-blocking reduce-scatter (ZeRO); the matching wait completes it.
void reduce_scatter_start(const KernelCall &c) {
  start_reduce_scatter(c, axis_comm(c));
}

// ins (the whole gradient, kept alive until here), outs (its slice): waits,
// then divides by the ranks with `mean`.
void reduce_scatter_wait(const KernelCall &c) {
  wait_bucket(c);
  if (takes_mean(c))
    cpu::scale_inplace(c.out(0), c.n_out(0), 1.0f / float(axis_comm(c).size()));
}

// outs (a flat tensor): every rank's slice r is gathered into place (ZeRO's
// parameters after the sliced update).
void all_gather_inplace(const KernelCall &c) {
  all_gather_slices(c, axis_comm(c));
}

// This rank's block of a tensor every rank holds whole: a copy.
void scatter_to_parallel(const KernelCall &c) {
  comm::Communicator &comm = axis_comm(c);
  Blocks b = blocks_of(c.out_shape(0), c.param("dim").i(), comm.size());
  for (int64_t o = 0; o < b.outer; ++o)
    std::memcpy(c.out(0) + o * b.chunk,
                c.in(0) + (o * b.ranks + comm.rank()) * b.chunk,
                b.chunk * sizeof(float));
}

// ins (grad, grad_norm), outs (param, m, v) updated in place.
void adamw(const KernelCall &c) {
  AdamWOperands a = adamw_operands(c);
  a.hyper.grad_scale = clip_scale(*c.in(1), c.opt().clip_grad_norm);
  cpu::adamw_update(a.param, c.out(1), c.out(2), a.grad, a.n, a.hyper);
}

// outs (a bucket of gradients): start their non-blocking all-reduces.
void all_reduce_mean_start(const KernelCall &c) {
  start_all_reduces(c, axis_comm(c));
}

// outs (the same bucket): wait for the sums, then divide by the ranks.
void all_reduce_mean_wait(const KernelCall &c) {
  wait_bucket(c);
  float mean = 1.0f / float(axis_comm(c).size());
  for (int i = 0; i < c.num_outs(); ++i)
    cpu::scale_inplace(c.out(i), c.n_out(i), mean);
}

} // namespace

KernelFn find_cpu_kernel(const std::string &name) {
  // One function per table kernel, in table order: a kernel declared in
  // kernel_table.def without a CPU function here does not compile.
  static const KernelFn by_id[] = {
#define LLMC_KERNEL(ID, ...) ID,
#include "runtime/kernels/kernel_table.def"
  };
  const kernels::KernelSpec *spec = kernels::find(name);
  return spec ? by_id[size_t(spec->id)] : nullptr;
}

} // namespace llmc
