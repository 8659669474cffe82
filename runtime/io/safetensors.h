//===- safetensors.h - Read and write Hugging Face safetensors files ------===//
//
// The format (https://github.com/huggingface/safetensors): an 8-byte
// little-endian u64 N, N bytes of JSON
//   {"<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
//    ..., "__metadata__": {"<key>": "<value>", ...}}   (metadata optional)
// then the data buffer; offsets are relative to its start and every tensor is
// row-major little-endian. The reader accepts F32, F16 and BF16 and always
// hands out float32; the writer writes F32 only.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_IO_SAFETENSORS_H
#define LLMC_RUNTIME_IO_SAFETENSORS_H

#include "runtime/io/posix_file.h"
#include "runtime/io/tensor_spec.h"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace llmc::io {

enum class DType { F32, F16, BF16 };

/// "F32", "F16", "BF16".
const char *dtype_name(DType dtype);
size_t dtype_size(DType dtype);

/// One header entry, validated.
struct TensorInfo {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  int64_t numel;
  uint64_t begin, end; // byte range, relative to the data buffer
};

//===----------------------------------------------------------------------===//
// Reader
//===----------------------------------------------------------------------===//

/// Opens and validates a file up front: header length against the file size,
/// JSON syntax, each entry's dtype, shape and data_offsets, shape x dtype
/// size == byte range, ranges inside the data buffer and not overlapping, no
/// duplicate names, metadata string->string. Tensor data is read on demand
/// with pread, so one reader may serve several threads.
class SafetensorsReader {
public:
  explicit SafetensorsReader(const std::string &path);

  const std::string &path() const { return file_.path(); }
  /// Sorted by name.
  const std::vector<TensorInfo> &tensors() const { return tensors_; }
  const std::map<std::string, std::string> &metadata() const {
    return metadata_;
  }
  bool contains(const std::string &name) const;
  /// Throws "<path>: no tensor '<name>'" if absent.
  const TensorInfo &info(const std::string &name) const;

  /// Reads tensor `name` converted to float32 into dst, which holds
  /// info(name).numel floats.
  void read(const std::string &name, float *dst) const;
  std::vector<float> read(const std::string &name) const;

  /// Compares the file with the model's parameter list and throws ONE
  /// InputError listing every missing tensor, unexpected tensor and wrong
  /// shape, e.g. "ckpt.safetensors: 3 mismatches with the model: missing
  /// 'lm_head.weight' [8192, 256]; unexpected 'foo' [3]; 'model.norm.weight'
  /// has shape [255], expected [256]". Missing tensors and wrong shapes are
  /// listed in the order of `expected`, unexpected ones by name. Tensors of
  /// the file for which `ignore` holds are not reported as unexpected.
  void check_against(
      const std::vector<TensorSpec> &expected,
      const std::function<bool(const TensorInfo &)> &ignore = {}) const;

private:
  void parse_header(const std::string &header, uint64_t data_size);

  PosixFile file_;
  uint64_t data_start_ = 0;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

//===----------------------------------------------------------------------===//
// Writer
//===----------------------------------------------------------------------===//

/// A float32 tensor to write; `data` holds numel(shape) floats.
struct TensorView {
  std::string name;
  std::vector<int64_t> shape;
  const float *data;
};

/// Writes the tensors as `dtype` (F32, or BF16 rounded to nearest, ties to
/// even, as PyTorch's conversion) and string metadata to `path`
/// atomically: the bytes go
/// to "<path>.tmp.<pid>" in the same directory, which is fsynced, renamed over
/// `path`, and the directory fsynced. On any failure the temporary file is
/// removed, `path` keeps its previous contents and InputError is thrown.
///
/// The header lists "__metadata__" first, then the tensors sorted by name
/// (byte order) with the data in the same order, and is padded with spaces to
/// a multiple of 8 bytes, as the reference implementation does. Unless the
/// caller sets "format", it is set to "pt": transformers' from_pretrained
/// refuses safetensors files whose metadata lacks it.
void write_safetensors(const std::string &path,
                       const std::vector<TensorView> &tensors,
                       const std::map<std::string, std::string> &metadata = {},
                       DType dtype = DType::F32);

} // namespace llmc::io

#endif // LLMC_RUNTIME_IO_SAFETENSORS_H
