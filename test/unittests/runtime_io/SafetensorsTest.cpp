//===- SafetensorsTest.cpp - safetensors reader, writer and checks --------===//

#include "runtime/io/safetensors.h"

#include "TestUtil.h"

#include <gtest/gtest.h>

#include <cmath>
#include <csignal>
#include <cstring>
#include <limits>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace llmc::io;
using namespace llmc::io::testing;

namespace {

/// A safetensors file from a literal header and data buffer.
std::string st_bytes(const std::string &header, const std::string &data = "") {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i)
    s[i] = static_cast<char>(static_cast<uint64_t>(header.size()) >> (8 * i));
  return s + header + data;
}

std::string f32_bytes(std::initializer_list<float> values) {
  std::string s;
  for (float v : values)
    s.append(reinterpret_cast<const char *>(&v), 4);
  return s;
}

uint32_t bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

} // namespace

//===----------------------------------------------------------------------===//
// Round trip and layout
//===----------------------------------------------------------------------===//

// Tests that written tensors, shapes and metadata read back bit for bit.
TEST(Safetensors, RoundTrip) {
  TempDir dir;
  std::string path = dir.file("model.safetensors");
  std::vector<float> wte(6 * 4), ln(4, 1.0f), scalar = {-0.0f};
  for (size_t i = 0; i < wte.size(); ++i)
    wte[i] = std::sin(static_cast<float>(i)) * 1e-3f;
  wte[3] = std::numeric_limits<float>::infinity();
  wte[5] = std::numeric_limits<float>::denorm_min();
  write_safetensors(path,
                    {{"transformer.wte.weight", {6, 4}, wte.data()},
                     {"transformer.ln_f.weight", {4}, ln.data()},
                     {"step", {}, scalar.data()},
                     {"empty", {0, 3}, nullptr}},
                    {{"step", "7"}, {"note", "h\xc3\xa9llo \"q\""}});

  SafetensorsReader r(path);
  ASSERT_EQ(r.tensors().size(), 4u);
  EXPECT_EQ(r.tensors()[0].name, "empty"); // sorted by name
  EXPECT_EQ(r.info("transformer.wte.weight").shape,
            (std::vector<int64_t>{6, 4}));
  EXPECT_EQ(r.info("step").shape, std::vector<int64_t>{});
  EXPECT_EQ(r.info("step").numel, 1);
  EXPECT_EQ(r.info("empty").numel, 0);
  EXPECT_EQ(r.info("empty").dtype, DType::F32);
  std::vector<float> got = r.read("transformer.wte.weight");
  ASSERT_EQ(got.size(), wte.size());
  for (size_t i = 0; i < wte.size(); ++i)
    EXPECT_EQ(bits(got[i]), bits(wte[i])) << i;
  EXPECT_EQ(r.read("transformer.ln_f.weight"), ln);
  EXPECT_EQ(bits(r.read("step")[0]), bits(-0.0f));
  EXPECT_TRUE(r.read("empty").empty());
  std::map<std::string, std::string> meta = {
      {"format", "pt"}, {"note", "h\xc3\xa9llo \"q\""}, {"step", "7"}};
  EXPECT_EQ(r.metadata(), meta);
  EXPECT_TRUE(r.contains("step"));
  EXPECT_FALSE(r.contains("ste"));
}

