//===- PartitionTensorParallel.cpp - GSPMD tensor parallelism -------------===//
//
// Tensor parallelism derived by the compiler, as GSPMD does it: the frontend
// builds the one-device model and marks how each parameter splits; after
// autodiff, upstream sharding-propagation carries those splits through the
// whole differentiated step (forward and backward) by the llm ops' sharding
// models, and shard-partition rewrites it to one rank's shards with the
// collectives the splits need. What comes out is what Megatron writes by
// hand: column- and row-parallel GEMMs with one all-reduce each way, heads
// split in attention, a vocab-parallel embedding, LM head and loss, and,
// when the body marks the residual stream split along the sequence,
// sequence parallelism's all-gathers and reduce-scatters instead.
//
// -debug-only=llmc-partition-tensor-parallel traces each decision.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/llm/IR/LLMDialect.h"
#include "dialects/llm/IR/LLMOps.h"

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/Dialect/Shard/Transforms/Passes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "llmc-partition-tensor-parallel"

namespace mlir::llm {
#define GEN_PASS_DEF_PARTITIONTENSORPARALLEL
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

void mlir::llm::buildGspmdPartitionPipeline(OpPassManager &pm) {
  // Parameters' llm.split marks become shard.shard annotations.
  pm.addPass(createAnnotateShardings());
  // Forward ops first: they meet the parameters' splits before the
  // backward ops, whose GEMMs then see both of their operands' splits.
  shard::ShardingPropagationOptions propagation;
  propagation.traversal = shard::TraversalOrder::ForwardBackward;
  pm.addPass(shard::createShardingPropagation(propagation));
  pm.addPass(createCSEPass());
  pm.addPass(shard::createPartition());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createLowerShardCollectives());
  pm.addPass(createCSEPass()); // one gather of a value for all its users
}

void mlir::llm::registerGspmdPartitionPipeline() {
  PassPipelineRegistration<>(
      "llmc-gspmd-partition",
      "The GSPMD steps of llmc-partition-tensor-parallel on one function: "
      "annotate, propagate, partition, lower the collectives",
      buildGspmdPartitionPipeline);
}

/// The number of ranks of the 1-D grid named `axis`, or an error on
/// `func` when there is none.
static FailureOr<int64_t> gridSize(ModuleOp module, func::FuncOp func,
                                   StringAttr axis) {
  auto grid = axis ? module.lookupSymbol<shard::GridOp>(axis) : nullptr;
  if (!grid || grid.getShape().size() != 1)
    return func.emitError("llmc-partition-tensor-parallel: no 1-D grid @")
           << (axis ? axis.getValue() : "") << " for its llm.split marks";
  return grid.getShape()[0];
}

/// The grid axis the parameters' llm.split marks name.
static StringAttr splitAxis(func::FuncOp func) {
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    if (auto split = func.getArgAttrOfType<DictionaryAttr>(
            i, LLMDialect::kSplitAttrName))
      return split.getAs<StringAttr>("axis");
  return {};
}

static bool hasSplitArgument(func::FuncOp func) {
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    if (func.getArgAttr(i, LLMDialect::kSplitAttrName))
      return true;
  return false;
}

