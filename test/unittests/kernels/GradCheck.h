// Test helpers for the CPU kernels: seeded random tensors, the projection
// loss <r, f(x)> in double, and a central finite-difference gradient check.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace llmc::test {

// Uniform in [lo, hi), from a fixed seed (std::mt19937).
std::vector<float> random_vector(size_t n, uint32_t seed, float lo = -1.0f,
                                 float hi = 1.0f);

// Uniform integers in [0, hi).
std::vector<int32_t> random_ids(size_t n, uint32_t seed, int32_t hi);

// sum_i r[i] * y[i], accumulated in double.
double project(const std::vector<float> &r, const float *y);

// Default finite-difference step and tolerance of gradient checks. With
// inputs of order 1, the central difference's truncation error is
// ~h^2 / 6 * f''' ~ 2e-5 and its float rounding error ~1e-4 / h ~ 5e-5
// (h = 1e-2), so 2e-3 leaves a wide margin while any real mistake (a missing
// term, a wrong sign or factor) is off by >= 1e-2.
constexpr float kFdStep = 1e-2f;
constexpr double kGradTol = 2e-3;

// Checks analytic[i] against (loss(x + h e_i) - loss(x - h e_i)) / (x_i^+ -
// x_i^-) for every element of x (x is perturbed in place and restored; loss
// must read it). Passes when |analytic - numeric| <= tol * max(1, |numeric|)
// for all i; on failure names the worst element.
::testing::AssertionResult check_gradient(const std::string &name,
                                          std::vector<float> &x,
                                          const std::vector<float> &analytic,
                                          const std::function<double()> &loss,
                                          double tol = kGradTol,
                                          float h = kFdStep);

// max_i |a[i] - b[i]| / max(1, |b[i]|) <= tol, naming the worst element.
::testing::AssertionResult all_near(const std::string &name, const float *a,
                                    const std::vector<double> &b, double tol);
::testing::AssertionResult all_near(const std::string &name,
                                    const std::vector<float> &a,
                                    const std::vector<double> &b, double tol);

// Runs fn with the OpenMP team size set to n, then restores it.
void with_threads(int n, const std::function<void()> &fn);

} // namespace llmc::test
