//===- ExplainCommands.cpp - explain, verify, trace-merge -----------------===//

#include "compiler/planner/cluster_spec.h"
#include "compiler/planner/plan_cost.h"
#include "runtime/cli/command_line.h"
#include "runtime/explain.h"
#include "runtime/plan/plan_file.h"
#include "runtime/plan/verify.h"
#include "runtime/trace.h"
#include "tools/llmc-run/Commands.h"
#include "tools/llmc-run/Parse.h"
#include "tools/llmc/Errors.h"

#include <iostream>
#include <optional>
#include <vector>

using namespace llmc;

int llmc::runExplainCommand(int argc, char **argv) {
  std::string planPath, clusterPath;
  bool scheduleOnly = false, detail = false;
  cli::Command cmd(
      "explain",
      "Show a plan's programs, memory by category, collectives per "
      "step and (--cluster) predicted time; --detail adds every "
      "buffer and kernel",
      "[options] <model.plan>");
  cmd.positional("<model.plan>", planPath);
  cmd.option("schedule", scheduleOnly,
             "Draw the pipeline schedule (stages x time) and its bubble "
             "instead");
  cmd.option("detail", detail,
             "Also list every buffer (offset, size, category) and kernel "
             "(layer, role, operand shapes)");
  cmd.option("cluster", clusterPath,
             "Also predict the step time on a device of this cluster spec "
             "(e.g. one written by llmc calibrate)")
      .meta("spec.json");
  if (std::optional<int> code = parseCommandLine(cmd, argc, argv))
    return *code;
  return runGuarded([&] {
    planfile::Plan plan = plan::read_plan_file(planPath);
    // Read the spec first, so a bad one fails before any output.
    std::optional<planner::ClusterSpec> cluster;
    if (!clusterPath.empty())
      cluster = planner::load_cluster_spec(clusterPath);
    if (scheduleOnly)
      return explain_schedule(plan, std::cout);
    explain_plan(plan, std::cout, detail);
    if (cluster && plan.stages_size() > 0)
      planner::print_pipeline_cost(planner::cost_pipeline(plan, *cluster),
                                   cluster->name, std::cout);
    else if (cluster)
      planner::print_plan_cost(planner::cost_plan(plan, *cluster),
                               cluster->name, std::cout);
  });
}

int llmc::runTraceMergeCommand(int argc, char **argv) {
  std::string output;
  std::vector<std::string> inputs;
  cli::Command cmd("trace-merge",
                   "Merge Chrome traces (llmc train --trace's per-rank "
                   "files) into one Perfetto file with a track per input",
                   "-o <merged.json> <trace.json>...");
  cmd.positionals("<trace.json>...", inputs);
  cmd.option("o", output, "The merged trace").meta("merged.json").required();
  if (std::optional<int> code = parseCommandLine(cmd, argc, argv))
    return *code;
  return runGuarded([&] {
    merge_chrome_traces(inputs, output);
    std::cout << "llmc: merged " << inputs.size() << " traces into " << output
              << "\n";
  });
}

int llmc::runVerifyCommand(int argc, char **argv) {
  std::string planPath, deviceMemory;
  cli::Command cmd("verify",
                   "Prove a plan safe to run: matched sends and receives, no "
                   "deadlock, the same collectives on every communicator, "
                   "memory within the device",
                   "[options] <model.plan>");
  cmd.positional("<model.plan>", planPath);
  cmd.option("device-memory", deviceMemory,
             "Memory of one device, e.g. 80GiB (default: not checked)")
      .meta("size");
  if (std::optional<int> code = parseCommandLine(cmd, argc, argv))
    return *code;
  uint64_t memory = 0;
  if (!deviceMemory.empty() && !plan::parse_byte_size(deviceMemory, memory))
    return failBadInput("--device-memory " + deviceMemory +
                        ": expected a size such as 80GiB or 512MiB");
  try {
    planfile::Plan plan = plan::read_plan_file(planPath);
    plan::VerifyReport report = plan::verify_plan(plan, memory);
    if (!report.problems.empty()) {
      for (const std::string &problem : report.problems)
        reportError(planPath + ": " + problem);
      return kExitBadInput;
    }
    std::cout << "verified " << planPath << "\n";
    for (const std::string &line : report.proved)
      std::cout << "  " << line << "\n";
    return 0;
  } catch (const plan::PlanError &e) {
    return failBadInput(e.what());
  }
}