/// Megatron's head-wise attention split, our own step: every attention
/// (and its gradient) gets its heads split over the grid the parameters
/// are split on. Upstream propagation is greedy and one-pass, so without
/// these anchors the order of the backward ops could leave attention
/// replicated behind gathers; with them, the splits meet at the QKV and
/// output projections, which the GEMM model splits by columns and rows.
static LogicalResult anchorAttentionHeads(ModuleOp module, func::FuncOp func) {
  StringAttr axis = splitAxis(func);
  FailureOr<int64_t> parts = gridSize(module, func, axis);
  if (failed(parts))
    return failure();
  MLIRContext *ctx = func.getContext();
  SmallVector<shard::GridAxesAttr> split = {
      shard::GridAxesAttr::get(ctx, ArrayRef<int16_t>{}),
      shard::GridAxesAttr::get(ctx, {int16_t(0)})};
  auto heads = shard::Sharding::get(FlatSymbolRefAttr::get(axis), split);
  OpBuilder b(ctx);
  WalkResult walk = func.walk([&](Operation *op) {
    if (!isa<AttentionOp, AttentionGradOp>(op))
      return WalkResult::advance();
    for (Value v : llvm::concat<Value>(op->getOperands(), op->getResults()))
      if (cast<RankedTensorType>(v.getType()).getDimSize(1) % *parts != 0) {
        op->emitOpError("has heads that --mesh ")
            << axis.getValue() << "=" << *parts << " does not divide";
        return WalkResult::interrupt();
      }
    LLVM_DEBUG(llvm::dbgs()
               << "[" DEBUG_TYPE "] heads of " << op->getName() << " at "
               << op->getLoc() << " split over '" << axis.getValue() << "' ("
               << *parts << " ranks)\n");
    for (OpResult r : op->getResults())
      shard::maybeInsertTargetShardingAnnotation(heads, r, b);
    for (OpOperand &operand : op->getOpOperands())
      shard::maybeInsertSourceShardingAnnotation(heads, operand, b);
    return WalkResult::advance();
  });
  return failure(walk.wasInterrupted());
}

/// Results that came out split along one dimension (the vocab-parallel
/// LM head's logits) are all-gathered back to `whole`, their type before
/// partitioning: a forward's caller gets what the model computes.
static LogicalResult gatherSplitResults(func::FuncOp func,
                                        ArrayRef<Type> whole) {
  auto ret = cast<func::ReturnOp>(func.front().getTerminator());
  OpBuilder b(ret);
  for (OpOperand &result : ret->getOpOperands()) {
    auto want = cast<RankedTensorType>(whole[result.getOperandNumber()]);
    auto have = cast<RankedTensorType>(result.get().getType());
    if (want == have)
      continue;
    std::optional<int64_t> dim;
    for (int64_t d = 0; d < have.getRank(); ++d)
      if (have.getDimSize(d) != want.getDimSize(d))
        dim = dim ? -1 : d;
    if (!dim || *dim < 0)
      return func.emitError("llmc-partition-tensor-parallel: result ")
             << result.getOperandNumber() << " came out as " << have
             << ", not split along one dimension of " << want;
    result.set(AllGatherOp::create(b, ret.getLoc(), want, result.get(),
                                   splitAxis(func), b.getI64IntegerAttr(*dim)));
  }
  func.setType(FunctionType::get(func.getContext(), func.getArgumentTypes(),
                                 ret->getOperandTypes()));
  return success();
}

/// Gives `arg` the `stored` type, reshaped back for its users, and the
/// gradient returned for it the same type.
static void mergeBlocks(func::FuncOp func, BlockArgument arg,
                        func::ReturnOp ret, RankedTensorType stored) {
  OpBuilder b = OpBuilder::atBlockBegin(arg.getOwner());
  Location loc = func.getLoc();
  Type blockedType = arg.getType();
  arg.setType(stored);
  auto view = ReshapeOp::create(b, loc, blockedType, arg);
  arg.replaceAllUsesExcept(view, view);
  auto param = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                 LLMDialect::kParamAttrName);
  for (OpOperand &result : ret->getOpOperands())
    if (param && func.getResultAttr(result.getOperandNumber(),
                                    kGradOfAttrName) == param) {
      // Right where the gradient is complete, so that the passes that
      // act on finished gradients (DP buckets, ZeRO) find it there.
      b.setInsertionPointAfterValue(result.get());
      result.set(ReshapeOp::create(b, loc, stored, result.get()));
    }
  func.setType(FunctionType::get(func.getContext(),
                                 arg.getOwner()->getArgumentTypes(),
                                 ret->getOperandTypes()));
}

