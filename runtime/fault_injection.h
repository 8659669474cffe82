//===- fault_injection.h - `llmc train --inject-fault`
//---------------------===//
//
// Where this process fails on purpose, for the tests that check one failing
// rank ends the whole job and a kill mid-save loses nothing: "startup",
// "load", "step:N", "save", or "kill-in-save:N" (SIGKILL between the weights
// and the optimizer state of step N's checkpoint).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>

namespace llmc {

class FaultInjection {
public:
  /// Throws io::InputError for a spec other than those above; an empty spec
  /// injects nothing.
  explicit FaultInjection(const std::string &spec);
  /// Throws std::runtime_error at `phase` (of `step`) when that is the spec.
  void at(const char *phase, int64_t step = 0) const;
  /// kill -9 of this process halfway through writing the checkpoint of
  /// `step`, as a node lost mid-save would leave it.
  void kill_in_save(int64_t step) const;

private:
  std::string spec_, phase_;
  int64_t step_ = 0;
};

} // namespace llmc
