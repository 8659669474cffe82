//===- train_report.h - What a training run tells its user ------*- C++ -*-===//
//
// The three reports of `llmc train`, out of the loop that produces them: the
// JSON-lines log (--log, one object per step, written with nlohmann::json),
// the progress bar on a terminal, and durations as the summary line gives
// them.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_TRAIN_REPORT_H
#define LLMC_RUNTIME_TRAIN_REPORT_H

#include "runtime/train.h"

#include <cstdint>
#include <fstream>
#include <map>
#include <optional>
#include <string>

namespace llmc {

/// One line of the --log.
struct StepRecord {
  int64_t step = 0;
  float loss = 0, lr = 0, grad_norm = 0;
  double tokens_per_s = 0;
  /// Bytes this rank's communicators accounted for in the step (each
  /// collective's ring formula), in all and by kind of collective.
  uint64_t comm_bytes_sent = 0;
  std::map<std::string, uint64_t> comm_bytes_by_kind;
  /// Pipeline stages: the most microbatches and stash bytes held at once.
  std::optional<int64_t> microbatches_in_flight, stash_bytes;
  std::optional<Validation> validation;
  double elapsed_s = 0;
};

/// The --log file; closed (writes nothing) without a path.
class StepLog {
public:
  /// Returns "" or why the file cannot be written.
  std::string open(const std::string &path);
  void write(const StepRecord &record);

private:
  std::ofstream out_;
};

/// "3m07s", or "1h02m" from an hour on.
std::string format_duration(double seconds);

/// Redraws the progress line on stderr (a newline after the last step).
void draw_progress(int64_t step, int64_t steps, float loss, double tokens_per_s,
                   double eta_s, const std::optional<Validation> &validation);

} // namespace llmc

#endif // LLMC_RUNTIME_TRAIN_REPORT_H
