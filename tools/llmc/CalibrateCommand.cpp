//===- CalibrateCommand.cpp - `llmc calibrate` ----------------------------===//
//
// llmc calibrate -o spec.json [--name NAME] [--no-link]
// measures this machine as one device (sgemm rates by shape, fitted to the
// planner's efficiency curve; elementwise memory bandwidth; physical memory)
// and the MPI link between two processes on it (latency and bandwidth of a
// ping-pong, run as `mpirun -np 2 llmc calibrate --link-only`), and writes a
// cluster spec of one node with one device for `llmc estimate`, `llmc plan`
// and `llmc explain --cluster`.
//
//===----------------------------------------------------------------------===//

#include "tools/llmc/CalibrateCommand.h"

#include "compiler/planner/compute.h"
#include "runtime/calibrate.h"
#include "runtime/comm/mpi_communicator.h"
#include "runtime/io/posix_file.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace cl = llvm::cl;

namespace {
constexpr int kExitBadInput = 2;

cl::OptionCategory calibrateCategory("llmc calibrate options");
cl::SubCommand calibrateCmd("calibrate",
                            "Measure this machine and write a cluster spec");
cl::opt<std::string> specOut("o", cl::desc("Cluster spec to write (JSON)"),
                             cl::value_desc("spec.json"), cl::sub(calibrateCmd),
                             cl::cat(calibrateCategory));
cl::opt<std::string> specName("name", cl::desc("The spec's name"),
                              cl::init("calibrated"), cl::sub(calibrateCmd),
                              cl::cat(calibrateCategory));
cl::opt<bool> noLink("no-link",
                     cl::desc("Skip the MPI link (keeps 5 GB/s, 20 us)"),
                     cl::sub(calibrateCmd), cl::cat(calibrateCategory));
cl::opt<bool> linkOnly("link-only",
                       cl::desc("Under mpirun -np 2: print the link's "
                                "latency and bandwidth only"),
                       cl::Hidden, cl::sub(calibrateCmd),
                       cl::cat(calibrateCategory));

int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "llmc") << message << "\n";
  return kExitBadInput;
}

/// The ping-pong, on the ranks of this mpirun.
int runLinkOnly() {
  MPI_Init(nullptr, nullptr);
  int status = 0;
  {
    auto world = llmc::comm::MpiCommunicator::world();
    if (world->size() != 2) {
      status = fail("--link-only runs under mpirun -np 2");
    } else {
      llmc::LinkCalibration link = llmc::calibrate_link(*world);
      if (world->rank() == 0)
        llvm::outs() << llvm::formatv("{0:e} {1:e}\n", link.latency,
                                      link.bandwidth);
    }
  }
  MPI_Finalize();
  return status;
}

/// Runs `mpirun -np 2 <this llmc> calibrate --link-only` and reads its line.
llvm::Expected<llmc::LinkCalibration> measureLink(const char *argv0) {
  auto error = [](const llvm::Twine &what) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "calibrate: " + what.str() +
                                       " (or pass --no-link)");
  };
  llvm::ErrorOr<std::string> mpirun = llvm::sys::findProgramByName("mpirun");
  if (!mpirun)
    return error("mpirun is not on PATH");
  std::string self = llvm::sys::fs::getMainExecutable(
      argv0, reinterpret_cast<void *>(&runLinkOnly));
  llvm::SmallString<128> out;
  llvm::sys::fs::createTemporaryFile("llmc-link", "txt", out);
  std::vector<llvm::StringRef> args = {*mpirun, "--oversubscribe", "-np", "2",
                                       self,    "calibrate",       "--link-only"};
  // OpenMPI refuses root unless told; the CI machines run as root.
  std::vector<std::string> envStorage;
  for (char **e = environ; *e; ++e)
    envStorage.push_back(*e);
  if (geteuid() == 0) {
    envStorage.push_back("OMPI_ALLOW_RUN_AS_ROOT=1");
    envStorage.push_back("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1");
  }
  std::vector<llvm::StringRef> env(envStorage.begin(), envStorage.end());
  std::optional<llvm::StringRef> redirects[] = {std::nullopt,
                                                llvm::StringRef(out),
                                                std::nullopt};
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(*mpirun, args, env, redirects, 120, 0,
                                     &message);
  std::ifstream in(std::string(out.str()));
  llmc::LinkCalibration link;
  in >> link.latency >> link.bandwidth;
  llvm::sys::fs::remove(out);
  if (rc != 0 || !in || link.bandwidth <= 0)
    return error("the MPI ping-pong under mpirun failed" +
                 (message.empty() ? "" : ": " + message));
  return link;
}

} // namespace

bool llmc::isCalibrateCommand() { return bool(calibrateCmd); }

int llmc::runCalibrateCommand(const char *argv0) {
  if (linkOnly)
    return runLinkOnly();
  if (specOut.empty())
    return fail("calibrate needs -o SPEC.json");

  planner::ClusterSpec spec;
  spec.name = specName;
  spec.nodes = 1;
  spec.devices_per_node = 1;
  spec.device_memory =
      double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGE_SIZE));
  spec.intra_node = spec.inter_node = {5e9, 2e-5};
  if (!noLink) {
    llvm::Expected<LinkCalibration> link = measureLink(argv0);
    if (!link)
      return fail(llvm::toString(link.takeError()));
    spec.intra_node = spec.inter_node = {link->bandwidth, link->latency};
  }

  DeviceCalibration device = calibrate_device();
  std::vector<planner::GemmMeasurement> gemms;
  for (const GemmSample &g : device.gemms)
    gemms.push_back({double(g.m), double(g.n), double(g.k), g.flops_per_s});
  planner::GemmFit fit = planner::fit_gemm_efficiency(gemms);
  // The CPU runtime computes in fp32 whatever the requested math type.
  spec.peak_flops = {fit.peak, fit.peak, fit.peak, fit.peak};
  spec.gemm_efficiency = fit.efficiency;
  spec.memory_bandwidth = device.memory_bandwidth;

  std::ofstream file(specOut);
  file << planner::format_cluster_spec(spec);
  if (!file.flush())
    return fail(specOut + ": cannot write the cluster spec");
  llvm::outs() << llvm::formatv(
      "{0}: sgemm peak {1:F1} GFLOP/s (fit to {2} shapes, worst error "
      "{3:P0}; m0 {4:F0}, n0 {5:F0}, k0 {6:F0}), memory {7:F1} GB/s, link "
      "{8:F1} GB/s and {9:F1} us\n",
      specOut, fit.peak / 1e9, gemms.size(), fit.worst_error,
      fit.efficiency.m0, fit.efficiency.n0, fit.efficiency.k0,
      spec.memory_bandwidth / 1e9, spec.intra_node.bandwidth / 1e9,
      spec.intra_node.latency * 1e6);
  return 0;
}
