// Learning-rate schedules as checkpoints record them; see lr_schedule.h.
#include "runtime/lr_schedule.h"

#include <cstdio>
#include <cstdlib>

namespace llmc {
namespace {

// Nine significant digits: a float read back is the float written.
std::string exact(float value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.9g", double(value));
  return text;
}

} // namespace

std::string LrSchedule::format(float rate) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", double(rate));
  return text;
}

std::string LrSchedule::describe() const {
  char text[160];
  if (kind == Schedule::Constant)
    std::snprintf(text, sizeof(text), "constant %g", double(lr));
  else
    std::snprintf(text, sizeof(text),
                  "cosine from %g to %g over %lld steps (%lld warmup)",
                  double(lr), double(min_lr), (long long)steps,
                  (long long)warmup_steps);
  return text;
}

std::map<std::string, std::string> LrSchedule::record() const {
  return {{"name", kind == Schedule::Cosine ? "cosine" : "constant"},
          {"lr", exact(lr)},
          {"min_lr", exact(min_lr)},
          {"warmup_steps", std::to_string(warmup_steps)},
          {"steps", std::to_string(steps)}};
}

bool LrSchedule::from_record(const std::map<std::string, std::string> &fields,
                             LrSchedule &out) {
  auto field = [&](const char *name) -> const std::string * {
    auto it = fields.find(name);
    return it == fields.end() ? nullptr : &it->second;
  };
  const std::string *name = field("name"), *lr = field("lr"),
                    *min_lr = field("min_lr"), *warmup = field("warmup_steps"),
                    *steps = field("steps");
  if (!name || !lr || !min_lr || !warmup || !steps ||
      (*name != "cosine" && *name != "constant"))
    return false;
  char *end = nullptr;
  out.kind = *name == "cosine" ? Schedule::Cosine : Schedule::Constant;
  out.lr = std::strtof(lr->c_str(), &end);
  bool ok = *end == '\0';
  out.min_lr = std::strtof(min_lr->c_str(), &end);
  ok &= *end == '\0';
  out.warmup_steps = std::strtoll(warmup->c_str(), &end, 10);
  ok &= *end == '\0';
  out.steps = std::strtoll(steps->c_str(), &end, 10);
  return ok && *end == '\0';
}

} // namespace llmc
