// Matmul through oneDNN or OpenBLAS (runtime/cpu/gemm_library.h); on
// OpenBLAS the batch loop stays serial so the BLAS thread team (OpenMP)
// parallelises each product.
#include "runtime/cpu/matmul.h"

#include "runtime/cpu/bf16.h"
#include "runtime/cpu/gemm_library.h"
#include "runtime/cpu/gemv.h"
#include "runtime/cpu/onednn_matmul.h"

#include <algorithm>
#include <cblas.h>
#include <cstring>
#include <vector>

namespace llmc::cpu {

void matmul_forward(float *out, const float *a, const float *b,
                    const float *bias, int64_t batch, int64_t M, int64_t N,
                    int64_t K, bool trans_a, bool trans_b, bool b_batched,
                    GemmMath math, const Bf16Operands &shared) {
  if (batch <= 0 || M <= 0 || N <= 0)
    return;
  if (K == 0) {
    for (int64_t r = 0; r < batch * M; r++)
      if (bias)
        std::memcpy(out + r * N, bias, N * sizeof(float));
      else
        std::fill(out + r * N, out + (r + 1) * N, 0.0f);
    return;
  }
  const bool one_row = !trans_a && !b_batched && batch * M == 1;
  if (!trans_a && !b_batched && batch * M <= kGemvMaxRows &&
      math == GemmMath::FP32 && gemm_library() == GemmLibrary::OneDnn) {
    // A decode step's few rows: oneDNN's matmul first copies the whole
    // weight into its blocked layout and runs at a third of the memory's
    // pace; our GEMV streams the weight once for every row.
    gemv_forward(out, a, b, bias, batch * M, N, K, trans_b);
    return;
  }
  if (!one_row && gemm_library() == GemmLibrary::OneDnn &&
      onednn_matmul(out, a, b, bias, batch, M, N, K, trans_a, trans_b,
                    b_batched, math == GemmMath::BF16, shared))
    return;
  if (math == GemmMath::BF16) {
    // The BLAS has no bf16 GEMM here: it multiplies the fp32 values the
    // bf16 operands hold, which sums the same products.
    thread_local std::vector<float> a16, b16;
    const int64_t na = batch * M * K, nb = (b_batched ? batch : 1) * K * N;
    a16.resize(size_t(na));
    b16.resize(size_t(nb));
    auto held = [](float *out, const float *x, const uint16_t *ready,
                   int64_t n) {
      if (ready)
        widen_bf16(out, ready, n);
      else
        round_through_bf16(out, x, n);
    };
    held(a16.data(), a, shared.a.ready, na);
    held(b16.data(), b, shared.b.ready, nb);
    a = a16.data();
    b = b16.data();
  }
  float beta = 0.0f;
  if (bias) {
    // Pre-fill every output row with the bias and let the BLAS add onto it.
    const int64_t rows = batch * M;
#pragma omp parallel for
    for (int64_t r = 0; r < rows; r++)
      std::memcpy(out + r * N, bias, N * sizeof(float));
    beta = 1.0f;
  }
  const CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans;
  const CBLAS_TRANSPOSE tb = trans_b ? CblasTrans : CblasNoTrans;
  const blasint lda = blasint(trans_a ? M : K);
  const blasint ldb = blasint(trans_b ? K : N);
  if (one_row) {
    // One row (a decode step at batch 1): sgemv reads each weight once,
    // where sgemm would first pack the whole matrix.
    if (trans_b)
      cblas_sgemv(CblasRowMajor, CblasNoTrans, blasint(N), blasint(K), 1.0f, b,
                  blasint(K), a, 1, beta, out, 1);
    else
      cblas_sgemv(CblasRowMajor, CblasTrans, blasint(K), blasint(N), 1.0f, b,
                  blasint(N), a, 1, beta, out, 1);
    return;
  }
  if (!trans_a && !b_batched) {
    // (batch, M, K) rows are contiguous: one big (batch*M, K) product.
    cblas_sgemm(CblasRowMajor, ta, tb, blasint(batch * M), blasint(N),
                blasint(K), 1.0f, a, lda, b, ldb, beta, out, blasint(N));
    return;
  }
  for (int64_t i = 0; i < batch; i++) {
    const float *bi = b_batched ? b + i * K * N : b;
    cblas_sgemm(CblasRowMajor, ta, tb, blasint(M), blasint(N), blasint(K), 1.0f,
                a + i * M * K, lda, bi, ldb, beta, out + i * M * N, blasint(N));
  }
}

void sum_rows(float *out, const float *in, int64_t N, int64_t C) {
  // Chunks of a fixed number of rows, each summed in row order, then the
  // chunks' sums in chunk order: the thread count never decides the order,
  // so the result is bit-identical for any, and each thread streams through
  // whole rows (column blocks over all rows read a strided 512 bytes a row,
  // and ran at two thirds of the memory's pace).
  constexpr int64_t kChunkRows = 64;
  const int64_t chunks =
      std::max<int64_t>(1, (N + kChunkRows - 1) / kChunkRows);
  thread_local std::vector<float> scratch;
  scratch.resize(size_t(chunks * C));
  float *partial = scratch.data();
#pragma omp parallel for
  for (int64_t ch = 0; ch < chunks; ch++) {
    float *p = partial + ch * C;
    std::fill(p, p + C, 0.0f);
    for (int64_t n = ch * kChunkRows; n < std::min(N, (ch + 1) * kChunkRows);
         n++) {
      const float *row = in + n * C;
#pragma omp simd
      for (int64_t c = 0; c < C; c++)
        p[c] += row[c];
    }
  }
  const int64_t block = 256;
#pragma omp parallel for
  for (int64_t c0 = 0; c0 < C; c0 += block) {
    const int64_t c1 = std::min(C, c0 + block);
    std::copy(partial + c0, partial + c1, out + c0);
    for (int64_t ch = 1; ch < chunks; ch++)
      for (int64_t c = c0; c < c1; c++)
        out[c] += partial[ch * C + c];
  }
}

} // namespace llmc::cpu