// Tests BF16 writing: two bytes an element, rounded to nearest with ties to
// even (1 + 2^-8, halfway between 1 and 1 + 2^-7, goes down to 1; 1 + 3 *
// 2^-8, halfway between 1 + 2^-7 and 1 + 2^-6, goes up to 1 + 2^-6),
// infinities kept, NaN a NaN, more elements than one slice of the writer;
// read back as the rounded values.
TEST(Safetensors, WritesBf16RoundedToNearestEven) {
  TempDir dir;
  std::string path = dir.file("model.safetensors");
  std::vector<float> w((1 << 20) + 5, 0.5f);
  const float tie = 1.0f + 0x1p-8f, up = 1.0f + 3 * 0x1p-8f;
  w[0] = tie;
  w[1] = up;
  w[2] = -std::numeric_limits<float>::infinity();
  w[3] = std::numeric_limits<float>::quiet_NaN();
  w.back() = -tie;
  write_safetensors(path, {{"w", {int64_t(w.size())}, w.data()}}, {},
                    DType::BF16);
  SafetensorsReader r(path);
  EXPECT_EQ(r.info("w").dtype, DType::BF16);
  std::vector<float> got = r.read("w");
  ASSERT_EQ(got.size(), w.size());
  EXPECT_EQ(got[0], 1.0f);
  EXPECT_EQ(got[1], 1.0f + 0x1p-6f);
  EXPECT_EQ(got[2], -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(got[3]));
  EXPECT_EQ(got[4], 0.5f);
  EXPECT_EQ(got.back(), -1.0f);
  // 8-byte length, the header, then 2 bytes per element.
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(uint64_t(st.st_size) % 2, 0u);
  EXPECT_GE(uint64_t(st.st_size), 2 * w.size());
  EXPECT_LT(uint64_t(st.st_size), 2 * w.size() + 4096);
}

// Tests the exact bytes: metadata first, tensors sorted by name with data in
// the same order, header padded with spaces to a multiple of 8, and the same
// output whatever order the tensors are given in.
TEST(Safetensors, WriterLayoutIsStable) {
  TempDir dir;
  std::vector<float> a = {1, 2}, b = {3};
  write_safetensors(dir.file("x"),
                    {{"b", {1, 1}, b.data()}, {"a.bias", {2}, a.data()}});
  write_safetensors(dir.file("y"),
                    {{"a.bias", {2}, a.data()}, {"b", {1, 1}, b.data()}});
  std::string header =
      "{\"__metadata__\":{\"format\":\"pt\"},"
      "\"a.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[8,12]}}";
  header.append((8 - header.size() % 8) % 8, ' ');
  ASSERT_EQ(header.size() % 8, 0u);
  std::string expected = st_bytes(header, f32_bytes({1, 2, 3}));
  EXPECT_EQ(read_bytes(dir.file("x")), expected);
  EXPECT_EQ(read_bytes(dir.file("y")), expected);
}

// Tests that an explicit "format" is kept.
TEST(Safetensors, WriterKeepsCallerFormat) {
  TempDir dir;
  write_safetensors(dir.file("x"), {}, {{"format", "mlx"}});
  EXPECT_EQ(SafetensorsReader(dir.file("x")).metadata().at("format"), "mlx");
}

// Tests F16 (normal, subnormal, zero, inf, NaN) and BF16 conversion.
TEST(Safetensors, ReadsHalfFormats) {
  TempDir dir;
  // F16: 1.0, -2.5, 65504, 2^-24, -0.0, inf, NaN; BF16: 1.0, -3.0.
  const uint16_t f16[] = {0x3C00, 0xC100, 0x7BFF, 0x0001,
                          0x8000, 0x7C00, 0x7E00};
  const uint16_t bf16[] = {0x3F80, 0xC040};
  std::string data(reinterpret_cast<const char *>(f16), sizeof f16);
  data.append(reinterpret_cast<const char *>(bf16), sizeof bf16);
  write_bytes(
      dir.file("h"),
      st_bytes(
          "{\"h\":{\"dtype\":\"F16\",\"shape\":[7],\"data_offsets\":[0,14]},"
          "\"b\":{\"dtype\":\"BF16\",\"shape\":[2,1],\"data_offsets\":[14,18]}"
          "}",
          data));
  SafetensorsReader r(dir.file("h"));
  std::vector<float> h = r.read("h");
  EXPECT_EQ(h[0], 1.0f);
  EXPECT_EQ(h[1], -2.5f);
  EXPECT_EQ(h[2], 65504.0f);
  EXPECT_EQ(h[3], std::ldexp(1.0f, -24));
  EXPECT_EQ(bits(h[4]), bits(-0.0f));
  EXPECT_EQ(h[5], std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(h[6]));
  EXPECT_EQ(r.read("b"), (std::vector<float>{1.0f, -3.0f}));
  EXPECT_EQ(r.info("b").dtype, DType::BF16);
  EXPECT_TRUE(r.metadata().empty());
}

//===----------------------------------------------------------------------===//
// Atomic writes
//===----------------------------------------------------------------------===//

