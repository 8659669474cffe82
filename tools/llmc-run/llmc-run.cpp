//===- llmc-run.cpp - The runtime's commands, without MLIR or LLVM --------===//
//
// `llmc-run
// train|eval|init|explain|verify|trace-merge|generate|serve|run|kernels
// ...` runs plans on a machine that needs no compiler: it links the runtime,
// the engine, the server and the planner's cost model, and no MLIR or LLVM.
// `llmc` hands these commands here, so `llmc train ...` and `llmc-run train
// ...` are one program.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/denormals.h"
#include "runtime/cpu/gemm_library.h"
#include "runtime/cpu/vector_isa.h"
#include "tools/llmc-run/Commands.h"
#include "tools/llmc/Errors.h"

#if defined(LLMC_CUDA_BACKEND)
#include "runtime/cuda/dispatch.h"

#include <cuda_runtime_api.h>
#endif

#include <google/protobuf/stubs/common.h>
#include <mpi.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <stdexcept>

namespace {

struct CommandEntry {
  const char *name;
  int (*run)(int, char **);
  const char *summary;
};

const CommandEntry kCommands[] = {
    {"train", llmc::runTrainCommand, "Train a compiled plan on a token file"},
    {"eval", llmc::runEvalCommand,
     "Validation loss and perplexity of weights on a token file"},
    {"init", llmc::runInitCommand,
     "Write a plan's initial weights as safetensors"},
    {"explain", llmc::runExplainCommand,
     "Show a plan's programs, memory and collectives (--detail: every "
     "buffer and kernel)"},
    {"verify", llmc::runVerifyCommand, "Prove a plan safe to run"},
    {"trace-merge", llmc::runTraceMergeCommand,
     "Merge per-rank Chrome traces into one Perfetto file"},
    {"generate", llmc::runGenerateCommand,
     "Generate text from an inference plan"},
    {"serve", llmc::runServeCommand,
     "Serve an inference plan over HTTP with OpenAI's API"},
    {"run", llmc::runRunCommand,
     "Run an ONNX graph's forward plan on .npy arrays"},
    {"kernels", llmc::runKernelsCommand,
     "List the kernel table and the backends of each kernel"},
};

void printVersion() {
  std::cout << "llmc-run " << LLMC_VERSION << " (git " << LLMC_GIT_COMMIT
            << ")\n  built with " << __VERSION__ << ", protobuf "
            << GOOGLE_PROTOBUF_VERSION / 1000000 << "."
            << GOOGLE_PROTOBUF_VERSION / 1000 % 1000 << "."
            << GOOGLE_PROTOBUF_VERSION % 1000 << ", Open MPI "
            << OMPI_MAJOR_VERSION << "." << OMPI_MINOR_VERSION << "."
            << OMPI_RELEASE_VERSION << "; no MLIR or LLVM\n  GEMMs: "
            << llmc::cpu::gemm_library_description()
            << " (LLMC_GEMM=onednn|openblas)\n  devices: cpu"
#if defined(LLMC_CUDA_BACKEND)
            << ", cuda (--device cuda; built with CUDA "
            << CUDART_VERSION / 1000 << "." << CUDART_VERSION % 1000 / 10 << ")"
#endif
            << "\n";
}

void printHelp() {
  std::cout << "OVERVIEW: llmc-run: run compiled plans (no compiler needed)\n"
               "\nUSAGE: llmc-run COMMAND [options]   (COMMAND --help for "
               "its options)\n\nCOMMANDS:\n";
  for (const CommandEntry &c : kCommands)
    std::cout << "  " << c.name
              << std::string(13 - std::min<size_t>(std::strlen(c.name), 12),
                             ' ')
              << "- " << c.summary << "\n";
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") ||
      !std::strcmp(argv[1], "-help") || !std::strcmp(argv[1], "-h")) {
    printHelp();
    return argc < 2 ? llmc::kExitBadInput : 0;
  }
  if (std::string why = llmc::cpu::unsupported_processor(); !why.empty())
    return llmc::failBadInput(why);
  try {
    llmc::cpu::set_gemm_library_from_environment();
    llmc::cpu::set_vector_isa_from_environment();
    llmc::cpu::set_denormals_from_environment();
  } catch (const std::invalid_argument &e) {
    return llmc::failBadInput(e.what());
  }
#if defined(LLMC_CUDA_BACKEND)
  llmc::cuda::register_backend();
#endif
  if (!std::strcmp(argv[1], "--version") || !std::strcmp(argv[1], "-version")) {
    printVersion();
    return 0;
  }
  for (const CommandEntry &c : kCommands)
    if (!std::strcmp(argv[1], c.name))
      return c.run(argc, argv);
  return llmc::failBadInput(std::string("unknown command '") + argv[1] +
                            "' (llmc-run --help lists them)");
}
