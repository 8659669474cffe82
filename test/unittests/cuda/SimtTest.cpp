// Tests the SIMT emulator (runtime/cuda/simt): CUDA's warp shuffles and
// barriers give what the device gives, whatever order the threads run in,
// and a kernel that breaks CUDA's rules is reported, not hung.

#include "runtime/cuda/simt/simt.h"

#include "runtime/cuda/device/reduce.cuh"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using llmc::simt::launch;
using llmc::simt::SimtError;

namespace {

__global__ void shuffles(int *xor1, int *down4, int *from3) {
  int lane = threadIdx.x % 32;
  xor1[threadIdx.x] = __shfl_xor_sync(0xffffffffu, lane, 1);
  down4[threadIdx.x] = __shfl_down_sync(0xffffffffu, lane, 4, 8);
  from3[threadIdx.x] = __shfl_sync(0xffffffffu, lane, 3, 16);
}

TEST(SimtTest, ShufflesReadTheLanesCudaSays) {
  std::vector<int> xor1(64), down4(64), from3(64);
  for (uint64_t seed : {0, 1, 2}) {
    launch(
        1, 64, [&] { shuffles(xor1.data(), down4.data(), from3.data()); },
        seed);
    for (int t = 0; t < 64; ++t) {
      int lane = t % 32;
      EXPECT_EQ(xor1[t], lane ^ 1);
      // Within segments of 8: the lane 4 up, or its own past the segment.
      EXPECT_EQ(down4[t], lane % 8 < 4 ? lane + 4 : lane);
      EXPECT_EQ(from3[t], lane / 16 * 16 + 3);
    }
  }
}

__global__ void block_sum(const float *x, float *out) {
  __shared__ float scratch[32];
  float v = llmc::cuda::device::block_reduce<false>(x[threadIdx.x], scratch);
  out[threadIdx.x] = v;
}

TEST(SimtTest, BlockReductionIsTheSameInEveryOrder) {
  std::vector<float> x(256), out(256);
  for (int i = 0; i < 256; ++i)
    x[i] = float(i % 7) - 2.5f;
  float expected = 0;
  for (float v : x)
    expected += v;
  for (uint64_t seed : {0, 5, 9}) {
    launch(
        1, 256, [&] { block_sum(x.data(), out.data()); }, seed);
    for (float v : out)
      EXPECT_FLOAT_EQ(v, expected);
  }
}

// Each thread writes its slot, then reads its neighbour's: with the barrier
// between, the neighbour's value of this launch; without, whatever the
// thread order left there (the previous launch's, or this one's).
__global__ void neighbours(int launch_id, bool barrier, int *out) {
  __shared__ int slots[64];
  slots[threadIdx.x] = launch_id * 1000 + int(threadIdx.x);
  if (barrier)
    __syncthreads();
  out[threadIdx.x] = slots[(threadIdx.x + 1) % 64];
}

TEST(SimtTest, AMissingBarrierShowsUnderAnotherOrder) {
  std::vector<int> out(64);
  auto run = [&](int id, bool barrier, uint64_t seed) {
    launch(
        1, 64, [&] { neighbours(id, barrier, out.data()); }, seed);
    return out;
  };
  for (uint64_t seed : {0, 1, 2}) {
    std::vector<int> got = run(int(seed) + 1, true, seed);
    for (int t = 0; t < 64; ++t)
      EXPECT_EQ(got[t], (int(seed) + 1) * 1000 + (t + 1) % 64);
  }
  // Without the barrier, thread order decides what is read.
  run(10, false, 0);
  std::vector<int> first = run(11, false, 0);
  run(10, false, 0);
  std::vector<int> shuffled = run(11, false, 7);
  EXPECT_NE(first, shuffled);
}

__global__ void split_barrier() {
  if (threadIdx.x % 2)
    __syncthreads();
  else
    __syncthreads();
}

__global__ void early_exit_before_barrier() {
  if (threadIdx.x == 5)
    return;
  __syncthreads();
}

__global__ void shuffle_with_exited_lanes(float *out) {
  if (threadIdx.x < 16)
    return;
  out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, 1.0f, 1);
}

__global__ void shuffle_outside_mask(float *out) {
  out[threadIdx.x] = __shfl_sync(0x0000ffffu, float(threadIdx.x), 20);
}

std::string error_of(const std::function<void()> &body, unsigned threads) {
  try {
    launch(1, threads, body);
  } catch (const SimtError &e) {
    return e.what();
  }
  return "no error";
}

TEST(SimtTest, MisuseIsReportedNotHung) {
  std::vector<float> out(32);
  EXPECT_NE(error_of([] { split_barrier(); }, 64).find("at another (line"),
            std::string::npos);
  EXPECT_NE(error_of([] { early_exit_before_barrier(); }, 64)
                .find("never reaches: it exited"),
            std::string::npos);
  EXPECT_NE(error_of([&] { shuffle_with_exited_lanes(out.data()); }, 32)
                .find("an exited thread"),
            std::string::npos);
  EXPECT_NE(error_of(
                [&] {
                  if (threadIdx.x < 16)
                    shuffle_outside_mask(out.data());
                },
                32)
                .find("not in its shuffle's mask"),
            std::string::npos);
  EXPECT_NE(error_of([] {}, 2048).find("1 to 1024"), std::string::npos);
}

} // namespace
