// The comparison of the CUDA kernel tests: a kernel body under the SIMT
// emulator against its CPU kernel.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace llmc::test {

// |a - b| <= tol * (1 + |b|) everywhere (NaNs and infinities must match).
inline void expect_close(const std::vector<float> &a,
                         const std::vector<float> &b, float tol) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(b[i]) || std::isinf(b[i])) {
      ASSERT_TRUE(std::isnan(b[i]) ? std::isnan(a[i]) : a[i] == b[i])
          << "at " << i << ": " << a[i] << " vs " << b[i];
      continue;
    }
    ASSERT_NEAR(a[i], b[i], tol * (1 + std::fabs(b[i]))) << "at " << i;
  }
}

} // namespace llmc::test
