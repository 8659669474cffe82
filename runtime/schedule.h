// Learning-rate schedules: constant, or linear warmup then cosine decay to a
// minimum (as nanoGPT and Megatron-LM's "cosine" style).
#pragma once

#include <cmath>
#include <cstdint>

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

} // namespace llmc
