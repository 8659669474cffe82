// A SIMT emulator: CUDA kernels compiled by the host compiler and run on
// the CPU, so that every CUDA kernel of llmc runs in CI (where there is no
// GPU) against its CPU counterpart. A kernel's body lives in a `.cuh`
// header that nvcc compiles for the device (the `.cu` that launches it)
// and the host compiler compiles after this header, which spells CUDA's
// names for the emulator:
//
//   - each thread of a block is a fiber (ucontext) with its own stack;
//     blocks run one after another, their threads interleaved at
//     __syncthreads and warp shuffles, the only points where CUDA threads
//     wait for each other;
//   - `__shared__` variables are `static`: one copy that every thread of
//     the running block sees (blocks never run at once here);
//   - __syncthreads, __shfl_sync, __shfl_xor_sync, __shfl_down_sync and
//     atomicAdd behave as on the device, and misuse is reported as a
//     SimtError instead of a hang: threads waiting at different barriers,
//     a thread that exits while others wait at one, a shuffle that reads a
//     lane outside its mask or one that has exited;
//   - `launch(..., seed)` resumes the threads that are ready in an order
//     drawn from `seed` (0: thread order), so a read of shared memory that
//     a missing barrier leaves unordered gives different results under
//     different seeds.
//
// Only what llmc's kernels use is here; a kernel that needs more fails to
// compile against this header, not silently.
#pragma once

#ifdef __CUDACC__
#error "simt.h emulates CUDA on the host; nvcc compiles these kernels natively"
#endif

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace llmc::simt {

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  constexpr dim3(unsigned x = 1, unsigned y = 1, unsigned z = 1)
      : x(x), y(y), z(z) {}
};

// Where the running thread is, as CUDA's built-in variables say it.
struct Coordinates {
  dim3 thread, block, block_dim, grid_dim;
};
// The running thread's coordinates (set by the scheduler before it resumes
// a thread; read through threadIdx and friends).
extern const Coordinates *current;

// A kernel's misuse of CUDA's rules, found while emulating it.
struct SimtError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr int kWarpSize = 32;

// __syncthreads() at source line `line` (which barrier it is).
void syncthreads(int line);

enum class Shuffle { Index, Xor, Down };
// The 8 bytes of `value` that lane `source` (by `kind` from `arg` and
// `width`) holds, once every lane of `mask` in this warp has arrived.
uint64_t shuffle(unsigned mask, uint64_t value, Shuffle kind, int arg,
                 int width);

// Runs `body` once per thread of each block of `grid` (blocks in order).
// Throws SimtError for misuse, and rethrows what a thread threw.
void launch(dim3 grid, dim3 block, const std::function<void()> &body,
            uint64_t seed = 0);

template <class T>
T shuffle_as(unsigned mask, T value, Shuffle kind, int arg, int width) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8,
                "warp shuffles move values of at most 8 bytes");
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(T));
  bits = shuffle(mask, bits, kind, arg, width);
  std::memcpy(&value, &bits, sizeof(T));
  return value;
}

} // namespace llmc::simt

// CUDA's spellings, for the kernel headers. After the CUDA runtime's own
// headers (the emulated launchers include them for their types), its
// spellings are replaced and its dim3 stays (runtime/cuda/launch.h
// converts it).
#if !defined(CUDART_VERSION)
using dim3 = llmc::simt::dim3;
#endif
#undef __global__
#undef __device__
#undef __host__
#undef __forceinline__
#undef __restrict__
#undef __shared__
#define __global__ inline
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__
#define __shared__ static
#define threadIdx (::llmc::simt::current->thread)
#define blockIdx (::llmc::simt::current->block)
#define blockDim (::llmc::simt::current->block_dim)
#define gridDim (::llmc::simt::current->grid_dim)
#define warpSize ::llmc::simt::kWarpSize
#define __syncthreads() ::llmc::simt::syncthreads(__LINE__)

template <class T>
inline T __shfl_sync(unsigned mask, T value, int src, int width = 32) {
  return llmc::simt::shuffle_as(mask, value, llmc::simt::Shuffle::Index, src,
                                width);
}
template <class T>
inline T __shfl_xor_sync(unsigned mask, T value, int lane_mask,
                         int width = 32) {
  return llmc::simt::shuffle_as(mask, value, llmc::simt::Shuffle::Xor,
                                lane_mask, width);
}
template <class T>
inline T __shfl_down_sync(unsigned mask, T value, unsigned delta,
                          int width = 32) {
  return llmc::simt::shuffle_as(mask, value, llmc::simt::Shuffle::Down,
                                int(delta), width);
}
// One OS thread runs every emulated thread, and none is interrupted
// between the load and the store.
template <class T> inline T atomicAdd(T *address, T value) {
  T old = *address;
  *address = old + value;
  return old;
}
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float x, float y) { return x / y; }
