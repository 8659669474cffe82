//===- PlanCommands.cpp - `llmc estimate` and `llmc plan` -----------------===//

#include "tools/llmc/PlanCommands.h"

#include "compiler/Compile.h"
#include "compiler/CompiledCosts.h"
#include "compiler/InferPlan.h"
#include "compiler/planner/chinchilla.h"
#include "compiler/planner/search.h"
#include "frontends/hf/ModelBuilder.h"
#include "passes/ChoiceValues.h"
#include "tools/llmc/Errors.h"
#include "tools/llmc/WordParser.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>
#include <optional>

namespace cl = llvm::cl;
using namespace llmc::planner;

namespace {

cl::OptionCategory planCategory("llmc estimate / plan options");
cl::SubCommand estimateCmd("estimate",
                           "Memory per device, step time and MFU of one "
                           "parallel layout");
cl::SubCommand planCmd("plan", "Search the parallel layouts of a model on a "
                               "cluster and print the fastest that fit");

// Options both commands take.
cl::opt<std::string> config(cl::Positional, cl::Optional,
                            cl::desc("<config.json>"), cl::sub(estimateCmd),
                            cl::sub(planCmd), cl::cat(planCategory));
cl::opt<std::string> clusterPath("cluster", cl::Required,
                                 cl::desc("Cluster spec (JSON)"),
                                 cl::sub(estimateCmd), cl::sub(planCmd),
                                 cl::cat(planCategory));
cl::opt<int> globalBatch("global-batch",
                         cl::desc("Sequences per optimizer step (training)"),
                         cl::sub(estimateCmd), cl::sub(planCmd),
                         cl::cat(planCategory));
cl::opt<int> seq("seq", cl::desc("Sequence length (default: full context)"),
                 cl::init(0), cl::sub(estimateCmd), cl::sub(planCmd),
                 cl::cat(planCategory));
llmc::WordOption<Precision>
    precision("precision",
              cl::desc("Precision (training: bf16-mixed unless given; "
                       "--mode infer: fp32 unless given)"),
              cl::init(Precision::BF16Mixed), llmc::precisionValues(),
              cl::sub(estimateCmd), cl::sub(planCmd), cl::cat(planCategory));
cl::opt<bool> json("json", cl::desc("Print one JSON object"),
                   cl::sub(estimateCmd), cl::sub(planCmd),
                   cl::cat(planCategory));

// estimate
cl::opt<std::string> mesh("mesh", cl::desc("dp=D,tp=T,pp=P (default 1 each)"),
                          cl::init(""), cl::sub(estimateCmd),
                          cl::cat(planCategory));
cl::opt<int> microBatch("micro-batch", cl::desc("Sequences per microbatch"),
                        cl::init(1), cl::sub(estimateCmd),
                        cl::cat(planCategory));
llmc::WordOption<Recompute>
    recompute("recompute", cl::desc("Activation recomputation"),
              cl::init(Recompute::None), llmc::recomputeValues(),
              cl::sub(estimateCmd), cl::cat(planCategory));
cl::opt<int> zero("zero", cl::desc("ZeRO stage 0-3"), cl::init(0),
                  cl::sub(estimateCmd), cl::cat(planCategory));
llmc::WordOption<Schedule> schedule("schedule", cl::desc("Pipeline schedule"),
                                    cl::init(Schedule::OneFOneB),
                                    llmc::scheduleValues(),
                                    cl::sub(estimateCmd),
                                    cl::cat(planCategory));
cl::opt<int> virtualStages("virtual-stages",
                           cl::desc("Model chunks per pipeline rank"),
                           cl::init(1), cl::sub(estimateCmd),
                           cl::cat(planCategory));
cl::opt<bool> sequenceParallel("sequence-parallel",
                               cl::desc("Megatron sequence parallelism"),
                               cl::sub(estimateCmd), cl::cat(planCategory));

// plan
enum class PlanMode { Train, Infer };
llmc::WordOption<PlanMode>
    planMode("mode", cl::desc("What to plan (default train)"),
             cl::init(PlanMode::Train),
             cl::values(clEnumValN(PlanMode::Train, "train",
                                   "training layouts (dp, tp, pp, ZeRO, ...)"),
                        clEnumValN(PlanMode::Infer, "infer",
                                   "inference layouts: tp, batch, KV cache")),
             cl::sub(planCmd), cl::cat(planCategory));
cl::opt<int> promptTokens("prompt-tokens",
                          cl::desc("--mode infer: tokens of a prompt "
                                   "(default 128)"),
                          cl::init(128), cl::sub(planCmd),
                          cl::cat(planCategory));
cl::opt<int> outputTokens("output-tokens",
                          cl::desc("--mode infer: tokens generated per "
                                   "request (default 128)"),
                          cl::init(128), cl::sub(planCmd),
                          cl::cat(planCategory));
cl::opt<double> maxLatencyMs(
    "max-latency-ms-per-token",
    cl::desc("--mode infer: the slowest decode step allowed, in ms"),
    cl::init(0), cl::sub(planCmd), cl::cat(planCategory));
llmc::WordOption<llmc::WeightsDtype>
    weightsDtype("weights-dtype",
                 cl::desc("--mode infer: how GEMM weights are stored"),
                 cl::init(llmc::WeightsDtype::FP32), llmc::weightsDtypeValues(),
                 cl::sub(planCmd), cl::cat(planCategory));
cl::opt<int> devices("devices", cl::Required, cl::desc("Devices to use"),
                     cl::sub(planCmd), cl::cat(planCategory));
cl::opt<int> top("top", cl::desc("Candidates to print"), cl::init(10),
                 cl::sub(planCmd), cl::cat(planCategory));
cl::opt<double> budgetDeviceHours(
    "budget-device-hours",
    cl::desc(
        "Instead of a config: suggest the compute-optimal model and "
        "token count for this budget (Hoffmann et al. 2022), then plan it"),
    cl::init(0), cl::sub(planCmd), cl::cat(planCategory));
cl::opt<int> vocab("vocab",
                   cl::desc("With --budget-device-hours: the vocabulary of "
                            "the proposed model (default 51200)"),
                   cl::init(0), cl::sub(planCmd), cl::cat(planCategory));
cl::opt<double> tokens("tokens",
                       cl::desc("Training tokens: each candidate shows the "
                                "days to train them (with "
                                "--budget-device-hours: the advised count)"),
                       cl::init(0), cl::sub(planCmd), cl::cat(planCategory));
cl::opt<double> memoryHeadroom(
    "memory-headroom",
    cl::desc("Fraction of device memory a layout must leave free (default "
             "0.1)"),
    cl::init(0.1), cl::sub(planCmd), cl::cat(planCategory));
cl::opt<double> assumedMfu("assumed-mfu",
                           cl::desc("MFU that turns device-hours into FLOPs "
                                    "for --budget-device-hours (default 0.4)"),
                           cl::init(0.4), cl::sub(planCmd),
                           cl::cat(planCategory));

cl::opt<std::string> planOut(
    "o", cl::desc("Also compile the fastest layout (fp32) into this plan file"),
    cl::value_desc("model.plan"), cl::sub(planCmd), cl::cat(planCategory));

cl::opt<bool> closedForm(
    "closed-form",
    cl::desc("Cost compute with the closed-form layer model instead of "
             "compiling one layer of the model for each layout"),
    cl::sub(estimateCmd), cl::sub(planCmd), cl::cat(planCategory));

struct BadInput {
  std::string message;
};

/// The compute costs of compiled layers of the model on the cluster, unless
/// --closed-form (or --budget-device-hours, which has no config) says not to.
std::unique_ptr<llmc::CompiledCosts> compiledCosts;

CompiledComputeFn computeCosts() {
  if (!compiledCosts)
    return {};
  return [](const Layout &l) { return (*compiledCosts)(l); };
}

ModelShape modelShape(const ClusterSpec &cluster) {
  if (config.empty())
    throw BadInput{"a model config.json is required (or, for llmc plan, "
                   "--budget-device-hours)"};
  llvm::Expected<llmc::ModelConfig> c = llmc::loadModelConfig(config);
  if (!c)
    throw BadInput{llvm::toString(c.takeError())};
  if (!closedForm)
    compiledCosts = std::make_unique<llmc::CompiledCosts>(
        *c, seq ? int64_t(seq) : c->maxPositions, cluster);
  ModelShape m;
  for (const llmc::ParamSpec &p : llmc::listParameters(*c))
    m.params += double(p.numElements());
  m.layers = int(c->numLayers);
  m.hidden = int(c->hiddenSize);
  m.heads = int(c->numHeads);
  m.seq = int(seq ? seq : c->maxPositions);
  m.vocab = int(c->vocabSize);
  m.tied_embeddings = c->tieWordEmbeddings;
  if (m.seq <= 0 || m.seq > c->maxPositions)
    throw BadInput{llvm::formatv("--seq {0} is outside the model's context of "
                                 "1..{1}",
                                 m.seq, c->maxPositions)
                       .str()};
  return m;
}

/// Parses "dp=2,tp=4,pp=8" into the layout.
void parseMesh(const std::string &text, Layout &layout) {
  llvm::SmallVector<llvm::StringRef> parts;
  llvm::StringRef(text).split(parts, ',', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef part : parts) {
    auto [axis, size] = part.split('=');
    int value = 0;
    if (size.getAsInteger(10, value) || value <= 0)
      throw BadInput{"--mesh: '" + part.str() +
                     "': expected AXIS=N with a positive N"};
    if (axis == "dp")
      layout.dp = value;
    else if (axis == "tp")
      layout.tp = value;
    else if (axis == "pp")
      layout.pp = value;
    else
      throw BadInput{"--mesh: unknown axis '" + axis.str() +
                     "'; expected dp, tp or pp"};
  }
}

/// Layers of each pipeline chunk, as `llmc compile` would split them.
llvm::json::Array stageLayers(const ModelShape &model, const Layout &l) {
  llvm::json::Array layers;
  for (int64_t n : stage_layers(model, l))
    layers.push_back(n);
  return layers;
}

/// Tokens per step of a layout: every data-parallel rank's microbatches.
double tokensPerStep(const Layout &l, const ModelShape &model) {
  return double(l.dp) * l.microbatches * l.micro_batch * model.seq;
}

/// Tokens to train, from --tokens or the budget's advice; 0 when unknown.
double tokensToTrain = 0;

llvm::json::Object toJson(const Candidate &c, const ModelShape &model) {
  const Layout &l = c.layout;
  const EstimateResult &r = c.result;
  double tokens_per_s = tokensPerStep(l, model) / r.step_time_s;
  llvm::json::Object out{
      {"layout", llvm::json::Object{{"dp", l.dp},
                                    {"tp", l.tp},
                                    {"pp", l.pp},
                                    {"sequence_parallel", l.sequence_parallel},
                                    {"virtual_stages", l.virtual_stages},
                                    {"micro_batch", l.micro_batch},
                                    {"microbatches", l.microbatches},
                                    {"recompute", name(l.recompute)},
                                    {"zero", l.zero_stage},
                                    {"schedule", name(l.schedule)},
                                    {"stage_layers", stageLayers(model, l)}}},
      {"memory_bytes",
       llvm::json::Object{{"params", r.memory.params},
                          {"grads", r.memory.grads},
                          {"optimizer_states", r.memory.optimizer},
                          {"activations", r.memory.activations},
                          {"temporaries", r.memory.temporaries},
                          {"total", r.memory.total()}}},
      {"fits", r.fits},
      {"step_time_s", r.step_time_s},
      {"time_s", llvm::json::Object{{"compute", r.time.compute},
                                    {"tp_comm", r.time.tp_comm},
                                    {"pp_comm", r.time.pp_comm},
                                    {"bubble", r.time.bubble},
                                    {"dp_comm", r.time.dp_comm},
                                    {"accumulate", r.time.accumulate},
                                    {"update", r.time.update}}},
      {"comm_s", llvm::json::Object{{"exposed", r.time.exposed_comm()},
                                    {"hidden", r.time.dp_comm_hidden}}},
      {"tflops_per_device", r.tflops_per_device},
      {"mfu", r.mfu},
      {"tokens_per_s", tokens_per_s},
  };
  if (tokensToTrain > 0)
    out["days"] = tokensToTrain / tokens_per_s / 86400;
  return out;
}

void printRow(const Candidate &c, const ModelShape &model) {
  const Layout &l = c.layout;
  const EstimateResult &r = c.result;
  double tokens_per_s = tokensPerStep(l, model) / r.step_time_s;
  llvm::outs() << llvm::formatv(
      "{0,4} {1,3} {2,3} {3,3} {4,2} {5,3} {6,5} {7,-9} {8,4} {9,10:F1} "
      "{10,10:F3} {11,7:F3} {12,9:F3} {13,8:F3} {14,10}",
      l.dp, l.tp, l.pp, l.sequence_parallel ? "sp" : "-", l.virtual_stages,
      l.micro_batch, l.microbatches, name(l.recompute), l.zero_stage,
      r.memory.total() / double(1 << 30), r.step_time_s, r.mfu,
      r.time.exposed_comm(), r.time.dp_comm_hidden,
      llvm::formatv("{0:F0}", tokens_per_s).str());
  if (tokensToTrain > 0)
    llvm::outs() << llvm::formatv(" {0,8:F1}",
                                  tokensToTrain / tokens_per_s / 86400);
  llvm::outs() << "\n";
}

void printHeader() {
  llvm::outs() << "  dp  tp  pp  sp  v   b     m recompute zero   mem(GiB)"
                  "   step(s)     mfu  comm(s) hidden(s)   tokens/s";
  if (tokensToTrain > 0)
    llvm::outs() << "     days";
  llvm::outs() << "\n";
}

/// What the columns mean, under the table.
void printLegend(const ClusterSpec &cluster) {
  llvm::outs()
      << "  dp tp pp   data-, tensor-, pipeline-parallel ranks\n"
         "  sp         Megatron sequence parallelism\n"
         "  v          model chunks per pipeline rank (interleaved 1F1B when "
         "> 1)\n"
         "  b, m       sequences per microbatch; microbatches per step and "
         "data-parallel rank\n"
         "  recompute  activation recomputation; zero: ZeRO stage\n"
         "  mem        peak per device; step: one optimizer step\n"
         "  mfu        model FLOPs / (step x devices x "
      << (precision == Precision::FP32 ? "fp32" : "bf16") << " peak of "
      << cluster.name
      << ")\n"
         "  comm       communication on the critical path: tp, pp, and the "
         "gradient sync\n"
         "             the backward cannot hide\n"
         "  hidden     gradient sync overlapped with the backward (costs no "
         "time)\n"
         "  tokens/s   of the whole job";
  if (tokensToTrain > 0)
    llvm::outs() << llvm::formatv("; days: to train {0:E2} tokens",
                                  tokensToTrain);
  llvm::outs() << "\n";
}

int runEstimate(const ModelShape &model, const ClusterSpec &cluster) {
  Layout l;
  parseMesh(mesh, l);
  l.micro_batch = microBatch;
  if (globalBatch % (l.dp * l.micro_batch) != 0)
    throw BadInput{llvm::formatv("--global-batch {0} is not divisible by "
                                 "dp={1} x --micro-batch {2}",
                                 int(globalBatch), l.dp, l.micro_batch)
                       .str()};
  l.microbatches = globalBatch / (l.dp * l.micro_batch);
  l.recompute = recompute;
  l.zero_stage = zero;
  l.schedule = schedule;
  l.virtual_stages = virtualStages;
  l.sequence_parallel = sequenceParallel;
  l.precision = precision;
  Candidate c{l, estimate(model, cluster, l, computeCosts())};
  if (json) {
    llvm::outs() << llvm::formatv("{0:2}", llvm::json::Value(toJson(c, model)))
                 << "\n";
  } else {
    printHeader();
    printRow(c, model);
  }
  return 0;
}

/// A number as the user would write it ("1", "0.25", "3e+11").
std::string shortest(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", value);
  return text;
}

std::string gib(double bytes) {
  return llvm::formatv("{0:F1} GiB", bytes / double(1 << 30)).str();
}

/// With --budget-device-hours: the advice, printed with the candidates.
std::optional<llvm::json::Object> budgetAdvice;

/// Where the compute costs came from, for the output.
std::string costSource() {
  if (!compiledCosts)
    return "compute from closed forms";
  return llvm::formatv("compute from {0} compiled one-layer programs",
                       compiledCosts->compiled())
      .str();
}

/// Compiles the fastest candidate into -o and returns it; a candidate the
/// compiler refuses (say, ZeRO slices that do not divide a parameter) gives
/// way to the next.
const Candidate *writeRunnablePlan(const std::vector<Candidate> &best) {
  std::string refused;
  for (const Candidate &c : best) {
    const Layout &l = c.layout;
    llmc::CompileOptions options;
    options.configPath = config;
    options.mode = llmc::CompileMode::Train;
    options.emit = llmc::EmitKind::Plan;
    options.microBatch = l.micro_batch;
    options.seqLen = seq;
    options.dataParallel = l.dp;
    options.tensorParallel = l.tp;
    options.sequenceParallel = l.sequence_parallel && l.tp > 1;
    options.zeroStage = l.dp > 1 ? l.zero_stage : 0;
    options.recompute = l.recompute;
    options.pipelineStages = l.pp;
    options.microbatches = l.microbatches;
    options.schedule = l.schedule;
    options.virtualStages = l.virtual_stages;
    options.outputPath = planOut;
    llvm::Error error = llmc::compile(options, llvm::nulls());
    if (!error)
      return &c;
    refused = llvm::toString(std::move(error));
  }
  throw BadInput{"-o: llmc cannot compile any of the layouts that fit (the "
                 "last one tried: " +
                 refused + ")"};
}

int runSearch(const ModelShape &model, const ClusterSpec &cluster) {
  if (devices <= 0 || devices > cluster.devices())
    throw BadInput{llvm::formatv("--devices {0}: the cluster '{1}' has 1..{2} "
                                 "devices",
                                 int(devices), cluster.name, cluster.devices())
                       .str()};
  if (!planOut.empty() && config.empty())
    throw BadInput{"-o compiles the chosen layout of a model config.json; "
                   "--budget-device-hours has none"};
  if (!planOut.empty() && precision != Precision::FP32)
    throw BadInput{"-o writes fp32 plans (the runtime computes in fp32); "
                   "pass --precision fp32"};
  if (!(memoryHeadroom >= 0 && memoryHeadroom < 1))
    throw BadInput{"--memory-headroom " + shortest(memoryHeadroom) +
                   ": expected a fraction in [0, 1)"};
  if (!(tokens >= 0))
    throw BadInput{"--tokens must be a positive count"};
  if (tokens > 0)
    tokensToTrain = tokens;
  // With -o, every layout is kept, so the best one llmc runs can be found.
  SearchOptions o{devices,
                  globalBatch,
                  precision,
                  planOut.empty() ? int(top) : std::numeric_limits<int>::max(),
                  memoryHeadroom,
                  computeCosts()};
  double limit = (1 - memoryHeadroom) * cluster.device_memory;
  auto start = std::chrono::steady_clock::now();
  SearchResult result = search(model, cluster, o);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  if (result.evaluated == 0)
    throw BadInput{llvm::formatv("no layout splits {0} devices for this model "
                                 "and a global batch of {1} (tp must divide "
                                 "the heads and fit a node, pp the layers, "
                                 "dp x micro-batch the global batch)",
                                 int(devices), int(globalBatch))
                       .str()};
  if (result.best.empty()) {
    const MemoryBreakdown &m = result.smallest.result.memory;
    throw BadInput{llvm::formatv("no layout of {0} devices fits {1} per "
                                 "device ({5} less --memory-headroom {6:P0}); "
                                 "the smallest needs {2}, mostly {3} ({4})",
                                 int(devices), gib(limit), gib(m.total()),
                                 dominant_term(m),
                                 gib(std::max({m.params, m.grads, m.optimizer,
                                               m.activations, m.temporaries})),
                                 gib(cluster.device_memory),
                                 double(memoryHeadroom))
                       .str()};
  }
  const Candidate *chosen = nullptr;
  if (!planOut.empty()) {
    chosen = writeRunnablePlan(result.best);
    result.best.resize(std::min<size_t>(result.best.size(), size_t(top)));
  }
  if (json) {
    llvm::json::Array candidates;
    for (const Candidate &c : result.best)
      candidates.push_back(toJson(c, model));
    llvm::json::Object out{
        {"candidates", std::move(candidates)},
        {"evaluated", result.evaluated},
        {"search_seconds", seconds},
        {"compute_costs", costSource()},
        {"precision", name(precision)},
        {"memory_limit_bytes", limit},
        {"tokens_per_step", double(globalBatch) * model.seq}};
    if (budgetAdvice)
      out["budget"] = std::move(*budgetAdvice);
    if (chosen) {
      llvm::json::Object written = toJson(*chosen, model);
      written["plan_file"] = std::string(planOut);
      out["written"] = std::move(written);
    }
    llvm::outs() << llvm::formatv("{0:2}", llvm::json::Value(std::move(out)))
                 << "\n";
    return 0;
  }
  llvm::outs() << llvm::formatv(
      "{0} precision, {1} sequences x {2} tokens per step, at most {3} per "
      "device ({4} less {5:P0} headroom)\n",
      name(precision), int(globalBatch), model.seq, gib(limit),
      gib(cluster.device_memory), double(memoryHeadroom));
  printHeader();
  for (const Candidate &c : result.best)
    printRow(c, model);
  printLegend(cluster);
  llvm::outs() << llvm::formatv("{0} layouts estimated in {1:F2} s ({2})\n",
                                result.evaluated, seconds, costSource());
  if (chosen) {
    llvm::outs() << "wrote " << planOut << ", the fastest layout llmc runs:\n";
    printHeader();
    printRow(*chosen, model);
  }
  return 0;
}

/// The compute-optimal model for the budget, printed before it is planned.
ModelShape budgetModel(const ClusterSpec &cluster) {
  ShapeFamily family;
  if (seq < 0 || vocab < 0)
    throw BadInput{"--seq and --vocab must be positive"};
  if (seq)
    family.seq = seq;
  if (vocab)
    family.vocab = vocab;
  BudgetAdvice a =
      advise_budget(budgetDeviceHours, cluster, assumedMfu, family);
  if (tokens == 0)
    tokensToTrain = a.tokens;
  const ModelShape &m = a.model;
  llvm::json::Object advice{{"compute_flops", a.compute_flops},
                            {"params", a.params},
                            {"tokens", a.tokens},
                            {"tokens_per_param", a.tokens_per_param},
                            {"predicted_loss", a.loss},
                            {"model", llvm::json::Object{{"params", m.params},
                                                         {"layers", m.layers},
                                                         {"hidden", m.hidden},
                                                         {"heads", m.heads},
                                                         {"seq", m.seq},
                                                         {"vocab", m.vocab}}}};
  if (json)
    budgetAdvice = std::move(advice);
  else
    llvm::outs() << llvm::formatv(
        "budget {0} device-hours at MFU {1} = {2:E2} FLOPs: train {3:F2}B "
        "parameters ({4} layers, hidden {5}, {8} heads, seq {9}, vocab {10}) "
        "on {6:F0}B tokens, predicted loss {7:F3}\n",
        double(budgetDeviceHours), double(assumedMfu), a.compute_flops,
        a.params / 1e9, m.layers, m.hidden, a.tokens / 1e9, a.loss, m.heads,
        m.seq, m.vocab);
  return m;
}

} // namespace

