//===- CalibrateCommand.cpp - `llmc calibrate` ----------------------------===//
//
// llmc calibrate -o spec.json [--name NAME] [--no-link]
// measures this machine as one device (sgemm rates by shape, fitted to the
// planner's efficiency curve; memory bandwidth; physical memory; and the
// rate of every other runtime kernel in the train steps of two small probe
// models)
// and the MPI link between two processes on it (latency and bandwidth of a
// ping-pong, run as `mpirun -np 2 llmc calibrate --link-only`), and writes a
// cluster spec of one node with one device for `llmc estimate`, `llmc plan`
// and `llmc explain --cluster`.
//
//===----------------------------------------------------------------------===//

#include "tools/llmc/CalibrateCommand.h"
#include "tools/llmc/Errors.h"

#include "compiler/Compile.h"
#include "compiler/planner/compute.h"
#include "compiler/planner/plan_cost.h"
#include "runtime/calibrate.h"
#include "runtime/comm/mpi_communicator.h"
#include "runtime/cpu/denormals.h"
#include "runtime/cpu/gemm_library.h"
#include "runtime/cpu/vector_isa.h"
#include "runtime/executor.h"
#include "runtime/io/posix_file.h"
#include "runtime/kernels/kernel_table.h"
#include "runtime/plan/collectives.h"
#include "runtime/plan/plan_file.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace cl = llvm::cl;
using llmc::kernels::KernelId;

namespace {

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
  return llmc::failBadInput(message.str());
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
  std::vector<llvm::StringRef> args = {
      *mpirun, "--oversubscribe", "-np", "2", self, "calibrate", "--link-only"};
  // OpenMPI refuses root unless told; the CI machines run as root.
  std::vector<std::string> envStorage;
  for (char **e = environ; *e; ++e)
    envStorage.push_back(*e);
  if (geteuid() == 0) {
    envStorage.push_back("OMPI_ALLOW_RUN_AS_ROOT=1");
    envStorage.push_back("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1");
  }
  std::vector<llvm::StringRef> env(envStorage.begin(), envStorage.end());
  std::optional<llvm::StringRef> redirects[] = {
      std::nullopt, llvm::StringRef(out), std::nullopt};
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

// Small models whose train steps run every kind of kernel the runtime has.
constexpr const char *kProbeConfigs[] = {
    R"({"model_type": "gpt2", "vocab_size": 8192, "n_embd": 256, "n_layer": 2,
        "n_head": 4, "n_positions": 128, "layer_norm_epsilon": 1e-5,
        "activation_function": "gelu_new"})",
    R"({"model_type": "llama", "vocab_size": 8192, "hidden_size": 256,
        "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 2, "intermediate_size": 688,
        "max_position_embeddings": 128, "rms_norm_eps": 1e-6,
        "rope_theta": 10000.0, "tie_word_embeddings": false})",
};

/// The probe model of `config` compiled as `options` say (its config and
/// plan written to temporary files, removed again) and loaded to run.
llvm::Expected<std::unique_ptr<llmc::Executor>>
compileProbe(const char *config, llmc::CompileOptions options) {
  llvm::SmallString<128> configPath, planPath;
  llvm::sys::fs::createTemporaryFile("llmc-probe", "json", configPath);
  llvm::sys::fs::createTemporaryFile("llmc-probe", "plan", planPath);
  { std::ofstream(std::string(configPath)) << config; }
  options.configPath = std::string(configPath);
  options.emit = llmc::EmitKind::Plan;
  options.outputPath = std::string(planPath);
  llvm::Error error = llmc::compile(options, llvm::nulls());
  llvm::sys::fs::remove(configPath);
  if (error)
    return std::move(error);
  auto exec = std::make_unique<llmc::Executor>(
      llmc::plan::read_plan_file(std::string(planPath)));
  llvm::sys::fs::remove(planPath);
  return exec;
}