/// Each split parameter's `llm.split` becomes the `llm.shard` layout the
/// runtime loads and saves checkpoints by; a blocked one is merged back
/// into its stored shape.
static LogicalResult recordShards(ModuleOp module, func::FuncOp func) {
  OpBuilder b(func.getContext());
  Block &entry = func.getBody().front();
  auto ret = cast<func::ReturnOp>(entry.getTerminator());
  for (BlockArgument arg : func.getArguments()) {
    unsigned i = arg.getArgNumber();
    auto split =
        func.getArgAttrOfType<DictionaryAttr>(i, LLMDialect::kSplitAttrName);
    if (!split)
      continue;
    auto axis = split.getAs<StringAttr>("axis");
    int64_t dim = split.getAs<IntegerAttr>("dim").getInt();
    FailureOr<int64_t> parts = gridSize(module, func, axis);
    if (failed(parts))
      return failure();
    int64_t blocks = 1;
    auto local = cast<RankedTensorType>(arg.getType());
    if (split.get("blocked")) {
      // [.., blocks, n/parts, ..] is stored as [.., blocks·n/parts, ..].
      blocks = local.getDimSize(dim - 1);
      SmallVector<int64_t> shape(local.getShape());
      shape[size_t(dim - 1)] *= shape[size_t(dim)];
      shape.erase(shape.begin() + dim);
      auto stored = RankedTensorType::get(shape, local.getElementType());
      mergeBlocks(func, arg, ret, stored);
      --dim;
    }
    LLVM_DEBUG(llvm::dbgs() << "[" DEBUG_TYPE "] argument " << i << " is "
                            << *parts << " shards along dim " << dim << " of "
                            << blocks << " block(s)\n");
    func.removeArgAttr(i, LLMDialect::kSplitAttrName);
    func.setArgAttr(
        i, LLMDialect::kShardAttrName,
        b.getDictionaryAttr(
            {b.getNamedAttr("axis", axis),
             b.getNamedAttr("dim", b.getI64IntegerAttr(dim)),
             b.getNamedAttr("parts", b.getI64IntegerAttr(*parts)),
             b.getNamedAttr("blocks", b.getI64IntegerAttr(blocks))}));
  }
  return success();
}

/// The all-reduce that is `v`'s only producer and has no other user.
static AllReduceOp soleAllReduce(Value v) {
  auto r = v.getDefiningOp<AllReduceOp>();
  return r && r->hasOneUse() ? r : AllReduceOp();
}

/// Applies `patterns` alone: no folding, no region simplification, so only
/// these rewrites change the function.
static LogicalResult applyOnly(func::FuncOp func,
                               RewritePatternSet &&patterns) {
  GreedyRewriteConfig config;
  config.enableFolding(false);
  config.enableConstantCSE(false);
  config.setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled);
  return applyPatternsGreedily(func, std::move(patterns), config);
}

namespace {

/// Sums of all-reduced partial sums, all_reduce(a) + all_reduce(b),
/// become all_reduce(a + b): the gradient of an input that feeds several
/// column-parallel GEMMs (Q, K and V; gate and up) is then reduced once,
/// as Megatron does, not once per GEMM. A chain a + b + c folds link by
/// link, each new all-reduce the operand the next add sees.
struct SinkAllReduceThroughAdd : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AddOp add,
                                PatternRewriter &rewriter) const override {
    AllReduceOp lhs = soleAllReduce(add.getLhs());
    AllReduceOp rhs = soleAllReduce(add.getRhs());
    if (!lhs || !rhs)
      return rewriter.notifyMatchFailure(add, "not a sum of two all-reduces");
    if (lhs.getAxis() != rhs.getAxis() || lhs.getType() != rhs.getType())
      return rewriter.notifyMatchFailure(add, "all-reduces differ");
    LLVM_DEBUG(llvm::dbgs()
               << "[" DEBUG_TYPE "] one all-reduce over '" << lhs.getAxis()
               << "' for the sum at " << add.getLoc() << "\n");
    auto sum =
        AddOp::create(rewriter, add.getLoc(), lhs.getInput(), rhs.getInput());
    sum->setDiscardableAttrs(add->getDiscardableAttrDictionary());
    auto all = AllReduceOp::create(rewriter, add.getLoc(), sum.getResult(),
                                   lhs.getAxisAttr());
    all->setDiscardableAttrs(add->getDiscardableAttrDictionary());
    rewriter.replaceOp(add, all.getResult());
    rewriter.eraseOp(lhs);
    rewriter.eraseOp(rhs);
    return success();
  }
};

