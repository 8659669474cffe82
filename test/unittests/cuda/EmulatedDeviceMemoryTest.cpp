// The emulated backend's device memory (runtime/cuda/emulated/
// device_memory.h) is the host's only during device work, as a GPU's is:
// a host read outside a kernel, copy or collective faults, which is how the
// emulated tests catch host code reading device memory.

#include "runtime/cuda/emulated/device_memory.h"

#include <gtest/gtest.h>

namespace emulated = llmc::cuda::emulated;

namespace {

TEST(EmulatedDeviceMemoryTest, HostTouchesItOnlyDuringDeviceWork) {
  auto *p = static_cast<volatile float *>(emulated::allocate_device(64));
  ASSERT_NE(p, nullptr);
  {
    emulated::DeviceWork work;
    p[3] = 2.5f;
    EXPECT_EQ(p[3], 2.5f);
    emulated::DeviceWork nested; // device work inside device work
  }
  EXPECT_DEATH(
      {
        volatile float x = p[3];
        (void)x;
      },
      "");
  EXPECT_TRUE(emulated::free_device(const_cast<float *>(p)));
  EXPECT_FALSE(emulated::free_device(nullptr));
}

} // namespace
