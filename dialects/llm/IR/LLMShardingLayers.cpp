//===- LLMShardingLayers.cpp - Sharding models of the non-affine llm ops --===//
//
// Upstream sharding-propagation needs a model on every op of the step. The
// ops here are not plain affine loop nests: a normalised, attended, rotated
// or reshaped-away dimension must stay whole on every rank, and an
// embedding, a cross-entropy and their gradients split the vocabulary by
// calling their vocab-parallel kernels (Megatron's VocabParallelEmbedding
// and vocab_parallel_cross_entropy), not by slicing loops. Each op therefore
// describes its tensors' dimensions as loops, some of which may not be
// split (`LoopSpace`); the option it picks from its neighbours' shardings
// ignores splits of those, so propagation inserts the gathers they need.
// Attention splits its heads (query and grouped key/value heads together:
// a contiguous block of query heads uses the matching block of kv heads).
//
//===----------------------------------------------------------------------===//

#include "dialects/llm/IR/LLMInterfaces.h"
#include "dialects/llm/IR/LLMOps.h"
#include "dialects/llm/IR/LLMShardingUtils.h"

#include "mlir/Dialect/Shard/Interfaces/ShardingInterface.h"
#include "mlir/Dialect/Shard/Interfaces/ShardingInterfaceImpl.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

using namespace mlir;
using namespace mlir::llm;
using mlir::utils::IteratorType;

namespace {

/// An op's loops and, for each operand then result, the loop each
/// dimension runs over. A loop that is not `splittable` stays whole.
struct LoopSpace {
  SmallVector<IteratorType> types;
  SmallVector<bool> splittable;
  SmallVector<SmallVector<unsigned>> tensors;

  unsigned loop(bool split, IteratorType type = IteratorType::parallel) {
    types.push_back(type);
    splittable.push_back(split);
    return unsigned(types.size() - 1);
  }
  /// `n` new loops, the first `split` of them splittable.
  SmallVector<unsigned> loops(int64_t n, int64_t split) {
    SmallVector<unsigned> result;
    for (int64_t i = 0; i < n; ++i)
      result.push_back(loop(i < split));
    return result;
  }
  void tensor(ArrayRef<unsigned> dims) { tensors.emplace_back(dims); }
  /// A tensor whose every dimension stays whole.
  void whole(Value v) { tensor(loops(rankOf(v), 0)); }
};

/// Ops whose sharding follows from a LoopSpace. `Model::space(op)` builds
/// it; `partition` defaults to the local op on local shapes.
template <typename Model, typename Op>
struct LoopSpaceModel : shard::ShardingInterface::ExternalModel<Model, Op> {
  static LoopSpace spaceOf(Operation *op) { return Model::space(cast<Op>(op)); }

