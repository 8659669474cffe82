// Launchers of the elementwise, general and layout kernels; see
// elementwise.cuh.
#include "runtime/cuda/cuda_check.h"
#include "runtime/cuda/device/elementwise.cuh"
#include "runtime/cuda/elementwise.cuh"
#include "runtime/cuda/launch.h"

// Launches grid-stride `kernel` over `n` elements, a thread each (nothing
// when there are none), and checks the launch.
#define LLMC_LAUNCH_OVER(n, stream, kernel, ...)                               \
  do {                                                                         \
    if ((n) > 0) {                                                             \
      LLMC_LAUNCH(kernel, device::elementwise_blocks(n),                       \
                  device::kElementwiseThreads, stream, __VA_ARGS__);           \
      LLMC_CUDA_CHECK(cudaGetLastError());                                     \
    }                                                                          \
  } while (0)

namespace llmc::cuda {
namespace {

long long elements(const Shape &shape) {
  long long n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

void check_view(const char *kernel, const std::string &error) {
  if (!error.empty())
    cuda_unsupported(kernel, error.c_str());
}

template <size_t N>
int kind_or_fail(const char *kernel, const std::array<const char *, N> &kinds,
                 const std::string &kind) {
  int k = kernels::kind_index(kinds, kind.c_str());
  if (k < 0)
    cuda_unsupported(kernel, ("unknown kind '" + kind + "'").c_str());
  return k;
}

void trailing(float *out, const float *a, const float *b, long long n,
              long long nb, int kind, cudaStream_t stream) {
  LLMC_LAUNCH_OVER(n, stream, device::trailing_kernel, out, a, b, n, nb, kind);
}

void strided_copy(float *dst, const float *src, const device::StridedView &v,
                  cudaStream_t stream) {
  long long n = 1;
  for (int d = 0; d < v.rank; ++d)
    n *= v.sizes[d];
  LLMC_LAUNCH_OVER(n, stream, device::strided_copy_kernel, dst, src, v, n);
}

} // namespace

void add(float *out, const float *a, const float *b, long long n, long long nb,
         cudaStream_t stream) {
  trailing(out, a, b, n, nb, kernels::kAdd, stream);
}
void mul(float *out, const float *a, const float *b, long long n, long long nb,
         cudaStream_t stream) {
  trailing(out, a, b, n, nb, kernels::kMul, stream);
}

void unary(float *out, const float *x, long long n, const std::string &kind,
           cudaStream_t stream) {
  int k = kind_or_fail("unary", kernels::kUnaryKinds, kind);
  LLMC_LAUNCH_OVER(n, stream, device::unary_kernel, out, x, n, k);
}

void binary(float *out, const Shape &out_shape, const float *a,
            const Shape &a_shape, const float *b, const Shape &b_shape,
            const std::string &kind, cudaStream_t stream) {
  int k = kind_or_fail("binary", kernels::kBinaryKinds, kind);
  device::StridedView v;
  check_view("binary",
             device::broadcast_view(v, out_shape, {a_shape, b_shape}));
  long long n = elements(out_shape);
  LLMC_LAUNCH_OVER(n, stream, device::binary_kernel, out, a, b, v, n, k);
}

void where(float *out, const Shape &out_shape, const float *condition,
           const Shape &c_shape, const float *a, const Shape &a_shape,
           const float *b, const Shape &b_shape, cudaStream_t stream) {
  device::StridedView v;
  check_view("where",
             device::broadcast_view(v, out_shape, {c_shape, a_shape, b_shape}));
  long long n = elements(out_shape);
  LLMC_LAUNCH_OVER(n, stream, device::where_kernel, out, condition, a, b, v, n);
}

void reduce(float *out, const float *x, const Shape &x_shape, const Shape &axes,
            const std::string &kind, cudaStream_t stream) {
  int k = kind_or_fail("reduce", kernels::kReduceKinds, kind);
  device::StridedView kept, folded;
  check_view("reduce", device::reduce_views(kept, folded, x_shape, axes));
  long long n_out = 1, count = 1;
  for (int d = 0; d < kept.rank; ++d)
    n_out *= kept.sizes[d];
  for (int d = 0; d < folded.rank; ++d)
    count *= folded.sizes[d];
  LLMC_LAUNCH_OVER(n_out, stream, device::reduce_kernel, out, x, kept, folded,
                   n_out, count, k);
}

void sum_to(float *out, const float *x, long long rows, long long cols,
            cudaStream_t stream) {
  LLMC_LAUNCH_OVER(cols, stream, device::sum_rows_kernel, out, x, rows, cols);
}

void fill(float *out, long long n, float value, cudaStream_t stream) {
  LLMC_LAUNCH_OVER(n, stream, device::fill_kernel, out, n, value);
}

void round_bf16(uint16_t *out, const float *x, long long n,
                cudaStream_t stream) {
  LLMC_LAUNCH_OVER(n, stream, device::round_bf16_kernel, out, x, n);
}

void copy(float *out, const float *x, long long n, cudaStream_t stream) {
  if (out != x && n > 0)
    LLMC_CUDA_CHECK(cudaMemcpyAsync(out, x, n * sizeof(float),
                                    cudaMemcpyDeviceToDevice, stream));
}

void permute(float *out, const float *x, const Shape &x_shape,
             const std::vector<int> &perm, cudaStream_t stream) {
  device::StridedView v;
  check_view("permute", device::permute_view(v, x_shape, perm));
  strided_copy(out, x, v, stream);
}

void split(float *const *parts, const float *x, const Shape &sizes,
           long long outer, long long inner, cudaStream_t stream) {
  long long total = 0, first = 0;
  for (int64_t s : sizes)
    total += s;
  for (size_t k = 0; k < sizes.size(); first += sizes[k++])
    strided_copy(parts[k], x,
                 device::block_view(outer, total, first, sizes[k], inner),
                 stream);
}

void concat(float *out, const float *const *parts, const Shape &sizes,
            long long outer, long long inner, cudaStream_t stream) {
  long long total = 0, first = 0;
  for (int64_t s : sizes)
    total += s;
  for (size_t k = 0; k < sizes.size(); first += sizes[k++])
    strided_copy(out, parts[k],
                 device::swapped(
                     device::block_view(outer, total, first, sizes[k], inner)),
                 stream);
}

void extract_slice(float *out, const Shape &out_shape, const float *x,
                   const Shape &x_shape, const Shape &offsets,
                   const Shape &steps, cudaStream_t stream) {
  device::StridedView v;
  check_view("extract_slice",
             device::slice_view(v, x_shape, out_shape, offsets, steps));
  strided_copy(out, x, v, stream);
}

void insert_slice(float *out, const Shape &out_shape, const float *src,
                  const Shape &src_shape, const Shape &offsets,
                  const Shape &steps, cudaStream_t stream) {
  device::StridedView v;
  check_view("insert_slice",
             device::slice_view(v, out_shape, src_shape, offsets, steps));
  strided_copy(out, src, device::swapped(v), stream);
}

void scatter_to_parallel(float *out, const float *x, long long outer,
                         long long ranks, long long chunk, long long rank,
                         cudaStream_t stream) {
  strided_copy(out, x, device::block_view(outer, ranks, rank, 1, chunk),
               stream);
}

} // namespace llmc::cuda
