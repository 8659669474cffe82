//===- Errors.h - How llmc's commands report a failure ----------*- C++ -*-===//
//
// Every command ends a failure with one line, "llmc: error: <message>", and
// exit code 2 for bad input (1 for anything else). The line goes out in a
// single write: under mpirun several ranks print at once, and a line written
// in pieces interleaves with the other ranks' lines.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_TOOLS_LLMC_ERRORS_H
#define LLMC_TOOLS_LLMC_ERRORS_H

#include "compiler/planner/cluster_spec.h"
#include "runtime/comm/job.h"
#include "runtime/io/error.h"
#include "runtime/plan/plan_file.h"

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

namespace llmc {

constexpr int kExitBadInput = 2;
constexpr int kExitFailure = 1;

/// Prints "llmc: error: <message>" to stderr in one write.
inline void reportError(const std::string &message) {
  std::string line = "llmc: error: " + message + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

/// Reports bad input and returns its exit code.
inline int failBadInput(const std::string &message) {
  reportError(message);
  return kExitBadInput;
}

/// Runs a runtime command, turning bad input (files, plans, cluster specs)
/// into one line and exit code 2. In a job of several ranks the line names
/// this rank, and the failure ends the whole job (MPI_Abort): the other
/// ranks may be waiting in a collective this one will never join.
template <typename Fn> int runGuarded(Fn fn) {
  int code = 0;
  std::string message;
  try {
    fn();
    return 0;
  } catch (const io::InputError &e) {
    code = kExitBadInput, message = e.what();
  } catch (const plan::PlanError &e) {
    code = kExitBadInput, message = e.what();
  } catch (const planner::PlannerError &e) {
    code = kExitBadInput, message = e.what();
  } catch (const std::exception &e) {
    code = kExitFailure, message = e.what();
  }
  int rank = comm::parallel_rank();
  // Bad input usually fails every rank alike: the other ranks wait a moment
  // before they speak, and rank 0's abort ends them first, so the reason
  // is printed once. A rank that fails alone still speaks, a moment later.
  if (rank > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  reportError((rank >= 0 ? "rank " + std::to_string(rank) + ": " : "") +
              message);
  comm::end_job_after_failure(code);
  return code;
}

} // namespace llmc

#endif // LLMC_TOOLS_LLMC_ERRORS_H