  SmallVector<IteratorType> getLoopIteratorTypes(Operation *op) const {
    return spaceOf(op).types;
  }
  SmallVector<shard::ReductionKind>
  getReductionLoopIteratorKinds(Operation *op) const {
    LoopSpace s = spaceOf(op);
    return SmallVector<shard::ReductionKind>(
        llvm::count(s.types, IteratorType::reduction),
        shard::ReductionKind::Sum);
  }
  SmallVector<AffineMap> getIndexingMaps(Operation *op) const {
    LoopSpace s = spaceOf(op);
    MLIRContext *ctx = op->getContext();
    SmallVector<AffineMap> maps;
    for (ArrayRef<unsigned> dims : s.tensors) {
      SmallVector<AffineExpr> exprs;
      for (unsigned loop : dims)
        exprs.push_back(getAffineDimExpr(loop, ctx));
      maps.push_back(AffineMap::get(unsigned(s.types.size()), 0, exprs, ctx));
    }
    return maps;
  }
  /// The loops' split from the results' shardings, then the operands':
  /// splits of whole loops, and splits that conflict with one already
  /// taken, are ignored, so the annotations reshard those tensors.
  FailureOr<shard::ShardingOption>
  getShardingOption(Operation *op, ArrayRef<shard::Sharding> operandShardings,
                    ArrayRef<shard::Sharding> resultShardings) const {
    LoopSpace s = spaceOf(op);
    shard::ShardingOption option;
    option.shardingArray.resize(s.types.size());
    bool known = false;
    auto take = [&](const shard::Sharding &sharding, ArrayRef<unsigned> dims,
                    bool isResult) {
      if (!sharding)
        return;
      if (!option.grid)
        option.grid = sharding.getGridAttr();
      if (sharding.getGridAttr() != option.grid)
        return;
      // A result's sharding decides the op; an operand's only through a
      // split the op can take (a sequence split of embedding_grad's tokens
      // says nothing about its vocabulary, which its result will).
      known |= isResult;
      ArrayRef<shard::GridAxesAttr> split = sharding.getSplitAxes();
      for (size_t dim = 0; dim < split.size() && dim < dims.size(); ++dim) {
        ArrayRef<shard::GridAxis> axes = split[dim].asArrayRef();
        if (axes.empty() || !s.splittable[dims[dim]])
          continue;
        auto &slot = option.shardingArray[dims[dim]];
        bool used = llvm::any_of(option.shardingArray, [&](auto &taken) {
          return llvm::any_of(axes, [&](shard::GridAxis a) {
            return llvm::is_contained(taken, a);
          });
        });
        if (slot.empty() && !used) {
          slot.assign(axes.begin(), axes.end());
          known = true;
        }
      }
    };
    unsigned operands = op->getNumOperands();
    for (auto [i, sharding] : llvm::enumerate(resultShardings))
      take(sharding, s.tensors[operands + i], true);
    for (auto [i, sharding] : llvm::enumerate(operandShardings))
      take(sharding, s.tensors[i], false);
    if (!known)
      return shard::ShardingOption::makeEmpty();
    while (!option.shardingArray.empty() && option.shardingArray.back().empty())
      option.shardingArray.pop_back();
    return option;
  }
  LogicalResult partition(Operation *op, ArrayRef<Value> partitionedOperands,
                          ArrayRef<shard::Sharding> operandShardings,
                          ArrayRef<shard::Sharding> resultShardings,
                          IRMapping &partitionMap,
                          SymbolTableCollection &symbolTable,
                          OpBuilder &builder) const {
    shard::partitionTriviallyShardableOperation(
        *op, partitionedOperands, operandShardings,
        completeResultShardings(op, operandShardings, resultShardings),
        partitionMap, symbolTable, builder);
    return success();
  }

protected:
  /// `resultShardings`, with the sharding its loops' split gives each result
  /// that has none. Propagation annotates a value through its users, so a
  /// result nothing reads (an unused piece of an llm.split, which no
  /// canonicalization can drop alone) has none, and the local op needs one
  /// for its type: upstream's partitionTriviallyShardableOperation would
  /// look up the null sharding's grid and crash.
  static std::vector<shard::Sharding>
  completeResultShardings(Operation *op,
                          ArrayRef<shard::Sharding> operandShardings,
                          ArrayRef<shard::Sharding> resultShardings) {
    std::vector<shard::Sharding> results(resultShardings.begin(),
                                         resultShardings.end());
    FlatSymbolRefAttr grid;
    for (const shard::Sharding &sharding :
         llvm::concat<const shard::Sharding>(operandShardings, resultShardings))
      if (sharding && !grid)
        grid = sharding.getGridAttr();
    if (!grid)
      return results;
    LoopSpace s = spaceOf(op);
    shard::ShardingArray split =
        splitLoops(op, operandShardings, resultShardings);
    for (unsigned i = 0; i < results.size(); ++i) {
      if (results[i] || !isa<RankedTensorType>(op->getResult(i).getType()))
        continue;
      SmallVector<shard::GridAxesAttr> axes;
      for (unsigned loop : s.tensors[op->getNumOperands() + i])
        axes.push_back(shard::GridAxesAttr::get(
            op->getContext(), loop < split.size()
                                  ? ArrayRef<shard::GridAxis>(split[loop])
                                  : ArrayRef<shard::GridAxis>()));
      results[i] = shard::Sharding::get(grid, axes);
    }
    return results;
  }
  /// The grid axes each loop is split over, from the operands' and the
  /// results' annotations (upstream's getGridAxisAssignmentForLoopIterators
  /// reads the operands' only, and a vocabulary split may show only in a
  /// result).
  static shard::ShardingArray
  splitLoops(Operation *op, ArrayRef<shard::Sharding> operandShardings,
             ArrayRef<shard::Sharding> resultShardings) {
    LoopSpace s = spaceOf(op);
    shard::ShardingArray split(s.types.size());
    std::vector<shard::Sharding> all(operandShardings.begin(),
                                     operandShardings.end());
    llvm::append_range(all, resultShardings);
    for (auto [sharding, dims] : llvm::zip_equal(all, s.tensors)) {
      if (!sharding)
        continue;
      ArrayRef<shard::GridAxesAttr> axes = sharding.getSplitAxes();
      for (size_t d = 0; d < axes.size() && d < dims.size(); ++d)
        if (!axes[d].empty())
          split[dims[d]].assign(axes[d].asArrayRef().begin(),
                                axes[d].asArrayRef().end());
    }
    return split;
  }
  /// The grid axes of the loops `loops` are split over.
  static SmallVector<shard::GridAxis> axesOf(const shard::ShardingArray &split,
                                             ArrayRef<unsigned> loops) {
    SmallVector<shard::GridAxis> axes;
    for (unsigned loop : loops)
      if (loop < split.size())
        llvm::append_range(axes, split[loop]);
    return axes;
  }
};

/// An identity over the leading `split` dimensions of each tensor of rank
/// `rank`; the others stay whole.
void sameLoops(LoopSpace &s, Operation *op, int64_t rank, int64_t split) {
  SmallVector<unsigned> loops = s.loops(rank, split);
  for (Value v : op->getOperands())
    s.tensor(ArrayRef<unsigned>(loops).take_back(rankOf(v)));
  for (Value v : op->getResults())
    s.tensor(ArrayRef<unsigned>(loops).take_back(rankOf(v)));
}

/// llm.transpose: result dimension i reads input dimension perm[i].
struct TransposeModel : LoopSpaceModel<TransposeModel, TransposeOp> {
  static LoopSpace space(TransposeOp op) {
    LoopSpace s;
    ArrayRef<int64_t> perm = op.getPermutation();
    SmallVector<unsigned> result = s.loops(int64_t(perm.size()), perm.size());
    SmallVector<unsigned> input(perm.size());
    for (auto [i, p] : llvm::enumerate(perm))
      input[size_t(p)] = result[i];
    s.tensor(input);
    s.tensor(result);
    return s;
  }
};

/// llm.reshape: dimensions are grouped (an expansion splits one dimension
/// into a group, a collapse merges one). Only a group's major dimension
/// (its first of size > 1) may be split, on both sides: a split [B, T, C]
/// along C is the split [B, T, H, D] along H, and a split [B, T, C] along B
/// the split [B·T, C] along B·T.
struct ReshapeModel : LoopSpaceModel<ReshapeModel, ReshapeOp> {
  static int64_t major(ArrayRef<int64_t> shape, ArrayRef<int64_t> group) {
    for (int64_t d : group)
      if (shape[size_t(d)] != 1)
        return d;
    return group.front();
  }
  static LoopSpace space(ReshapeOp op) {
    LoopSpace s;
    auto in = cast<RankedTensorType>(op.getInput().getType());
    auto out = cast<RankedTensorType>(op.getResult().getType());
    bool expand = in.getRank() < out.getRank();
    std::optional<SmallVector<ReassociationIndices>> groups =
        expand ? getReassociationIndicesForReshape(in, out)
               : getReassociationIndicesForReshape(out, in);
    if (in.getRank() == out.getRank() || !groups) {
      s.whole(op.getInput());
      s.whole(op.getResult());
      return s;
    }
    // The higher-rank side's group g matches the lower-rank side's dim g.
    auto high = expand ? out : in;
    SmallVector<unsigned> lowDims, highDims(size_t(high.getRank()));
    for (auto [g, group] : llvm::enumerate(*groups)) {
      int64_t m = major(high.getShape(), group);
      unsigned shared = s.loop(true);
      lowDims.push_back(shared);
      for (int64_t d : group)
        highDims[size_t(d)] = d == m ? shared : s.loop(false);
    }
    s.tensor(expand ? lowDims : highDims);
    s.tensor(expand ? highDims : lowDims);
    return s;
  }
};

/// llm.split and llm.concat: one loop per dimension of the joined tensor
/// (every tensor has its rank); the joined dimension stays whole.
template <typename Op> struct JoinModel : LoopSpaceModel<JoinModel<Op>, Op> {
  static LoopSpace space(Op op) {
    LoopSpace s;
    SmallVector<unsigned> loops;
    for (int64_t d = 0; d < rankOf(op->getResult(0)); ++d)
      loops.push_back(s.loop(d != int64_t(op.getAxis())));
    for (size_t i = 0; i < op->getNumOperands() + op->getNumResults(); ++i)
      s.tensor(loops);
    return s;
  }
};

/// llm.rope on [B, H, T, D]: positions and rotated pairs stay whole.
struct RopeModel : LoopSpaceModel<RopeModel, RopeOp> {
  static LoopSpace space(RopeOp op) {
    LoopSpace s;
    sameLoops(s, op, rankOf(op.getResult()), rankOf(op.getResult()) - 2);
    return s;
  }
};

/// Attention's loops: batch and heads split, query and key positions and
/// the head dimension whole. `q` indexes (b, h, t, d), `k` (b, h, s, d).
struct AttentionLoops {
  unsigned b, h, t, s, d;
  explicit AttentionLoops(LoopSpace &space)
      : b(space.loop(true)), h(space.loop(true)), t(space.loop(false)),
        s(space.loop(false)), d(space.loop(false)) {}
  SmallVector<unsigned> query() const { return {b, h, t, d}; }
  SmallVector<unsigned> key() const { return {b, h, s, d}; }
};
struct AttentionModel : LoopSpaceModel<AttentionModel, AttentionOp> {
  static LoopSpace space(AttentionOp) {
    LoopSpace s;
    AttentionLoops l(s);
    for (auto dims : {l.query(), l.key(), l.key(), l.query()})
      s.tensor(dims);
    return s;
  }
};
struct AttentionGradModel
    : LoopSpaceModel<AttentionGradModel, AttentionGradOp> {
  static LoopSpace space(AttentionGradOp) {
    LoopSpace s;
    AttentionLoops l(s);
    // dout, q, k, v, out -> dq, dk, dv
    for (auto dims : {l.query(), l.query(), l.key(), l.key(), l.query(),
                      l.query(), l.key(), l.key()})
      s.tensor(dims);
    return s;
  }
};

/// Norms over the last dimension: the tokens split, the features whole.
template <typename Op> struct NormModel : LoopSpaceModel<NormModel<Op>, Op> {
  static LoopSpace space(Op op) {
    LoopSpace s;
    int64_t rank = rankOf(op.getResult());
    sameLoops(s, op, rank, rank - 1);
    return s;
  }
};

/// Norm gradients: a split over tokens leaves the weight and bias gradients
/// (every result after the input's) partial, summed by one all-reduce each
/// (Megatron's sequence-parallel norm gradients).
template <typename Op>
struct NormGradModel : LoopSpaceModel<NormGradModel<Op>, Op> {
  using Base = LoopSpaceModel<NormGradModel<Op>, Op>;
  static LoopSpace space(Op op) {
    LoopSpace s;
    int64_t rank = rankOf(op.getDout());
    sameLoops(s, op, rank, rank - 1);
    return s;
  }
  LogicalResult partition(Operation *op, ArrayRef<Value> partitionedOperands,
                          ArrayRef<shard::Sharding> operandShardings,
                          ArrayRef<shard::Sharding> resultShardings,
                          IRMapping &partitionMap,
                          SymbolTableCollection &symbolTable,
                          OpBuilder &builder) const {
    shard::ShardingArray split =
        Base::splitLoops(op, operandShardings, resultShardings);
    std::vector<shard::Sharding> results =
        Base::completeResultShardings(op, operandShardings, resultShardings);
    shard::partitionTriviallyShardableOperation(
        *op, partitionedOperands, operandShardings, results, partitionMap,
        symbolTable, builder);
    int64_t rank = rankOf(op->getOperand(0));
    SmallVector<unsigned> tokens;
    for (int64_t i = 0; i + 1 < rank; ++i)
      tokens.push_back(unsigned(i));
    SmallVector<shard::GridAxis> axes = Base::axesOf(split, tokens);
    if (!axes.empty())
      for (OpResult r : op->getResults().drop_front())
        if (!r.use_empty()) // an unused gradient needs no sum
          sumPartialResult(builder, op->getLoc(), r,
                           results[r.getResultNumber()].getGrid(), axes,
                           partitionMap);
    return success();
  }
};

/// Sets the vocab-parallel axis on the local op when the vocabulary loop is
/// split: the grid's name is the mesh axis (a 1-D grid per axis).
LogicalResult setVocabParallel(Operation *op, IRMapping &partitionMap,
                               const shard::ShardingArray &split,
                               unsigned vocabLoop, FlatSymbolRefAttr grid) {
  if (vocabLoop >= split.size() || split[vocabLoop].empty())
    return success();
  if (split[vocabLoop].size() != 1)
    return op->emitOpError("can split its vocabulary over one grid axis only");
  Operation *local = partitionMap.lookup(op->getResult(0)).getDefiningOp();
  local->setAttr("vocab_parallel_axis", grid.getAttr());
  return success();
}

/// llm.embedding: a gather is a one-hot product, so the vocabulary is a
/// summed loop. Split, each rank looks up its block of rows (zero for other
/// ids) and one all-reduce completes the lookup.
/// Loops: (tokens..., c, v); table (v, c), ids (tokens), result (tokens, c).
struct EmbeddingModel : LoopSpaceModel<EmbeddingModel, EmbeddingOp> {
  static LoopSpace space(EmbeddingOp op) {
    LoopSpace s;
    SmallVector<unsigned> tokens = s.loops(rankOf(op.getIds()), 0);
    unsigned c = s.loop(false), v = s.loop(true, IteratorType::reduction);
    s.tensor({v, c});
    s.tensor(tokens);
    tokens.push_back(c);
    s.tensor(tokens);
    return s;
  }
  LogicalResult partition(Operation *op, ArrayRef<Value> partitionedOperands,
                          ArrayRef<shard::Sharding> operandShardings,
                          ArrayRef<shard::Sharding> resultShardings,
                          IRMapping &partitionMap,
                          SymbolTableCollection &symbolTable,
                          OpBuilder &builder) const {
    shard::ShardingArray split =
        splitLoops(op, operandShardings, resultShardings);
    shard::partitionTriviallyShardableOperation(
        *op, partitionedOperands, operandShardings, resultShardings,
        partitionMap, symbolTable, builder);
    unsigned v = unsigned(rankOf(cast<EmbeddingOp>(op).getIds()) + 1);
    FlatSymbolRefAttr grid = resultShardings[0].getGridAttr();
    if (failed(setVocabParallel(op, partitionMap, split, v, grid)))
      return failure();
    SmallVector<shard::GridAxis> axes = axesOf(split, {v});
    if (!axes.empty())
      sumPartialResult(builder, op->getLoc(), op->getResult(0), grid.getValue(),
                       axes, partitionMap);
    return success();
  }
};

/// llm.embedding_grad: rows (v) split; the tokens are summed.
/// Loops: (tokens..., c, v); dout (tokens, c), ids (tokens), result (v, c).
struct EmbeddingGradModel
    : LoopSpaceModel<EmbeddingGradModel, EmbeddingGradOp> {
  static LoopSpace space(EmbeddingGradOp op) {
    LoopSpace s;
    SmallVector<unsigned> tokens;
    for (int64_t i = 0; i < rankOf(op.getIds()); ++i)
      tokens.push_back(s.loop(false, IteratorType::reduction));
    unsigned c = s.loop(false), v = s.loop(true);
    SmallVector<unsigned> dout = tokens;
    dout.push_back(c);
    s.tensor(dout);
    s.tensor(tokens);
    s.tensor({v, c});
    return s;
  }
  LogicalResult partition(Operation *op, ArrayRef<Value> partitionedOperands,
                          ArrayRef<shard::Sharding> operandShardings,
                          ArrayRef<shard::Sharding> resultShardings,
                          IRMapping &partitionMap,
                          SymbolTableCollection &symbolTable,
                          OpBuilder &builder) const {
    shard::ShardingArray split =
        splitLoops(op, operandShardings, resultShardings);
    shard::partitionTriviallyShardableOperation(
        *op, partitionedOperands, operandShardings, resultShardings,
        partitionMap, symbolTable, builder);
    unsigned v = unsigned(rankOf(cast<EmbeddingGradOp>(op).getIds()) + 1);
    return setVocabParallel(op, partitionMap, split, v,
                            resultShardings[0].getGridAttr());
  }
};

/// llm.cross_entropy and its gradient: logits (tokens..., v) with the
/// vocabulary split; the mean over tokens stays whole.
template <typename Op>
struct CrossEntropyModel : LoopSpaceModel<CrossEntropyModel<Op>, Op> {
  using Base = LoopSpaceModel<CrossEntropyModel<Op>, Op>;
  static constexpr bool isGrad = std::is_same_v<Op, CrossEntropyGradOp>;
  static LoopSpace space(Op op) {
    LoopSpace s;
    SmallVector<unsigned> logits =
        s.loops(rankOf(op.getTargets()), /*split=*/0);
    SmallVector<unsigned> targets = logits;
    logits.push_back(s.loop(true, isGrad ? IteratorType::parallel
                                         : IteratorType::reduction));
    if (isGrad)
      s.tensor({}); // dloss
    s.tensor(logits);
    s.tensor(targets);
    s.tensor(isGrad ? logits : SmallVector<unsigned>{});
    return s;
  }
  LogicalResult partition(Operation *op, ArrayRef<Value> partitionedOperands,
                          ArrayRef<shard::Sharding> operandShardings,
                          ArrayRef<shard::Sharding> resultShardings,
                          IRMapping &partitionMap,
                          SymbolTableCollection &symbolTable,
                          OpBuilder &builder) const {
    shard::ShardingArray split =
        Base::splitLoops(op, operandShardings, resultShardings);
    shard::partitionTriviallyShardableOperation(
        *op, partitionedOperands, operandShardings, resultShardings,
        partitionMap, symbolTable, builder);
    unsigned v = unsigned(rankOf(cast<Op>(op).getTargets()));
    return setVocabParallel(op, partitionMap, split, v,
                            operandShardings[isGrad ? 1 : 0].getGridAttr());
  }
};

/// Softmax and its gradient along `axis`: every other dimension splits (a
/// batch, a head, a query row), the normalised one stays whole, so a split
/// along it is gathered first.
template <typename Op>
struct SoftmaxModel : LoopSpaceModel<SoftmaxModel<Op>, Op> {
  static LoopSpace space(Op op) {
    LoopSpace s;
    int64_t rank = rankOf(op.getResult());
    int64_t axis = op.getAxis() < 0 ? op.getAxis() + rank : op.getAxis();
    SmallVector<unsigned> loops;
    for (int64_t d = 0; d < rank; ++d)
      loops.push_back(s.loop(/*split=*/d != axis));
    for (unsigned i = 0; i < op->getNumOperands() + op->getNumResults(); ++i)
      s.tensor(loops);
    return s;
  }
};

/// Ops that only run replicated (the position table's slice and its
/// gradient's insertion): every dimension whole.
template <typename Op>
struct ReplicatedModel : LoopSpaceModel<ReplicatedModel<Op>, Op> {
  static LoopSpace space(Op op) {
    LoopSpace s;
    for (Value v : op->getOperands())
      s.whole(v);
    for (Value v : op->getResults())
      s.whole(v);
    return s;
  }
};

} // namespace

