// Learning-rate schedules: constant, or linear warmup then cosine decay to a
// minimum (as nanoGPT and Megatron-LM's "cosine" style).
#pragma once

#include <cmath>
#include <cstdint>
#include <map>
#include <string>

namespace llmc {

enum class Schedule { Constant, Cosine };

// The learning rate at 0-based `step` of `total_steps`.
inline float learning_rate(Schedule schedule, int64_t step, int64_t total_steps,
                           float lr, float min_lr, int64_t warmup_steps) {
  if (schedule == Schedule::Constant)
    return lr;
  if (step < warmup_steps)
    return lr * float(step + 1) / float(warmup_steps);
  int64_t decay_steps = total_steps - warmup_steps;
  double progress =
      double(step - warmup_steps) / double(decay_steps > 1 ? decay_steps : 1);
  if (progress > 1.0)
    progress = 1.0;
  const double pi = 3.14159265358979323846;
  return float(min_lr + 0.5 * (lr - min_lr) * (1.0 + std::cos(pi * progress)));
}

/// A run's learning-rate schedule as a checkpoint records it, so that a
/// resumed run continues it instead of starting another.
struct LrSchedule {
  Schedule kind = Schedule::Cosine;
  float lr = 3e-4f, min_lr = 3e-5f;
  int64_t warmup_steps = 0;
  int64_t steps = 0; // the total the cosine decays over

  float at(int64_t step) const {
    return learning_rate(kind, step, steps, lr, min_lr, warmup_steps);
  }
  /// "cosine from 0.0003 to 3e-05 over 100 steps (10 warmup)".
  std::string describe() const;
  std::map<std::string, std::string> record() const;
  /// A rate as people read it ("0.0003", "3e-05").
  static std::string format(float rate);
  /// Reads record(); false when a field is missing or malformed.
  static bool from_record(const std::map<std::string, std::string> &fields,
                          LrSchedule &out);
};

} // namespace llmc
