// The static plan verifier (`llmc verify`, also run by every compile): before
// a plan runs, it proves
//  - between every pair of pipeline stages, the sends and receives match in
//    order (microbatch), size and dtype, and the schedules cannot deadlock
//    (they are simulated against each other; sends never block);
//  - every communicator's members issue the same collectives in the same
//    order, with the same sizes (ranks of one stage run one program, so this
//    compares the stages that share the pp and embedding groups);
//  - each rank's memory (arena plus a stash slot per microbatch in flight)
//    fits the device.
#pragma once

#include "runtime/plan/plan.pb.h"

#include <string>
#include <vector>

namespace llmc::plan {

struct VerifyReport {
  std::vector<std::string> problems; // one line each, naming ranks and
                                     // instructions; empty: verified
  std::vector<std::string> proved;   // what was checked, one line each
};

// "16GiB", "512MiB", "80G", "1000000": a size in bytes (binary units, the
// "i" and "B" optional); false when `text` is none.
bool parse_byte_size(const std::string &text, uint64_t &bytes);

// The bytes pipeline rank `rank` allocates: for each of its model chunks,
// the arena and a stash slot per microbatch its schedule keeps in flight
// (a plan without stages: its arena).
uint64_t rank_memory_bytes(const planfile::Plan &plan, int64_t rank);

// `device_memory` in bytes; 0 skips the memory check.
VerifyReport verify_plan(const planfile::Plan &plan, uint64_t device_memory);

} // namespace llmc::plan
