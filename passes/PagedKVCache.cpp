//===- PagedKVCache.cpp - A forward as a step over a paged KV cache -------===//
//
// Rewrites the frontend's forward into one generation step: positions and
// block tables become inputs, each layer's key and value cache an argument,
// attention reads and writes the cache through the block tables, positions
// come from the input instead of the token index, and the LM head runs on
// each sequence's last token.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/llm/IR/LLMOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "llmc-paged-kv-cache"

namespace mlir::llm {
#define GEN_PASS_DEF_PAGEDKVCACHE
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

namespace {

/// The rewrite of one function; `positions` and `table` are its new inputs.
class StepRewriter {
public:
  StepRewriter(func::FuncOp func, int64_t blockTokens, int64_t blocks)
      : func(func), b(func.getContext()), blockTokens(blockTokens),
        blocks(blocks) {}

  LogicalResult run(int64_t maxBlocks) {
    auto ids = func.getNumArguments() == 0
                   ? RankedTensorType()
                   : dyn_cast<RankedTensorType>(func.getArgumentTypes()[0]);
    if (!ids || ids.getRank() != 2 ||
        !func.getArgAttr(0, LLMDialect::kInputAttrName))
      return func.emitError("llmc-paged-kv-cache: argument 0 of @")
             << func.getSymName() << " must be the token ids [batch, tokens]";
    auto ret = cast<func::ReturnOp>(func.front().getTerminator());
    if (ret.getNumOperands() == 0 ||
        !isa<RankedTensorType>(ret.getOperand(0).getType()))
      return func.emitError("llmc-paged-kv-cache: @")
             << func.getSymName()
             << " must return the logits [batch, tokens, vocab]";
    int64_t B = ids.getShape()[0];
    auto i32 = [&](ArrayRef<int64_t> shape) {
      return RankedTensorType::get(shape, b.getI32Type());
    };
    positions = addArgument(i32(ids.getShape()), LLMDialect::kInputAttrName,
                            "positions");
    table = addArgument(i32({B, maxBlocks}), LLMDialect::kInputAttrName,
                        "block_tables");
    SmallVector<Operation *> ops;
    func.walk([&](Operation *op) { ops.push_back(op); });
    for (Operation *op : ops)
      if (failed(rewrite(op)))
        return failure();
    return lastTokenLogits();
  }

private:
  Value addArgument(Type type, StringRef attr, StringRef name) {
    unsigned index = func.getNumArguments();
    if (failed(func.insertArgument(
            index, type,
            b.getDictionaryAttr({b.getNamedAttr(attr, b.getStringAttr(name))}),
            func.getLoc())))
      return {};
    return func.getArgument(index);
  }

  template <typename OpT, typename... Args>
  Value create(Operation *at, Args &&...args) {
    b.setInsertionPoint(at);
    auto op = OpT::create(b, at->getLoc(), std::forward<Args>(args)...);
    // Keep the layer and role the cost model and plans read.
    op->setDiscardableAttrs(at->getDiscardableAttrDictionary());
    return op->getResult(0);
  }

  LogicalResult rewrite(Operation *op) {
    if (auto a = dyn_cast<AttentionOp>(op))
      return rewriteAttention(a);
    if (auto r = dyn_cast<RopeOp>(op)) {
      if (r.getInverse())
        return r.emitOpError("llmc-paged-kv-cache: an inverse rope in a "
                             "forward (run it before autodiff)");
      r.replaceAllUsesWith(
          create<RopeAtOp>(r, r.getInput(), positions, r.getThetaAttr()));
      r.erase();
      return success();
    }
    if (auto s = dyn_cast<tensor::ExtractSliceOp>(op))
      return rewritePositionTable(s);
    return success();
  }

  /// Attention over the cache: this step's keys and values are written
  /// first, then every token attends to its sequence's positions <= its own.
  LogicalResult rewriteAttention(AttentionOp a) {
    if (!a.getCausal())
      return a.emitOpError("llmc-paged-kv-cache: only causal attention reads "
                           "a KV cache");
    auto cacheOf = [&](Value x, StringRef kind) {
      auto type = cast<RankedTensorType>(x.getType());
      auto cache = RankedTensorType::get(
          {blocks, type.getShape()[1], blockTokens, type.getShape()[3]},
          type.getElementType());
      return addArgument(cache, kKVCacheAttrName,
                         ("layers." + Twine(layer) + "." + kind).str());
    };
    Value keys = cacheOf(a.getKey(), "key");
    Value values = cacheOf(a.getValue(), "value");
    ++layer;
    Value k = create<KVCacheWriteOp>(a, keys.getType(), a.getKey(), keys, table,
                                     positions);
    Value v = create<KVCacheWriteOp>(a, values.getType(), a.getValue(), values,
                                     table, positions);
    a.replaceAllUsesWith(create<PagedAttentionOp>(a, a.getQuery(), k, v, table,
                                                  positions, a.getScaleAttr()));
    a.erase();
    return success();
  }

