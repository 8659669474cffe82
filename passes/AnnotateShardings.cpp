//===- AnnotateShardings.cpp - Shardings for upstream propagation ---------===//
//
// The input GSPMD-style partitioning needs on a differentiated, one-device
// function: upstream shard-partition requires every ranked argument to be
// annotated exactly once, and sharding-propagation, being greedy, gathers a
// gradient it has no annotation for. So each argument gets one shard.shard
// (a parameter marked `llm.split = {axis, dim}` split along that dimension
// over the grid named `axis`, the seed `grad_X` of an output X the body
// annotates as X, every other argument replicated over `grid`, unless the
// body annotates it already), and each returned gradient (`llm.grad_of`)
// its parameter's sharding.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Builders.h"

#include <optional>

#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "llmc-annotate-shardings"

namespace mlir::llm {
#define GEN_PASS_DEF_ANNOTATESHARDINGS
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

namespace {

struct AnnotateShardingsPass
    : mlir::llm::impl::AnnotateShardingsBase<AnnotateShardingsPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    MLIRContext *ctx = &getContext();
    OpBuilder b = OpBuilder::atBlockBegin(&func.getBody().front());
    Location loc = func.getLoc();
    // The sharding of a tensor of `rank` split along `dim` (-1: none).
    auto sharding = [&](StringRef axis, int64_t rank, int64_t dim) {
      SmallVector<shard::GridAxesAttr> split(
          size_t(std::max<int64_t>(rank, 1)),
          shard::GridAxesAttr::get(ctx, ArrayRef<int16_t>{}));
      if (dim >= 0)
        split[size_t(dim)] = shard::GridAxesAttr::get(ctx, {int16_t(0)});
      return shard::ShardingOp::create(b, loc,
                                       FlatSymbolRefAttr::get(ctx, axis), split)
          .getResult();
    };

    // The sharding the body gives each named output (a value returned
    // through a shard.shard), for the input that seeds its gradient.
    auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
    llvm::StringMap<Value> outputSharding;
    for (OpOperand &result : ret->getOpOperands())
      if (auto name = func.getResultAttrOfType<StringAttr>(
              result.getOperandNumber(), LLMDialect::kOutputAttrName))
        if (auto annotated = result.get().getDefiningOp<shard::ShardOp>())
          outputSharding[name] = annotated.getSharding();

    // The arguments to annotate, each with its llm.split (if any), checked
    // before any IR is built: a sharding on a grid that does not exist is
    // IR the verifier rejects.
    auto hasGrid = [&](StringRef name) {
      return bool(SymbolTable::lookupNearestSymbolFrom<shard::GridOp>(
          func, StringAttr::get(ctx, name)));
    };
    auto seedOf = [&](unsigned i) -> StringRef {
      auto input =
          func.getArgAttrOfType<StringAttr>(i, LLMDialect::kInputAttrName);
      if (input && input.getValue().starts_with("grad_") &&
          outputSharding.count(input.getValue().drop_front(5)))
        return input.getValue().drop_front(5);
      return {};
    };
    SmallVector<std::pair<BlockArgument, DictionaryAttr>> toAnnotate;
    std::optional<unsigned> replicated; // the first argument replicated
    for (BlockArgument arg : func.getArguments()) {
      auto type = dyn_cast<RankedTensorType>(arg.getType());
      if (!type || type.getRank() == 0)
        continue;
      // Already annotated in the body (the residual stream entering a
      // sequence-parallel pipeline stage).
      if (arg.hasOneUse() && isa<shard::ShardOp>(*arg.getUsers().begin()))
        continue;
      unsigned i = arg.getArgNumber();
      auto split =
          func.getArgAttrOfType<DictionaryAttr>(i, LLMDialect::kSplitAttrName);
      toAnnotate.push_back({arg, split});
      if (!split) {
        if (seedOf(i).empty() && !replicated)
          replicated = i;
        continue;
      }
      auto axis = split.getAs<StringAttr>("axis");
      auto dim = split.getAs<IntegerAttr>("dim");
      if (!axis || !dim || dim.getInt() < 0 || dim.getInt() >= type.getRank()) {
        func.emitError("llmc-annotate-shardings: argument ")
            << i << " has a malformed llm.split " << split;
        return signalPassFailure();
      }
      if (!hasGrid(axis.getValue())) {
        func.emitError("llmc-annotate-shardings: no grid @")
            << axis.getValue() << " for the llm.split of argument " << i;
        return signalPassFailure();
      }
    }
    if (replicated && !hasGrid(grid)) {
      func.emitError("llmc-annotate-shardings: no grid @")
          << grid << " (option grid=) to replicate argument " << *replicated
          << " over";
      return signalPassFailure();
    }

    llvm::StringMap<Value> paramSharding;
    for (auto [arg, split] : toAnnotate) {
      auto type = cast<RankedTensorType>(arg.getType());
      unsigned i = arg.getArgNumber();
      Value s;
      if (split) {
        s = sharding(split.getAs<StringAttr>("axis").getValue(), type.getRank(),
                     split.getAs<IntegerAttr>("dim").getInt());
      } else if (StringRef seed = seedOf(i); !seed.empty()) {
        // The seed of an output's gradient is sharded as the output.
        s = b.clone(*outputSharding.lookup(seed).getDefiningOp())->getResult(0);
      } else {
        s = sharding(grid, type.getRank(), -1);
      }
      LLVM_DEBUG(llvm::dbgs() << "[" DEBUG_TYPE "] argument " << i << ": "
                              << *s.getDefiningOp() << "\n");
      auto annotated = shard::ShardOp::create(b, loc, arg, s, UnitAttr());
      arg.replaceAllUsesExcept(annotated, annotated);
      if (auto name =
              func.getArgAttrOfType<StringAttr>(i, LLMDialect::kParamAttrName))
        paramSharding[name] = s;
    }

    b.setInsertionPoint(ret);
    for (OpOperand &result : ret->getOpOperands()) {
      auto name = func.getResultAttrOfType<StringAttr>(
          result.getOperandNumber(), kGradOfAttrName);
      Value s = name ? paramSharding.lookup(name) : Value();
      if (!s)
        continue;
      result.set(shard::ShardOp::create(b, loc, result.get(), s, UnitAttr()));
    }
  }
};

} // namespace
