//===- InferPlan.cpp - Inference layouts by their compiled costs ----------===//

#include "compiler/InferPlan.h"

#include "compiler/Compile.h"
#include "compiler/planner/plan_cost.h"
#include "frontends/hf/ModelConfig.h"
#include "runtime/plan/plan_file.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

using namespace llmc;

namespace {

llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// What `llmc compile --mode infer` is given for a candidate.
CompileOptions compileOptions(const InferSearchOptions &o,
                              const planner::ClusterSpec &cluster, int tp,
                              int64_t maxBatch) {
  CompileOptions c;
  c.configPath = o.configPath;
  c.mode = CompileMode::Infer;
  c.emit = EmitKind::Plan;
  c.tensorParallel = tp;
  c.maxBatch = maxBatch;
  c.maxSeq = o.promptTokens + o.outputTokens;
  c.weightsDtype = o.weightsDtype;
  c.precision = o.precision;
  c.deviceMemory = uint64_t((1 - o.memoryHeadroom) * cluster.device_memory);
  return c;
}

} // namespace

llvm::Expected<InferSearchResult>
llmc::searchInferLayouts(const InferSearchOptions &o,
                         const planner::ClusterSpec &cluster) {
  llvm::Expected<ModelConfig> config = loadModelConfig(o.configPath);
  if (!config)
    return config.takeError();
  if (o.promptTokens <= 0 || o.outputTokens <= 0)
    return fail("--prompt-tokens and --output-tokens must be positive");
  if (o.promptTokens + o.outputTokens > config->maxPositions)
    return fail("--prompt-tokens " + llvm::Twine(o.promptTokens) +
                " + --output-tokens " + llvm::Twine(o.outputTokens) +
                " exceed the model's context of " +
                llvm::Twine(config->maxPositions) + " tokens");
  if (o.devices <= 0 || o.devices > cluster.devices())
    return fail("--devices " + llvm::Twine(o.devices) + ": the cluster '" +
                cluster.name + "' has 1.." + llvm::Twine(cluster.devices()) +
                " devices");
  llvm::SmallString<128> path;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("llmc-infer", "plan", path))
    return fail("cannot create a temporary plan file: " + ec.message());
  InferSearchResult result;
  int maxTp = std::min(o.devices, std::max(1, cluster.devices_per_node));
  for (int tp = 1; tp <= maxTp; tp *= 2) {
    if (o.devices % tp != 0)
      continue;
    for (int64_t batch = 1; batch <= 256; batch *= 2) {
      CompileOptions c = compileOptions(o, cluster, tp, batch);
      c.outputPath = std::string(path);
      // A prompt's prefill in one run: the time to its first token; a KV
      // cache of `batch` sequences at full length, which must fit.
      c.prefillTokens = o.promptTokens;
      c.prefillRows = 1;
      c.kvBlocks = (c.maxSeq + c.kvBlockTokens - 1) / c.kvBlockTokens * batch;
      ++result.compiled;
      if (llvm::Error e = compile(c, llvm::nulls())) {
        result.refused = llvm::toString(std::move(e));
        break; // a larger batch needs more memory still
      }
      planfile::Plan plan = plan::read_plan_file(std::string(path));
      planner::PlanCost cost =
          planner::cost_plan(plan, cluster, planner::DType::FP32);
      InferCandidate k;
      k.tp = tp;
      k.replicas = o.devices / tp;
      k.maxBatch = batch;
      k.arenaBytes = plan.arena_bytes();
      for (const planfile::Buffer &b : plan.buffers())
        if (b.category() == planfile::KV_CACHE)
          k.kvCacheBytes += b.size_bytes();
      k.ttftSeconds = planner::program_seconds(plan, cost, "prefill");
      k.tpotSeconds = planner::program_seconds(plan, cost, "decode");
      // Continuous batching: every output token of `batch` sequences costs
      // a decode step, and every request a prefill besides.
      double O = double(o.outputTokens), B = double(batch);
      k.tokensPerSecond =
          k.replicas * B * O / (O * k.tpotSeconds + B * k.ttftSeconds);
      if (o.maxSecondsPerToken > 0 && k.tpotSeconds > o.maxSecondsPerToken)
        continue;
      result.candidates.push_back(k);
    }
  }
  llvm::sys::fs::remove(path);
  std::stable_sort(result.candidates.begin(), result.candidates.end(),
                   [](const InferCandidate &a, const InferCandidate &b) {
                     return a.tokensPerSecond > b.tokensPerSecond;
                   });
  return result;
}

llvm::Error llmc::writeInferPlan(const InferSearchOptions &o,
                                 const planner::ClusterSpec &cluster,
                                 const InferCandidate &candidate,
                                 const std::string &path) {
  CompileOptions c =
      compileOptions(o, cluster, candidate.tp, candidate.maxBatch);
  c.outputPath = path;
  return compile(c, llvm::nulls());
}
