// `llmc explain`: what a plan file will do, for humans.
#pragma once

#include "runtime/plan/plan.pb.h"

#include <ostream>

namespace llmc {

// Prints the model, the arena, memory by category and at the peak, and the
// collectives of a step; with `detail`, also every buffer with its offset
// and every kernel with its layer, role and operand shapes. A pipelined
// plan: the stages (layers, ranks, memory), the bubble, then each stage's
// program.
void explain_plan(const planfile::Plan &plan, std::ostream &os,
                  bool detail = false);

// The pipeline schedule drawn as text, one row per stage and one column per
// time unit (a forward takes 1, a backward 2, as in Megatron's analysis),
// with the bubble it leaves; a plan without stages runs one microbatch.
void explain_schedule(const planfile::Plan &plan, std::ostream &os);

} // namespace llmc
