//===- SafetensorsPythonTest.cpp - Cross-check with the Python reference --===//
//
// test/reference/safetensors_io.py is an independent stdlib-only reader and
// writer; the PyTorch parity tests use it. These tests make sure both sides
// read what the other writes.
//
//===----------------------------------------------------------------------===//

#include "runtime/io/safetensors.h"

#include "TestUtil.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>

using namespace llmc::io;
using namespace llmc::io::testing;

namespace {

const char *kPython = "/usr/bin/python3";
const std::string kScript =
    std::string(LLMC_SOURCE_DIR) + "/test/reference/safetensors_io.py";

/// Runs the reference script with `args` (each quoted); returns its status.
int run_script(const std::vector<std::string> &args) {
  std::string cmd = std::string(kPython) + " '" + kScript + "'";
  for (const std::string &a : args)
    cmd += " '" + a + "'";
  return std::system(cmd.c_str());
}

uint32_t bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

} // namespace

#define SKIP_WITHOUT_PYTHON()                                                  \
  if (!std::filesystem::exists(kPython))                                       \
  GTEST_SKIP() << kPython << " not found; the cross-check with "               \
               << "test/reference/safetensors_io.py needs it"

// Tests C++ write -> Python read and rewrite -> C++ read, bit for bit.
TEST(SafetensorsPython, CppToPythonToCpp) {
  SKIP_WITHOUT_PYTHON();
  TempDir dir;
  std::string a = dir.file("cpp.safetensors"), b = dir.file("py.safetensors");
  std::vector<float> attn(8 * 24), bias(24), ln(8, 1.0f);
  for (size_t i = 0; i < attn.size(); ++i)
    attn[i] = std::ldexp(std::cos(static_cast<float>(i) * 0.37f),
                         static_cast<int>(i % 40) - 20);
  for (size_t i = 0; i < bias.size(); ++i)
    bias[i] = -static_cast<float>(i) / 7.0f;
  bias[0] = -0.0f;
  bias[1] = std::numeric_limits<float>::infinity();
  bias[2] = std::numeric_limits<float>::denorm_min();
  bias[3] = std::numeric_limits<float>::max();
  std::map<std::string, std::string> meta = {{"step", "12"},
                                             {"note", "h\xc3\xa9llo \"q\""}};
  write_safetensors(
      a,
      {{"transformer.h.0.attn.c_attn.weight", {8, 24}, attn.data()},
       {"transformer.h.0.attn.c_attn.bias", {24}, bias.data()},
       {"transformer.ln_f.weight", {8}, ln.data()},
       {"empty", {0}, nullptr}},
      meta);
  ASSERT_EQ(run_script({"roundtrip", a, b}), 0) << "python roundtrip failed";

  SafetensorsReader orig(a), back(b);
  ASSERT_EQ(back.tensors().size(), orig.tensors().size());
  for (const TensorInfo &t : orig.tensors()) {
    ASSERT_TRUE(back.contains(t.name)) << t.name;
    EXPECT_EQ(back.info(t.name).shape, t.shape) << t.name;
    std::vector<float> x = orig.read(t.name), y = back.read(t.name);
    ASSERT_EQ(x.size(), y.size()) << t.name;
    for (size_t i = 0; i < x.size(); ++i)
      EXPECT_EQ(bits(x[i]), bits(y[i])) << t.name << "[" << i << "]";
  }
  meta["format"] = "pt";
  EXPECT_EQ(back.metadata(), meta);
}

// Tests that C++ reads the Python writer's F32, F16 and BF16 sample (see
// SAMPLE in safetensors_io.py).
TEST(SafetensorsPython, PythonSampleReadsInCpp) {
  SKIP_WITHOUT_PYTHON();
  TempDir dir;
  std::string path = dir.file("sample.safetensors");
  ASSERT_EQ(run_script({"sample", path}), 0) << "python sample failed";
  SafetensorsReader r(path);
  r.check_against({{"bf16", {4}},
                   {"empty", {0, 4}},
                   {"f16", {2, 4}},
                   {"f32", {2, 3}},
                   {"scalar", {}}});
  EXPECT_EQ(r.info("f16").dtype, DType::F16);
  EXPECT_EQ(r.info("bf16").dtype, DType::BF16);
  EXPECT_EQ(r.read("f32"),
            (std::vector<float>{0.0f, -1.5f, 3.25f, 1e-30f, -65504.0f, 0.1f}));
  std::vector<float> f16 = r.read("f16");
  std::vector<float> want = {1.0f,
                             -2.5f,
                             65504.0f,
                             std::ldexp(1.0f, -24),
                             std::ldexp(1.0f, -14),
                             -0.0f,
                             std::numeric_limits<float>::infinity(),
                             0.0999755859375f};
  ASSERT_EQ(f16.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_EQ(bits(f16[i]), bits(want[i])) << i;
  EXPECT_EQ(r.read("bf16"),
            (std::vector<float>{1.0f, -3.0f, std::ldexp(1.0f, 100), 0.15625f}));
  EXPECT_EQ(r.read("scalar"), std::vector<float>{7.0f});
  EXPECT_TRUE(r.read("empty").empty());
  std::map<std::string, std::string> meta = {{"format", "pt"},
                                             {"source", "python"}};
  EXPECT_EQ(r.metadata(), meta);
}