  /// GPT-2's learned positions: the first T rows of the table become the
  /// rows of each token's position.
  LogicalResult rewritePositionTable(tensor::ExtractSliceOp s) {
    auto arg = dyn_cast<BlockArgument>(s.getSource());
    if (!arg ||
        !func.getArgAttr(arg.getArgNumber(), LLMDialect::kParamAttrName))
      return success();
    if (!llvm::all_of(s.getStaticOffsets(), [](int64_t o) { return o == 0; }))
      return s.emitOpError("llmc-paged-kv-cache: a slice of a parameter that "
                           "is not a position table");
    s.replaceAllUsesWith(create<EmbeddingOp>(s, arg, positions, StringAttr()));
    s.erase();
    return success();
  }

  /// The logits of each sequence's last token: the LM head's input is cut
  /// to that token first, so the head's GEMM sees one row per sequence.
  LogicalResult lastTokenLogits() {
    auto ret = cast<func::ReturnOp>(func.front().getTerminator());
    Value logits = ret.getOperand(0);
    // Vocab-parallel logits gathered whole (tensor parallelism): the last
    // token is taken of each rank's slice, and only that row gathered.
    auto gather = logits.getDefiningOp<AllGatherOp>();
    int64_t rank = cast<RankedTensorType>(logits.getType()).getRank();
    if (gather && gather.getDim() == rank - 1 && gather->hasOneUse())
      logits = gather.getInput();
    else
      gather = {};
    auto head = logits.getDefiningOp<MatmulOp>();
    if (head &&
        cast<RankedTensorType>(head.getLhs().getType()).getRank() == 3) {
      Value last = create<LastTokenOp>(head, head.getLhs(), positions);
      logits = create<MatmulOp>(head, last, head.getRhs(), head.getBias(),
                                head.getTransposeLhs(), head.getTransposeRhs());
    } else {
      logits = create<LastTokenOp>(ret, logits, positions);
    }
    if (gather) {
      auto slice = cast<RankedTensorType>(logits.getType());
      SmallVector<int64_t> shape(slice.getShape());
      shape.back() = cast<RankedTensorType>(gather.getType()).getShape().back();
      logits = create<AllGatherOp>(
          ret, RankedTensorType::get(shape, slice.getElementType()), logits,
          gather.getAxisAttr(), b.getI64IntegerAttr(slice.getRank() - 1));
    }
    ret->setOperand(0, logits);
    if (gather)
      gather.erase();
    func.setType(FunctionType::get(func.getContext(), func.getArgumentTypes(),
                                   {logits.getType()}));
    func.setResultAttr(0, LLMDialect::kOutputAttrName,
                       b.getStringAttr("logits"));
    if (head && head->use_empty())
      head.erase();
    return success();
  }

  func::FuncOp func;
  OpBuilder b;
  int64_t blockTokens, blocks;
  Value positions, table;
  int64_t layer = 0;
};

struct PagedKVCachePass : mlir::llm::impl::PagedKVCacheBase<PagedKVCachePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto func = module.lookupSymbol<func::FuncOp>(funcName);
    if (!func || !func.getBody().hasOneBlock()) {
      module.emitError("llmc-paged-kv-cache: no single-block function @")
          << funcName;
      return signalPassFailure();
    }
    if (blockTokens <= 0 || blocks <= 0 || maxBlocks < 0) {
      module.emitError("llmc-paged-kv-cache: block-tokens and blocks must "
                       "be positive");
      return signalPassFailure();
    }
    int64_t tableWidth = maxBlocks;
    if (tableWidth == 0) {
      // Enough blocks for the longest sequence the position table or the
      // step allows: the tokens of the ids argument at least.
      auto ids = func.getNumArguments() == 0
                     ? RankedTensorType()
                     : dyn_cast<RankedTensorType>(func.getArgumentTypes()[0]);
      int64_t tokens = ids && ids.getRank() == 2 ? ids.getShape()[1] : 1;
      tableWidth = (tokens + blockTokens - 1) / blockTokens;
    }
    LLVM_DEBUG(llvm::dbgs()
               << "[" DEBUG_TYPE "] @" << funcName << ": " << blocks
               << " blocks of " << blockTokens << " tokens per layer, "
               << tableWidth << " block-table entries per sequence\n");
    if (failed(StepRewriter(func, blockTokens, blocks).run(tableWidth)))
      return signalPassFailure();
  }
};

} // namespace
