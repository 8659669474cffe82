//===- llmc.cpp - The llmc command-line tool ------------------------------===//
//
// One binary, one subcommand per job: `llmc compile CONFIG --emit=mlir|summary`
// today; training, planning and serving commands join it as they land. Bad
// input of any kind prints one line and exits with code 2.
//
//===----------------------------------------------------------------------===//

#include "compiler/Compile.h"
#include "runtime/comm/job.h"
#include "runtime/explain.h"
#include "runtime/io/error.h"
#include "runtime/model_tensors.h"
#include "runtime/plan/plan_file.h"
#include "runtime/plan/verify.h"
#include "runtime/train.h"
#include "tools/llmc/CalibrateCommand.h"
#include "tools/llmc/Errors.h"
#include "tools/llmc/GenerateCommand.h"
#include "tools/llmc/PlanCommands.h"
#include "tools/llmc/ServeCommand.h"
#include "tools/llmc/TokenizeCommand.h"
#include "tools/llmc/VerifyCommand.h"

#include "mlir/Support/FileUtilities.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"

#include <google/protobuf/stubs/common.h>
#include <mpi.h>

#include <cmath>
#include <iostream>
#include <optional>

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
cl::opt<llmc::CompileMode> compileMode(
    "mode", cl::desc("What to compile"), cl::init(llmc::CompileMode::Forward),
    cl::values(clEnumValN(llmc::CompileMode::Forward, "forward",
                          "the model's forward and loss functions"),
               clEnumValN(llmc::CompileMode::Train, "train",
                          "one training step: forward, backward, AdamW"),
               clEnumValN(llmc::CompileMode::Infer, "infer",
                          "prefill and decode programs over a paged KV "
                          "cache")),
    cl::sub(compileCmd), cl::cat(llmcCategory));