// Tests that a write failing midway (here: the file size limit, EFBIG) throws,
// leaves the previous file intact and removes the temporary file.
TEST(Safetensors, FailedWriteKeepsPreviousFile) {
  TempDir dir;
  std::string path = dir.file("ckpt.safetensors");
  std::vector<float> old = {1, 2, 3};
  write_safetensors(path, {{"w", {3}, old.data()}});
  std::string before = read_bytes(path);

  std::vector<float> big(1 << 20, 0.5f);
  struct rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  struct rlimit small = saved;
  small.rlim_cur = 64 * 1024;
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string err = error_of([&] {
    write_safetensors(path, {{"w", {1 << 20}, big.data()}});
  });
  setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, old_handler);

  std::string tmp = path + ".tmp." + std::to_string(getpid());
  EXPECT_EQ(err, tmp + ": write failed: File too large");
  EXPECT_EQ(read_bytes(path), before);
  EXPECT_FALSE(std::filesystem::exists(tmp));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                          std::filesystem::directory_iterator()),
            1);
}

TEST(Safetensors, WriterErrors) {
  TempDir dir;
  std::string p = dir.file("out.safetensors");
  float x = 0;
  EXPECT_EQ(error_of([&] {
              write_safetensors(p, {{"a", {1}, &x}, {"a", {1}, &x}});
            }),
            p + ": tensor 'a' is given twice");
  EXPECT_EQ(error_of([&] {
              write_safetensors(p, {{"__metadata__", {1}, &x}});
            }),
            p + ": '__metadata__' cannot name a tensor");
  EXPECT_EQ(error_of([&] {
              write_safetensors(p, {{"a", {2, -1}, &x}});
            }),
            p + ": tensor 'a': shape [2, -1] has a negative dimension");
  EXPECT_EQ(error_of([&] {
              write_safetensors(p, {{"a", {2}, nullptr}});
            }),
            p + ": tensor 'a' has no data");
  std::string missing = dir.file("no/such/dir/out.safetensors");
  EXPECT_EQ(error_of([&] {
              write_safetensors(missing, {{"a", {1}, &x}});
            }),
            missing + ".tmp." + std::to_string(getpid()) +
                ": cannot open: No such file or directory");
  EXPECT_FALSE(std::filesystem::exists(p));
}

//===----------------------------------------------------------------------===//
// Reader errors
//===----------------------------------------------------------------------===//

namespace {
/// The error reading a file made of `header` and `data`.
std::string read_error(const TempDir &dir, const std::string &header,
                       const std::string &data = "") {
  write_bytes(dir.file("bad.safetensors"), st_bytes(header, data));
  return error_of([&] { SafetensorsReader r(dir.file("bad.safetensors")); });
}
} // namespace

TEST(Safetensors, FileErrors) {
  TempDir dir;
  std::string p = dir.file("bad.safetensors");
  EXPECT_EQ(error_of([&] { SafetensorsReader r(p); }),
            p + ": cannot open: No such file or directory");
  EXPECT_EQ(
      error_of([&] { SafetensorsReader r(dir.path()); }),
      dir.path() +
          ": not a regular file (a folder, FIFO or device); expected a file");
  write_bytes(p, "12345");
  EXPECT_EQ(
      error_of([&] { SafetensorsReader r(p); }),
      p + ": file is 5 bytes, too short for the 8-byte safetensors header "
          "length");
  std::string ok = st_bytes(std::string(1000, ' ')).substr(0, 8) + "{}";
  write_bytes(p, ok);
  EXPECT_EQ(error_of([&] { SafetensorsReader r(p); }),
            p + ": header length 1000 runs past the end of the 10-byte file; "
                "not a safetensors file?");
}

// Tests the 100 MB header limit with a sparse file, so nothing is written.
TEST(Safetensors, HeaderLengthLimit) {
  TempDir dir;
  std::string p = dir.file("big.safetensors");
  write_bytes(p, st_bytes(std::string(100'000'001, ' ')).substr(0, 8));
  std::filesystem::resize_file(p, 100'000'016);
  EXPECT_EQ(
      error_of([&] { SafetensorsReader r(p); }),
      p + ": header length 100000001 exceeds the limit of 100000000 bytes");
}

