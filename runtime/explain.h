// `llmc explain`: what a plan file will do, for humans.
#pragma once

#include "runtime/plan/plan.pb.h"

#include <ostream>

namespace llmc {

// Prints the model, the arena, memory by category, every buffer with its
// offset, and every kernel with its layer, role and operand shapes.
void explain_plan(const planfile::Plan &plan, std::ostream &os);

} // namespace llmc
