//===- tensor_spec.cpp - Shape formatting and element counts --------------===//

#include "runtime/io/tensor_spec.h"

#include "runtime/io/error.h"

#include <limits>

using namespace llmc::io;

std::string llmc::io::format_shape(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

int64_t llmc::io::checked_numel(const std::vector<int64_t> &shape,
                                const std::string &where) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0)
      throw InputError(where + ": shape " + format_shape(shape) +
                       " has a negative dimension");
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d)
      throw InputError(where + ": shape " + format_shape(shape) +
                       " has more than 2^63 elements");
    n *= d;
  }
  return n;
}
