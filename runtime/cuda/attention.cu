// Launchers of the attention kernels, over whole sequences and over the
// paged KV cache; see attention.cuh.
#include "runtime/cuda/attention.cuh"
#include "runtime/cuda/cuda_check.h"
#include "runtime/cuda/device/attention.cuh"
#include "runtime/cuda/device/paged_attention.cuh"
#include "runtime/cuda/launch.h"

namespace llmc::cuda {
namespace {

void check_heads(const char *kernel, int Hq, int Hkv, int widest) {
  if (Hkv <= 0 || Hq % Hkv != 0)
    cuda_unsupported(kernel, "the kv heads must divide the query heads");
  if (widest > device::kAttentionMaxDv)
    cuda_unsupported(kernel, "head sizes above 256 are not supported");
}

} // namespace

void attention_forward(float *out, float *lse, const float *q, const float *k,
                       const float *v, int B, int Hq, int Hkv, int Tq, int Tk,
                       int D, int Dv, float scale, bool causal,
                       cudaStream_t stream) {
  long long rows = (long long)B * Hq * Tq;
  if (rows == 0)
    return;
  check_heads("attention_forward", Hq, Hkv, Dv);
  LLMC_LAUNCH(device::attention_forward_kernel,
              device::warp_row_blocks(rows, device::kAttentionThreads),
              device::kAttentionThreads, stream, out, lse, q, k, v, B, Hq, Hkv,
              Tq, Tk, D, Dv, scale, causal);
  LLMC_CUDA_CHECK(cudaGetLastError());
}

void attention_backward(float *dq, float *dk, float *dv, const float *dout,
                        const float *q, const float *k, const float *v,
                        const float *out, const float *lse, int B, int Hq,
                        int Hkv, int Tq, int Tk, int D, int Dv, float scale,
                        bool causal, cudaStream_t stream) {
  long long q_rows = (long long)B * Hq * Tq, k_rows = (long long)B * Hkv * Tk;
  check_heads("attention_backward", Hq, Hkv, D > Dv ? D : Dv);
  // Each kernel writes all of its outputs (dk and dv zeros when Tq is 0).
  if (q_rows > 0)
    LLMC_LAUNCH(device::attention_backward_dq_kernel,
                device::warp_row_blocks(q_rows, device::kAttentionThreads),
                device::kAttentionThreads, stream, dq, dout, q, k, v, out, lse,
                B, Hq, Hkv, Tq, Tk, D, Dv, scale, causal);
  if (k_rows > 0)
    LLMC_LAUNCH(device::attention_backward_dkv_kernel,
                device::warp_row_blocks(k_rows, device::kAttentionThreads),
                device::kAttentionThreads, stream, dk, dv, dout, q, k, v, out,
                lse, B, Hq, Hkv, Tq, Tk, D, Dv, scale, causal);
  LLMC_CUDA_CHECK(cudaGetLastError());
}

void kv_cache_write(float *cache, const float *x, const int32_t *block_table,
                    const int32_t *positions, int H, int D,
                    const cpu::PagedSizes &s, cudaStream_t stream) {
  long long n = s.B * H * s.T * (long long)D;
  if (n == 0)
    return;
  LLMC_LAUNCH(device::kv_cache_write_kernel, device::cache_write_blocks(n),
              device::kCacheWriteThreads, stream, cache, x, block_table,
              positions, H, D, s);
  LLMC_CUDA_CHECK(cudaGetLastError());
}

void paged_attention(float *out, const float *q, const float *k_cache,
                     const float *v_cache, const int32_t *block_table,
                     const int32_t *positions, float scale,
                     const cpu::PagedSizes &s, cudaStream_t stream) {
  long long rows = s.B * s.Hq * s.T;
  if (rows == 0)
    return;
  if (s.Hkv <= 0 || s.Hq % s.Hkv != 0)
    cuda_unsupported("paged_attention",
                     "the kv heads must divide the query heads");
  if (s.Dv > device::kAttentionMaxDv)
    cuda_unsupported("paged_attention",
                     "head sizes above 256 are not supported");
  LLMC_LAUNCH(device::paged_attention_kernel,
              device::warp_row_blocks(rows, device::kAttentionThreads),
              device::kAttentionThreads, stream, out, q, k_cache, v_cache,
              block_table, positions, scale, s);
  LLMC_CUDA_CHECK(cudaGetLastError());
}

void last_token(float *out, const float *x, const int32_t *positions, int B,
                int T, int C, cudaStream_t stream) {
  if (B == 0)
    return;
  LLMC_LAUNCH(device::last_token_kernel, B, 256, stream, out, x, positions, T,
              C);
  LLMC_CUDA_CHECK(cudaGetLastError());
}

} // namespace llmc::cuda
