// The part of the CUDA runtime API that llmc's launchers and device backend
// call, implemented on the host for the emulated build (the SIMT emulator
// runs the kernels): device memory is host memory that only device work may
// touch (device_memory.h), every stream is the host's program order, and
// there are kDevices devices, all the emulator (so each rank of an mpirun on
// one node has its own). Linked instead of libcudart into
// llmc-run-emulated-cuda and its tests only.
#include "runtime/cuda/emulated/device_memory.h"

#include <cuda_runtime_api.h>

#include <cstring>

namespace {
constexpr int kDevices = 8;
int current_device = 0;
} // namespace

extern "C" {

cudaError_t cudaGetLastError(void) { return cudaSuccess; }
cudaError_t cudaPeekAtLastError(void) { return cudaSuccess; }
const char *cudaGetErrorString(cudaError_t error) {
  return error == cudaSuccess ? "no error" : "emulated CUDA error";
}
cudaError_t cudaGetDeviceCount(int *count) {
  *count = kDevices;
  return cudaSuccess;
}
cudaError_t cudaGetDevice(int *device) {
  *device = current_device;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int device) {
  if (device < 0 || device >= kDevices)
    return cudaErrorInvalidDevice;
  current_device = device;
  return cudaSuccess;
}
cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp *prop, int device) {
  std::memset(prop, 0, sizeof *prop);
  std::strcpy(prop->name, "SIMT emulator");
  return device >= 0 && device < kDevices ? cudaSuccess
                                          : cudaErrorInvalidDevice;
}
cudaError_t cudaDeviceSynchronize(void) { return cudaSuccess; }
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }

// Page-aligned (cudaMalloc's 256 bytes, and more).
cudaError_t cudaMalloc(void **devPtr, size_t size) {
  *devPtr = llmc::cuda::emulated::allocate_device(size);
  return *devPtr ? cudaSuccess : cudaErrorMemoryAllocation;
}
// As CUDA's: freeing null does nothing; freeing a pointer cudaMalloc did
// not return is an error.
cudaError_t cudaFree(void *devPtr) {
  if (!devPtr || llmc::cuda::emulated::free_device(devPtr))
    return cudaSuccess;
  return cudaErrorInvalidValue;
}
cudaError_t cudaMemcpy(void *dst, const void *src, size_t count,
                       enum cudaMemcpyKind) {
  llmc::cuda::emulated::DeviceWork work;
  std::memmove(dst, src, count);
  return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t count,
                            enum cudaMemcpyKind kind, cudaStream_t) {
  return cudaMemcpy(dst, src, count, kind);
}
cudaError_t cudaMemset(void *devPtr, int value, size_t count) {
  llmc::cuda::emulated::DeviceWork work;
  std::memset(devPtr, value, count);
  return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void *devPtr, int value, size_t count,
                            cudaStream_t) {
  return cudaMemset(devPtr, value, count);
}

} // extern "C"
