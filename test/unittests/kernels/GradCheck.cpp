// Test helpers for the CPU kernels (see GradCheck.h).
#include "GradCheck.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>

extern "C" int omp_get_max_threads();
extern "C" void omp_set_num_threads(int);

namespace llmc::test {

std::vector<float> random_vector(size_t n, uint32_t seed, float lo, float hi) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> x(n);
  for (float &v : x)
    v = dist(gen);
  return x;
}

std::vector<int32_t> random_ids(size_t n, uint32_t seed, int32_t hi) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int32_t> dist(0, hi - 1);
  std::vector<int32_t> x(n);
  for (int32_t &v : x)
    v = dist(gen);
  return x;
}

double project(const std::vector<float> &r, const float *y) {
  double s = 0.0;
  for (size_t i = 0; i < r.size(); i++)
    s += double(r[i]) * double(y[i]);
  return s;
}

::testing::AssertionResult check_gradient(const std::string &name,
                                          std::vector<float> &x,
                                          const std::vector<float> &analytic,
                                          const std::function<double()> &loss,
                                          double tol, float h) {
  if (analytic.size() != x.size())
    return ::testing::AssertionFailure()
           << name << ": gradient has " << analytic.size()
           << " elements, input " << x.size();
  double worst = -1.0, worst_a = 0.0, worst_n = 0.0;
  size_t worst_i = 0;
  for (size_t i = 0; i < x.size(); i++) {
    const float x0 = x[i];
    const float xp = x0 + h, xm = x0 - h;
    x[i] = xp;
    const double lp = loss();
    x[i] = xm;
    const double lm = loss();
    x[i] = x0;
    // Divide by the step actually taken after float rounding.
    const double numeric = (lp - lm) / (double(xp) - double(xm));
    double err = std::fabs(double(analytic[i]) - numeric) /
                 std::max(1.0, std::fabs(numeric));
    if (std::isnan(err))
      err = INFINITY;
    if (err > worst) {
      worst = err;
      worst_i = i;
      worst_a = analytic[i];
      worst_n = numeric;
    }
  }
  if (worst <= tol)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << name << "[" << worst_i << "]: analytic " << worst_a
         << " vs finite difference " << worst_n << " (error " << worst << " > "
         << tol << ")";
}

::testing::AssertionResult all_near(const std::string &name, const float *a,
                                    const std::vector<double> &b, double tol) {
  double worst = -1.0;
  size_t worst_i = 0;
  for (size_t i = 0; i < b.size(); i++) {
    double err =
        std::fabs(double(a[i]) - b[i]) / std::max(1.0, std::fabs(b[i]));
    if (std::isnan(err))
      err = INFINITY;
    if (err > worst) {
      worst = err;
      worst_i = i;
    }
  }
  if (worst <= tol)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << name << "[" << worst_i << "]: " << a[worst_i] << " vs reference "
         << b[worst_i] << " (error " << worst << " > " << tol << ")";
}

::testing::AssertionResult all_near(const std::string &name,
                                    const std::vector<float> &a,
                                    const std::vector<double> &b, double tol) {
  if (a.size() != b.size())
    return ::testing::AssertionFailure()
           << name << ": " << a.size() << " elements vs " << b.size();
  return all_near(name, a.data(), b, tol);
}

void with_threads(int n, const std::function<void()> &fn) {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(n);
  fn();
  omp_set_num_threads(saved);
}

} // namespace llmc::test
