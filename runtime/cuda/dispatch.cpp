// The CUDA implementation of the plan kernels the table marks cuda: each
// reads its operands as the CPU dispatch does (runtime/cpu_dispatch.cpp)
// and launches the kernels of runtime/cuda on the default stream. GEMMs go
// through cuBLASLt; collectives through the executor's communicator of the
// axis, NCCL on a GPU (which orders itself after the default stream's
// work), with every buffer in device memory. The one value the host reads
// mid-step is the gradient norm's sum of squares (for its root).
#include "runtime/cuda/dispatch.h"

#include "runtime/comm/communicator.h"
#include "runtime/comm/launch.h"
#include "runtime/cpu/paged_attention.h"
#include "runtime/cuda/activation.cuh"
#include "runtime/cuda/adamw.cuh"
#include "runtime/cuda/attention.cuh"
#include "runtime/cuda/cross_entropy.cuh"
#include "runtime/cuda/cuda_check.h"
#include "runtime/cuda/elementwise.cuh"
#include "runtime/cuda/gemm.h"
#include "runtime/cuda/grad_norm.cuh"
#include "runtime/cuda/norms.cuh"
#include "runtime/cuda/sampling.cuh"
#include "runtime/cuda/weight_gemv.cuh"
#include "runtime/device.h"
#include "runtime/executor.h"
#include "runtime/kernel_operands.h"
#include "runtime/kernels/gemm_shape.h"
#include "runtime/kernels/kernel_table.h"

#if defined(LLMC_SIMT)
#include "runtime/cuda/emulated/device_communicator.h"
#else
#include "runtime/comm/mpi_communicator.h"
#include "runtime/comm/nccl_communicator.h"
#endif

#include <cmath>
#include <map>
#include <memory>
#include <stdexcept>