TEST(Safetensors, HeaderErrors) {
  TempDir dir;
  std::string p = dir.file("bad.safetensors") + ": ";
  EXPECT_EQ(read_error(dir, "{\"a\": "),
            p + "header is not valid JSON: parse error at line 1, column 7: "
                "syntax error while parsing value - unexpected end of input; "
                "expected '[', '{', or a literal");
  EXPECT_EQ(read_error(dir, "[1, 2]"),
            p + "header is array, expected a JSON object");
  EXPECT_EQ(
      read_error(dir, "{\"a\": 3}"),
      p + "tensor 'a': expected an object with dtype, shape and data_offsets");
  EXPECT_EQ(
      read_error(dir, "{\"a\": {\"shape\": [], \"data_offsets\": [0, 4]}}"),
      p + "tensor 'a': missing field 'dtype'");
  EXPECT_EQ(read_error(dir, "{\"a\": {\"dtype\": 32, \"shape\": [], "
                            "\"data_offsets\": [0, 4]}}"),
            p + "tensor 'a': field 'dtype' is not a string");
  EXPECT_EQ(
      read_error(dir, "{\"a\": {\"dtype\": \"I64\", \"shape\": [1], "
                      "\"data_offsets\": [0, 8]}}"),
      p + "tensor 'a': dtype 'I64' is not supported; expected F32, F16 or "
          "BF16");
  EXPECT_EQ(read_error(
                dir, "{\"a\": {\"dtype\": \"F32\", \"data_offsets\": [0, 4]}}"),
            p + "tensor 'a': missing field 'shape'");
  EXPECT_EQ(read_error(dir, "{\"a\": {\"dtype\": \"F32\", \"shape\": 4, "
                            "\"data_offsets\": [0, 4]}}"),
            p + "tensor 'a': field 'shape' is not an array");
  EXPECT_EQ(read_error(dir, "{\"a\": {\"dtype\": \"F32\", \"shape\": [2, -1], "
                            "\"data_offsets\": [0, 4]}}"),
            p + "tensor 'a': field 'shape' is [2,-1], expected non-negative "
                "integers");
  EXPECT_EQ(read_error(dir, "{\"a\": {\"dtype\": \"F32\", \"shape\": [1]}}"),
            p + "tensor 'a': missing field 'data_offsets'");
  EXPECT_EQ(read_error(dir, "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], "
                            "\"data_offsets\": [8, 4]}}"),
            p + "tensor 'a': field 'data_offsets' is [8,4], expected [begin, "
                "end] with 0 <= begin <= end");
  EXPECT_EQ(read_error(dir, "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], "
                            "\"data_offsets\": [0]}}"),
            p + "tensor 'a': field 'data_offsets' is [0], expected [begin, "
                "end] with 0 <= begin <= end");
  EXPECT_EQ(read_error(dir, "{\"__metadata__\": [], \"a\": 1}"),
            p + "__metadata__ is not an object of strings");
  EXPECT_EQ(read_error(dir, "{\"__metadata__\": {\"k\": 1}}"),
            p + "__metadata__ field 'k' is not a string");
  EXPECT_EQ(read_error(dir, "{\"a\": {}, \"b\": {}, \"a\": {}}"),
            p + "header lists 'a' twice");
}

