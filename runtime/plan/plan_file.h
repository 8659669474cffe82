// Reading and writing plan files. The payload is the Plan protobuf; around it
// a header "LLMCPLAN", the format version (u32), the payload length (u64), and
// after it the payload's CRC-32, all little-endian. Any mismatch is one
// clear error, never a half-read plan.
#pragma once

#include "runtime/plan/plan.pb.h"

#include <stdexcept>
#include <string>

namespace llmc::plan {

// Bumped whenever the meaning of a plan changes; older files are refused.
inline constexpr uint32_t kFormatVersion = 3;

// A plan file that cannot be used; what() is one line naming the file.
class PlanError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// Writes atomically (temporary file, then rename).
void write_plan_file(const planfile::Plan &plan, const std::string &path);

// Reads and checks framing, version, checksum and internal consistency
// (every index in range, every tensor inside its buffer, buffers inside the
// arena).
planfile::Plan read_plan_file(const std::string &path);

// The file's bytes around a serialized planfile::Plan (magic, version,
// length, payload, CRC-32), and the reverse with every check of
// read_plan_file; `path` names the source in errors.
std::string encode_plan_file(const std::string &payload);
planfile::Plan decode_plan_file(const std::string &bytes,
                                const std::string &path);

// "1.50 MiB", "12.00 KiB", "64 B": sizes in messages and reports.
std::string format_bytes(uint64_t bytes);

// Elements and bytes of a tensor.
int64_t num_elements(const planfile::Tensor &tensor);
int64_t size_in_bytes(const planfile::Tensor &tensor);

// Whether a kernel of a bf16-mixed plan multiplies with bf16 math (its
// `math` parameter is "bf16").
bool has_bf16_math(const planfile::Kernel &kernel);

} // namespace llmc::plan
