//===- CompiledCosts.cpp - Planner costs from compiled programs -----------===//

#include "compiler/CompiledCosts.h"

#include "compiler/Pipelines.h"
#include "compiler/PlanExport.h"
#include "compiler/Registration.h"
#include "compiler/planner/compute.h"
#include "compiler/planner/plan_cost.h"
#include "frontends/hf/ModelBuilder.h"
#include "runtime/kernels/kernel_table.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

using namespace llmc;

CompiledCosts::CompiledCosts(const ModelConfig &config, int64_t seqLen,
                             const planner::ClusterSpec &cluster)
    : oneLayer(config), seqLen(seqLen), cluster(cluster) {
  oneLayer.numLayers = 1; // layer costs repeat; one layer is enough
  mlir::DialectRegistry registry;
  registerDialects(registry);
  context = std::make_unique<mlir::MLIRContext>(registry);
  context->disableMultithreading();
}

CompiledCosts::~CompiledCosts() = default;

std::optional<planner::CompiledCompute>
CompiledCosts::operator()(const planner::Layout &layout) {
  bool sp = layout.sequence_parallel && layout.tp > 1;
  auto key = std::make_tuple(layout.micro_batch, layout.tp, sp,
                             int(layout.precision), int(layout.recompute));
  auto cached = cache.find(key);
  if (cached != cache.end())
    return cached->second;
  std::optional<planner::CompiledCompute> &entry = cache[key];

  BuildOptions build{layout.micro_batch, seqLen, layout.tp, sp};
  auto module = buildModel(*context, oneLayer, build);
  if (!module) {
    llvm::consumeError(module.takeError());
    return entry; // the layout does not divide the model
  }
  mlir::PassManager pm(context.get());
  TrainPipelineOptions pipeline;
  pipeline.recompute = layout.recompute;
  pipeline.precision = layout.precision;
  buildTrainPipeline(pm, pipeline);
  if (mlir::failed(pm.run(**module)))
    return entry;
  auto program = (*module)->lookupSymbol<mlir::func::FuncOp>("train_step");
  planfile::ModelInfo info;
  info.set_tp(layout.tp);
  llvm::Expected<planfile::Plan> plan = exportPlan(program, info);
  if (!plan) {
    llvm::consumeError(plan.takeError());
    return entry;
  }
  planner::PlanCost cost =
      planner::cost_plan(*plan, cluster, planner::math_type(layout.precision));

  // Collectives are costed by the estimate's own terms, and the optimizer
  // is outside its compute, so both are left out here.
  planner::CompiledCompute c;
  for (int k = 0; k < plan->kernels_size(); ++k) {
    const planfile::Kernel &kernel = plan->kernels(k);
    const std::string &name = kernel.name();
    if (kernel.role() == "optimizer" || name.find("all_") == 0 ||
        name.rfind("reduce_scatter", 0) == 0)
      continue;
    double t = cost.seconds[size_t(k)];
    // Recomputed forward ops run in the backward pass.
    bool backward = kernel.role() == "backward" || kernel.role() == "recompute";
    bool inLayer = kernel.layer() >= 0;
    (inLayer ? (backward ? c.layer_backward : c.layer_forward)
             : (backward ? c.outside_backward : c.outside_forward)) += t;
  }
  // Activations kept for the backward pass: forward results that a
  // backward (or recompute) kernel reads, each in the layer of the kernel
  // that wrote it; recomputation leaves only the layers' inputs. Their
  // bytes are the plan's own: fp32, or bf16 where a bf16-mixed plan keeps
  // a GEMM's input rounded.
  std::vector<int> writer(size_t(plan->buffers_size()), -2); // its layer
  std::vector<bool> kept(size_t(plan->buffers_size()), false);
  // A weight's bf16 copy for the step is a model state (estimate_memory's
  // params), not an activation.
  for (const planfile::Kernel &kernel : plan->kernels()) {
    bool backward = kernel.role() == "backward" || kernel.role() == "recompute";
    for (uint32_t in : kernel.ins())
      if (backward)
        kept[plan->tensors(in).buffer()] = true;
    bool weightCopy =
        kernels::is(kernel.name(), kernels::KernelId::round_bf16) &&
        plan->buffers(plan->tensors(kernel.ins(0)).buffer()).category() ==
            planfile::PARAM;
    for (uint32_t out : kernel.outs()) {
      uint32_t buffer = plan->tensors(out).buffer();
      if (!backward && writer[buffer] == -2 && !weightCopy &&
          plan->buffers(buffer).category() == planfile::ACTIVATION)
        writer[buffer] = kernel.layer();
    }
  }
  for (int buffer = 0; buffer < plan->buffers_size(); ++buffer)
    if (kept[size_t(buffer)] && writer[size_t(buffer)] != -2)
      (writer[size_t(buffer)] >= 0 ? c.layer_activation_bytes
                                   : c.outside_activation_bytes) +=
          double(plan->buffers(buffer).size_bytes());
  entry = c;
  return entry;
}
