//===- Commands.h - The commands of llmc-run --------------------*- C++ -*-===//
//
// Each runs one runtime command from its own argv (argv[1] is the command's
// name) and returns the exit code: 0, 2 for bad input with one line on
// stderr, 1 for other failures.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_TOOLS_LLMC_RUN_COMMANDS_H
#define LLMC_TOOLS_LLMC_RUN_COMMANDS_H

namespace llmc {

int runTrainCommand(int argc, char **argv);
int runEvalCommand(int argc, char **argv);
int runInitCommand(int argc, char **argv);
int runExplainCommand(int argc, char **argv);
int runVerifyCommand(int argc, char **argv);
int runTraceMergeCommand(int argc, char **argv);
int runGenerateCommand(int argc, char **argv);
int runServeCommand(int argc, char **argv);
int runRunCommand(int argc, char **argv);
int runKernelsCommand(int argc, char **argv);

// generate's and serve's --prefill-budget.
inline constexpr const char *kPrefillBudgetHelp =
    "Prefill chunks a step runs while sequences decode, oldest first (0: "
    "all); fewer keep arrivals from stalling the next token";

} // namespace llmc

#endif // LLMC_TOOLS_LLMC_RUN_COMMANDS_H
