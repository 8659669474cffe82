//===- fault_injection.cpp - `llmc train --inject-fault`
//-------------------===//
#include "runtime/fault_injection.h"

#include "runtime/io/error.h"

#include <csignal>
#include <cstdlib>
#include <stdexcept>

namespace llmc {

FaultInjection::FaultInjection(const std::string &spec) : spec_(spec) {
  // "PHASE:N": a phase of a given step.
  for (const char *phase : {"step", "kill-in-save"}) {
    std::string prefix = std::string(phase) + ":";
    if (spec.rfind(prefix, 0) != 0)
      continue;
    const char *digits = spec.c_str() + prefix.size();
    char *end = nullptr;
    step_ = std::strtoll(digits, &end, 10);
    if (*end == '\0' && end != digits && step_ >= 0) {
      phase_ = phase;
      return;
    }
  }
  if (spec.empty() || spec == "startup" || spec == "load" || spec == "save") {
    phase_ = spec;
    return;
  }
  throw io::InputError("--inject-fault " + spec +
                       ": expected startup, load, step:N, save or "
                       "kill-in-save:N");
}

void FaultInjection::at(const char *phase, int64_t step) const {
  if (phase_ == phase && step == step_)
    throw std::runtime_error("injected fault (--inject-fault " + spec_ + ")");
}

void FaultInjection::kill_in_save(int64_t step) const {
  if (phase_ == "kill-in-save" && step == step_)
    ::raise(SIGKILL);
}

} // namespace llmc
