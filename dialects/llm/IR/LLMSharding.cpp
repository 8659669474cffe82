//===- LLMSharding.cpp - ShardingInterface models of llm ops --------------===//
//
// The upstream `shard` dialect's sharding-propagation and shard-partition
// work on any op that describes its iteration space: loops (parallel or
// reduction) and, per operand and result, the affine map from the loops to
// its dimensions. These models describe the llm ops whose iteration space is
// affine: GEMMs (a K loop that is a sum reduction, so a split K leaves
// partial sums that partition completes with one all-reduce), elementwise
// ops with trailing broadcast, activations and their gradients, and the
// bias gradient's sum over leading dimensions: the ops of an MLP's forward
// and backward pass, so the differentiated step partitions too (GSPMD).
// Attention heads, reshapes, norms and the vocab-parallel embedding and
// cross-entropy are not affine in this sense: LLMShardingLayers.cpp.
//
//===----------------------------------------------------------------------===//

#include "dialects/llm/IR/LLMInterfaces.h"
#include "dialects/llm/IR/LLMOps.h"
#include "dialects/llm/IR/LLMShardingUtils.h"

#include "mlir/Dialect/Shard/Interfaces/ShardingInterface.h"
#include "mlir/Dialect/Shard/Interfaces/ShardingInterfaceImpl.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

using namespace mlir;
using namespace mlir::llm;
using mlir::utils::IteratorType;