/// Per kernel name, what the probe plans' kernels achieved: GEMMs join the
/// sgemm fit, attention gives FLOP/s, every other kernel bytes/s (its ins
/// and outs over its time).
llvm::Error probeKernels(std::vector<llmc::planner::GemmMeasurement> &gemms,
                         llmc::planner::ClusterSpec &spec) {
  std::map<std::string, std::pair<double, double>> bytes, flops; // (n, s)
  for (const char *config : kProbeConfigs) {
    llmc::CompileOptions options;
    options.mode = llmc::CompileMode::Train;
    options.microBatch = 4;
    options.seqLen = 128;
    auto probe = compileProbe(config, options);
    if (!probe)
      return probe.takeError();
    llmc::Executor &exec = **probe;
    llmc::OptimizerStep opt;
    exec.run(opt); // warm up
    exec.set_profiling(true);
    const int runs = 3;
    for (int i = 0; i < runs; ++i)
      exec.run(opt);
    const llmc::planfile::Plan &plan = exec.plan();
    for (int k = 0; k < plan.kernels_size(); ++k) {
      const llmc::planfile::Kernel &kernel = plan.kernels(k);
      double seconds = exec.seconds_per_kernel()[size_t(k)] / runs;
      const std::string &name = kernel.name();
      if (seconds <= 0 || llmc::plan::is_communication_kernel(name))
        continue;
      if (llmc::kernels::is(name, KernelId::matmul)) {
        llmc::planner::GemmShape g = llmc::planner::matmul_shape(plan, kernel);
        if (g.batch == 1)
          gemms.push_back({g.m, g.n, g.k, 2 * g.m * g.n * g.k / seconds});
      } else if (llmc::kernels::is(name, KernelId::attention_forward) ||
                 llmc::kernels::is(name, KernelId::attention_backward)) {
        auto &[f, s] = flops[name];
        f += llmc::planner::attention_flops(plan, kernel);
        s += seconds;
      } else if (!llmc::kernels::is(name, KernelId::matmul_bias_gelu) &&
                 !llmc::kernels::is(name, KernelId::matmul_swiglu)) {
        auto &[n, s] = bytes[name];
        n += llmc::planner::kernel_bytes(plan, kernel);
        s += seconds;
      }
    }
  }
  // The int8 GEMV of decoding (--weights-dtype int8), bound on this
  // machine by converting weights rather than by their bytes: its FLOP/s at
  // one row, from the decode program of the first probe's inference plan.
  {
    llmc::CompileOptions options;
    options.mode = llmc::CompileMode::Infer;
    options.maxBatch = 1;
    options.maxSeq = 128;
    options.weightsDtype = llmc::WeightsDtype::Int8;
    auto probe = compileProbe(kProbeConfigs[0], options);
    if (!probe)
      return probe.takeError();
    llmc::Executor &exec = **probe;
    exec.zero(llmc::planfile::INPUT); // token 0 at position 0, block 0
    llmc::OptimizerStep opt;
    exec.run_program("decode", opt); // warm up
    exec.set_profiling(true);
    const int runs = 20;
    for (int i = 0; i < runs; ++i)
      exec.run_program("decode", opt);
    const llmc::planfile::Plan &plan = exec.plan();
    auto &[f, sec] = flops[llmc::kernels::kernel_name(KernelId::matmul_i8w)];
    for (const llmc::planfile::Program &p : plan.programs())
      for (uint32_t k = p.begin(); p.name() == "decode" && k < p.end(); ++k)
        if (llmc::kernels::is(plan.kernels(int(k)).name(),
                              KernelId::matmul_i8w)) {
          llmc::planner::GemmShape g =
              llmc::planner::matmul_shape(plan, plan.kernels(int(k)));
          f += 2 * g.m * g.n * g.k;
          sec += exec.seconds_per_kernel()[size_t(k)] / runs;
        }
  }
  for (const auto &[name, ns] : bytes)
    spec.kernel_bandwidth[name] = ns.first / ns.second;
  for (const auto &[name, fs] : flops)
    spec.kernel_flops[name] = fs.first / fs.second;
  return llvm::Error::success();
}

} // namespace

bool llmc::isCalibrateCommand() { return bool(calibrateCmd); }

int llmc::runCalibrateCommand(const char *argv0) {
  if (linkOnly)
    return runLinkOnly();
  if (specOut.empty())
    return fail("calibrate needs -o SPEC.json");
  if (std::string why = llmc::cpu::unsupported_processor(); !why.empty())
    return fail(why);
  try {
    llmc::cpu::set_gemm_library_from_environment();
    llmc::cpu::set_vector_isa_from_environment();
    llmc::cpu::set_denormals_from_environment();
  } catch (const std::invalid_argument &e) {
    return fail(e.what());
  }

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
  if (llvm::Error error = probeKernels(gemms, spec))
    return fail("calibrate: the probe model: " +
                llvm::toString(std::move(error)));
  planner::GemmFit fit = planner::fit_gemm_efficiency(gemms);
  // bf16-mixed plans' GEMMs: bf16 math on the processor's bf16 kernels,
  // fitted apart (they need larger shapes to approach their peak); fp32
  // for every other type, which the CPU runtime computes in fp32.
  std::vector<planner::GemmMeasurement> bf16_gemms;
  for (const GemmSample &g : device.bf16_gemms)
    bf16_gemms.push_back(
        {double(g.m), double(g.n), double(g.k), g.flops_per_s});
  planner::GemmFit bf16_fit = planner::fit_gemm_efficiency(bf16_gemms);
  const double bf16 = bf16_fit.peak;
  spec.peak_flops = {fit.peak, fit.peak, bf16, fit.peak};
  spec.gemm_efficiency = fit.efficiency;
  spec.gemm_efficiency_bf16 = bf16_fit.efficiency;
  spec.memory_bandwidth = device.memory_bandwidth;

  std::ofstream file(specOut);
  file << planner::format_cluster_spec(spec);
  if (!file.flush())
    return fail(specOut + ": cannot write the cluster spec");
  llvm::outs() << llvm::formatv(
      "{0}: sgemm peak {1:F1} GFLOP/s (fit to {2} shapes, worst error "
      "{3:P0}; m0 {4:F0}, n0 {5:F0}, k0 {6:F0}), bf16 GEMMs peak {11:F1} "
      "GFLOP/s (worst error {12:P0}; m0 {13:F0}, n0 {14:F0}, k0 {15:F0}), "
      "memory {7:F1} GB/s, {8} other kernels timed, link {9:F1} GB/s and "
      "{10:F1} us\n",
      specOut, fit.peak / 1e9, gemms.size(), fit.worst_error, fit.efficiency.m0,
      fit.efficiency.n0, fit.efficiency.k0, spec.memory_bandwidth / 1e9,
      spec.kernel_bandwidth.size() + spec.kernel_flops.size(),
      spec.intra_node.bandwidth / 1e9, spec.intra_node.latency * 1e6,
      bf16 / 1e9, bf16_fit.worst_error, bf16_fit.efficiency.m0,
      bf16_fit.efficiency.n0, bf16_fit.efficiency.k0);
  return 0;
}
