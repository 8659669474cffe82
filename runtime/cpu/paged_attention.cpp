// Paged attention on the CPU: one task per (sequence, query head, token),
// each walking its sequence's blocks with an online softmax.
#include "runtime/cpu/paged_attention.h"
#include "runtime/cpu/vec_math.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace llmc::cpu {

std::string check_paged_positions(const int32_t *block_table,
                                  const int32_t *positions,
                                  const PagedSizes &s) {
  for (int64_t b = 0; b < s.B; b++)
    for (int64_t t = 0; t < s.T; t++) {
      int64_t p = positions[b * s.T + t];
      if (p == -1)
        continue;
      const char *what = nullptr;
      if (p < 0)
        what = "is below -1 (padding)";
      else if (p / s.block_tokens >= s.max_blocks)
        what = "is past the end of its block table";
      else if (int64_t block =
                   block_table[b * s.max_blocks + p / s.block_tokens];
               block < 0 || block >= s.blocks)
        what = "has a block-table entry outside the block pool";
      if (what)
        return "sequence " + std::to_string(b) + ", token " +
               std::to_string(t) + ": position " + std::to_string(p) + " " +
               what;
    }
  return "";
}

void kv_cache_write(float *cache, const float *x, const int32_t *block_table,
                    const int32_t *positions, int64_t H, int64_t D,
                    const PagedSizes &s) {
  const int64_t bt = s.block_tokens;
#pragma omp parallel for collapse(2)
  for (int64_t b = 0; b < s.B; b++)
    for (int64_t t = 0; t < s.T; t++) {
      const int64_t p = positions[b * s.T + t];
      if (p < 0)
        continue;
      const int64_t block = block_table[b * s.max_blocks + p / bt];
      for (int64_t h = 0; h < H; h++)
        std::copy_n(x + ((b * H + h) * s.T + t) * D, D,
                    cache + ((block * H + h) * bt + p % bt) * D);
    }
}

void paged_attention(float *out, const float *q, const float *k_cache,
                     const float *v_cache, const int32_t *block_table,
                     const int32_t *positions, float scale,
                     const PagedSizes &s) {
  const int64_t group = s.Hq / s.Hkv, bt = s.block_tokens;
  const int64_t rows = s.B * s.Hq * s.T;
#pragma omp parallel
  {
    std::vector<float> scores(static_cast<size_t>(bt)),
        acc(static_cast<size_t>(s.Dv));
    // Longer contexts cost more; each task writes its own row.
#pragma omp for schedule(dynamic, 4)
    for (int64_t row = 0; row < rows; row++) {
      const int64_t t = row % s.T, bh = row / s.T;
      const int64_t b = bh / s.Hq, h = bh % s.Hq, g = h / group;
      float *o = out + row * s.Dv;
      const int64_t p = positions[b * s.T + t];
      if (p < 0) {
        std::fill(o, o + s.Dv, 0.0f);
        continue;
      }
      const float *qr = q + row * s.D;
      const int32_t *table = block_table + b * s.max_blocks;
      float m = -std::numeric_limits<float>::infinity(), l = 0.0f;
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (int64_t j0 = 0; j0 <= p; j0 += bt) {
        const int64_t n = std::min(bt, p + 1 - j0), block = table[j0 / bt];
        const float *K = k_cache + (block * s.Hkv + g) * bt * s.D;
        const float *V = v_cache + (block * s.Hkv + g) * bt * s.Dv;
        for (int64_t j = 0; j < n; j++)
          scores[size_t(j)] = scale * vec::dot(qr, K + j * s.D, s.D);
        const float m_new = std::max(m, vec::max(scores.data(), n));
        const float correction = std::exp(m - m_new);
        l *= correction;
        for (float &a : acc)
          a *= correction;
        // The block's weights at once: a loop that vectorises, where one
        // libm exp per score left a prefill's attention bound by them.
        vec::exp_shifted(scores.data(), scores.data(), m_new, n);
        for (int64_t j = 0; j < n; j++) {
          const float w = scores[size_t(j)];
          l += w;
          const float *v = V + j * s.Dv;
          for (int64_t d = 0; d < s.Dv; d++)
            acc[size_t(d)] += w * v[d];
        }
        m = m_new;
      }
      const float inv = 1.0f / l;
      for (int64_t d = 0; d < s.Dv; d++)
        o[d] = acc[size_t(d)] * inv;
    }
  }
}

} // namespace llmc::cpu