/// An all-reduce whose result only this rank's slice is kept of,
/// scatter(all_reduce(p)), is a reduce-scatter of p: half the bytes. A
/// bias added between them (a row-parallel GEMM's, broadcast along the
/// sliced dimension) is added to the slice instead. This is how a
/// row-parallel GEMM enters Megatron's sequence-parallel region.
struct FuseReduceScatter : OpRewritePattern<ScatterToParallelOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ScatterToParallelOp scatter,
                                PatternRewriter &rewriter) const override {
    int64_t dim = scatter.getDim();
    Value source = scatter.getInput();
    auto bias = source.getDefiningOp<AddOp>();
    int64_t rank = cast<RankedTensorType>(source.getType()).getRank();
    if (bias && (!bias->hasOneUse() ||
                 cast<RankedTensorType>(bias.getRhs().getType()).getRank() >=
                     rank - dim))
      return rewriter.notifyMatchFailure(scatter, "the add is not a bias");
    auto sum = (bias ? bias.getLhs() : source).getDefiningOp<AllReduceOp>();
    if (!sum || !sum->hasOneUse() || sum.getAxis() != scatter.getAxis())
      return rewriter.notifyMatchFailure(scatter, "no all-reduce to fuse");
    LLVM_DEBUG(llvm::dbgs() << "[" DEBUG_TYPE "] reduce-scatter along dim "
                            << dim << (bias ? ", the bias after it" : "")
                            << " at " << scatter.getLoc() << "\n");
    auto reduced = ReduceScatterOp::create(
        rewriter, scatter.getLoc(), scatter.getType(), sum.getInput(),
        scatter.getAxisAttr(), scatter.getDimAttr());
    reduced->setDiscardableAttrs(sum->getDiscardableAttrDictionary());
    Value result = reduced;
    if (bias) {
      auto add =
          AddOp::create(rewriter, scatter.getLoc(), result, bias.getRhs());
      add->setDiscardableAttrs(bias->getDiscardableAttrDictionary());
      result = add;
    }
    rewriter.replaceOp(scatter, result);
    if (bias)
      rewriter.eraseOp(bias);
    rewriter.eraseOp(sum);
    return success();
  }
};

struct PartitionTensorParallelPass
    : mlir::llm::impl::PartitionTensorParallelBase<
          PartitionTensorParallelPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto func = module.lookupSymbol<func::FuncOp>(funcName);
    if (!func || func.isExternal() || !hasSplitArgument(func)) {
      LLVM_DEBUG(llvm::dbgs() << "[" DEBUG_TYPE "] @" << funcName
                              << ": no llm.split argument, nothing to do\n");
      return;
    }
    SmallVector<Type> wholeResults(func.getResultTypes());
    if (failed(anchorAttentionHeads(module, func)))
      return signalPassFailure();
    OpPassManager pm(func::FuncOp::getOperationName());
    buildGspmdPartitionPipeline(pm);
    if (failed(runPipeline(pm, func)))
      return signalPassFailure();
    MLIRContext *ctx = &getContext();
    RewritePatternSet sink(ctx), scatter(ctx);
    sink.add<SinkAllReduceThroughAdd>(ctx);
    scatter.add<FuseReduceScatter>(ctx);
    if (failed(applyOnly(func, std::move(sink))) ||
        failed(applyOnly(func, std::move(scatter))))
      return signalPassFailure();
    if (gatherResults && failed(gatherSplitResults(func, wholeResults)))
      return signalPassFailure();
    if (failed(recordShards(module, func)))
      return signalPassFailure();
  }
};

} // namespace