TEST(Safetensors, DataRangeErrors) {
  TempDir dir;
  std::string p = dir.file("bad.safetensors") + ": ";
  std::string data16(16, '\0');
  EXPECT_EQ(read_error(dir,
                       "{\"a\": {\"dtype\": \"F32\", \"shape\": [2, 3], "
                       "\"data_offsets\": [0, 20]}}",
                       std::string(24, '\0')),
            p + "tensor 'a': shape [2, 3] of F32 needs 24 bytes but "
                "data_offsets [0, 20] hold 20");
  EXPECT_EQ(read_error(dir,
                       "{\"a\": {\"dtype\": \"BF16\", \"shape\": [3], "
                       "\"data_offsets\": [0, 4]}}",
                       data16),
            p + "tensor 'a': shape [3] of BF16 needs 6 bytes but data_offsets "
                "[0, 4] hold 4");
  EXPECT_EQ(read_error(dir,
                       "{\"a\": {\"dtype\": \"F32\", \"shape\": [6], "
                       "\"data_offsets\": [0, 24]}}",
                       data16),
            p + "tensor 'a': data_offsets [0, 24] run past the 16-byte data "
                "buffer");
  EXPECT_EQ(
      read_error(
          dir,
          "{\"a\": {\"dtype\": \"F32\", \"shape\": [4611686018427387904, 8], "
          "\"data_offsets\": [0, 0]}}",
          data16),
      p + "tensor 'a': shape [4611686018427387904, 8] has more than 2^63 "
          "elements");
  EXPECT_EQ(read_error(dir,
                       "{\"b\": {\"dtype\": \"F32\", \"shape\": [2], "
                       "\"data_offsets\": [8, 16]}, "
                       "\"a\": {\"dtype\": \"F32\", \"shape\": [3], "
                       "\"data_offsets\": [0, 12]}}",
                       data16),
            p + "tensors 'a' [0, 12] and 'b' [8, 16] overlap");
  // Empty tensors overlap nothing; gaps between tensors are tolerated.
  write_bytes(dir.file("ok"),
              st_bytes("{\"e\": {\"dtype\": \"F32\", \"shape\": [0], "
                       "\"data_offsets\": [4, 4]}, \"a\": {\"dtype\": \"F32\", "
                       "\"shape\": [1], \"data_offsets\": [0, 4]}, "
                       "\"b\": {\"dtype\": \"F32\", \"shape\": [1], "
                       "\"data_offsets\": [12, 16]}}",
                       f32_bytes({1, 2, 3, 4})));
  SafetensorsReader ok(dir.file("ok"));
  EXPECT_EQ(ok.read("b"), std::vector<float>{4});
  EXPECT_EQ(error_of([&] { ok.read("zz"); }),
            dir.file("ok") + ": no tensor 'zz'");
}

// Tests that a file truncated after it was opened fails with a clear error.
TEST(Safetensors, TruncatedAfterOpen) {
  TempDir dir;
  std::vector<float> v(16, 1.0f);
  write_safetensors(dir.file("t"), {{"v", {16}, v.data()}});
  SafetensorsReader r(dir.file("t"));
  std::filesystem::resize_file(dir.file("t"), 16);
  std::string err = error_of([&] { r.read("v"); });
  EXPECT_EQ(err.rfind(dir.file("t") + ": unexpected end of file at byte ", 0),
            0u)
      << err;
}

//===----------------------------------------------------------------------===//
// check_against
//===----------------------------------------------------------------------===//

// Tests that every mismatch is reported in one error.
TEST(Safetensors, CheckAgainstListsEveryMismatch) {
  TempDir dir;
  std::string path = dir.file("ckpt.safetensors");
  std::vector<float> buf(256 * 8, 0.0f);
  write_safetensors(path, {{"model.embed_tokens.weight", {8, 256}, buf.data()},
                           {"model.norm.weight", {255}, buf.data()},
                           {"foo", {3}, buf.data()}});
  SafetensorsReader r(path);
  std::vector<TensorSpec> model = {{"model.embed_tokens.weight", {8, 256}},
                                   {"model.norm.weight", {256}},
                                   {"lm_head.weight", {8192, 256}}};
  EXPECT_EQ(error_of([&] { r.check_against(model); }),
            path + ": 3 mismatches with the model: missing 'lm_head.weight' "
                   "[8192, 256]; unexpected 'foo' [3]; 'model.norm.weight' has "
                   "shape [255], expected [256]");
  model = {{"model.embed_tokens.weight", {8, 256}},
           {"model.norm.weight", {255}}};
  EXPECT_EQ(error_of([&] { r.check_against(model); }),
            path + ": 1 mismatch with the model: unexpected 'foo' [3]");
  model.push_back({"foo", {3}});
  EXPECT_EQ(error_of([&] { r.check_against(model); }), "<no error>");
}

TEST(TensorSpec, FormatShape) {
  EXPECT_EQ(format_shape({}), "[]");
  EXPECT_EQ(format_shape({8192, 256}), "[8192, 256]");
}
