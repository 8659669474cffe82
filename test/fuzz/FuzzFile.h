//===- FuzzFile.h - A fuzzer input as a file, for readers that take paths -===//
//
// The safetensors, token-file and ONNX readers open paths (they map or pread
// their files), so each fuzz input is written to one file in a folder of this
// process's own, rewritten per input.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_TEST_FUZZ_FUZZFILE_H
#define LLMC_TEST_FUZZ_FUZZFILE_H

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

namespace llmc::fuzz {

/// The folder, made once: $TMPDIR (or /tmp)/llmc-fuzz.PID.
inline const std::string &scratchFolder() {
  static const std::string folder = [] {
    const char *tmp = std::getenv("TMPDIR");
    std::string path = std::string(tmp && *tmp ? tmp : "/tmp") + "/llmc-fuzz." +
                       std::to_string(getpid());
    std::string command = "mkdir -p '" + path + "'";
    if (std::system(command.c_str()) != 0)
      std::abort();
    return path;
  }();
  return folder;
}

/// Writes `size` bytes to scratchFolder()/name and returns its path.
inline std::string writeInput(const std::string &name, const uint8_t *data,
                              size_t size) {
  std::string path = scratchFolder() + "/" + name;
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(data, 1, size, f) != size || std::fclose(f) != 0)
    std::abort();
  return path;
}

} // namespace llmc::fuzz

#endif // LLMC_TEST_FUZZ_FUZZFILE_H
