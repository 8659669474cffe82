#include "runtime/cpu/general.h"
#include "runtime/kernels/general_math.h"

#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace llmc::cpu {
namespace {

template <typename F> void map(float *out, const float *x, int64_t n, F f) {
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i)
    out[i] = f(x[i]);
}

// Calls f(out offset, each input's offset, row length) for every row of
// out's last dimension: the index arithmetic once a row, not an element.
template <size_t N, typename F>
void for_rows(const std::vector<int64_t> &out_shape,
              const std::array<const std::vector<int64_t> *, N> &strides, F f) {
  int64_t n = 1;
  for (int64_t d : out_shape)
    n *= d;
  if (n == 0)
    return;
  size_t rank = out_shape.size();
  int64_t inner = rank ? out_shape.back() : 1, rows = n / inner;
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t r = 0; r < rows; ++r) {
    std::array<int64_t, N> base{};
    int64_t rest = r;
    for (size_t d = rank - (rank ? 1 : 0); d-- > 0;) {
      int64_t coord = rest % out_shape[d];
      rest /= out_shape[d];
      for (size_t k = 0; k < N; ++k)
        base[k] += coord * (*strides[k])[d];
    }
    f(r * inner, base, inner);
  }
}

template <typename F>
void zip(float *out, const std::vector<int64_t> &out_shape, const float *a,
         const std::vector<int64_t> &sa, const float *b,
         const std::vector<int64_t> &sb, F f) {
  int64_t ia = sa.empty() ? 0 : sa.back(), ib = sb.empty() ? 0 : sb.back();
  for_rows<2>(out_shape, {&sa, &sb},
              [&](int64_t o, const std::array<int64_t, 2> &base, int64_t len) {
                for (int64_t j = 0; j < len; ++j)
                  out[o + j] = f(a[base[0] + j * ia], b[base[1] + j * ib]);
              });
}

} // namespace

std::vector<int64_t> broadcast_strides(const std::vector<int64_t> &shape,
                                       const std::vector<int64_t> &out_shape) {
  std::vector<int64_t> strides(out_shape.size(), 0);
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    size_t o = out_shape.size() - shape.size() + i;
    strides[o] = shape[i] == 1 ? 0 : stride;
    stride *= shape[i];
  }
  return strides;
}

void unary_forward(const std::string &kind, float *out, const float *x,
                   int64_t n) {
  int k = kernels::kind_index(kernels::kUnaryKinds, kind.c_str());
  if (k < 0)
    throw std::logic_error("unary kernel: unknown kind '" + kind + "'");
  map(out, x, n, [k](float v) { return kernels::unary_value(k, v); });
}

void binary_forward(const std::string &kind, float *out,
                    const std::vector<int64_t> &out_shape, const float *a,
                    const std::vector<int64_t> &a_shape, const float *b,
                    const std::vector<int64_t> &b_shape) {
  int k = kernels::kind_index(kernels::kBinaryKinds, kind.c_str());
  if (k < 0)
    throw std::logic_error("binary kernel: unknown kind '" + kind + "'");
  zip(out, out_shape, a, broadcast_strides(a_shape, out_shape), b,
      broadcast_strides(b_shape, out_shape),
      [k](float x, float y) { return kernels::binary_value(k, x, y); });
}

void where_forward(float *out, const std::vector<int64_t> &out_shape,
                   const float *condition, const std::vector<int64_t> &c_shape,
                   const float *a, const std::vector<int64_t> &a_shape,
                   const float *b, const std::vector<int64_t> &b_shape) {
  std::vector<int64_t> sc = broadcast_strides(c_shape, out_shape);
  std::vector<int64_t> sa = broadcast_strides(a_shape, out_shape);
  std::vector<int64_t> sb = broadcast_strides(b_shape, out_shape);
  int64_t ic = sc.empty() ? 0 : sc.back(), ia = sa.empty() ? 0 : sa.back(),
          ib = sb.empty() ? 0 : sb.back();
  for_rows<3>(out_shape, {&sc, &sa, &sb},
              [&](int64_t o, const std::array<int64_t, 3> &base, int64_t len) {
                for (int64_t j = 0; j < len; ++j)
                  out[o + j] = condition[base[0] + j * ic] != 0.0f
                                   ? a[base[1] + j * ia]
                                   : b[base[2] + j * ib];
              });
}

void reduce_forward(const std::string &kind, float *out, const float *x,
                    const std::vector<int64_t> &x_shape,
                    const std::vector<int64_t> &axes) {
  // out's index of each x index: x's strides with the reduced axes zeroed,
  // over out's (kept-dimension) strides.
  size_t rank = x_shape.size();
  std::vector<bool> reduced(rank, false);
  for (int64_t a : axes)
    reduced[a] = true;
  std::vector<int64_t> out_strides(rank, 0);
  int64_t n_out = 1, n = 1, stride = 1;
  for (size_t d = rank; d-- > 0;) {
    n *= x_shape[d];
    if (reduced[d])
      continue;
    out_strides[d] = stride;
    stride *= x_shape[d];
  }
  n_out = stride;
  int64_t count = n_out > 0 ? n / n_out : 0;
  int k = kernels::kind_index(kernels::kReduceKinds, kind.c_str());
  if (k < 0)
    throw std::logic_error("reduce kernel: unknown kind '" + kind + "'");
  std::vector<double> acc(n_out, kernels::reduce_init(k));
  for (int64_t i = 0; i < n; ++i) {
    int64_t rest = i, o = 0;
    for (size_t d = rank; d-- > 0;) {
      o += (rest % x_shape[d]) * out_strides[d];
      rest /= x_shape[d];
    }
    acc[o] = kernels::reduce_step(k, acc[o], x[i]);
  }
  bool mean = k == kernels::kMean;
  for (int64_t o = 0; o < n_out; ++o)
    out[o] = float(mean ? acc[o] / double(count) : acc[o]);
}

} // namespace llmc::cpu
