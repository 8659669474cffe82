//===- PlanFileFuzzer.cpp - libFuzzer target: the plan loader
//--------------===//
//
// A plan file is framed by a CRC-32, so raw mutations would almost never get
// past the checksum. An input whose first byte is even is taken as the
// protobuf payload and framed correctly (reaching the parser and every
// consistency check); an odd first byte takes the rest as the whole file
// (reaching the framing checks). Either way decode_plan_file must return a
// plan or throw PlanError: any other exception, a crash or a sanitizer report
// is a bug.
//
//===----------------------------------------------------------------------===//
#include "runtime/plan/plan_file.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  std::string rest(reinterpret_cast<const char *>(data) + 1, size - 1);
  std::string bytes =
      data[0] % 2 == 0 ? llmc::plan::encode_plan_file(rest) : rest;
  try {
    llmc::plan::decode_plan_file(bytes, "fuzz.plan");
  } catch (const llmc::plan::PlanError &) {
  }
  return 0;
}
