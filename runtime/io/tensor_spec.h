//===- tensor_spec.h - A tensor's name and shape --------------------------===//
//
// The unit shared by checkpoint checks and initialisation: a parameter named
// as in Hugging Face checkpoints with its HF shape.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_IO_TENSOR_SPEC_H
#define LLMC_RUNTIME_IO_TENSOR_SPEC_H

#include <cstdint>
#include <string>
#include <vector>

namespace llmc::io {

struct TensorSpec {
  std::string name;           // e.g. "transformer.h.0.attn.c_attn.weight"
  std::vector<int64_t> shape; // row-major, e.g. {768, 2304}
};

/// "[8192, 256]"; "[]" for a scalar.
std::string format_shape(const std::vector<int64_t> &shape);

/// The number of elements; throws InputError (prefixed by `where`) if a
/// dimension is negative or the product overflows int64.
int64_t checked_numel(const std::vector<int64_t> &shape,
                      const std::string &where);

} // namespace llmc::io

#endif // LLMC_RUNTIME_IO_TENSOR_SPEC_H
