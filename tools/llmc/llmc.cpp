//===- llmc.cpp - The llmc command-line tool ------------------------------===//
//
// One command line, one subcommand per job. llmc runs the compiler's
// commands (compile, plan, estimate, calibrate, tokenize) and hands the
// runtime's (train, eval, init, explain, verify, generate, serve) to
// llmc-run, which links no MLIR. Bad input of any kind prints one line and
// exits with code 2.
//
//===----------------------------------------------------------------------===//

#include "compiler/Compile.h"
#include "passes/ChoiceValues.h"
#include "runtime/comm/job.h"
#include "runtime/io/error.h"
#include "runtime/model_tensors.h"
#include "runtime/plan/plan_file.h"
#include "runtime/plan/verify.h"
#include "tools/llmc/CalibrateCommand.h"
#include "tools/llmc/Errors.h"
#include "tools/llmc/PlanCommands.h"
#include "tools/llmc/TokenizeCommand.h"
#include "tools/llmc/WordParser.h"

#include "mlir/Support/FileUtilities.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"

#include <google/protobuf/stubs/common.h>
#include <mpi.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <iostream>
#include <optional>
#include <set>
#include <unistd.h>

namespace cl = llvm::cl;

using llmc::kExitBadInput;

namespace {

cl::OptionCategory llmcCategory("llmc options");

cl::SubCommand compileCmd("compile",
                          "Compile a model (a Hugging Face config.json or an "
                          "ONNX file) into llm IR, a summary or a plan");
cl::opt<std::string> configPath(cl::Positional, cl::Required,
                                cl::desc("<config.json | model.onnx | folder "
                                         "with model.onnx>"),
                                cl::sub(compileCmd), cl::cat(llmcCategory));
cl::opt<std::string> weightsOut(
    "weights-out",
    cl::desc("ONNX models: write the graph's weights as Hugging Face "
             "safetensors, for train --load, generate and serve --weights"),
    cl::value_desc("file"), cl::sub(compileCmd), cl::cat(llmcCategory));
llmc::WordOption<llmc::CompileMode> compileMode(
    "mode", cl::desc("What to compile"), cl::init(llmc::CompileMode::Forward),
    cl::values(clEnumValN(llmc::CompileMode::Forward, "forward",
                          "the model's forward and loss functions"),
               clEnumValN(llmc::CompileMode::Train, "train",
                          "one training step: forward, backward, AdamW"),
               clEnumValN(llmc::CompileMode::Infer, "infer",
                          "prefill and decode programs over a paged KV "
                          "cache")),
    cl::sub(compileCmd), cl::cat(llmcCategory));
llmc::WordOption<llmc::EmitKind> emitKind(
    "emit",
    cl::desc("What to produce (default: mlir, or plan with --mode train)"),
    cl::values(clEnumValN(llmc::EmitKind::MLIR, "mlir",
                          "the IR (llm, or plan with --mode train)"),
               clEnumValN(llmc::EmitKind::Summary, "summary",
                          "one JSON object: params, forward flops per token"),
               clEnumValN(llmc::EmitKind::Plan, "plan",
                          "the plan file the runtime executes (-o FILE)"),
               clEnumValN(llmc::EmitKind::Import, "import",
                          "the IR as the frontend built it, before any pass, "
                          "with the llmc-opt pipeline that compiles it")),
    cl::sub(compileCmd), cl::cat(llmcCategory));
cl::opt<int64_t> microBatch("micro-batch",
                            cl::desc("Sequences per micro-batch (default 1)"),
                            cl::init(1), cl::sub(compileCmd),
                            cl::cat(llmcCategory));
cl::opt<int64_t> seqLen("seq",
                        cl::desc("Sequence length (default: the full context)"),
                        cl::init(0), cl::sub(compileCmd),
                        cl::cat(llmcCategory));
cl::opt<int64_t> maxBatch("max-batch",
                          cl::desc("--mode infer: sequences per step (8)"),
                          cl::init(8), cl::sub(compileCmd),
                          cl::cat(llmcCategory));
cl::opt<int64_t> maxSeq("max-seq",
                        cl::desc("--mode infer: the longest sequence, prompt "
                                 "and output (default: the full context)"),
                        cl::init(0), cl::sub(compileCmd),
                        cl::cat(llmcCategory));
cl::opt<int64_t> kvBlockTokens("kv-block-tokens",
                               cl::desc("--mode infer: tokens per KV-cache "
                                        "block (16)"),
                               cl::init(16), cl::sub(compileCmd),
                               cl::cat(llmcCategory));
cl::opt<int64_t> kvBlocks("kv-blocks",
                          cl::desc("--mode infer: blocks in each layer's "
                                   "pool (default: what --device-memory "
                                   "leaves after weights and activations; "
                                   "without it, every sequence at "
                                   "--max-seq)"),
                          cl::init(0), cl::sub(compileCmd),
                          cl::cat(llmcCategory));
cl::opt<int64_t> prefillTokens(
    "prefill-tokens",
    cl::desc("--mode infer: prompt tokens per sequence one prefill step "
             "takes; longer prompts are prefilled in chunks between decode "
             "steps (default: --max-seq, at most 256)"),
    cl::init(0), cl::sub(compileCmd), cl::cat(llmcCategory));
cl::opt<int64_t> prefillRows(
    "prefill-rows",
    cl::desc("--mode infer: sequences one run of the prefill program takes "
             "(default: --max-batch); fewer rows pad less when prompts "
             "arrive one by one, more prefill several in one run"),
    cl::init(0), cl::sub(compileCmd), cl::cat(llmcCategory));
llmc::WordOption<llmc::WeightsDtype> weightsDtype(
    "weights-dtype",
    cl::desc("--mode infer: how GEMM weights are stored (default fp32)"),
    cl::init(llmc::WeightsDtype::FP32), llmc::weightsDtypeValues(),
    cl::sub(compileCmd), cl::cat(llmcCategory));
llmc::WordOption<llmc::DpComm>
    dpComm("dp-comm", cl::desc("How data-parallel gradients travel"),
           cl::init(llmc::DpComm::Overlap), llmc::dpCommValues(), cl::Hidden,
           cl::sub(compileCmd), cl::cat(llmcCategory));
cl::opt<std::string> compileMesh(
    "mesh",
    cl::desc("Device mesh, e.g. pp=2,dp=2,tp=2: pipeline stages x data "
             "parallel (--micro-batch is per dp rank and microbatch) x "
             "Megatron tensor parallel. Run with mpirun -np pp*dp*tp; rank = "
             "(stage*dp + d)*tp + t, so tp ranks are neighbours."),
    cl::init(""), cl::sub(compileCmd), cl::cat(llmcCategory));
cl::opt<int64_t> microbatches(
    "microbatches",
    cl::desc("Microbatches per step and dp rank, their gradients summed "
             "(default 1)"),
    cl::init(1), cl::sub(compileCmd), cl::cat(llmcCategory));
llmc::WordOption<llmc::Schedule>
    pipelineSchedule("schedule", cl::desc("Pipeline schedule (default 1f1b)"),
                     cl::init(llmc::Schedule::OneFOneB), llmc::scheduleValues(),
                     cl::sub(compileCmd), cl::cat(llmcCategory));
cl::opt<int64_t> virtualStages(
    "virtual-stages",
    cl::desc("Model chunks per pipeline rank, for --schedule interleaved "
             "(default 1)"),
    cl::init(1), cl::sub(compileCmd), cl::cat(llmcCategory));
cl::list<int64_t> pipelineSplit(
    "pipeline-split",
    cl::desc("Layers per pipeline stage, e.g. 4,2 (default: balanced by "
             "cost)"),
    cl::CommaSeparated, cl::sub(compileCmd), cl::cat(llmcCategory));
cl::opt<int64_t> zeroStage(
    "zero",
    cl::desc("ZeRO stage over the dp ranks: 1 slices optimizer state, 2 also "
             "gradients, 3 also parameters (default 0)"),
    cl::init(0), cl::sub(compileCmd), cl::cat(llmcCategory));
llmc::WordOption<llmc::Recompute>
    recomputeMode("recompute",
                  cl::desc("Activation recomputation (default none)"),
                  cl::init(llmc::Recompute::None), llmc::recomputeValues(),
                  cl::sub(compileCmd), cl::cat(llmcCategory));
llmc::WordOption<llmc::Precision> precision(
    "precision",
    cl::desc("--mode train: what the GEMMs multiply (default fp32); "
             "bf16-mixed rounds their operands to bf16 and sums in fp32, "
             "weights and AdamW state stay fp32"),
    cl::init(llmc::Precision::FP32), llmc::precisionValues(),
    cl::sub(compileCmd), cl::cat(llmcCategory));
llmc::WordOption<llmc::Fusion> fusion(
    "fusion",
    cl::desc("Which fusions the plan gets (default all): vertical joins a "
             "kernel and its consumer (GEMM epilogues, residual add + norm), "
             "horizontal merges an inference plan's sibling GEMMs (q, k, v) "
             "into one, memory writes elementwise results over inputs that "
             "die there; one alone or none to measure each"),
    cl::init(llmc::Fusion::All), llmc::fusionValues(), cl::sub(compileCmd),
    cl::cat(llmcCategory));
cl::opt<bool> sequenceParallel(
    "sequence-parallel",
    cl::desc("Shard norms and residuals along the sequence over the tp ranks "
             "(all-gather / reduce-scatter instead of all-reduce)"),
    cl::init(false), cl::sub(compileCmd), cl::cat(llmcCategory));
cl::opt<std::string> compileDeviceMemory(
    "device-memory",
    cl::desc("Refuse a plan whose ranks need more than this, e.g. 80GiB "
             "(every plan is verified; default: memory not checked)"),
    cl::value_desc("size"), cl::sub(compileCmd), cl::cat(llmcCategory));
cl::opt<std::string> outputPath("o", cl::desc("Output file (default stdout)"),
                                cl::value_desc("file"), cl::init("-"),
                                cl::sub(compileCmd), cl::cat(llmcCategory));

int fail(const llvm::Twine &message) {
  return llmc::failBadInput(message.str());
}

/// `llmc --version`: llmc's release and commit, and what it was built with.
void printVersion(llvm::raw_ostream &os) {
  os << "llmc " << LLMC_VERSION << " (git " << LLMC_GIT_COMMIT << ")\n"
     << "  built with " << __VERSION__ << ", against LLVM/MLIR "
     << LLVM_VERSION_STRING << ", protobuf "
     << GOOGLE_PROTOBUF_VERSION / 1000000 << "."
     << GOOGLE_PROTOBUF_VERSION / 1000 % 1000 << "."
     << GOOGLE_PROTOBUF_VERSION % 1000 << ", Open MPI " << OMPI_MAJOR_VERSION
     << "." << OMPI_MINOR_VERSION << "." << OMPI_RELEASE_VERSION << "\n";
}

/// One line on what compile wrote: the plan's kind, model, mesh and memory.
void printCompiled(const std::string &path) {
  llmc::planfile::Plan plan = llmc::plan::read_plan_file(path);
  const llmc::planfile::ModelInfo &m = plan.model();
  // In a training plan, a tensor loaded with the weights but given no
  // AdamW moments is a constant (an imported graph's folded mask).
  std::set<std::string> trained;
  for (const llmc::PlanTensor &t :
       llmc::model_tensors(plan, llmc::planfile::OPTIMIZER_STATE))
    trained.insert(t.name.substr(0, t.name.rfind('.')));
  int64_t params = 0, constants = 0;
  for (const llmc::PlanTensor &t :
       llmc::model_tensors(plan, llmc::planfile::PARAM)) {
    int64_t n = 1;
    for (int64_t d : t.full())
      n *= d;
    (trained.empty() || trained.count(t.name) ? params : constants) += n;
  }
  uint64_t arena = plan.arena_bytes();
  for (const llmc::planfile::Plan &stage : plan.stages())
    arena = std::max<uint64_t>(arena, stage.arena_bytes());
  auto axis = [](int64_t n) { return std::max<int64_t>(n, 1); };
  int64_t ranks = axis(m.dp()) * axis(m.tp()) * axis(m.pp());
  llvm::outs() << llvm::formatv(
      "llmc: wrote {0}: {1} plan of {2} ({3:N} parameters{10}), {4} rank{5} "
      "(dp={6}, tp={7}, pp={8}), arena {9:F1} MiB per rank\n",
      path,
      plan.program() == "infer"     ? "inference"
      : plan.program() == "forward" ? "forward"
                                    : "training",
      m.model_type(), params, ranks, ranks > 1 ? "s" : "", axis(m.dp()),
      axis(m.tp()), axis(m.pp()), double(arena) / (1 << 20),
      constants ? llvm::formatv(", {0:N} constant values", constants).str()
                : std::string());
}

/// The axes of --mesh.
struct CompileMesh {
  int64_t dp = 1, tp = 1, pp = 1;
};

std::optional<CompileMesh> parseCompileMesh(std::string &error) {
  CompileMesh mesh;
  llvm::SmallVector<llvm::StringRef> parts;
  llvm::StringRef(compileMesh).split(parts, ',', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef part : parts) {
    auto [axis, size] = part.split('=');
    int64_t value = 0;
    if (size.getAsInteger(10, value) || value <= 0) {
      error = "--mesh: '" + part.str() + "': expected AXIS=N with a positive N";
      return std::nullopt;
    }
    if (axis == "dp")
      mesh.dp = value;
    else if (axis == "tp")
      mesh.tp = value;
    else if (axis == "pp")
      mesh.pp = value;
    else {
      error = "--mesh: axis '" + axis.str() + "': expected dp, tp or pp";
      return std::nullopt;
    }
  }
  return mesh;
}

int runCompile() {
  std::string meshError;
  std::optional<CompileMesh> mesh = parseCompileMesh(meshError);
  if (!mesh)
    return fail(meshError);
  if (mesh->dp > 1 && compileMode != llmc::CompileMode::Train)
    return fail("--mesh dp=" + llvm::Twine(mesh->dp) + " needs --mode train");
  if (sequenceParallel && mesh->tp == 1)
    return fail("--sequence-parallel needs --mesh tp=N with N > 1");
  if (zeroStage < 0 || zeroStage > 3)
    return fail("--zero " + llvm::Twine(zeroStage) + ": expected 0, 1, 2 or 3");
  if (zeroStage > 0 && mesh->dp == 1)
    return fail("--zero " + llvm::Twine(zeroStage) +
                " needs --mesh dp=N with N > 1 (ZeRO slices state over the "
                "data-parallel ranks)");
  llmc::EmitKind emit = emitKind;
  if (!emitKind.getNumOccurrences())
    emit = compileMode == llmc::CompileMode::Forward ? llmc::EmitKind::MLIR
                                                     : llmc::EmitKind::Plan;
  // By name: a field added to CompileOptions cannot shift the others.
  llmc::CompileOptions options;
  options.configPath = configPath;
  options.mode = compileMode;
  options.emit = emit;
  options.microBatch = microBatch;
  options.seqLen = seqLen;
  options.dataParallel = mesh->dp;
  options.tensorParallel = mesh->tp;
  options.sequenceParallel = sequenceParallel;
  options.zeroStage = zeroStage;
  options.recompute = recomputeMode;
  options.precision = precision;
  options.fusion = fusion;
  options.pipelineStages = mesh->pp;
  options.maxBatch = maxBatch;
  options.maxSeq = maxSeq;
  options.kvBlockTokens = kvBlockTokens;
  options.kvBlocks = kvBlocks;
  options.prefillTokens = prefillTokens;
  options.prefillRows = prefillRows;
  options.weightsDtype = weightsDtype;
  options.weightsOut = weightsOut;
  if (dpComm != llmc::DpComm::Overlap && (mesh->dp == 1 || zeroStage > 0))
    return fail(llvm::Twine("--dp-comm ") + llmc::name(dpComm) +
                " needs --mesh dp=N with N > 1 and no --zero");
  options.dpComm = dpComm;
  options.microbatches = microbatches;
  options.schedule = pipelineSchedule;
  options.virtualStages = virtualStages;
  options.pipelineSplit.assign(pipelineSplit.begin(), pipelineSplit.end());
  if (!compileDeviceMemory.empty() &&
      !llmc::plan::parse_byte_size(compileDeviceMemory, options.deviceMemory))
    return fail("--device-memory " + compileDeviceMemory +
                ": expected a size such as 80GiB or 512MiB");
  if (emit == llmc::EmitKind::Plan) {
    if (outputPath == "-")
      return fail("--emit=plan needs -o FILE (a plan file is binary)");
    options.outputPath = outputPath;
    // A plan goes to its file; stdout gets what the import found, if any.
    if (llvm::Error err = llmc::compile(options, llvm::outs()))
      return fail(llvm::toString(std::move(err)));
    printCompiled(outputPath);
    return 0;
  }
  std::string error;
  std::unique_ptr<llvm::ToolOutputFile> output =
      mlir::openOutputFile(outputPath, &error);
  if (!output)
    return fail("-o " + outputPath + ": " + error);
  if (llvm::Error err = llmc::compile(options, output->os()))
    return fail(llvm::toString(std::move(err)));
  output->keep();
  return 0;
}
/// The commands llmc-run implements; llmc hands them to it.
bool isRuntimeCommand(const char *name) {
  for (const char *c : {"train", "eval", "init", "explain", "verify",
                        "trace-merge", "generate", "serve", "run", "kernels"})
    if (!std::strcmp(name, c))
      return true;
  return false;
}

/// Replaces this process with llmc-run from llmc's own folder (the same
/// process, so mpirun's ranks stay what they were). Returns only on failure.
int forwardToRuntime(char **argv) {
  std::string self = llvm::sys::fs::getMainExecutable(
      argv[0], reinterpret_cast<void *>(&forwardToRuntime));
  llvm::SmallString<256> runner(llvm::sys::path::parent_path(self));
  llvm::sys::path::append(runner, "llmc-run");
  std::string path(runner);
  argv[0] = path.data();
  ::execv(path.c_str(), argv);
  llmc::reportError("cannot run " + path + ": " + std::strerror(errno) +
                    " (llmc-run runs the plans; it is built beside llmc)");
  return llmc::kExitFailure;
}
} // namespace

int main(int argc, char **argv) {
  if (argc > 1 && isRuntimeCommand(argv[1]))
    return forwardToRuntime(argv);
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(llmcCategory);
  cl::SetVersionPrinter(printVersion);
  if (!cl::ParseCommandLineOptions(
          argc, argv,
          "llmc: compile, plan and run transformer models on many devices\n\n"
          "  Running plans (llmc-run, forwarded): train, eval, init, explain,\n"
          "  verify, trace-merge, generate, serve, run, kernels; llmc COMMAND "
          "--help for each.\n",
          &llvm::errs()))
    return kExitBadInput;
  if (llmc::isTokenizeCommand())
    return llmc::runTokenizeCommand();
  if (llmc::isPlanCommand())
    return llmc::runPlanCommand();
  if (llmc::isCalibrateCommand())
    return llmc::runCalibrateCommand(argv[0]);
  if (compileCmd)
    return runCompile();
  cl::PrintHelpMessage(/*Hidden=*/false, /*Categorized=*/true);
  return kExitBadInput;
}
