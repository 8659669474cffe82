// Fused kernels; each reuses the row or element math of its unfused parts.
#include "runtime/cpu/fused.h"

#include "runtime/cpu/activation.h"
#include "runtime/cpu/bf16.h"
#include "runtime/cpu/matmul.h"
#include "runtime/cpu/norm_rows.h"

#include <algorithm>

namespace llmc::cpu {

void add_layernorm_forward(float *sum, float *out, float *mean, float *rstd,
                           const float *a, const float *b, const float *weight,
                           const float *bias, int64_t N, int64_t C, float eps) {
#pragma omp parallel for
  for (int64_t n = 0; n < N; n++) {
    float *s = sum + n * C;
    for (int64_t c = 0; c < C; c++)
      s[c] = a[n * C + c] + b[n * C + c];
    rows::layernorm(out + n * C, mean + n, rstd + n, s, weight, bias, C, eps);
  }
}

void add_rmsnorm_forward(float *sum, float *out, float *rstd, const float *a,
                         const float *b, const float *weight, int64_t N,
                         int64_t C, float eps) {
#pragma omp parallel for
  for (int64_t n = 0; n < N; n++) {
    float *s = sum + n * C;
    for (int64_t c = 0; c < C; c++)
      s[c] = a[n * C + c] + b[n * C + c];
    rows::rmsnorm(out + n * C, rstd + n, s, weight, C, eps);
  }
}

// A GEMM whose elementwise epilogue `then(first, count)` reads the result
// while it is in cache. With a shared weight, all batch rows form one GEMM,
// taken in row blocks (about 8 MiB of output each) so the epilogue reads
// each block while it is still in the last-level cache, and each block stays
// large enough for sgemm; otherwise one GEMM, then the epilogue. With bf16
// math the weight is rounded once for all blocks.
template <typename Epilogue>
static void matmul_in_row_blocks(float *c, const float *a, const float *b,
                                 const float *bias, int64_t batch, int64_t M,
                                 int64_t N, int64_t K, bool trans_a,
                                 bool trans_b, bool b_batched, GemmMath math,
                                 const Bf16Operands &shared, Epilogue then) {
  if (trans_a || b_batched) {
    matmul_forward(c, a, b, bias, batch, M, N, K, trans_a, trans_b, b_batched,
                   math, shared);
    then(0, batch * M * N);
    return;
  }
  const int64_t rows_total = batch * M;
  const int64_t rows = std::max<int64_t>(256, (int64_t(1) << 21) / N);
  Bf16Operands block = shared;
  thread_local std::vector<uint16_t> weight;
  if (math == GemmMath::BF16 && !block.b.ready && rows < rows_total) {
    weight.resize(size_t(K * N));
    round_to_bf16(weight.data(), b, K * N);
    block.b = {weight.data(), nullptr};
  }
  for (int64_t r = 0; r < rows_total; r += rows) {
    int64_t m = std::min(rows, rows_total - r);
    block.a.ready = shared.a.ready ? shared.a.ready + r * K : nullptr;
    matmul_forward(c + r * N, a ? a + r * K : nullptr, b, bias, 1, m, N, K,
                   false, trans_b, false, math, block);
    then(r * N, m * N);
  }
}

void matmul_bias_gelu_forward(float *pre, float *out, const float *a,
                              const float *b, const float *bias, int64_t batch,
                              int64_t M, int64_t N, int64_t K, bool trans_a,
                              bool trans_b, bool b_batched, bool tanh,
                              GemmMath math, const Bf16Operands &shared) {
  auto gelu = tanh ? gelu_tanh_forward : gelu_erf_forward;
  matmul_in_row_blocks(pre, a, b, bias, batch, M, N, K, trans_a, trans_b,
                       b_batched, math, shared,
                       [&](int64_t first, int64_t count) {
                         gelu(out + first, pre + first, count);
                       });
}

void matmul_swiglu_forward(float *up, float *out, const float *a,
                           const float *b, const float *gate, int64_t batch,
                           int64_t M, int64_t N, int64_t K, bool trans_a,
                           bool trans_b, bool b_batched, GemmMath math,
                           const Bf16Operands &shared) {
  matmul_in_row_blocks(
      up, a, b, nullptr, batch, M, N, K, trans_a, trans_b, b_batched, math,
      shared, [&](int64_t first, int64_t count) {
        swiglu_forward(out + first, gate + first, up + first, count);
      });
}

} // namespace llmc::cpu
