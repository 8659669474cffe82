// Pipeline schedules: the instruction stream of each stage, as Megatron-LM
// defines them (Narayanan et al. 2021), for the plan file and the runtime.
//  - gpipe: every microbatch's forward, then every backward (Huang et al.
//    2019): a stage holds all M microbatches' activations at once.
//  - 1f1b: stage s runs min(P-1-s, M) warmup forwards, then alternates one
//    forward and one backward (steady state), then the remaining backwards
//    (cooldown): at most P-s microbatches in flight.
#pragma once

#include "runtime/plan/plan.pb.h"

#include <string>
#include <vector>

namespace llmc::plan {

// True for the schedules pipeline_schedule knows.
bool is_schedule(const std::string &kind);

// The instructions of `stage` (0-based) of `stages`, for `microbatches`.
std::vector<planfile::Instruction> pipeline_schedule(const std::string &kind,
                                                     int64_t stages,
                                                     int64_t stage,
                                                     int64_t microbatches);

// The most microbatches whose forward has run and backward has not, at any
// point of `schedule`: the stash slots a stage needs.
int64_t max_in_flight(const std::vector<planfile::Instruction> &schedule);

// A readable name of an instruction, e.g. "F3", "send-act 3".
std::string instruction_name(const planfile::Instruction &instruction);

} // namespace llmc::plan