void mlir::llm::registerLayerShardingModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, LLMDialect *) {
    TransposeOp::attachInterface<TransposeModel>(*ctx);
    ReshapeOp::attachInterface<ReshapeModel>(*ctx);
    SplitOp::attachInterface<JoinModel<SplitOp>>(*ctx);
    ConcatOp::attachInterface<JoinModel<ConcatOp>>(*ctx);
    RopeOp::attachInterface<RopeModel>(*ctx);
    AttentionOp::attachInterface<AttentionModel>(*ctx);
    AttentionGradOp::attachInterface<AttentionGradModel>(*ctx);
    LayerNormOp::attachInterface<NormModel<LayerNormOp>>(*ctx);
    RmsNormOp::attachInterface<NormModel<RmsNormOp>>(*ctx);
    LayerNormGradOp::attachInterface<NormGradModel<LayerNormGradOp>>(*ctx);
    RmsNormGradOp::attachInterface<NormGradModel<RmsNormGradOp>>(*ctx);
    SoftmaxOp::attachInterface<SoftmaxModel<SoftmaxOp>>(*ctx);
    SoftmaxGradOp::attachInterface<SoftmaxModel<SoftmaxGradOp>>(*ctx);
    EmbeddingOp::attachInterface<EmbeddingModel>(*ctx);
    EmbeddingGradOp::attachInterface<EmbeddingGradModel>(*ctx);
    CrossEntropyOp::attachInterface<CrossEntropyModel<CrossEntropyOp>>(*ctx);
    CrossEntropyGradOp::attachInterface<CrossEntropyModel<CrossEntropyGradOp>>(
        *ctx);
    SwigluGradOp::attachInterface<
        shard::ElementwiseShardingInterface<SwigluGradOp>>(*ctx);
  });
  registry.addExtension(+[](MLIRContext *ctx, tensor::TensorDialect *) {
    tensor::ExtractSliceOp::attachInterface<
        ReplicatedModel<tensor::ExtractSliceOp>>(*ctx);
    tensor::InsertSliceOp::attachInterface<
        ReplicatedModel<tensor::InsertSliceOp>>(*ctx);
  });
}
