// LLMC_HOST_DEVICE marks the formulas the CPU and CUDA kernels share, so
// both backends compute them bit for bit alike: __host__ __device__ under
// nvcc, nothing for the host compiler (and the SIMT emulator).
#pragma once

#if defined(__CUDACC__)
#define LLMC_HOST_DEVICE __host__ __device__
#else
#define LLMC_HOST_DEVICE
#endif
