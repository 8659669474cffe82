//===- Parse.h - Reading a command line in llmc-run -------------*- C++ -*-===//
#ifndef LLMC_TOOLS_LLMC_RUN_PARSE_H
#define LLMC_TOOLS_LLMC_RUN_PARSE_H

#include "runtime/cli/command_line.h"
#include "runtime/device.h"
#include "runtime/io/error.h"
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

/// parseCommandLine for the commands that run plans: adds --device, then
/// selects it (one line and exit 2 when it cannot run here).
inline std::optional<int> parseCommandLineWithDevice(cli::Command &cmd,
                                                     int argc, char **argv) {
  std::string device = "cpu";
  cmd.option("device", device, "Where the plan's kernels run")
      .choices({{"cpu", "this machine's processors (default)"},
                {"cuda", "an NVIDIA GPU, one per rank"}});
  if (std::optional<int> code = parseCommandLine(cmd, argc, argv))
    return code;
  try {
    select_device(device);
  } catch (const io::InputError &e) {
    return failBadInput(e.what());
  }
  return std::nullopt;
}

} // namespace llmc

#endif // LLMC_TOOLS_LLMC_RUN_PARSE_H