bool llmc::isPlanCommand() { return estimateCmd || planCmd; }

/// `llmc plan --mode infer`: inference layouts by their compiled costs.
static int runInferSearch(const ClusterSpec &cluster) {
  if (config.empty())
    throw BadInput{"--mode infer needs a model config.json"};
  if (!(maxLatencyMs >= 0))
    throw BadInput{"--max-latency-ms-per-token must be positive"};
  llmc::InferSearchOptions o;
  o.configPath = config;
  o.devices = devices;
  o.promptTokens = promptTokens;
  o.outputTokens = outputTokens;
  o.maxSecondsPerToken = maxLatencyMs / 1000;
  o.weightsDtype = weightsDtype;
  // --precision's default is training's (bf16-mixed); inference plans are
  // fp32 unless it is given.
  o.precision =
      precision.getNumOccurrences() ? precision.getValue() : Precision::FP32;
  const llmc::WeightsDtype weights =
      llmc::inferWeightsDtype(o.precision, weightsDtype.getValue());
  o.memoryHeadroom = memoryHeadroom;
  llvm::Expected<llmc::InferSearchResult> result =
      llmc::searchInferLayouts(o, cluster);
  if (!result)
    throw BadInput{llvm::toString(result.takeError())};
  if (result->candidates.empty())
    throw BadInput{
        maxLatencyMs > 0
            ? "no layout decodes within --max-latency-ms-per-token " +
                  shortest(maxLatencyMs)
            : "no layout fits: " + result->refused};
  const llmc::InferCandidate &best = result->candidates.front();
  if (!planOut.empty())
    if (llvm::Error e = llmc::writeInferPlan(o, cluster, best, planOut))
      throw BadInput{"-o: " + llvm::toString(std::move(e))};
  if (json) {
    llvm::json::Array candidates;
    for (const llmc::InferCandidate &c : result->candidates)
      candidates.push_back(
          llvm::json::Object{{"tp", c.tp},
                             {"replicas", c.replicas},
                             {"max_batch", c.maxBatch},
                             {"arena_bytes", double(c.arenaBytes)},
                             {"kv_cache_bytes", double(c.kvCacheBytes)},
                             {"ttft_s", c.ttftSeconds},
                             {"tpot_s", c.tpotSeconds},
                             {"tokens_per_s", c.tokensPerSecond}});
    llvm::outs() << llvm::formatv("{0:2}\n",
                                  llvm::json::Value(llvm::json::Object{
                                      {"candidates", std::move(candidates)},
                                      {"compiled", result->compiled},
                                      {"weights_dtype", llmc::name(weights)},
                                      {"precision", llmc::name(o.precision)}}));
    return 0;
  }
  llvm::outs() << llvm::formatv(
      "inference layouts of {0} on {1} x {2}: prompts of {3} tokens, {4} "
      "generated, {5} weights, {6} precision ({7} plans compiled)\n",
      config, int(devices), cluster.name, int(promptTokens), int(outputTokens),
      llmc::name(weights), llmc::name(o.precision), result->compiled);
  llvm::outs() << "  tp  replicas  batch  arena(GiB)  kv(GiB)  ttft(ms)  "
                  "tpot(ms)  tokens/s\n";
  for (size_t i = 0; i < result->candidates.size() && i < size_t(top); ++i) {
    const llmc::InferCandidate &c = result->candidates[i];
    llvm::outs() << llvm::formatv(
        "  {0,2}  {1,8}  {2,5}  {3,10:F2}  {4,7:F2}  {5,8:F1}  {6,8:F2}  "
        "{7,8:F0}\n",
        c.tp, c.replicas, c.maxBatch, double(c.arenaBytes) / (1 << 30),
        double(c.kvCacheBytes) / (1 << 30), 1e3 * c.ttftSeconds,
        1e3 * c.tpotSeconds, c.tokensPerSecond);
  }
  llvm::outs() << "(ttft: time to the first token, one prompt's prefill; "
                  "tpot: one decode step of the batch; tokens/s: all "
                  "replicas, every request prefilled)\n";
  if (!planOut.empty())
    llvm::outs() << llvm::formatv("wrote {0}: tp {1}, max batch {2}, its KV "
                                  "cache filling the memory left\n",
                                  planOut, best.tp, best.maxBatch);
  return 0;
}

int llmc::runPlanCommand() {
  try {
    ClusterSpec cluster = load_cluster_spec(clusterPath);
    if (planCmd && planMode == PlanMode::Infer)
      return runInferSearch(cluster);
    if (vocab != 0 && !(planCmd && budgetDeviceHours > 0))
      throw BadInput{"--vocab shapes the model of --budget-device-hours; a "
                     "config.json has its own vocab_size"};
    ModelShape model = planCmd && budgetDeviceHours > 0 ? budgetModel(cluster)
                                                        : modelShape(cluster);
    if (globalBatch <= 0)
      throw BadInput{"--global-batch must be positive (sequences per "
                     "optimizer step)"};
    return estimateCmd ? runEstimate(model, cluster)
                       : runSearch(model, cluster);
  } catch (const BadInput &e) {
    llmc::reportError(e.message);
  } catch (const PlannerError &e) {
    llmc::reportError(e.what());
  }
  return llmc::kExitBadInput;
}
