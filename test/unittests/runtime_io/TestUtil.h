//===- TestUtil.h - Temp dirs, raw files and error capture for I/O tests --===//
#ifndef LLMC_TEST_UNITTESTS_RUNTIME_IO_TESTUTIL_H
#define LLMC_TEST_UNITTESTS_RUNTIME_IO_TESTUTIL_H

#include "runtime/io/error.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace llmc::io::testing {

/// A fresh directory under /tmp, removed with its contents at scope exit.
class TempDir {
public:
  TempDir() {
    char tmpl[] = "/tmp/llmc-io-test-XXXXXX";
    if (!::mkdtemp(tmpl))
      throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;

  const std::string &path() const { return path_; }
  std::string file(const std::string &name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

inline void write_bytes(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

inline std::string read_bytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// The what() of the InputError `f` throws, or "<no error>". Also checks
/// the message is one line.
template <class F> std::string error_of(F &&f) {
  try {
    f();
  } catch (const InputError &e) {
    std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << "multi-line: " << what;
    return what;
  }
  return "<no error>";
}

} // namespace llmc::io::testing

#endif // LLMC_TEST_UNITTESTS_RUNTIME_IO_TESTUTIL_H
