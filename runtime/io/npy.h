//===- npy.h - NumPy .npy files of float32 arrays ---------------*- C++ -*-===//
//
// The array files `llmc run` reads its inputs from and writes its outputs
// to: format 1.0 or 2.0, little-endian float32 ('<f4'; int32 or int64 for
// token ids), C order, as numpy.save writes them. Anything else is an
// InputError naming the file.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_IO_NPY_H
#define LLMC_RUNTIME_IO_NPY_H

#include <cstdint>
#include <string>
#include <vector>

namespace llmc::io {

struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<float> data; // a float32 array's elements
  bool integer = false;    // an int32 or int64 array: `ints` holds them
  std::vector<int64_t> ints;
};

/// Reads float32, int32 or int64 arrays.
NpyArray read_npy(const std::string &path);
void write_npy(const std::string &path, const std::vector<int64_t> &shape,
               const float *data);

} // namespace llmc::io

#endif // LLMC_RUNTIME_IO_NPY_H
