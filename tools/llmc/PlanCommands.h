//===- PlanCommands.h - `llmc estimate` and `llmc plan` ---------*- C++ -*-===//
//
// The analytic planner on the command line: the memory and step time of one
// layout, or the search for the best layouts of a model on a cluster.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_TOOLS_LLMC_PLANCOMMANDS_H
#define LLMC_TOOLS_LLMC_PLANCOMMANDS_H

namespace llmc {

bool isPlanCommand();
/// Returns the exit code: 0, or 2 with one line on bad input.
int runPlanCommand();

} // namespace llmc

#endif // LLMC_TOOLS_LLMC_PLANCOMMANDS_H
