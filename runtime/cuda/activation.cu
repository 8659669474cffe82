// Launchers of the pointwise activations; see activation.cuh.
#include "runtime/cuda/activation.cuh"
#include "runtime/cuda/cuda_check.h"
#include "runtime/cuda/device/activation.cuh"
#include "runtime/cuda/launch.h"

namespace llmc::cuda {

namespace {
// Launches `kernel` over n elements (nothing for n = 0).
template <class Kernel, class... Args>
void pointwise(Kernel kernel, long long n, cudaStream_t stream, Args... args) {
  if (n == 0)
    return;
  LLMC_LAUNCH(kernel, device::pointwise_blocks(n), device::kPointwiseThreads,
              stream, args..., n);
  LLMC_CUDA_CHECK(cudaGetLastError());
}
} // namespace

void gelu_forward(float *out, const float *inp, long long n, Gelu kind,
                  cudaStream_t stream) {
  if (kind == Gelu::Tanh)
    pointwise(device::pointwise_forward_kernel<device::GeluTanh>, n, stream,
              out, inp);
  else
    pointwise(device::pointwise_forward_kernel<device::GeluErf>, n, stream, out,
              inp);
}

void gelu_backward(float *dinp, const float *dout, const float *inp,
                   long long n, Gelu kind, cudaStream_t stream) {
  if (kind == Gelu::Tanh)
    pointwise(device::pointwise_backward_kernel<device::GeluTanh>, n, stream,
              dinp, dout, inp);
  else
    pointwise(device::pointwise_backward_kernel<device::GeluErf>, n, stream,
              dinp, dout, inp);
}

void silu_forward(float *out, const float *inp, long long n,
                  cudaStream_t stream) {
  pointwise(device::pointwise_forward_kernel<device::Silu>, n, stream, out,
            inp);
}

void silu_backward(float *dinp, const float *dout, const float *inp,
                   long long n, cudaStream_t stream) {
  pointwise(device::pointwise_backward_kernel<device::Silu>, n, stream, dinp,
            dout, inp);
}

void swiglu_forward(float *out, const float *gate, const float *up, long long n,
                    cudaStream_t stream) {
  pointwise(device::swiglu_forward_kernel, n, stream, out, gate, up);
}

void swiglu_backward(float *dgate, float *dup, const float *dout,
                     const float *gate, const float *up, long long n,
                     cudaStream_t stream) {
  pointwise(device::swiglu_backward_kernel, n, stream, dgate, dup, dout, gate,
            up);
}

} // namespace llmc::cuda
