// Tests GEMM roofline times and the efficiency curve by hand.

#include "compiler/planner/compute.h"

#include "TestClusters.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace llmc::planner;

// Tests eff = max · m/(m+m0) · n/(n+n0) · k/(k+k0): at m = n = k = m0 each
// factor is 1/2.
TEST(Compute, GemmEfficiencyCurve) {
  GemmEfficiency eff; // 0.8, 128, 128, 128
  EXPECT_DOUBLE_EQ(gemm_efficiency(eff, 128, 128, 128), 0.1);
  EXPECT_NEAR(gemm_efficiency(eff, 1e9, 1e9, 1e9), 0.8, 1e-6);
}

// Tests a large bf16 GEMM, compute-bound: 2·4096³ FLOPs at
// 100 TF · 0.8 · (4096/4224)³ = 1.3744e11 / 7.2945e13 s.
TEST(Compute, GemmAtComputeRoof) {
  ClusterSpec cluster = llmc::planner::testing::two_node_cluster();
  double eff = 0.8 * std::pow(4096.0 / 4224.0, 3);
  double expected = 2 * std::pow(4096.0, 3) / (100e12 * eff);
  EXPECT_DOUBLE_EQ(gemm_time(cluster, DType::BF16, 4096, 4096, 4096), expected);
  EXPECT_NEAR(expected, 1.8842e-3, 1e-7);
  // A batch of 4 takes 4 times as long.
  EXPECT_DOUBLE_EQ(gemm_time(cluster, DType::BF16, 4096, 4096, 4096, 4),
                   4 * expected);
}

// Tests that bf16 GEMMs follow their own curve where the spec has one (a
// CPU's bf16 kernels, fitted apart by llmc calibrate), and fp32 keeps the
// shared one: k0 = 1024 halves the efficiency at k = 1024.
TEST(Compute, Bf16GemmsFollowTheirOwnCurve) {
  ClusterSpec cluster = llmc::planner::testing::two_node_cluster();
  double shared = gemm_time(cluster, DType::BF16, 1024, 1024, 1024);
  double fp32 = gemm_time(cluster, DType::FP32, 1024, 1024, 1024);
  cluster.gemm_efficiency_bf16 =
      GemmEfficiency{cluster.gemm_efficiency.max, cluster.gemm_efficiency.m0,
                     cluster.gemm_efficiency.n0, 1024};
  double k_eff =
      (1024.0 / (1024 + 1024)) / (1024.0 / (1024 + cluster.gemm_efficiency.k0));
  EXPECT_DOUBLE_EQ(gemm_time(cluster, DType::BF16, 1024, 1024, 1024),
                   shared / k_eff);
  EXPECT_DOUBLE_EQ(gemm_time(cluster, DType::FP32, 1024, 1024, 1024), fp32);
}

// Tests a GEMV-shaped GEMM at the memory roof: m = 1, n = k = 8192 in bf16
// moves (8192 + 8192² + 8192)·2 bytes at 2 TB/s; with an ideal efficiency
// its compute time is 2·8192²/1e14 = 1.3 µs, far below.
TEST(Compute, GemmAtMemoryRoof) {
  ClusterSpec cluster = llmc::planner::testing::two_node_cluster();
  cluster.gemm_efficiency = {1.0, 1e-30, 1e-30, 1e-30};
  double bytes = (8192.0 + 8192.0 * 8192.0 + 8192.0) * 2;
  EXPECT_DOUBLE_EQ(gemm_time(cluster, DType::BF16, 1, 8192, 8192),
                   bytes / 2e12);
  // fp32 moves twice the bytes.
  EXPECT_DOUBLE_EQ(gemm_time(cluster, DType::FP32, 1, 8192, 8192),
                   2 * bytes / 2e12);
}

TEST(Compute, ElementwiseIsBandwidthBound) {
  ClusterSpec cluster = llmc::planner::testing::two_node_cluster();
  EXPECT_DOUBLE_EQ(elementwise_time(cluster, 1e9), 5e-4);
  EXPECT_EQ(dtype_bytes(DType::TF32), 4);
  EXPECT_EQ(dtype_bytes(DType::BF16), 2);
}

// Tests that the fit recovers a curve from rates it generated: peak 150
// GFLOP/s, m0 = 16, n0 = 32, k0 = 64 (all on the fit's grid, powers of √2).
TEST(Compute, FitRecoversEfficiencyCurve) {
  GemmEfficiency truth{1.0, 16, 32, 64};
  std::vector<GemmMeasurement> samples;
  for (double m : {32.0, 128.0, 512.0, 2048.0})
    for (double n : {16.0, 256.0, 4096.0})
      for (double k : {8.0, 64.0, 1024.0})
        samples.push_back({m, n, k, 150e9 * gemm_efficiency(truth, m, n, k)});
  GemmFit fit = fit_gemm_efficiency(samples);
  EXPECT_NEAR(fit.peak, 150e9, 1e3);
  EXPECT_NEAR(fit.efficiency.m0, 16, 1e-9);
  EXPECT_NEAR(fit.efficiency.n0, 32, 1e-9);
  EXPECT_NEAR(fit.efficiency.k0, 64, 1e-9);
  EXPECT_LT(fit.worst_error, 1e-9);
}