namespace llmc::cuda {
namespace {

constexpr cudaStream_t kStream = 0;

//===----------------------------------------------------------------------===//
// Device memory the kernels need beyond the arena
//===----------------------------------------------------------------------===//

// Grows on demand (after the device is idle); kept for the process.
struct Scratch {
  float *data = nullptr;
  size_t floats = 0;
  float *get(size_t n) {
    if (n > floats) {
      LLMC_CUDA_CHECK(cudaDeviceSynchronize());
      if (data)
        LLMC_CUDA_CHECK(cudaFree(data));
      LLMC_CUDA_CHECK(cudaMalloc(&data, n * sizeof(float)));
      floats = n;
    }
    return data;
  }
};
// 0: per-row losses, 1: norm sums, 2: GEMM workspace, 3: a scale factor,
// 4: a collective's staging, 5: sampling's rows and results, 6 and 7: a
// GEMM's fp32 operands rounded to bf16 beside a bf16 one.
Scratch &scratch(int which) {
  static Scratch buffers[8];
  return buffers[which];
}

constexpr size_t kGemmWorkspaceBytes = size_t(32) << 20;
CublasLtGemm &gemm() {
  static CublasLtGemm instance(scratch(2).get(kGemmWorkspaceBytes / 4),
                               kGemmWorkspaceBytes);
  return instance;
}

//===----------------------------------------------------------------------===//
// Operands
//===----------------------------------------------------------------------===//

// The axis's communicator for device buffers (NCCL on a GPU).
comm::Communicator &axis_comm(const KernelCall &c, const char *param = "axis") {
  return c.executor().device_communicator(c.param(param).s());
}
// A device value the host needs now, after the kernels writing it: a copy,
// not a read, since scratch buffers are device memory the host cannot read
// (cudaMemcpy waits for the default stream's kernels first).
float host_value(const float *p) {
  float value = 0.0f;
  LLMC_CUDA_CHECK(cudaMemcpy(&value, p, sizeof value, cudaMemcpyDefault));
  return value;
}
void set_device_value(float *p, float value) {
  LLMC_CUDA_CHECK(cudaMemcpy(p, &value, sizeof value, cudaMemcpyDefault));
}

//===----------------------------------------------------------------------===//
// GEMMs
//===----------------------------------------------------------------------===//

// A GEMM's operands as cuBLASLt takes them, and the math they take. Where a
// bf16-mixed plan stores either in bf16 (a weight's copy for the step, an
// activation round_bf16 kept), both go in as bf16 (CUDA_R_16BF), the
// fp32 one rounded into scratch, as the bf16 math would round it.
struct GemmOperands {
  const void *lhs, *rhs;
  GemmMath math;
};
// Operand i in bf16: the plan's bf16 buffer, or the fp32 one rounded into
// scratch.
const uint16_t *bf16_operand(const KernelCall &c, int i) {
  if (c.in_is_bf16(i))
    return c.bf16(i);
  auto *rounded = reinterpret_cast<uint16_t *>(
      scratch(6 + i).get(size_t(c.n_in(i) + 1) / 2));
  round_bf16(rounded, c.in(i), c.n_in(i), kStream);
  return rounded;
}
GemmOperands gemm_operands(const KernelCall &c) {
  if (!c.has_bf16_math())
    return {c.in(0), c.in(1), GemmMath::FP32};
  if (!c.in_is_bf16(0) && !c.in_is_bf16(1))
    return {c.in(0), c.in(1), GemmMath::BF16};
  return {bf16_operand(c, 0), bf16_operand(c, 1), GemmMath::BF16Operands};
}
void matmul(const KernelCall &c) {
  const float *bias = c.num_ins() > 2 ? c.in(2) : nullptr;
  GemmOperands ops = gemm_operands(c);
  gemm().run(
      {gemm_of(c), bias ? GemmEpilogue::Bias : GemmEpilogue::None, ops.math},
      c.out(0), nullptr, ops.lhs, ops.rhs, bias, kStream);
}
// outs (pre_gelu, out): cuBLASLt's GELU epilogue is the tanh one, and
// fuses only where it has an algorithm (its aux leading dimension, N, a
// multiple of 8); otherwise, and for the erf GELU, a bias GEMM, then the
// GELU kernel.
void matmul_bias_gelu(const KernelCall &c) {
  bool tanh = c.param("approximate").s() == "tanh";
  kernels::GemmShape g = gemm_of(c);
  GemmOperands ops = gemm_operands(c);
  if (tanh &&
      gemm().try_run({g, GemmEpilogue::GeluTanhAuxBias, ops.math}, c.out(1),
                     c.out(0), ops.lhs, ops.rhs, c.in(2), kStream))
    return;
  gemm().run({g, GemmEpilogue::Bias, ops.math}, c.out(0), nullptr, ops.lhs,
             ops.rhs, c.in(2), kStream);
  gelu_forward(c.out(1), c.out(0), c.n_out(0), tanh ? Gelu::Tanh : Gelu::Erf,
               kStream);
}
// The weight is stored (N, K): a transposed rhs whatever the plan says.
void matmul_f32w(const KernelCall &c) {
  kernels::GemmShape g = gemm_of(c);
  const float *bias = c.num_ins() > 2 ? c.in(2) : nullptr;
  gemm().run({{1, g.batch * g.M, g.N, g.K, false, true, false},
              bias ? GemmEpilogue::Bias : GemmEpilogue::None,
              GemmMath::FP32},
             c.out(0), nullptr, c.in(0), c.in(1), bias, kStream);
}
// Narrow weights, stored (N, K) whatever the plan's transpose says.
void matmul_i8w(const KernelCall &c) {
  kernels::GemmShape g = gemm_of(c);
  cuda::matmul_i8w(c.out(0), c.in(0), c.i8(1), c.in(2),
                   c.num_ins() > 3 ? c.in(3) : nullptr, int(g.batch * g.M),
                   int(g.N), int(g.K), kStream);
}
// With bf16 math (bf16-mixed inference) lhs is rounded too, and cuBLASLt
// multiplies the two bf16 operands, the weight a transposed rhs.
void matmul_bf16w(const KernelCall &c) {
  kernels::GemmShape g = gemm_of(c);
  if (c.has_bf16_math()) {
    const float *bias = c.num_ins() > 2 ? c.in(2) : nullptr;
    gemm().run({{1, g.batch * g.M, g.N, g.K, false, true, false},
                bias ? GemmEpilogue::Bias : GemmEpilogue::None,
                GemmMath::BF16Operands},
               c.out(0), nullptr, bf16_operand(c, 0), c.bf16(1), bias, kStream);
    return;
  }
  cuda::matmul_bf16w(c.out(0), c.in(0), c.bf16(1),
                     c.num_ins() > 2 ? c.in(2) : nullptr, int(g.batch * g.M),
                     int(g.N), int(g.K), kStream);
}
// outs (up, out): up = lhs·rhs, out = silu(gate)·up.
void matmul_swiglu(const KernelCall &c) {
  GemmOperands ops = gemm_operands(c);
  gemm().run({gemm_of(c), GemmEpilogue::None, ops.math}, c.out(0), nullptr,
             ops.lhs, ops.rhs, nullptr, kStream);
  swiglu_forward(c.out(1), c.in(2), c.out(0), c.n_out(0), kStream);
}

//===----------------------------------------------------------------------===//
// Elementwise and general
//===----------------------------------------------------------------------===//

void sum_to(const KernelCall &c) {
  cuda::sum_to(c.out(0), c.in(0), c.n_in(0) / c.n_out(0), c.n_out(0), kStream);
}
void add(const KernelCall &c) {
  cuda::add(c.out(0), c.in(0), c.in(1), c.n_in(0), c.n_in(1), kStream);
}
void accumulate_grad(const KernelCall &c) {
  cuda::add(c.out(0), c.out(0), c.in(0), c.n_out(0), c.n_in(0), kStream);
}
void mul(const KernelCall &c) {
  cuda::mul(c.out(0), c.in(0), c.in(1), c.n_in(0), c.n_in(1), kStream);
}
void unary(const KernelCall &c) {
  cuda::unary(c.out(0), c.in(0), c.n_in(0), c.param("kind").s(), kStream);
}
void binary(const KernelCall &c) {
  cuda::binary(c.out(0), c.out_shape(0), c.in(0), c.in_shape(0), c.in(1),
               c.in_shape(1), c.param("kind").s(), kStream);
}
void where(const KernelCall &c) {
  cuda::where(c.out(0), c.out_shape(0), c.in(0), c.in_shape(0), c.in(1),
              c.in_shape(1), c.in(2), c.in_shape(2), kStream);
}
void reduce(const KernelCall &c) {
  const auto &axes = c.param("axes").ints().values();
  cuda::reduce(c.out(0), c.in(0), c.in_shape(0), {axes.begin(), axes.end()},
               c.param("kind").s(), kStream);
}
Gelu gelu_kind(const KernelCall &c) {
  return c.param("approximate").s() == "tanh" ? Gelu::Tanh : Gelu::Erf;
}
void gelu_forward(const KernelCall &c) {
  cuda::gelu_forward(c.out(0), c.in(0), c.n_out(0), gelu_kind(c), kStream);
}
void gelu_backward(const KernelCall &c) {
  cuda::gelu_backward(c.out(0), c.in(0), c.in(1), c.n_out(0), gelu_kind(c),
                      kStream);
}
void silu_forward(const KernelCall &c) {
  cuda::silu_forward(c.out(0), c.in(0), c.n_out(0), kStream);
}
void silu_backward(const KernelCall &c) {
  cuda::silu_backward(c.out(0), c.in(0), c.in(1), c.n_out(0), kStream);
}
void swiglu_forward(const KernelCall &c) {
  cuda::swiglu_forward(c.out(0), c.in(0), c.in(1), c.n_out(0), kStream);
}
void swiglu_backward(const KernelCall &c) {
  cuda::swiglu_backward(c.out(0), c.out(1), c.in(0), c.in(1), c.in(2),
                        c.n_out(0), kStream);
}

//===----------------------------------------------------------------------===//
// Norms, softmax, embeddings
//===----------------------------------------------------------------------===//

void layernorm_forward(const KernelCall &c) {
  int64_t C = last_dim(c.in_shape(0));
  cuda::layernorm_forward(c.out(0), c.out(1), c.out(2), c.in(0), c.in(1),
                          c.in(2), int(c.n_in(0) / C), int(C), epsilon(c),
                          kStream);
}
void layernorm_backward(const KernelCall &c) {
  int64_t C = last_dim(c.in_shape(1));
  cuda::layernorm_backward(c.out(0), c.out(1), c.out(2), c.in(0), c.in(1),
                           c.in(2), c.in(3), c.in(4), int(c.n_in(1) / C),
                           int(C), kStream);
}
void add_layernorm_forward(const KernelCall &c) {
  int64_t C = last_dim(c.in_shape(0));
  cuda::add_layernorm_forward(c.out(0), c.out(1), c.out(2), c.out(3), c.in(0),
                              c.in(1), c.in(2), c.in(3), int(c.n_in(0) / C),
                              int(C), epsilon(c), kStream);
}
void rmsnorm_forward(const KernelCall &c) {
  int64_t C = last_dim(c.in_shape(0));
  cuda::rmsnorm_forward(c.out(0), c.out(1), c.in(0), c.in(1),
                        int(c.n_in(0) / C), int(C), epsilon(c), kStream);
}
void rmsnorm_backward(const KernelCall &c) {
  int64_t C = last_dim(c.in_shape(1));
  cuda::rmsnorm_backward(c.out(0), c.out(1), c.in(0), c.in(1), c.in(2), c.in(3),
                         int(c.n_in(1) / C), int(C), kStream);
}
void add_rmsnorm_forward(const KernelCall &c) {
  int64_t C = last_dim(c.in_shape(0));
  cuda::add_rmsnorm_forward(c.out(0), c.out(1), c.out(2), c.in(0), c.in(1),
                            c.in(2), int(c.n_in(0) / C), int(C), epsilon(c),
                            kStream);
}
void softmax_forward(const KernelCall &c) {
  int64_t C = last_dim(c.in_shape(0));
  cuda::softmax_forward(c.out(0), c.in(0), int(c.n_in(0) / C), int(C), kStream);
}
void softmax_backward(const KernelCall &c) {
  int64_t C = last_dim(c.in_shape(0));
  cuda::softmax_backward(c.out(0), c.in(0), c.in(1), int(c.n_in(0) / C), int(C),
                         kStream);
}
void embedding_forward(const KernelCall &c) {
  auto table = c.in_shape(0);
  cuda::embedding_forward(c.out(0), c.in(0), c.ids(1), int(c.n_in(1)),
                          int(table[0]), int(table[1]),
                          int(vocab_first(c, table[0])), kStream);
}
void embedding_backward(const KernelCall &c) {
  auto table = c.out_shape(0);
  cuda::embedding_backward(c.out(0), c.in(0), c.ids(1), int(c.n_in(1)),
                           int(table[0]), int(table[1]),
                           int(vocab_first(c, table[0])), kStream);
}

//===----------------------------------------------------------------------===//
// Attention, RoPE and the paged cache
//===----------------------------------------------------------------------===//

void attention_forward(const KernelCall &c) {
  AttentionSizes s = attention_sizes(c, 0);
  cuda::attention_forward(c.out(0), c.out(1), c.in(0), c.in(1), c.in(2),
                          int(s.B), int(s.Hq), int(s.Hkv), int(s.Tq), int(s.Tk),
                          int(s.D), int(s.Dv), float(c.param("scale").f()),
                          c.param("causal").b(), kStream);
}
void attention_backward(const KernelCall &c) {
  AttentionSizes s = attention_sizes(c, 1);
  cuda::attention_backward(c.out(0), c.out(1), c.out(2), c.in(0), c.in(1),
                           c.in(2), c.in(3), c.in(4), c.in(5), s.B, s.Hq, s.Hkv,
                           s.Tq, s.Tk, s.D, s.Dv, float(c.param("scale").f()),
                           c.param("causal").b(), kStream);
}
void rope(const KernelCall &c, bool inverse) {
  auto s = c.in_shape(0);
  cuda::rope(c.out(0), c.in(0), int(s[0]), int(s[1]), int(s[2]), int(s[3]),
             float(c.param("theta").f()), 0, inverse, kStream);
}
void rope_forward(const KernelCall &c) { rope(c, false); }
void rope_backward(const KernelCall &c) { rope(c, true); }
void rope_at(const KernelCall &c) {
  auto s = c.in_shape(0);
  cuda::rope_at(c.out(0), c.in(0), c.ids(1), int(s[0]), int(s[1]), int(s[2]),
                int(s[3]), float(c.param("theta").f()), kStream);
}
void kv_cache_write(const KernelCall &c) {
  cpu::PagedSizes s = paged_sizes(c, 0, -1, -1, 1, 2);
  auto x = c.in_shape(0);
  cuda::kv_cache_write(c.out(0), c.in(0), c.ids(1), c.ids(2), int(x[1]),
                       int(x[3]), s, kStream);
}
void paged_attention(const KernelCall &c) {
  cpu::PagedSizes s = paged_sizes(c, 0, 1, 2, 3, 4);
  cuda::paged_attention(c.out(0), c.in(0), c.in(1), c.in(2), c.ids(3), c.ids(4),
                        float(c.param("scale").f()), s, kStream);
}
void last_token(const KernelCall &c) {
  auto s = c.in_shape(0);
  cuda::last_token(c.out(0), c.in(0), c.ids(1), int(s[0]), int(s[1]), int(s[2]),
                   kStream);
}

//===----------------------------------------------------------------------===//
// Layout
//===----------------------------------------------------------------------===//

void permute(const KernelCall &c) {
  std::vector<int> perm;
  for (int64_t p : c.param("permutation").ints().values())
    perm.push_back(int(p));
  cuda::permute(c.out(0), c.in(0), c.in_shape(0), perm, kStream);
}
void split_or_concat(const KernelCall &c, bool split) {
  AxisParts p = axis_parts(c, split);
  if (split)
    cuda::split(p.parts.data(), c.in(0), p.sizes, p.outer, p.inner, kStream);
  else
    cuda::concat(c.out(0), p.parts.data(), p.sizes, p.outer, p.inner, kStream);
}
void split(const KernelCall &c) { split_or_concat(c, true); }
void concat(const KernelCall &c) { split_or_concat(c, false); }
void slice(const KernelCall &c, bool extract) {
  const auto &values = c.param("offsets").ints().values();
  std::vector<int64_t> offsets(values.begin(), values.end());
  std::vector<int64_t> steps(offsets.size(), 1);
  if (c.has_param("strides")) {
    const auto &s = c.param("strides").ints().values();
    steps.assign(s.begin(), s.end());
  }
  if (extract)
    return cuda::extract_slice(c.out(0), c.out_shape(0), c.in(0), c.in_shape(0),
                               offsets, steps, kStream);
  cuda::copy(c.out(0), c.in(1), c.n_out(0), kStream);
  cuda::insert_slice(c.out(0), c.out_shape(0), c.in(0), c.in_shape(0), offsets,
                     steps, kStream);
}
void extract_slice(const KernelCall &c) { slice(c, true); }
void insert_slice(const KernelCall &c) { slice(c, false); }
void copy(const KernelCall &c) {
  cuda::copy(c.out(0), c.in(0), c.n_out(0), kStream);
}
void round_bf16(const KernelCall &c) {
  cuda::round_bf16(reinterpret_cast<uint16_t *>(c.out(0)), c.in(0), c.n_out(0),
                   kStream);
}
void fill(const KernelCall &c) {
  cuda::fill(c.out(0), c.n_out(0), float(c.param("value").f()), kStream);
}
// This rank's block along `dim` of a tensor every rank holds whole.
void scatter_to_parallel(const KernelCall &c) {
  comm::Communicator &comm = axis_comm(c);
  auto shape = c.out_shape(0);
  size_t dim = size_t(c.param("dim").i());
  cuda::scatter_to_parallel(c.out(0), c.in(0), product(shape, 0, dim),
                            comm.size(), product(shape, dim, shape.size()),
                            comm.rank(), kStream);
}

//===----------------------------------------------------------------------===//
// Losses and the optimizer
//===----------------------------------------------------------------------===//

void cross_entropy_forward(const KernelCall &c) {
  int N = int(c.n_in(1));
  cuda::cross_entropy_forward(c.out(0), scratch(0).get(size_t(N) + 1), c.in(0),
                              c.ids(1), N, int(last_dim(c.in_shape(0))),
                              kStream);
}
void cross_entropy_backward(const KernelCall &c) {
  cuda::cross_entropy_backward(c.out(0), c.in(0), c.in(1), c.ids(2),
                               int(c.n_in(2)), int(last_dim(c.in_shape(1))),
                               kStream);
}
void cross_entropy_vp_partial(const KernelCall &c) {
  int64_t V = last_dim(c.in_shape(0));
  cuda::cross_entropy_vp_partial(c.out(0), c.in(0), c.ids(1), int(c.n_in(1)),
                                 int(V), int(vocab_first(c, V)), kStream);
}
void cross_entropy_vp_finish(const KernelCall &c) {
  int64_t N = c.n_out(1);
  cuda::cross_entropy_vp_finish(c.out(0), c.out(1), c.in(0), int(N),
                                N > 0 ? int(c.n_in(0) / (3 * N)) : 1, kStream);
}
void cross_entropy_vp_backward(const KernelCall &c) {
  int64_t V = last_dim(c.in_shape(1));
  cuda::cross_entropy_vp_backward(c.out(0), c.in(0), c.in(1), c.ids(2), c.in(3),
                                  int(c.n_in(2)), int(V),
                                  int(vocab_first(c, V)), kStream);
}

// As the CPU's grad_norm: the squares of sharded gradients summed over
// `axis`, everything over `zero_axis`, the root unless `partial`. The sums
// stay on the device for the communicator: [replicated, sharded, total],
// then the per-block partials.
void grad_norm(const KernelCall &c) {
  bool split = c.has_param("axis");
  std::vector<const float *> sets[2];
  std::vector<long long> sizes[2];
  for (int i = 0; i < c.num_ins(); ++i) {
    int set = split && c.param("sharded").ints().values(i) ? 1 : 0;
    sets[set].push_back(c.in(i));
    sizes[set].push_back((long long)c.n_in(i));
  }
  float *sums = scratch(1).get(4 + 256);
  for (int set = 0; set < 2; ++set)
    sum_squares(sums + set, sets[set].data(), sizes[set].data(),
                int(sets[set].size()), false, sums + 4, kStream);
  if (split)
    axis_comm(c).all_reduce(sums + 1, 1);
  cuda::add(sums + 2, sums, sums + 1, 1, 1, kStream);
  if (c.has_param("zero_axis"))
    axis_comm(c, "zero_axis").all_reduce(sums + 2, 1);
  float total = host_value(sums + 2);
  bool partial = c.has_param("partial") && c.param("partial").b();
  set_device_value(c.out(0), partial ? total : std::sqrt(total));
}

void adamw(const KernelCall &c) {
  AdamWOperands a = adamw_operands(c);
  // Clipped by the norm on the device: the host never waits for it.
  adamw_update(a.param, c.out(1), c.out(2), a.grad, size_t(a.n), a.hyper,
               kStream, c.in(1), c.opt().clip_grad_norm);
}

//===----------------------------------------------------------------------===//
// Collectives over one mesh axis, along dimension `dim` (as the CPU's: a
// block that is not contiguous goes through a staging buffer, here on the
// device, reordered by the split and concat kernels)
//===----------------------------------------------------------------------===//

// The staging buffer's rank-major blocks: [ranks][outer][chunk].
std::vector<float *> rank_blocks(float *stage, const Blocks &b) {
  std::vector<float *> blocks;
  for (int64_t r = 0; r < b.ranks; ++r)
    blocks.push_back(stage + r * b.outer * b.chunk);
  return blocks;
}
void scale(float *x, int64_t n, float factor) {
  float *f = scratch(3).get(1);
  cuda::fill(f, 1, factor, kStream);
  cuda::mul(x, x, f, n, 1, kStream);
}

void all_reduce_sum(const KernelCall &c) {
  cuda::copy(c.out(0), c.in(0), c.n_out(0), kStream);
  axis_comm(c).all_reduce(c.out(0), size_t(c.n_out(0)));
}
// The ranks' blocks received one after another in `stage`, put along dim
// in `out`.
void from_rank_major(float *out, float *stage, const Blocks &b) {
  std::vector<float *> blocks = rank_blocks(stage, b);
  cuda::concat(out, blocks.data(), std::vector<int64_t>(b.ranks, 1), b.outer,
               b.chunk, kStream);
}
void all_gather(const KernelCall &c) {
  comm::Communicator &comm = axis_comm(c);
  Blocks b = blocks_of(c.in_shape(0), c.param("dim").i(), comm.size());
  size_t n = size_t(c.n_in(0));
  if (c.in_is_bf16(0)) // along dim 0 (the kernel table's rule)
    return comm.all_gather(c.in(0), c.out(0), n, comm::DType::BF16);
  if (b.outer == 1)
    return comm.all_gather(c.in(0), c.out(0), n);
  float *stage = scratch(4).get(size_t(c.n_out(0)));
  comm.all_gather(c.in(0), stage, n);
  from_rank_major(c.out(0), stage, b);
}
void reduce_scatter(const KernelCall &c) {
  comm::Communicator &comm = axis_comm(c);
  Blocks b = blocks_of(c.out_shape(0), c.param("dim").i(), comm.size());
  size_t n = size_t(c.n_out(0));
  if (b.outer == 1) {
    comm.reduce_scatter(c.in(0), c.out(0), n);
  } else {
    float *stage = scratch(4).get(size_t(c.n_in(0)));
    std::vector<float *> blocks = rank_blocks(stage, b);
    cuda::split(blocks.data(), c.in(0), std::vector<int64_t>(b.ranks, 1),
                b.outer, b.chunk, kStream);
    comm.reduce_scatter(stage, c.out(0), n);
  }
  if (takes_mean(c))
    scale(c.out(0), c.n_out(0), 1.0f / float(comm.size()));
}
void reduce_scatter_start(const KernelCall &c) {
  start_reduce_scatter(c, axis_comm(c));
}
void reduce_scatter_wait(const KernelCall &c) {
  wait_bucket(c);
  if (takes_mean(c))
    scale(c.out(0), c.n_out(0), 1.0f / float(axis_comm(c).size()));
}
void all_gather_start(const KernelCall &c) {
  start_all_gather(c, axis_comm(c));
}
// The blocks arrived rank-major in out: along dim through a staging copy.
void all_gather_wait(const KernelCall &c) {
  Blocks b = wait_all_gather(c, axis_comm(c));
  if (b.outer == 1)
    return;
  float *stage = scratch(4).get(size_t(c.n_out(0)));
  cuda::copy(stage, c.out(0), c.n_out(0), kStream);
  from_rank_major(c.out(0), stage, b);
}
void all_gather_inplace(const KernelCall &c) {
  all_gather_slices(c, axis_comm(c));
}
void all_reduce_mean_start(const KernelCall &c) {
  start_all_reduces(c, axis_comm(c));
}
void all_reduce_mean_wait(const KernelCall &c) {
  wait_bucket(c);
  float mean = 1.0f / float(axis_comm(c).size());
  for (int i = 0; i < c.num_outs(); ++i)
    scale(c.out(i), c.n_out(i), mean);
}

const std::map<std::string, KernelFn> &table() {
  static const std::map<std::string, KernelFn> functions = {
      {"embedding_forward", embedding_forward},
      {"embedding_backward", embedding_backward},
      {"matmul", matmul},
      {"matmul_bias_gelu", matmul_bias_gelu},
      {"matmul_f32w", matmul_f32w},
      {"matmul_i8w", matmul_i8w},
      {"matmul_bf16w", matmul_bf16w},
      {"matmul_swiglu", matmul_swiglu},
      {"sum_to", sum_to},
      {"add", add},
      {"mul", mul},
      {"unary", unary},
      {"binary", binary},
      {"reduce", reduce},
      {"where", where},
      {"accumulate_grad", accumulate_grad},
      {"gelu_forward", gelu_forward},
      {"gelu_backward", gelu_backward},
      {"silu_forward", silu_forward},
      {"silu_backward", silu_backward},
      {"swiglu_forward", swiglu_forward},
      {"swiglu_backward", swiglu_backward},
      {"layernorm_forward", layernorm_forward},
      {"layernorm_backward", layernorm_backward},
      {"add_layernorm_forward", add_layernorm_forward},
      {"rmsnorm_forward", rmsnorm_forward},
      {"rmsnorm_backward", rmsnorm_backward},
      {"add_rmsnorm_forward", add_rmsnorm_forward},
      {"softmax_forward", softmax_forward},
      {"softmax_backward", softmax_backward},
      {"attention_forward", attention_forward},
      {"attention_backward", attention_backward},
      {"rope_forward", rope_forward},
      {"rope_backward", rope_backward},
      {"kv_cache_write", kv_cache_write},
      {"paged_attention", paged_attention},
      {"rope_at", rope_at},
      {"last_token", last_token},
      {"permute", permute},
      {"split", split},
      {"concat", concat},
      {"extract_slice", extract_slice},
      {"insert_slice", insert_slice},
      {"copy", copy},
      {"round_bf16", round_bf16},
      {"fill", fill},
      {"cross_entropy_forward", cross_entropy_forward},
      {"cross_entropy_backward", cross_entropy_backward},
      {"cross_entropy_vp_partial", cross_entropy_vp_partial},
      {"cross_entropy_vp_finish", cross_entropy_vp_finish},
      {"cross_entropy_vp_backward", cross_entropy_vp_backward},
      {"grad_norm", grad_norm},
      {"adamw", adamw},
      {"scatter_to_parallel", scatter_to_parallel},
      {"all_reduce_sum", all_reduce_sum},
      {"all_gather", all_gather},
      {"reduce_scatter", reduce_scatter},
      {"all_gather_inplace", all_gather_inplace},
      {"all_gather_start", all_gather_start},
      {"all_gather_wait", all_gather_wait},
      {"reduce_scatter_start", reduce_scatter_start},
      {"reduce_scatter_wait", reduce_scatter_wait},
      {"all_reduce_mean_start", all_reduce_mean_start},
      {"all_reduce_mean_wait", all_reduce_mean_wait},
  };
  return functions;
}

//===----------------------------------------------------------------------===//
// The backend
//===----------------------------------------------------------------------===//

// "cuda (the device's name)", once a device is known to be there.
std::string &description() {
  static std::string text = [] {
    cudaDeviceProp prop{};
    int device = 0;
    LLMC_CUDA_CHECK(cudaGetDevice(&device));
    LLMC_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    return std::string("cuda (") + prop.name + ")";
  }();
  return text;
}

DeviceBackend &backend();

// Asked only when --device cuda is chosen, so other runs never touch the
// driver.
// Also picks this rank's GPU: its local rank's own (one GPU per rank).
std::string unavailable() {
  int devices = 0;
  cudaError_t error = cudaGetDeviceCount(&devices);
  if (error != cudaSuccess || devices == 0)
    return std::string("no CUDA device is visible (") +
           (error != cudaSuccess ? cudaGetErrorString(error) : "no devices") +
           "); run on a machine with an NVIDIA GPU, or use --device cpu";
  try {
    int device = comm::device_of_local_rank(
        comm::launch_from_environment().local_rank, devices);
    LLMC_CUDA_CHECK(cudaSetDevice(device));
  } catch (const std::exception &e) {
    return e.what();
  }
  backend().description = description().c_str();
  return "";
}

// NCCL over the ranks of each MPI group the executor is given, made once
// per group, collectively, when the executor is given it. The emulated
// build has no NCCL: the host's MPI with device memory open while it runs.
comm::Communicator *device_communicator(comm::Communicator &host) {
#if defined(LLMC_SIMT)
  return emulated::device_communicator(host);
#else
  // Kept to the end of the process, never destroyed: their destructors
  // would run after MPI and the CUDA context are gone.
  static auto *made =
      new std::map<comm::Communicator *, std::unique_ptr<comm::Communicator>>;
  std::unique_ptr<comm::Communicator> &nccl = (*made)[&host];
  if (!nccl) {
    auto *mpi = dynamic_cast<comm::MpiCommunicator *>(&host);
    if (!mpi)
      return nullptr;
    int device = 0;
    LLMC_CUDA_CHECK(cudaGetDevice(&device));
    nccl = std::make_unique<comm::NcclCommunicator>(mpi->handle(), device);
  }
  return nccl.get();
#endif
}

// The engine's sampling on the device: the rows' parameters in, tokens and
// log-probabilities out, B rows of a few words each way instead of B x V
// logits to the host.
void sample(const float *logits, int64_t vocab,
            const std::vector<DeviceSampleRow> &rows, int32_t *token,
            double *logprob) {
  static_assert(sizeof(device::SampleParams) % sizeof(double) == 0);
  size_t B = rows.size();
  std::vector<device::SampleParams> params;
  for (const DeviceSampleRow &r : rows)
    params.push_back({r.temperature, r.top_p, r.top_k, r.u});
  // One scratch buffer, laid out [params | logprob | token]: the params
  // take a whole number of doubles, so the logprobs stay 8-byte aligned.
  size_t params_floats = B * sizeof(device::SampleParams) / sizeof(float);
  float *room = scratch(5).get(params_floats + 2 * B + B);
  auto *d_params = reinterpret_cast<device::SampleParams *>(room);
  auto *d_logprob = reinterpret_cast<double *>(room + params_floats);
  auto *d_token = reinterpret_cast<int32_t *>(d_logprob + B);
  // Each row's logits: the rows given, gathered in order.
  float *gathered = nullptr;
  bool in_order = true;
  for (size_t i = 0; i < B; ++i)
    in_order = in_order && rows[i].row == int64_t(i);
  const float *first = logits;
  if (!in_order) {
    gathered = scratch(4).get(B * size_t(vocab));
    for (size_t i = 0; i < B; ++i)
      cuda::copy(gathered + i * vocab, logits + rows[i].row * vocab, vocab,
                 kStream);
    first = gathered;
  }
  LLMC_CUDA_CHECK(cudaMemcpy(d_params, params.data(),
                             B * sizeof(device::SampleParams),
                             cudaMemcpyHostToDevice));
  sample_rows(d_token, d_logprob, first, d_params, int(B), int(vocab), kStream);
  LLMC_CUDA_CHECK(
      cudaMemcpy(token, d_token, B * sizeof(int32_t), cudaMemcpyDeviceToHost));
  LLMC_CUDA_CHECK(cudaMemcpy(logprob, d_logprob, B * sizeof(double),
                             cudaMemcpyDeviceToHost));
}

void *allocate(size_t bytes) {
  void *memory = nullptr;
  if (cudaMalloc(&memory, bytes) != cudaSuccess)
    return nullptr;
  LLMC_CUDA_CHECK(cudaMemset(memory, 0, bytes));
  LLMC_CUDA_CHECK(cudaDeviceSynchronize());
  return memory;
}
void release(void *memory) {
  if (memory)
    cudaFree(memory);
}
// On the default stream, after its kernels; the host waits for it.
void copy_memory(void *dst, const void *src, size_t bytes) {
  LLMC_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDefault));
}
void synchronize() { LLMC_CUDA_CHECK(cudaDeviceSynchronize()); }
void zero(void *memory, size_t bytes) {
  LLMC_CUDA_CHECK(cudaMemsetAsync(memory, 0, bytes, kStream));
}

} // namespace

KernelFn find_kernel(const std::string &name) {
  auto it = table().find(name);
  return it == table().end() ? nullptr : it->second;
}

namespace {
DeviceBackend &backend() {
  static DeviceBackend instance{
      "cuda",      "cuda",      unavailable, allocate,    release,
      copy_memory, synchronize, zero,        find_kernel, device_communicator,
      sample};
  return instance;
}
} // namespace

void register_backend() {
  // The kernel table's cuda marks are exactly this table's kernels.
  for (const kernels::KernelSpec &k : kernels::all_kernels())
    if (bool(k.backends & kernels::kCuda) != (find_kernel(k.name) != nullptr))
      throw std::logic_error(std::string("kernel_table.def and the CUDA "
                                         "dispatch disagree on kernel ") +
                             k.name);
  register_device_backend(&backend());
}

} // namespace llmc::cuda