namespace {

/// The map from `loops` loops to an operand of rank `rank` that covers the
/// trailing loops (numpy broadcast: leading loops are dropped).
AffineMap trailing(MLIRContext *ctx, unsigned loops, int64_t rank) {
  SmallVector<AffineExpr> dims;
  for (int64_t i = loops - rank; i < int64_t(loops); ++i)
    dims.push_back(getAffineDimExpr(unsigned(i), ctx));
  return AffineMap::get(loops, 0, dims, ctx);
}

/// llm.add and llm.mul: one parallel loop per result dimension; an operand
/// of lower rank broadcasts over the leading ones.
template <typename Op>
struct BroadcastBinaryModel
    : shard::ShardingInterface::ExternalModel<BroadcastBinaryModel<Op>, Op> {
  SmallVector<IteratorType> getLoopIteratorTypes(Operation *op) const {
    return SmallVector<IteratorType>(rankOf(op->getResult(0)),
                                     IteratorType::parallel);
  }
  SmallVector<AffineMap> getIndexingMaps(Operation *op) const {
    unsigned loops = rankOf(op->getResult(0));
    MLIRContext *ctx = op->getContext();
    SmallVector<AffineMap> maps;
    for (Value operand : op->getOperands())
      maps.push_back(trailing(ctx, loops, rankOf(operand)));
    maps.push_back(AffineMap::getMultiDimIdentityMap(loops, ctx));
    return maps;
  }
  LogicalResult partition(Operation *op, ArrayRef<Value> partitionedOperands,
                          ArrayRef<shard::Sharding> operandShardings,
                          ArrayRef<shard::Sharding> resultShardings,
                          IRMapping &partitionMap,
                          SymbolTableCollection &symbolTable,
                          OpBuilder &builder) const {
    shard::partitionTriviallyShardableOperation(
        *op, partitionedOperands, operandShardings, resultShardings,
        partitionMap, symbolTable, builder);
    return success();
  }
};

/// Partitions an op whose reduction loops are sums: the local op, then, if a
/// reduction loop is split, one all-reduce of its (only) result over those
/// loops' grid axes.
LogicalResult partitionSumReduction(Operation *op, ArrayRef<IteratorType> loops,
                                    ArrayRef<AffineMap> maps,
                                    ArrayRef<Value> partitionedOperands,
                                    ArrayRef<shard::Sharding> operandShardings,
                                    ArrayRef<shard::Sharding> resultShardings,
                                    IRMapping &partitionMap,
                                    SymbolTableCollection &symbolTable,
                                    OpBuilder &builder) {
  shard::ShardingArray axes = shard::getGridAxisAssignmentForLoopIterators(
      operandShardings, resultShardings, loops, maps);
  shard::partitionTriviallyShardableOperation(
      *op, partitionedOperands, operandShardings, resultShardings, partitionMap,
      symbolTable, builder);
  if (shard::isAtLeastOneReductionIteratorSharded(loops, axes))
    sumPartialResult(builder, op->getLoc(), op->getResult(0),
                     resultShardings[0].getGrid(),
                     shard::getReductionGridAxes(loops, axes), partitionMap);
  return success();
}

/// llm.sum_to (a bias gradient): one loop per input dimension; the leading
/// ones, which the result drops, are sums.
struct SumToModel
    : shard::ShardingInterface::ExternalModel<SumToModel, SumToOp> {
  SmallVector<IteratorType> getLoopIteratorTypes(Operation *op) const {
    int64_t in = rankOf(op->getOperand(0)), out = rankOf(op->getResult(0));
    SmallVector<IteratorType> types(in - out, IteratorType::reduction);
    types.append(out, IteratorType::parallel);
    return types;
  }
  SmallVector<shard::ReductionKind>
  getReductionLoopIteratorKinds(Operation *op) const {
    int64_t in = rankOf(op->getOperand(0)), out = rankOf(op->getResult(0));
    return SmallVector<shard::ReductionKind>(in - out,
                                             shard::ReductionKind::Sum);
  }
  SmallVector<AffineMap> getIndexingMaps(Operation *op) const {
    unsigned loops = rankOf(op->getOperand(0));
    MLIRContext *ctx = op->getContext();
    return {AffineMap::getMultiDimIdentityMap(loops, ctx),
            trailing(ctx, loops, rankOf(op->getResult(0)))};
  }
  LogicalResult partition(Operation *op, ArrayRef<Value> partitionedOperands,
                          ArrayRef<shard::Sharding> operandShardings,
                          ArrayRef<shard::Sharding> resultShardings,
                          IRMapping &partitionMap,
                          SymbolTableCollection &symbolTable,
                          OpBuilder &builder) const {
    return partitionSumReduction(
        op, getLoopIteratorTypes(op), getIndexingMaps(op), partitionedOperands,
        operandShardings, resultShardings, partitionMap, symbolTable, builder);
  }
};

/// llm.matmul: loops (batch..., m, n, k); k is a sum. The weight may be
/// shared by the batch, either operand transposed, and the bias indexed by n.
struct MatmulModel
    : shard::ShardingInterface::ExternalModel<MatmulModel, MatmulOp> {
  SmallVector<IteratorType> getLoopIteratorTypes(Operation *op) const {
    SmallVector<IteratorType> types(rankOf(op->getResult(0)),
                                    IteratorType::parallel);
    types.push_back(IteratorType::reduction);
    return types;
  }
  SmallVector<shard::ReductionKind>
  getReductionLoopIteratorKinds(Operation *) const {
    return {shard::ReductionKind::Sum};
  }
  SmallVector<AffineMap> getIndexingMaps(Operation *op) const {
    auto matmul = cast<MatmulOp>(op);
    MLIRContext *ctx = op->getContext();
    int64_t rank = rankOf(matmul.getResult());
    unsigned loops = unsigned(rank + 1);
    AffineExpr m = getAffineDimExpr(rank - 2, ctx),
               n = getAffineDimExpr(rank - 1, ctx),
               k = getAffineDimExpr(rank, ctx);
    // An operand's batch dimensions are the result's leading ones.
    auto operand = [&](Value v, AffineExpr rows, AffineExpr cols,
                       bool transposed) {
      SmallVector<AffineExpr> dims;
      int64_t batch = rankOf(v) - 2;
      for (int64_t i = rank - 2 - batch; i < rank - 2; ++i)
        dims.push_back(getAffineDimExpr(unsigned(i), ctx));
      dims.push_back(transposed ? cols : rows);
      dims.push_back(transposed ? rows : cols);
      return AffineMap::get(loops, 0, dims, ctx);
    };
    SmallVector<AffineMap> maps = {
        operand(matmul.getLhs(), m, k, matmul.getTransposeLhs()),
        operand(matmul.getRhs(), k, n, matmul.getTransposeRhs())};
    if (matmul.getBias())
      maps.push_back(AffineMap::get(loops, 0, {n}, ctx));
    SmallVector<AffineExpr> result;
    for (int64_t i = 0; i < rank; ++i)
      result.push_back(getAffineDimExpr(unsigned(i), ctx));
    maps.push_back(AffineMap::get(loops, 0, result, ctx));
    return maps;
  }
  /// The upstream choice from the neighbours' shardings. When the operands'
  /// splits conflict on one grid axis, one operand is gathered, as in
  /// Megatron's sequence parallelism: the one whose split would make k
  /// (the sum) split, else the activation (lhs). So a sequence-split input
  /// is gathered into a column-parallel GEMM or the LM head (the weight
  /// stays split), and a weight gradient keeps its output split rather than
  /// summing partial weight gradients over the sequence.
  FailureOr<shard::ShardingOption>
  getShardingOption(Operation *op, ArrayRef<shard::Sharding> operandShardings,
                    ArrayRef<shard::Sharding> resultShardings) const {
    FailureOr<shard::ShardingOption> option =
        shard::detail::defaultGetShardingOption(op, operandShardings,
                                                resultShardings);
    if (succeeded(option) || operandShardings.size() < 2 ||
        !operandShardings[0] || !operandShardings[1])
      return option;
    SmallVector<AffineMap> maps = getIndexingMaps(op);
    unsigned k = unsigned(rankOf(op->getResult(0)));
    auto splitsK = [&](unsigned operand) {
      for (auto [expr, axes] :
           llvm::zip(maps[operand].getResults(),
                     operandShardings[operand].getSplitAxes()))
        if (!axes.empty() && cast<AffineDimExpr>(expr).getPosition() == k)
          return true;
      return false;
    };
    std::vector<shard::Sharding> kept(operandShardings.begin(),
                                      operandShardings.end());
    kept[splitsK(1) ? 1 : 0] = shard::Sharding();
    return shard::detail::defaultGetShardingOption(op, kept, resultShardings);
  }
  /// The local matmul; with a split k its results are partial sums, which
  /// one all-reduce over k's grid axes completes.
  LogicalResult partition(Operation *op, ArrayRef<Value> partitionedOperands,
                          ArrayRef<shard::Sharding> operandShardings,
                          ArrayRef<shard::Sharding> resultShardings,
                          IRMapping &partitionMap,
                          SymbolTableCollection &symbolTable,
                          OpBuilder &builder) const {
    SmallVector<IteratorType> loops = getLoopIteratorTypes(op);
    SmallVector<AffineMap> maps = getIndexingMaps(op);
    shard::ShardingArray axes = shard::getGridAxisAssignmentForLoopIterators(
        operandShardings, resultShardings, loops, maps);
    bool splitK = shard::isAtLeastOneReductionIteratorSharded(loops, axes);
    // A bias added on every rank would be counted once per rank: a
    // row-parallel GEMM adds it once, after the sum (as Megatron's
    // RowParallelLinear does).
    auto matmul = cast<MatmulOp>(op);
    if (splitK && matmul.getBias()) {
      ImplicitLocOpBuilder b(op->getLoc(), builder);
      auto local = MatmulOp::create(
          b, partitionedOperands[0], partitionedOperands[1], Value(),
          matmul.getTransposeLhs(), matmul.getTransposeRhs());
      Value sum = shard::AllReduceOp::create(
          b, local, resultShardings[0].getGrid(),
          shard::getReductionGridAxes(loops, axes), shard::ReductionKind::Sum);
      auto biased = AddOp::create(b, sum, partitionedOperands[2]);
      local->setDiscardableAttrs(op->getDiscardableAttrDictionary());
      biased->setDiscardableAttrs(op->getDiscardableAttrDictionary());
      partitionMap.map(op->getResult(0), biased.getResult());
      return success();
    }
    return partitionSumReduction(op, loops, maps, partitionedOperands,
                                 operandShardings, resultShardings,
                                 partitionMap, symbolTable, builder);
  }
};

} // namespace

void mlir::llm::registerShardingModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, LLMDialect *) {
    MatmulOp::attachInterface<MatmulModel>(*ctx);
    AddOp::attachInterface<BroadcastBinaryModel<AddOp>>(*ctx);
    MulOp::attachInterface<BroadcastBinaryModel<MulOp>>(*ctx);
    GeluOp::attachInterface<shard::ElementwiseShardingInterface<GeluOp>>(*ctx);
    SiluOp::attachInterface<shard::ElementwiseShardingInterface<SiluOp>>(*ctx);
    SwigluOp::attachInterface<shard::ElementwiseShardingInterface<SwigluOp>>(
        *ctx);
    GeluGradOp::attachInterface<
        shard::ElementwiseShardingInterface<GeluGradOp>>(*ctx);
    SiluGradOp::attachInterface<
        shard::ElementwiseShardingInterface<SiluGradOp>>(*ctx);
    SumToOp::attachInterface<SumToModel>(*ctx);
  });
  registerLayerShardingModels(registry);
}
