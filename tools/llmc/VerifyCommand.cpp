//===- VerifyCommand.cpp - `llmc verify` ----------------------------------===//

#include "tools/llmc/VerifyCommand.h"

#include "runtime/plan/plan_file.h"
#include "runtime/plan/verify.h"
#include "tools/llmc/Errors.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

namespace {

cl::OptionCategory verifyCategory("llmc verify options");

cl::SubCommand verifyCmd("verify",
                         "Prove a plan safe to run: matched sends and "
                         "receives, no deadlock, the same collectives on "
                         "every communicator, memory within the device");
cl::opt<std::string> verifyPlan(cl::Positional, cl::Required,
                                cl::desc("<model.plan>"), cl::sub(verifyCmd),
                                cl::cat(verifyCategory));
cl::opt<std::string> deviceMemory(
    "device-memory",
    cl::desc("Memory of one device, e.g. 80GiB (default: not checked)"),
    cl::value_desc("size"), cl::sub(verifyCmd), cl::cat(verifyCategory));

} // namespace

bool llmc::isVerifyCommand() { return static_cast<bool>(verifyCmd); }

int llmc::runVerifyCommand() {
  uint64_t memory = 0;
  if (!deviceMemory.empty() &&
      !llmc::plan::parse_byte_size(deviceMemory, memory))
    return failBadInput("--device-memory " + deviceMemory +
                        ": expected a size such as 80GiB or 512MiB");
  try {
    llmc::planfile::Plan plan = llmc::plan::read_plan_file(verifyPlan);
    llmc::plan::VerifyReport report = llmc::plan::verify_plan(plan, memory);
    if (!report.problems.empty()) {
      for (const std::string &problem : report.problems)
        reportError(verifyPlan + ": " + problem);
      return kExitBadInput;
    }
    llvm::outs() << "verified " << verifyPlan << "\n";
    for (const std::string &line : report.proved)
      llvm::outs() << "  " << line << "\n";
    return 0;
  } catch (const llmc::plan::PlanError &e) {
    return failBadInput(e.what());
  }
}
