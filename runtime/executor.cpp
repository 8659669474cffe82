// The CPU executor: dispatches each plan kernel to runtime/cpu.
#include "runtime/executor.h"

#include "runtime/cpu/activation.h"
#include "runtime/cpu/adamw.h"
#include "runtime/cpu/attention.h"
#include "runtime/cpu/cross_entropy.h"
#include "runtime/cpu/elementwise.h"
#include "runtime/cpu/embedding.h"
#include "runtime/cpu/fused.h"
#include "runtime/cpu/layernorm.h"
#include "runtime/cpu/layout.h"
#include "runtime/cpu/matmul.h"
#include "runtime/cpu/rmsnorm.h"
#include "runtime/cpu/rope.h"
#include "runtime/cpu/softmax.h"
#include "runtime/plan/plan_file.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace llmc {
namespace {

constexpr size_t kArenaAlignment = 64;

std::vector<int64_t> shape_of(const planfile::Tensor &t) {
  return {t.shape().begin(), t.shape().end()};
}

int64_t product(const std::vector<int64_t> &shape, size_t begin, size_t end) {
  int64_t n = 1;
  for (size_t i = begin; i < end; ++i)
    n *= shape[i];
  return n;
}

// Copies the box `offsets + shape(small)` between a large and a small
// row-major tensor: into `small` when `extract`, into `large` otherwise.
void copy_box(float *large, const std::vector<int64_t> &large_shape,
              float *small, const std::vector<int64_t> &small_shape,
              const std::vector<int64_t> &offsets, bool extract) {
  int rank = int(small_shape.size());
  int64_t inner = small_shape.back();
  int64_t rows = product(small_shape, 0, rank - 1);
  for (int64_t r = 0; r < rows; ++r) {
    // Decompose the small row index, then locate it in the large tensor.
    int64_t rem = r, large_index = 0;
    std::vector<int64_t> idx(rank, 0);
    for (int d = rank - 2; d >= 0; --d) {
      idx[d] = rem % small_shape[d];
      rem /= small_shape[d];
    }
    for (int d = 0; d < rank - 1; ++d)
      large_index = large_index * large_shape[d] + idx[d] + offsets[d];
    large_index = large_index * large_shape[rank - 1] + offsets[rank - 1];
    float *l = large + large_index, *s = small + r * inner;
    if (extract)
      std::memcpy(s, l, inner * sizeof(float));
    else
      std::memcpy(l, s, inner * sizeof(float));
  }
}

const planfile::Param &param(const planfile::Kernel &k, const char *name) {
  auto it = k.params().find(name);
  if (it == k.params().end())
    throw std::runtime_error("kernel '" + k.name() + "' has no parameter '" +
                             name + "'");
  return it->second;
}

} // namespace

Executor::Executor(planfile::Plan plan)
    : plan_(std::move(plan)), arena_(nullptr, std::free) {
  size_t bytes = (plan_.arena_bytes() + kArenaAlignment - 1) /
                 kArenaAlignment * kArenaAlignment;
  void *memory = std::aligned_alloc(kArenaAlignment, bytes ? bytes : 64);
  if (!memory)
    throw std::runtime_error("cannot allocate the arena of " +
                             std::to_string(bytes) + " bytes");
  std::memset(memory, 0, bytes);
  arena_.reset(static_cast<char *>(memory));
}

Executor::~Executor() = default;

int Executor::find_tensor(const std::string &name,
                          planfile::Category category) const {
  for (int t = 0; t < plan_.tensors_size(); ++t) {
    const planfile::Buffer &b = plan_.buffers(plan_.tensors(t).buffer());
    if (b.category() == category && b.name() == name)
      return t;
  }
  return -1;
}

float *Executor::f32(int tensor) {
  const planfile::Tensor &t = plan_.tensors(tensor);
  return reinterpret_cast<float *>(arena_.get() +
                                   plan_.buffers(t.buffer()).offset());
}

int32_t *Executor::i32(int tensor) {
  return reinterpret_cast<int32_t *>(f32(tensor));
}

int64_t Executor::num_elements(int tensor) const {
  return plan::num_elements(plan_.tensors(tensor));
}

float Executor::output(const std::string &name) const {
  int t = find_tensor(name, planfile::OUTPUT);
  if (t < 0)
    throw std::runtime_error("the plan has no output '" + name + "'");
  return *const_cast<Executor *>(this)->f32(t);
}

void Executor::run(const OptimizerStep &opt, const KernelHook &before) {
  for (const planfile::Kernel &kernel : plan_.kernels()) {
    if (before)
      before(kernel);
    if (!profiling_) {
      run_kernel(kernel, opt);
      continue;
    }
    auto start = std::chrono::steady_clock::now();
    run_kernel(kernel, opt);
    kernel_seconds_[kernel.name()] += std::chrono::duration<double>(
        std::chrono::steady_clock::now() - start).count();
  }
}

