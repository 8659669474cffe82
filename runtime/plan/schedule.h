// Pipeline schedules: the instruction stream of each stage, as Megatron-LM
// defines them (Narayanan et al. 2021), for the plan file and the runtime.
//  - gpipe: every microbatch's forward, then every backward (Huang et al.
//    2019): a stage holds all M microbatches' activations at once.
//  - 1f1b: stage s runs min(P-1-s, M) warmup forwards, then alternates one
//    forward and one backward (steady state), then the remaining backwards
//    (cooldown): at most P-s microbatches in flight.
//  - interleaved: each rank holds V model chunks (chunk c on rank c mod P)
//    and runs 1F1B over M·V chunk-microbatches, in groups of P
//    microbatches per chunk (M must be a multiple of P): the bubble
//    shrinks to (P-1)/(V·M).
#pragma once

#include "runtime/plan/plan.pb.h"

#include <string>
#include <vector>

namespace llmc::plan {

// The buffers a stage moves over the pipeline axis (named by the frontend,
// frontends/hf/ModelBuilder.h, and autodiff): its input and output
// activations and their gradients.
inline constexpr const char *kHiddenIn = "hidden_in";
inline constexpr const char *kHiddenOut = "hidden_out";
inline constexpr const char *kGradHiddenIn = "grad_hidden_in";
inline constexpr const char *kGradHiddenOut = "grad_hidden_out";

// True for the schedules pipeline_schedule knows.
bool is_schedule(const std::string &kind);

// The instructions of pipeline rank `rank` of `ranks`, for `microbatches`
// and `chunks` model chunks per rank (1 unless interleaved).
std::vector<planfile::Instruction>
pipeline_schedule(const std::string &kind, int64_t ranks, int64_t rank,
                  int64_t microbatches, int64_t chunks = 1);

// The most microbatches of model chunk `chunk` whose forward has run and
// backward has not, at any point of `schedule` (-1: of any chunk): the
// stash slots the chunk needs.
int64_t max_in_flight(const std::vector<planfile::Instruction> &schedule,
                      int64_t chunk = -1);

// The pipeline rank that runs model chunk `chunk` of a plan's `stages`
// chunks over `ranks` ranks.
inline int64_t rank_of_chunk(int64_t chunk, int64_t ranks) {
  return chunk % ranks;
}

// The model chunks (stage plans) pipeline rank `rank` of a pipelined plan
// runs, in order; {-1} for a plan without stages (its one program).
std::vector<int64_t> rank_chunks(const planfile::Plan &plan, int64_t rank);

// Each pipeline rank's schedule (the one its first model chunk holds); none
// for a plan without stages.
std::vector<std::vector<planfile::Instruction>>
rank_schedules(const planfile::Plan &plan);

// The stash slots model chunk `chunk` of a pipelined plan needs: the most
// microbatches its rank's schedule keeps in flight on it (at least 1).
int64_t stash_slots(const planfile::Plan &plan, int64_t chunk);

// One compute instruction of a simulated step: when it starts and ends.
struct TimedInstruction {
  int64_t stage; // the pipeline rank
  size_t index;  // in the stage's schedule
  planfile::Instruction instruction;
  double start, end;
};

// The pipeline ranks' schedules run against each other: a forward of model
// chunk c takes forward_s[c] and its backward backward_s[c]; sends never
// block (the runtime sends without waiting); a receive waits for the next
// message on its link (sender rank, receiver rank, activation or gradient),
// first in, first out. `blocked` is empty when every stage finishes;
// otherwise it holds, for each stage that could not, the index of the
// receive it waits at: a deadlock.
struct Simulation {
  std::vector<TimedInstruction> timeline;
  double makespan = 0;
  std::vector<std::pair<int64_t, size_t>> blocked;
};
Simulation simulate_pipeline(
    const std::vector<std::vector<planfile::Instruction>> &schedules,
    const std::vector<double> &forward_s,
    const std::vector<double> &backward_s);

// How the pipeline ranks on devices issue their sends and receives: in
// groups (ncclGroupStart / ncclGroupEnd), in rounds. In each round every
// rank runs its schedule as far as the messages it already has allow, then
// issues one group: the sends of what it computed, and the receives of
// what its neighbours send in the same round (kept until a compute needs
// them), so each send meets its receive in a group of the same round and
// the rounds cannot deadlock. A rank issues its group right before
// instruction `at` of its schedule (schedule.size(): after the last);
// `ops` lists the group's sends, then its receives, each by kind, sending
// chunk and microbatch, so the two ends of a pair list their messages alike.
struct P2PGroup {
  size_t at;
  std::vector<size_t> ops;
};
// Each rank's groups; empty lists when a round moves nothing (a receive no
// send matches, or schedules that wait on each other: see simulate_pipeline
// and run_grouped_p2p for which).
std::vector<std::vector<P2PGroup>>
p2p_groups(const std::vector<std::vector<planfile::Instruction>> &schedules);

// True for the instructions that send or receive.
bool is_p2p(const planfile::Instruction &instruction);

// The schedules run as a device pipeline runs them over NCCL, which is
// stricter than simulate_pipeline's buffered sends: each rank issues its
// `groups` (p2p_groups) in order on one stream; the messages between two ranks
// match in the order they are issued, whatever they carry (NCCL has no tags);
// an operation completes only once the peer's group holding its match is issued
// too (a rendezvous, as large messages need), and a group once all its
// operations have. `mismatches` names each receive that would get another
// message than the one it expects (another microbatch, chunk or kind: NCCL
// would fill the buffer with it); `blocked`, when the groups wait on each other
// forever, each rank's instruction it waits at.
struct GroupedP2PRun {
  std::vector<std::string> mismatches;
  std::vector<std::pair<int64_t, size_t>> blocked;
};
GroupedP2PRun run_grouped_p2p(
    const std::vector<std::vector<planfile::Instruction>> &schedules,
    const std::vector<std::vector<P2PGroup>> &groups);

// A readable name of an instruction, e.g. "F3", "send-act 3".
std::string instruction_name(const planfile::Instruction &instruction);

} // namespace llmc::plan
