//===- train_report.cpp - What a training run tells its user --------------===//

#include "runtime/train_report.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>

namespace llmc {
namespace {

/// A float as the double of its shortest decimal that reads back as the
/// same float, so the log says 0.0003, not 0.0003000000142492354.
double shortest(float value) {
  char text[32];
  for (int digits = 6; digits < 9; ++digits) {
    std::snprintf(text, sizeof(text), "%.*g", digits, double(value));
    if (std::strtof(text, nullptr) == value)
      return std::strtod(text, nullptr);
  }
  std::snprintf(text, sizeof(text), "%.9g", double(value));
  return std::strtod(text, nullptr);
}

/// JSON with Python's separators (", " and ": "), as the log has always
/// been written and its readers match.
std::string spaced(const nlohmann::ordered_json &value) {
  if (!value.is_object())
    return value.dump();
  std::string text = "{";
  for (auto it = value.begin(); it != value.end(); ++it)
    text += (it == value.begin() ? "" : ", ") +
            nlohmann::json(it.key()).dump() + ": " + spaced(it.value());
  return text + "}";
}

} // namespace

std::string StepLog::open(const std::string &path) {
  if (path.empty())
    return "";
  out_.open(path, std::ios::trunc);
  return out_ ? "" : path + ": cannot open the log for writing";
}

void StepLog::write(const StepRecord &r) {
  if (!out_.is_open())
    return;
  // ordered_json: the fields in the order a reader expects them.
  nlohmann::ordered_json line{{"step", r.step},
                              {"loss", shortest(r.loss)},
                              {"lr", shortest(r.lr)},
                              {"grad_norm", shortest(r.grad_norm)},
                              {"tokens_per_s", r.tokens_per_s},
                              {"comm_bytes_sent", r.comm_bytes_sent},
                              {"comm_bytes_by_kind", r.comm_bytes_by_kind}};
  if (r.microbatches_in_flight)
    line["microbatches_in_flight"] = *r.microbatches_in_flight;
  if (r.stash_bytes)
    line["stash_bytes"] = *r.stash_bytes;
  if (r.validation) {
    line["val_loss"] = shortest(r.validation->loss);
    line["val_perplexity"] = r.validation->perplexity();
  }
  line["elapsed_s"] = r.elapsed_s;
  out_ << spaced(line) << std::endl;
}

std::string format_duration(double seconds) {
  int64_t s = int64_t(seconds + 0.5);
  char text[32];
  if (s >= 3600)
    std::snprintf(text, sizeof(text), "%lldh%02lldm", (long long)(s / 3600),
                  (long long)(s / 60 % 60));
  else
    std::snprintf(text, sizeof(text), "%lldm%02llds", (long long)(s / 60),
                  (long long)(s % 60));
  return text;
}

void draw_progress(int64_t step, int64_t steps, float loss, double tokens_per_s,
                   double eta_s, const std::optional<Validation> &validation) {
  const int width = 24;
  int filled = int(width * (step + 1) / steps);
  std::string bar(filled, '#');
  bar += std::string(width - filled, '.');
  char shown[48] = "";
  if (validation)
    std::snprintf(shown, sizeof(shown), " val %.4f |",
                  double(validation->loss));
  std::fprintf(
      stderr, "\rstep %lld/%lld [%s] loss %.4f |%s %.0f tok/s | ETA %s   ",
      (long long)(step + 1), (long long)steps, bar.c_str(), double(loss), shown,
      tokens_per_s, format_duration(eta_s).c_str());
  if (step + 1 == steps)
    std::fprintf(stderr, "\n");
  std::fflush(stderr);
}

} // namespace llmc
