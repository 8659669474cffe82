//===- Parse.h - Reading a command line in llmc-run -------------*- C++ -*-===//
#ifndef LLMC_TOOLS_LLMC_RUN_PARSE_H
#define LLMC_TOOLS_LLMC_RUN_PARSE_H

#include "runtime/cli/command_line.h"
#include "tools/llmc/Errors.h"

#include <iostream>
#include <optional>

namespace llmc {

/// Parses argv[2..] into `cmd`. Returns the exit code when the command must
/// not run: 0 after --help, 2 (with its one line) for a bad command line.
inline std::optional<int> parseCommandLine(cli::Command &cmd, int argc,
                                           char **argv) {
  try {
    if (!cmd.parse(argc, argv, 2, std::cout))
      return 0;
  } catch (const cli::UsageError &e) {
    return failBadInput(e.what());
  }
  return std::nullopt;
}

} // namespace llmc

#endif // LLMC_TOOLS_LLMC_RUN_PARSE_H
