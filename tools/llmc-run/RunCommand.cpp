//===- RunCommand.cpp - `llmc run`: a forward plan on .npy arrays ---------===//

#include "runtime/cli/command_line.h"
#include "runtime/io/error.h"
#include "runtime/run_forward.h"
#include "tools/llmc-run/Commands.h"
#include "tools/llmc-run/Parse.h"
#include "tools/llmc/Errors.h"

#include <cstdio>

using namespace llmc;

int llmc::runRunCommand(int argc, char **argv) {
  std::string plan, weights, out;
  std::vector<std::string> arrays;
  cli::Command cmd("run",
                   "Run the forward plan of an ONNX graph (llmc compile "
                   "model.onnx --emit=plan) on float32 .npy arrays; each "
                   "output is written as OUT/<name>.npy",
                   "[options] <model.plan> [<input=array.npy>...]");
  cmd.positional("<model.plan>", plan);
  cmd.positionals("<input=array.npy>", arrays, /*required=*/false);
  cmd.option("weights", weights,
             "The constants llmc compile --weights-out wrote (when the "
             "graph's ops read any)")
      .meta("file");
  cmd.option("o", out, "Folder for the outputs").meta("folder").required();
  int runs = 1;
  bool profile = false;
  cmd.option("profile", profile,
             "Print the time spent per kernel kind (per run)");
  cmd.option("runs", runs,
             "Run the plan this many times and print the median time of one "
             "run (default 1: no timing)");
  if (std::optional<int> code = parseCommandLineWithDevice(cmd, argc, argv))
    return *code;
  return runGuarded([&] {
    std::vector<std::pair<std::string, std::string>> inputs;
    for (const std::string &a : arrays) {
      size_t eq = a.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == a.size())
        throw io::InputError("'" + a + "': expected INPUT=FILE.npy");
      inputs.emplace_back(a.substr(0, eq), a.substr(eq + 1));
    }
    if (runs < 1)
      throw io::InputError("--runs " + std::to_string(runs) +
                           ": expected at least 1");
    double ms = run_forward_plan(plan, inputs, weights, out, runs, profile);
    if (runs > 1)
      std::printf("forward: %.2f ms (median of %d runs)\n", ms, runs);
  });
}