void Executor::run_kernel(const planfile::Kernel &k, const OptimizerStep &opt) {
  auto in = [&](int i) { return f32(k.ins(i)); };
  auto out = [&](int i) { return f32(k.outs(i)); };
  auto in_shape = [&](int i) { return shape_of(plan_.tensors(k.ins(i))); };
  auto out_shape = [&](int i) { return shape_of(plan_.tensors(k.outs(i))); };
  auto n_in = [&](int i) { return num_elements(k.ins(i)); };
  auto n_out = [&](int i) { return num_elements(k.outs(i)); };
  const std::string &name = k.name();

  if (name == "embedding_forward") {
    auto table = in_shape(0);
    cpu::embedding_forward(out(0), in(0), i32(k.ins(1)), n_in(1), table[0],
                           table[1]);
  } else if (name == "embedding_backward") {
    auto table = out_shape(0);
    cpu::embedding_backward(out(0), in(0), i32(k.ins(1)), n_in(1), table[0],
                            table[1]);
  } else if (name == "matmul") {
    auto lhs = in_shape(0), rhs = in_shape(1), res = out_shape(0);
    bool ta = param(k, "transpose_lhs").b(), tb = param(k, "transpose_rhs").b();
    size_t r = res.size();
    int64_t batch = product(res, 0, r - 2);
    int64_t K = ta ? lhs[lhs.size() - 2] : lhs.back();
    const float *bias = k.ins_size() > 2 ? in(2) : nullptr;
    cpu::matmul_forward(out(0), in(0), in(1), bias, batch, res[r - 2],
                        res[r - 1], K, ta, tb, rhs.size() > 2);
  } else if (name == "matmul_bias_gelu") {
    auto lhs = in_shape(0), rhs = in_shape(1), res = out_shape(0);
    bool ta = param(k, "transpose_lhs").b(), tb = param(k, "transpose_rhs").b();
    size_t r = res.size();
    int64_t K = ta ? lhs[lhs.size() - 2] : lhs.back();
    cpu::matmul_bias_gelu_forward(
        out(0), out(1), in(0), in(1), in(2), product(res, 0, r - 2),
        res[r - 2], res[r - 1], K, ta, tb, rhs.size() > 2,
        param(k, "approximate").s() == "tanh");
  } else if (name == "add_layernorm_forward") {
    int64_t C = in_shape(0).back();
    cpu::add_layernorm_forward(out(0), out(1), out(2), out(3), in(0), in(1),
                               in(2), in(3), n_in(0) / C, C,
                               float(param(k, "epsilon").f()));
  } else if (name == "add_rmsnorm_forward") {
    int64_t C = in_shape(0).back();
    cpu::add_rmsnorm_forward(out(0), out(1), out(2), in(0), in(1), in(2),
                             n_in(0) / C, C, float(param(k, "epsilon").f()));
  } else if (name == "add") {
    cpu::add_forward(out(0), in(0), in(1), n_in(0), n_in(1));
  } else if (name == "mul") {
    cpu::mul_forward(out(0), in(0), in(1), n_in(0), n_in(1));
  } else if (name == "sum_to") {
    cpu::sum_rows(out(0), in(0), n_in(0) / n_out(0), n_out(0));
  } else if (name == "gelu_forward" || name == "gelu_backward") {
    bool tanh = param(k, "approximate").s() == "tanh";
    if (name == "gelu_forward")
      (tanh ? cpu::gelu_tanh_forward : cpu::gelu_erf_forward)(out(0), in(0),
                                                               n_out(0));
    else
      (tanh ? cpu::gelu_tanh_backward : cpu::gelu_erf_backward)(
          out(0), in(0), in(1), n_out(0));
  } else if (name == "silu_forward") {
    cpu::silu_forward(out(0), in(0), n_out(0));
  } else if (name == "silu_backward") {
    cpu::silu_backward(out(0), in(0), in(1), n_out(0));
  } else if (name == "swiglu_forward") {
    cpu::swiglu_forward(out(0), in(0), in(1), n_out(0));
  } else if (name == "swiglu_backward") {
    cpu::swiglu_backward(out(0), out(1), in(0), in(1), in(2), n_out(0));
  } else if (name == "layernorm_forward") {
    int64_t C = in_shape(0).back();
    cpu::layernorm_forward(out(0), out(1), out(2), in(0), in(1), in(2),
                           n_in(0) / C, C, float(param(k, "epsilon").f()));
  } else if (name == "layernorm_backward") {
    int64_t C = in_shape(1).back();
    cpu::layernorm_backward(out(0), out(1), out(2), in(0), in(1), in(2),
                            in(3), in(4), n_in(1) / C, C);
  } else if (name == "rmsnorm_forward") {
    int64_t C = in_shape(0).back();
    cpu::rmsnorm_forward(out(0), out(1), in(0), in(1), n_in(0) / C, C,
                         float(param(k, "epsilon").f()));
  } else if (name == "rmsnorm_backward") {
    int64_t C = in_shape(1).back();
    cpu::rmsnorm_backward(out(0), out(1), in(0), in(1), in(2), in(3),
                          n_in(1) / C, C);
  } else if (name == "softmax_forward") {
    int64_t C = in_shape(0).back();
    cpu::softmax_forward(out(0), in(0), n_in(0) / C, C);
  } else if (name == "softmax_backward") {
    int64_t C = in_shape(0).back();
    cpu::softmax_backward(out(0), in(0), in(1), n_in(0) / C, C);
  } else if (name == "attention_forward" || name == "attention_backward") {
    bool forward = name == "attention_forward";
    auto q = in_shape(forward ? 0 : 1), kk = in_shape(forward ? 1 : 2),
         v = in_shape(forward ? 2 : 3);
    float scale = float(param(k, "scale").f());
    bool causal = param(k, "causal").b();
    if (forward)
      cpu::attention_forward(out(0), out(1), in(0), in(1), in(2), q[0], q[1],
                             kk[1], q[2], kk[2], q[3], v[3], scale, causal);
    else
      cpu::attention_backward(out(0), out(1), out(2), in(0), in(1), in(2),
                              in(3), in(4), in(5), q[0], q[1], kk[1], q[2],
                              kk[2], q[3], v[3], scale, causal);
  } else if (name == "rope_forward" || name == "rope_backward") {
    auto s = in_shape(0);
    float theta = float(param(k, "theta").f());
    (name == "rope_forward" ? cpu::rope_forward : cpu::rope_backward)(
        out(0), in(0), s[0], s[1], s[2], s[3], theta, 0);
  } else if (name == "permute") {
    auto s = in_shape(0);
    std::vector<int> perm;
    for (int64_t p : param(k, "permutation").ints().values())
      perm.push_back(int(p));
    cpu::permute(out(0), in(0), s.data(), perm.data(), int(s.size()));
  } else if (name == "split" || name == "concat") {
    bool split = name == "split";
    auto whole = split ? in_shape(0) : out_shape(0);
    int64_t rank = int64_t(whole.size());
    int64_t axis = param(k, "axis").i();
    if (axis < 0)
      axis += rank;
    std::vector<int64_t> sizes;
    std::vector<float *> parts;
    int n_parts = split ? k.outs_size() : k.ins_size();
    for (int i = 0; i < n_parts; ++i) {
      sizes.push_back((split ? out_shape(i) : in_shape(i))[axis]);
      parts.push_back(split ? out(i) : in(i));
    }
    int64_t outer = product(whole, 0, axis), inner = product(whole, axis + 1, rank);
    if (split)
      cpu::split(parts.data(), in(0), sizes.data(), n_parts, outer, inner);
    else
      cpu::concat(out(0), parts.data(), sizes.data(), n_parts, outer, inner);
  } else if (name == "cross_entropy_forward") {
    int64_t V = in_shape(0).back();
    *out(0) = cpu::cross_entropy_forward(nullptr, in(0), i32(k.ins(1)),
                                         n_in(1), V);
  } else if (name == "cross_entropy_backward") {
    int64_t V = in_shape(1).back();
    cpu::cross_entropy_backward(out(0), *in(0), in(1), i32(k.ins(2)), n_in(2),
                                V);
  } else if (name == "grad_norm") {
    double sum = 0.0;
    for (int i = 0; i < k.ins_size(); ++i)
      sum += cpu::sum_squares(in(i), n_in(i));
    *out(0) = float(std::sqrt(sum));
  } else if (name == "adamw") {
    float norm = *in(1);
    AdamWHyper hyper;
    // torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6).
    if (opt.clip_grad_norm > 0.0f)
      hyper.grad_scale =
          std::min(1.0f, opt.clip_grad_norm / (norm + 1e-6f));
    hyper.lr = opt.lr;
    hyper.beta1 = opt.beta1;
    hyper.beta2 = opt.beta2;
    hyper.eps = opt.eps;
    hyper.weight_decay = param(k, "decay").b() ? opt.weight_decay : 0.0f;
    // In double, as torch.optim.AdamW computes them.
    hyper.beta1_correction =
        float(1.0 - std::pow(double(opt.beta1), double(opt.step + 1)));
    hyper.beta2_correction =
        float(1.0 - std::pow(double(opt.beta2), double(opt.step + 1)));
    cpu::adamw_update(out(0), out(1), out(2), in(0), n_out(0), hyper);
  } else if (name == "copy") {
    std::memcpy(out(0), in(0), n_out(0) * sizeof(float));
  } else if (name == "fill") {
    float value = float(param(k, "value").f());
    std::fill(out(0), out(0) + n_out(0), value);
  } else if (name == "extract_slice" || name == "insert_slice") {
    const auto &values = param(k, "offsets").ints().values();
    std::vector<int64_t> offsets(values.begin(), values.end());
    if (name == "extract_slice") {
      copy_box(in(0), in_shape(0), out(0), out_shape(0), offsets, true);
    } else {
      if (out(0) != in(1))
        std::memcpy(out(0), in(1), n_out(0) * sizeof(float));
      copy_box(out(0), out_shape(0), in(0), in_shape(0), offsets, false);
    }
  } else {
    throw std::runtime_error("the plan calls unknown kernel '" + name + "'");
  }
}

} // namespace llmc
