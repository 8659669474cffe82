#include "runtime/cpu/gemv.h"

#include "runtime/cpu/bf16.h"
#include "runtime/cpu/vector_isa.h"

#include <array>
#include <cstring>
#include <utility>
#ifdef _OPENMP
#include <omp.h>
#endif

namespace llmc::cpu {
namespace {

// 16 floats: one AVX-512 register, or two AVX2 registers in the functions
// compiled for AVX2. Lane by lane the same operations either way, so both
// paths give the same bits.
using v16 = float __attribute__((vector_size(64)));
using v8 = float __attribute__((vector_size(32)));
using v4 = float __attribute__((vector_size(16)));

// The tiles are written once and inlined into an entry point per ISA, which
// compiles them for its registers. No v16 ever crosses a call, so the ABI
// of passing one (which differs between the ISAs) never matters.
#define LLMC_INLINE inline __attribute__((always_inline))
#pragma clang diagnostic ignored "-Wpsabi"

LLMC_INLINE v16 load16(const float *p) {
  v16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// 16 bf16 weights as floats (exactly: a bf16 is a float's upper half).
LLMC_INLINE v16 load16(const uint16_t *p) {
  using u16x16 = uint16_t __attribute__((vector_size(32)));
  using u32x16 = uint32_t __attribute__((vector_size(64)));
  u16x16 h;
  std::memcpy(&h, p, sizeof h);
  const u32x16 bits = __builtin_convertvector(h, u32x16) << 16;
  v16 v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

LLMC_INLINE float widen(float w) { return w; }
LLMC_INLINE float widen(uint16_t w) { return from_bf16(w); }

// The 16 lanes summed in one fixed tree: halves, quarters, then pairs.
LLMC_INLINE float reduce16(v16 v) {
  v8 h8 = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) +
          __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
  v4 h4 = __builtin_shufflevector(h8, h8, 0, 1, 2, 3) +
          __builtin_shufflevector(h8, h8, 4, 5, 6, 7);
  return (h4[0] + h4[2]) + (h4[1] + h4[3]);
}

// W: the weight's element, float or bf16 (its bits in a uint16_t).
template <typename W> struct Gemv {
  float *out;
  const float *x;
  const W *w;
  const float *bias;
  int64_t N, K;
};

// How many weight rows (or 16-column vectors) a tile holds beside M rows of
// accumulators: (M + 1) * tile + 1 registers of 16 floats, of the 32
// AVX-512 registers or the 8 pairs of AVX2 ones. One row alone streams its
// weight rows one by one: measured here, interleaving several was slower.
constexpr int tile_width(int M, bool wide) {
  if (M == 1)
    return 1;
  int width = (wide ? 24 : 7) / (M + 1);
  return width < 1 ? 1 : width > 8 ? 8 : width;
}

// How far ahead of its loads a tile prefetches each weight row: the
// hardware's prefetcher alone left decode steps of 4-8 rows about a third
// slower, measured here.
constexpr int64_t kAheadBytes = 16384;

// Weight rows n..n+NT-1 of an (N, K) weight against the M rows of x: each
// output sums 16 lanes over k in order, the lanes by reduce16, then the
// last K % 16 products, then the bias.
template <int M, int NT, typename W>
LLMC_INLINE void dot_tile(const Gemv<W> &g, int64_t n) {
  const int64_t K = g.K;
  v16 acc[M][NT] = {};
  int64_t k = 0;
  for (; k + 16 <= K; k += 16) {
    v16 wv[NT];
    for (int j = 0; j < NT; j++) {
      __builtin_prefetch(reinterpret_cast<const char *>(g.w + (n + j) * K + k) +
                         kAheadBytes);
      wv[j] = load16(g.w + (n + j) * K + k);
    }
    for (int m = 0; m < M; m++) {
      const v16 xv = load16(g.x + m * K + k);
      for (int j = 0; j < NT; j++)
        acc[m][j] += xv * wv[j];
    }
  }
  // Reduced in a loop of its own, which unrolls whole, so that acc stays
  // in registers (indexed by the tail loop below, it would live on the
  // stack, stored at every k).
  float sums[M][NT];
  for (int m = 0; m < M; m++)
    for (int j = 0; j < NT; j++)
      sums[m][j] = reduce16(acc[m][j]);
  for (int m = 0; m < M; m++)
    for (int j = 0; j < NT; j++) {
      float s = sums[m][j];
      for (int64_t t = k; t < K; t++)
        s += g.x[m * K + t] * widen(g.w[(n + j) * K + t]);
      g.out[m * g.N + n + j] = s + (g.bias ? g.bias[n + j] : 0.0f);
    }
}

template <int M, bool Wide, typename W>
LLMC_INLINE void dot_range(const Gemv<W> &g, int64_t n0, int64_t n1) {
  constexpr int NT = tile_width(M, Wide);
  int64_t n = n0;
  for (; n + NT <= n1; n += NT)
    dot_tile<M, NT>(g, n);
  for (; n < n1; n++)
    dot_tile<M, 1>(g, n);
}

// Columns c..c+16*NT-1 of a (K, N) weight: each output sums x[m, k] times
// w[k, c] over k in order, then adds the bias. Rows a few ahead are
// prefetched: consecutive k are N floats apart.
template <int M, int NT>
LLMC_INLINE void axpy_tile(const Gemv<float> &g, int64_t c) {
  const int64_t K = g.K, N = g.N, ahead = 8 * N;
  v16 acc[M][NT] = {};
  for (int64_t k = 0; k < K; k++) {
    const float *row = g.w + k * N + c;
    v16 wv[NT];
    for (int j = 0; j < NT; j++) {
      __builtin_prefetch(row + ahead + 16 * j);
      wv[j] = load16(row + 16 * j);
    }
    for (int m = 0; m < M; m++) {
      const float xs = g.x[m * K + k];
      for (int j = 0; j < NT; j++)
        acc[m][j] += xs * wv[j];
    }
  }
  for (int m = 0; m < M; m++)
    for (int j = 0; j < NT; j++) {
      v16 y = acc[m][j];
      if (g.bias)
        y += load16(g.bias + c + 16 * j);
      std::memcpy(g.out + m * N + c + 16 * j, &y, sizeof y);
    }
}

// One column, in the same order as a lane of axpy_tile.
template <int M> LLMC_INLINE void axpy_column(const Gemv<float> &g, int64_t c) {
  for (int m = 0; m < M; m++) {
    float s = 0.0f;
    for (int64_t k = 0; k < g.K; k++)
      s += g.x[m * g.K + k] * g.w[k * g.N + c];
    g.out[m * g.N + c] = s + (g.bias ? g.bias[c] : 0.0f);
  }
}

template <int M, bool Wide>
LLMC_INLINE void axpy_range(const Gemv<float> &g, int64_t c0, int64_t c1) {
  constexpr int NT = tile_width(M, Wide);
  int64_t c = c0;
  for (; c + 16 * NT <= c1; c += 16 * NT)
    axpy_tile<M, NT>(g, c);
  for (; c + 16 <= c1; c += 16)
    axpy_tile<M, 1>(g, c);
  for (; c < c1; c++)
    axpy_column<M>(g, c);
}

template <typename W>
using RangeFn = void (*)(const Gemv<W> &, int64_t, int64_t);

template <int M, typename W>
__attribute__((target("avx512f"))) void dot_avx512(const Gemv<W> &g, int64_t n0,
                                                   int64_t n1) {
  dot_range<M, true>(g, n0, n1);
}
template <int M, typename W>
void dot_avx2(const Gemv<W> &g, int64_t n0, int64_t n1) {
  dot_range<M, false>(g, n0, n1);
}
template <int M>
__attribute__((target("avx512f"))) void axpy_avx512(const Gemv<float> &g,
                                                    int64_t c0, int64_t c1) {
  axpy_range<M, true>(g, c0, c1);
}
template <int M> void axpy_avx2(const Gemv<float> &g, int64_t c0, int64_t c1) {
  axpy_range<M, false>(g, c0, c1);
}

// Entry points by [wide][M - 1]: dot products over (N, K) weights of W,
// and (K, N) fp32 weights' columns.
template <typename W>
using Entries = std::array<std::array<RangeFn<W>, kGemvMaxRows>, 2>;
template <typename W, size_t... I>
constexpr Entries<W> dot_entries(std::index_sequence<I...>) {
  return {{{&dot_avx2<int(I) + 1, W>...}, {&dot_avx512<int(I) + 1, W>...}}};
}
template <size_t... I>
constexpr Entries<float> axpy_entries(std::index_sequence<I...>) {
  return {{{&axpy_avx2<int(I) + 1>...}, {&axpy_avx512<int(I) + 1>...}}};
}
constexpr auto kRows = std::make_index_sequence<size_t(kGemvMaxRows)>();
constexpr auto kDot = dot_entries<float>(kRows);
constexpr auto kDotBf16 = dot_entries<uint16_t>(kRows);
constexpr auto kAxpy = axpy_entries(kRows);

// Runs fn over the outputs, each thread its own run: weight rows (units of
// one), or for a (K, N) weight whole 16-column vectors (units of 16), the
// last thread taking the rest.
template <typename W>
void run_threads(RangeFn<W> fn, const Gemv<W> &g, int64_t unit) {
  const int64_t units = g.N / unit;
#pragma omp parallel
  {
#ifdef _OPENMP
    const int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
#else
    const int64_t threads = 1, t = 0;
#endif
    const int64_t first = units * t / threads * unit;
    const int64_t end =
        t + 1 == threads ? g.N : units * (t + 1) / threads * unit;
    fn(g, first, end);
  }
}

} // namespace

void gemv_forward(float *out, const float *x, const float *w, const float *bias,
                  int64_t M, int64_t N, int64_t K, bool trans_w) {
  const bool wide = vector_isa() == VectorIsa::Avx512;
  const Gemv<float> g{out, x, w, bias, N, K};
  run_threads((trans_w ? kDot : kAxpy)[wide][size_t(M - 1)], g,
              trans_w ? 1 : 16);
}

void gemv_bf16w_forward(float *out, const float *x, const uint16_t *w,
                        const float *bias, int64_t M, int64_t N, int64_t K) {
  const bool wide = vector_isa() == VectorIsa::Avx512;
  const Gemv<uint16_t> g{out, x, w, bias, N, K};
  run_threads(kDotBf16[wide][size_t(M - 1)], g, 1);
}

} // namespace llmc::cpu
