// Chrome trace events (the JSON that chrome://tracing and Perfetto open) of
// the kernels a rank ran: `llmc train --trace`. Collectives are kernels of
// the plan, so they appear with their start and end like the compute.
#pragma once

#include "runtime/plan/plan.pb.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace llmc {

// One kernel run: which kernel of the plan, in which step, and when
// (seconds on the steady clock). A pipeline stage also records its sends and
// receives ("send-act 3", on the kernels' track) and each microbatch's
// forward and backward program ("F3", "B3", on a track of their own):
// those have kernel -1 and a name.
struct TraceEvent {
  int kernel;
  int64_t step;
  double start, end;
  std::string name = {};
  int plan = 0; // which of the rank's plans (model chunks) the kernel is of
};

// Seconds on the steady clock, as trace events count them.
double trace_clock();

// Writes `events` as complete ("X") events of process `rank` (atomically,
// so a crash never leaves half a file). Kernel names, roles and layers come
// from the plan. Times are the steady clock's, which the ranks of one
// machine share, so their files merge by concatenating traceEvents.
void write_chrome_trace(const std::string &path,
                        const std::vector<const planfile::Plan *> &plans,
                        const std::vector<TraceEvent> &events, int rank);

// Writes one trace with a track (process) per input: the inputs' events,
// concatenated. A file whose process ids an earlier file already used (two
// runs' rank 0) gets new ones, so no two inputs share a track. Throws
// io::InputError naming a file that is missing or not a Chrome trace (an
// object with a "traceEvents" array).
void merge_chrome_traces(const std::vector<std::string> &inputs,
                         const std::string &output);

// Merges trace_path_of_rank(path, r, ranks) of every rank into `path`. When
// some rank's file cannot be read here (ranks on other machines write where
// this one cannot see), says on stderr how to merge them instead.
void merge_rank_traces(const std::string &path, int ranks);

// "trace.json" for rank 0 of one; "trace.rank3.json" for rank 3 of several.
std::string trace_path_of_rank(const std::string &path, int rank, int ranks);

/// Prints to stderr the time per kernel kind (Executor::kernel_seconds),
/// per `unit` ("step", "token") of which there were `units`, and its share.
void print_profile(const std::map<std::string, double> &seconds, int64_t units,
                   const char *unit);

} // namespace llmc