cl::opt<llmc::EmitKind> emitKind(
    "emit",
    cl::desc("What to produce (default: mlir, or plan with --mode train)"),
    cl::values(clEnumValN(llmc::EmitKind::MLIR, "mlir",
                          "the IR (llm, or plan with --mode train)"),
               clEnumValN(llmc::EmitKind::Summary, "summary",
                          "one JSON object: params, forward flops per token"),
               clEnumValN(llmc::EmitKind::Plan, "plan",
                          "the plan file the runtime executes (-o FILE)")),
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
cl::opt<std::string> dpComm(
    "dp-comm",
    cl::desc("Data-parallel gradients: overlap (default), blocking (after "
             "the backward pass), none (not averaged: a benchmark "
             "baseline, replicas diverge)"),
    cl::init("overlap"), cl::Hidden, cl::sub(compileCmd),
    cl::cat(llmcCategory));
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
cl::opt<std::string> pipelineSchedule(
    "schedule",
    cl::desc("Pipeline schedule: 1f1b (default; at most pp microbatches in "
             "flight), gpipe (all forwards, then all backwards) or "
             "interleaved (1F1B over --virtual-stages chunks per rank)"),
    cl::init("1f1b"), cl::sub(compileCmd), cl::cat(llmcCategory));
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
cl::opt<std::string> recomputeMode(
    "recompute",
    cl::desc("Activation recomputation: none, selective (the attention core) "
             "or full (each layer from its input)"),
    cl::init("none"), cl::sub(compileCmd), cl::cat(llmcCategory));
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

//===----------------------------------------------------------------------===//
// llmc init / llmc train
//===----------------------------------------------------------------------===//

cl::SubCommand initCmd("init", "Write a plan's initial weights (GPT-2 init "
                               "scheme) as safetensors");
cl::opt<std::string> initPlan(cl::Positional, cl::Required,
                              cl::desc("<model.plan>"), cl::sub(initCmd),
                              cl::cat(llmcCategory));
cl::opt<uint64_t> initSeed("seed", cl::desc("Random seed"), cl::init(1337),
                           cl::sub(initCmd), cl::cat(llmcCategory));
cl::opt<std::string> initOut("o", cl::desc("Output safetensors file"),
                             cl::Required, cl::value_desc("file"),
                             cl::sub(initCmd), cl::cat(llmcCategory));

cl::SubCommand trainCmd("train", "Train a compiled plan on a token file");
cl::opt<std::string> trainPlan(cl::Positional, cl::Required,
                               cl::desc("<model.plan>"), cl::sub(trainCmd),
                               cl::cat(llmcCategory));
cl::opt<std::string> dataPath("data", cl::Required,
                              cl::desc("Token file (flat little-endian uint16)"),
                              cl::sub(trainCmd), cl::cat(llmcCategory));
cl::opt<int64_t> steps("steps", cl::Required,
                       cl::desc("Optimizer steps in all (a resumed run "
                                "continues up to this step)"),
                       cl::sub(trainCmd), cl::cat(llmcCategory));
cl::opt<uint64_t> trainSeed("seed",
                            cl::desc("Seed of the initial weights and of "
                                     "shuffled data (default 1337)"),
                            cl::init(1337), cl::sub(trainCmd),
                            cl::cat(llmcCategory));
cl::opt<std::string> dataOrder("data-order",
                               cl::desc("sequential (default) or shuffled"),
                               cl::init("sequential"), cl::sub(trainCmd),
                               cl::cat(llmcCategory));
cl::opt<std::string>
    loadPath("load",
             cl::desc("Start from a checkpoint: a run folder (resumes at its "
                      "'latest'), a step folder (resumes at that step) or a "
                      "safetensors file (initial weights only)"),
             cl::value_desc("path"), cl::sub(trainCmd), cl::cat(llmcCategory));
cl::opt<bool> weightsOnly(
    "weights-only",
    cl::desc("With --load: take the checkpoint's weights only and start a "
             "new run at step 0 (fresh AdamW state, schedule and data order)"),
    cl::sub(trainCmd), cl::cat(llmcCategory));
cl::opt<std::string> savePath(
    "save",
    cl::desc("Run folder to checkpoint into: DIR/step-NNNNNN/ (HF "
             "model.safetensors, optimizer state, manifest) and DIR/latest"),
    cl::value_desc("folder"), cl::sub(trainCmd), cl::cat(llmcCategory));
cl::opt<std::string> trainTokenizer(
    "tokenizer",
    cl::desc("The data's tokenizer (sentencepiece .model), copied into each "
             "checkpoint folder so that generate and serve find it there"),
    cl::value_desc("tok.model"), cl::sub(trainCmd), cl::cat(llmcCategory));
cl::opt<int64_t> saveEvery(
    "save-every",
    cl::desc("Also checkpoint every K steps (default 0: at the end only)"),
    cl::init(0), cl::sub(trainCmd), cl::cat(llmcCategory));
cl::opt<int64_t> keepLast("keep-last",
                          cl::desc("Keep the K newest step folders in --save "
                                   "(default 0: keep all)"),
                          cl::init(0), cl::sub(trainCmd),
                          cl::cat(llmcCategory));
cl::opt<std::string> logPath("log", cl::desc("JSON-lines log, one per step"),
                             cl::sub(trainCmd), cl::cat(llmcCategory));
cl::opt<std::string> valData(
    "val-data",
    cl::desc("Validation tokens (llmc tokenize's val.bin): loss and "
             "perplexity in the log, the progress line and the summary"),
    cl::value_desc("val.bin"), cl::sub(trainCmd), cl::cat(llmcCategory));
cl::opt<int64_t> evalEvery("eval-every",
                           cl::desc("Validate every K steps (default 0: after "
                                    "the last step only)"),
                           cl::init(0), cl::sub(trainCmd),
                           cl::cat(llmcCategory));
cl::opt<int64_t>
    evalBatches("eval-batches",
                cl::desc("Global batches of validation rows (default 20)"),
                cl::init(20), cl::sub(trainCmd), cl::cat(llmcCategory));

cl::SubCommand evalCmd("eval", "Validation loss and perplexity of weights on "
                               "a token file, through a training plan");
cl::opt<std::string> evalPlan(cl::Positional, cl::Required,
                              cl::desc("<model.plan>"), cl::sub(evalCmd),
                              cl::cat(llmcCategory));
cl::opt<std::string> evalWeights(
    "weights", cl::Required,
    cl::desc("A checkpoint folder of llmc train --save or a safetensors file"),
    cl::sub(evalCmd), cl::cat(llmcCategory));
cl::opt<std::string> evalData("data", cl::Required,
                              cl::desc("Token file to evaluate on"),
                              cl::sub(evalCmd), cl::cat(llmcCategory));
cl::opt<int64_t> evalBatchCount(
    "batches", cl::desc("Global batches of rows, from the start (default 20)"),
    cl::init(20), cl::sub(evalCmd), cl::cat(llmcCategory));
cl::opt<std::string> dumpGrads("dump-grads",
                               cl::desc("Write step-0 gradients (safetensors)"),
                               cl::sub(trainCmd), cl::cat(llmcCategory));
// For tests of failure handling only: launched through mpirun's MPMD form on
// one rank, it fails that rank at a chosen moment.
cl::opt<std::string> injectFault(
    "inject-fault",
    cl::desc("Fail this process at startup, load, step:N or save (tests)"),
    cl::Hidden, cl::sub(trainCmd), cl::cat(llmcCategory));
cl::opt<llmc::Progress> progress(
    "progress", cl::desc("Progress bar on the first rank's stderr"),
    cl::values(clEnumValN(llmc::Progress::Auto, "auto",
                          "when stderr is a terminal (default)"),
               clEnumValN(llmc::Progress::Always, "always",
                          "also under mpirun, which pipes stderr"),
               clEnumValN(llmc::Progress::Never, "never", "no bar")),
    cl::init(llmc::Progress::Auto), cl::sub(trainCmd), cl::cat(llmcCategory));
cl::opt<std::string> tracePath(
    "trace",
    cl::desc("Write a Chrome trace (chrome://tracing, Perfetto) of every "
             "kernel and collective of the first --trace-steps steps; one "
             "file per rank (F.rankN.json) under mpirun"),
    cl::value_desc("trace.json"), cl::sub(trainCmd), cl::cat(llmcCategory));
cl::opt<int64_t> traceSteps("trace-steps", cl::desc("Steps to trace (3)"),
                            cl::init(3), cl::sub(trainCmd),
                            cl::cat(llmcCategory));
cl::opt<bool>
    profile("profile",
            cl::desc("Print the time spent per kernel kind (per step)"),
            cl::sub(trainCmd), cl::cat(llmcCategory));
cl::opt<float> lr("lr", cl::desc("Peak learning rate (default 3e-4)"),
                  cl::init(3e-4f), cl::sub(trainCmd), cl::cat(llmcCategory));
cl::opt<float> minLr("min-lr",
                     cl::desc("Final learning rate of cosine (default: 10% "
                              "of --lr, as nanoGPT)"),
                     cl::init(-1.0f), cl::sub(trainCmd), cl::cat(llmcCategory));
cl::opt<int64_t> warmupSteps("warmup-steps",
                             cl::desc("Linear warmup steps (default 0)"),
                             cl::init(0), cl::sub(trainCmd),
                             cl::cat(llmcCategory));
cl::opt<bool> newSchedule(
    "new-schedule",
    cl::desc("On resume, switch to this command's learning-rate schedule "
             "(--lr, --min-lr, --warmup-steps, --schedule, --steps) instead "
             "of continuing the checkpoint's"),
    cl::sub(trainCmd), cl::cat(llmcCategory));
cl::opt<llmc::Schedule> schedule(
    "schedule", cl::desc("Learning-rate schedule (default cosine)"),
    cl::init(llmc::Schedule::Cosine),
    cl::values(clEnumValN(llmc::Schedule::Constant, "constant", "constant"),
               clEnumValN(llmc::Schedule::Cosine, "cosine",
                          "linear warmup, then cosine decay to --min-lr")),
    cl::sub(trainCmd), cl::cat(llmcCategory));
cl::opt<float> weightDecay(
    "weight-decay",
    cl::desc("AdamW weight decay of rank >= 2 tensors (default 0.1)"),
    cl::init(0.1f), cl::sub(trainCmd), cl::cat(llmcCategory));
cl::opt<float> beta1("beta1", cl::init(0.9f),
                     cl::desc("AdamW beta1 (default 0.9)"), cl::sub(trainCmd),
                     cl::cat(llmcCategory));
cl::opt<float> beta2("beta2", cl::init(0.95f),
                     cl::desc("AdamW beta2 (default 0.95)"), cl::sub(trainCmd),
                     cl::cat(llmcCategory));
cl::opt<float> adamEps("eps", cl::init(1e-8f),
                       cl::desc("AdamW epsilon (default 1e-8)"),
                       cl::sub(trainCmd), cl::cat(llmcCategory));
cl::opt<float> clipGradNorm("clip-grad-norm",
                            cl::desc("Clip gradients to this global norm "
                                     "(default 1; 0: off)"),
                            cl::init(1.0f), cl::sub(trainCmd),
                            cl::cat(llmcCategory));

cl::SubCommand explainCmd("explain", "Show a plan's kernels, buffers and "
                                     "memory by category");
cl::opt<std::string> explainPlan(cl::Positional, cl::Required,
                                 cl::desc("<model.plan>"), cl::sub(explainCmd),
                                 cl::cat(llmcCategory));
cl::opt<bool> explainScheduleOnly(
    "schedule",
    cl::desc("Draw the pipeline schedule (stages x time) and its bubble "
             "instead"),
    cl::init(false), cl::sub(explainCmd), cl::cat(llmcCategory));
cl::opt<std::string> explainCluster(
    "cluster",
    cl::desc("Also predict the step time on a device of this cluster spec "
             "(e.g. one written by llmc calibrate)"),
    cl::value_desc("spec.json"), cl::sub(explainCmd), cl::cat(llmcCategory));

int fail(const llvm::Twine &message) { return llmc::failBadInput(message); }

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
  int64_t params = 0;
  for (const llmc::PlanTensor &t :
       llmc::model_tensors(plan, llmc::planfile::PARAM)) {
    int64_t n = 1;
    for (int64_t d : t.full())
      n *= d;
    params += n;
  }
  uint64_t arena = plan.arena_bytes();
  for (const llmc::planfile::Plan &stage : plan.stages())
    arena = std::max<uint64_t>(arena, stage.arena_bytes());
  auto axis = [](int64_t n) { return std::max<int64_t>(n, 1); };
  int64_t ranks = axis(m.dp()) * axis(m.tp()) * axis(m.pp());
  llvm::outs() << llvm::formatv(
      "llmc: wrote {0}: {1} plan of {2} ({3:N} parameters), {4} rank{5} "
      "(dp={6}, tp={7}, pp={8}), arena {9:F1} MiB per rank\n",
      path,
      plan.program() == "infer"     ? "inference"
      : plan.program() == "forward" ? "forward"
                                    : "training",
      m.model_type(), params, ranks, ranks > 1 ? "s" : "", axis(m.dp()),
      axis(m.tp()), axis(m.pp()), double(arena) / (1 << 20));
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
  if (recomputeMode != "none" && recomputeMode != "selective" &&
      recomputeMode != "full")
    return fail("--recompute " + recomputeMode +
                ": expected none, selective or full");
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
  options.pipelineStages = mesh->pp;
  options.maxBatch = maxBatch;
  options.maxSeq = maxSeq;
  options.kvBlockTokens = kvBlockTokens;
  options.kvBlocks = kvBlocks;
  options.prefillTokens = prefillTokens;
  options.prefillRows = prefillRows;
  options.weightsOut = weightsOut;
  if (dpComm != "overlap" && dpComm != "blocking" && dpComm != "none")
    return fail("--dp-comm " + dpComm + ": expected overlap, blocking or none");
  if (dpComm != "overlap" && (mesh->dp == 1 || zeroStage > 0))
    return fail("--dp-comm " + dpComm +
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
/// --min-lr, or 10% of --lr when not given.
float minLrOrDefault() {
  return minLr.getNumOccurrences() ? float(minLr) : 0.1f * lr;
}

/// The first training option outside what AdamW and the schedule take, as
/// one line; empty when all are fine. Written as !(ok) so NaN fails too.
std::string checkTrainOptions() {
  auto number = [](const char *name, float value, const char *expected) {
    return std::string("--") + name + " " + std::to_string(value) +
           ": expected " + expected;
  };
  if (!(lr >= 0.0f && std::isfinite(lr)))
    return number("lr", lr, "a finite rate >= 0");
  if (!(minLrOrDefault() >= 0.0f && minLrOrDefault() <= lr))
    return number("min-lr", minLrOrDefault(), "a rate in [0, --lr]");
  if (!(weightDecay >= 0.0f && std::isfinite(weightDecay)))
    return number("weight-decay", weightDecay, "a finite value >= 0");
  if (!(beta1 >= 0.0f && beta1 < 1.0f))
    return number("beta1", beta1, "a value in [0, 1)");
  if (!(beta2 >= 0.0f && beta2 < 1.0f))
    return number("beta2", beta2, "a value in [0, 1)");
  if (!(adamEps > 0.0f && std::isfinite(adamEps)))
    return number("eps", adamEps, "a finite value > 0");
  if (!(std::isfinite(clipGradNorm)))
    return number("clip-grad-norm", clipGradNorm,
                  "a finite norm (<= 0: no clipping)");
  if (warmupSteps < 0)
    return "--warmup-steps " + std::to_string(warmupSteps) + ": expected >= 0";
  return "";
}

int runEval() {
  if (evalBatchCount <= 0)
    return fail("--batches " + llvm::Twine(evalBatchCount) +
                " must be positive");
  return llmc::runGuarded([] {
    llmc::TrainOptions o;
    o.plan_path = evalPlan;
    o.data_path = evalData;
    o.val_data_path = evalData;
    o.eval_batches = evalBatchCount;
    o.load_path = evalWeights;
    o.weights_only = true;
    o.eval_only = true;
    o.steps = 1;
    llmc::train(o);
  });
}

int runTrain() {
  if (steps <= 0)
    return fail("--steps must be positive, got " + llvm::Twine(steps));
  if (saveEvery < 0)
    return fail("--save-every must be >= 0");
  if (keepLast < 0)
    return fail("--keep-last must be >= 0");
  if (evalEvery < 0 || evalBatches <= 0)
    return fail("--eval-every must be >= 0 and --eval-batches > 0");
  if (weightsOnly && loadPath.empty())
    return fail("--weights-only: expected --load with it");
  if (std::string error = checkTrainOptions(); !error.empty())
    return fail(error);
  return llmc::runGuarded([] {
    llmc::TrainOptions o;
    o.plan_path = trainPlan;
    o.data_path = dataPath;
    o.steps = steps;
    o.seed = trainSeed;
    o.seed_given = trainSeed.getNumOccurrences() > 0;
    o.order = llmc::io::parse_batch_order(dataOrder, "--data-order");
    o.order_given = dataOrder.getNumOccurrences() > 0;
    o.load_path = loadPath;
    o.weights_only = weightsOnly;
    o.save_path = savePath;
    o.save_every = saveEvery;
    o.keep_last = keepLast;
    o.tokenizer_path = trainTokenizer;
    o.val_data_path = valData;
    o.eval_every = evalEvery;
    o.eval_batches = evalBatches;
    o.log_path = logPath;
    o.dump_grads_path = dumpGrads;
    o.inject_fault = injectFault;
    o.lr_schedule = {schedule, lr, minLrOrDefault(), warmupSteps, steps};
    o.schedule_given = {
        schedule.getNumOccurrences() > 0, lr.getNumOccurrences() > 0,
        minLr.getNumOccurrences() > 0, warmupSteps.getNumOccurrences() > 0};
    o.new_schedule = newSchedule;
    o.weight_decay = weightDecay;
    o.beta1 = beta1;
    o.beta2 = beta2;
    o.eps = adamEps;
    o.clip_grad_norm = clipGradNorm;
    o.profile = profile;
    o.progress = progress;
    o.trace_path = tracePath;
    o.trace_steps = traceSteps;
    llmc::train(o);
  });
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(llmcCategory);
  cl::SetVersionPrinter(printVersion);
  if (!cl::ParseCommandLineOptions(argc, argv,
                                   "llmc: compile, plan and run transformer "
                                   "models on many devices\n",
                                   &llvm::errs()))
    return kExitBadInput;
  if (llmc::isTokenizeCommand())
    return llmc::runTokenizeCommand();
  if (llmc::isVerifyCommand())
    return llmc::runVerifyCommand();
  if (llmc::isGenerateCommand())
    return llmc::runGenerateCommand();
  if (llmc::isServeCommand())
    return llmc::runServeCommand();
  if (llmc::isPlanCommand())
    return llmc::runPlanCommand();
  if (llmc::isCalibrateCommand())
    return llmc::runCalibrateCommand(argv[0]);
  if (compileCmd)
    return runCompile();
  if (initCmd)
    return llmc::runGuarded(
        [] { llmc::init_weights(initPlan, initSeed, initOut); });
  if (trainCmd)
    return runTrain();
  if (evalCmd)
    return runEval();
  if (explainCmd)
    return llmc::runGuarded([] {
      llmc::planfile::Plan plan = llmc::plan::read_plan_file(explainPlan);
      // Read the spec first, so a bad one fails before any output.
      std::optional<llmc::planner::ClusterSpec> cluster;
      if (!explainCluster.empty())
        cluster = llmc::planner::load_cluster_spec(explainCluster);
      if (explainScheduleOnly)
        return llmc::explain_schedule(plan, std::cout);
      llmc::explain_plan(plan, std::cout);
      if (cluster && plan.stages_size() > 0)
        llmc::printPipelineCost(llmc::planner::cost_pipeline(plan, *cluster),
                                cluster->name, std::cout);
      else if (cluster)
        llmc::printPlanCost(llmc::planner::cost_plan(plan, *cluster),
                            cluster->name, std::cout);
    });
  cl::PrintHelpMessage(/*Hidden=*/false, /*Categorized=*/true);
  return kExitBadInput;
}
