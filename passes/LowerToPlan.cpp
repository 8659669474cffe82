//===- LowerToPlan.cpp - llm tensors to plan buffers and kernels ----------===//
//
// One walk over the function in program order: each tensor value gets a
// buffer, each op one kernel call (reshapes become views). Kernel names and
// their ins/outs order are the contract with runtime/executor.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "runtime/kernels/kernel_table.h"

#include "dialects/llm/IR/LLMOps.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/TypeSwitch.h"

#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "llmc-lower-to-plan"

namespace mlir::llm {
#define GEN_PASS_DEF_LOWERTOPLAN
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using llmc::kernels::kernel_name;
using llmc::kernels::KernelId;
using namespace mlir::llm;
using plan::BufferCategory;

namespace {

class PlanLowering {
public:
  PlanLowering(OpBuilder &b, ModuleOp module) : b(b), module(module) {}

  /// Lowers `func` after what is lowered already. With `prefix` (several
  /// functions into one plan, each its own program), the function's inputs
  /// and outputs are named "<prefix>.<name>"; parameters and KV caches of
  /// the same name share one buffer.
  LogicalResult lower(func::FuncOp func, StringRef prefix = "") {
    this->prefix = prefix.str();
    if (failed(declareArguments(func)))
      return failure();
    for (Operation &op : func.getBody().front()) {
      current = &op;
      if (auto ret = dyn_cast<func::ReturnOp>(op)) {
        nameOutputs(func, ret);
        continue;
      }
      if (failed(lowerOp(&op)))
        return failure();
    }
    return success();
  }

private:
  //===--------------------------------------------------------------------===//
  // Buffers
  //===--------------------------------------------------------------------===//

  Value newBuffer(Type tensorType, StringRef name, BufferCategory category) {
    auto tensor = cast<RankedTensorType>(tensorType);
    auto type = MemRefType::get(tensor.getShape(), tensor.getElementType());
    return plan::BufferOp::create(b, b.getUnknownLoc(), type, name, category,
                                  IntegerAttr())
        .getBuffer();
  }

  /// A buffer for an op result; its category follows the op's role.
  Value resultBuffer(Value result) {
    StringRef role = "forward";
    if (auto attr = result.getDefiningOp()->getAttrOfType<StringAttr>(
            LLMDialect::kRoleAttrName))
      role = attr.getValue();
    Value buffer = newBuffer(result.getType(), "",
                             role == "forward" ? BufferCategory::activation
                                               : BufferCategory::temporary);
    buffers[result] = buffer;
    return buffer;
  }

  /// A buffer of `shape` for statistics a forward kernel saves for backward.
  Value statsBuffer(ArrayRef<int64_t> shape) {
    return newBuffer(RankedTensorType::get(shape, b.getF32Type()), "",
                     BufferCategory::activation);
  }

  std::string prefixed(StringAttr name) const {
    return prefix.empty() ? name.str() : prefix + "." + name.str();
  }

  /// The buffer of a parameter or cache that several programs share.
  Value sharedBuffer(Type type, StringAttr name, BufferCategory category) {
    Value &buffer = shared[name.getValue()];
    if (!buffer)
      buffer = newBuffer(type, name, category);
    return buffer;
  }

  LogicalResult declareArguments(func::FuncOp func) {
    for (BlockArgument arg : func.getArguments()) {
      unsigned i = arg.getArgNumber();
      if (!isa<RankedTensorType>(arg.getType()))
        return func.emitError("llmc-lower-to-plan: argument ")
               << i << " has type " << arg.getType()
               << "; plans take ranked tensors only";
      auto named = [&](StringRef attr) {
        return func.getArgAttrOfType<StringAttr>(i, attr);
      };
      Value buffer;
      if (StringAttr name = named(LLMDialect::kInputAttrName))
        buffer =
            newBuffer(arg.getType(), prefixed(name), BufferCategory::input);
      else if (StringAttr name = named(LLMDialect::kParamAttrName))
        buffer = sharedBuffer(arg.getType(), name, BufferCategory::param);
      else if (StringAttr name = named(LLMDialect::kConstAttrName))
        // Loaded and saved with the weights; no gradient or moments.
        buffer = sharedBuffer(arg.getType(), name, BufferCategory::param);
      else if (StringAttr name = named(kKVCacheAttrName))
        buffer = sharedBuffer(arg.getType(), name, BufferCategory::kv_cache);
      else if (StringAttr name = named(kAdamMAttrName))
        buffer = newBuffer(arg.getType(), (name.getValue() + ".exp_avg").str(),
                           BufferCategory::optimizer_state);
      else if (StringAttr name = named(kAdamVAttrName))
        buffer =
            newBuffer(arg.getType(), (name.getValue() + ".exp_avg_sq").str(),
                      BufferCategory::optimizer_state);
      else
        buffer = newBuffer(arg.getType(), "", BufferCategory::input);
      // A split parameter (or moment) keeps how it is split, so the runtime
      // can load and save the full Hugging Face tensor.
      if (Attribute shard = func.getArgAttr(i, LLMDialect::kShardAttrName))
        buffer.getDefiningOp()->setAttr(kPlanShardAttrName, shard);
      buffers[arg] = buffer;
    }
    return success();
  }

  /// Names the buffers the function returns: outputs keep their name, and
  /// gradients (of a `_grad` function) take their parameter's name. Each is
  /// its own live-out buffer: a value that is a view, an argument, or
  /// returned twice (two parameters with one gradient) is copied into one.
  void nameOutputs(func::FuncOp func, func::ReturnOp ret) {
    DenseSet<Operation *> named;
    for (auto [i, value] : llvm::enumerate(ret.getOperands())) {
      StringAttr name =
          func.getResultAttrOfType<StringAttr>(i, kOutputAttrName);
      if (name && !prefix.empty())
        name = b.getStringAttr(prefixed(name));
      BufferCategory category = BufferCategory::output;
      if (!name) {
        name = func.getResultAttrOfType<StringAttr>(i, kGradOfAttrName);
        category = BufferCategory::grad;
      }
      if (!name)
        continue;
      auto buffer = buffers[value].getDefiningOp<plan::BufferOp>();
      bool ownBuffer =
          buffer && !isa<BlockArgument>(value) && named.insert(buffer).second;
      if (!ownBuffer) {
        Value copy = newBuffer(value.getType(), name, category);
        kernel(kernel_name(KernelId::copy), {buffers[value]}, {copy});
        buffer = copy.getDefiningOp<plan::BufferOp>();
      }
      buffer.setName(name);
      buffer.setCategory(category);
      buffer.setLiveOut(true);
    }
  }

  //===--------------------------------------------------------------------===//
  // Kernels
  //===--------------------------------------------------------------------===//

  void kernel(StringRef callee, ValueRange ins, ValueRange outs,
              ArrayRef<NamedAttribute> params = {}) {
    auto call = plan::KernelOp::create(b, current->getLoc(), callee, ins, outs,
                                       b.getDictionaryAttr(params));
    // Kernels keep the layer and role of the op they come from.
    for (StringRef name :
         {LLMDialect::kLayerAttrName, LLMDialect::kRoleAttrName})
      if (Attribute attr = current->getAttr(name))
        call->setAttr(name, attr);
  }

  SmallVector<Value> lookup(ValueRange values) {
    return llvm::map_to_vector(values, [&](Value v) { return buffers[v]; });
  }

  NamedAttribute param(StringRef name, Attribute value) {
    return b.getNamedAttr(name, value);
  }

  /// A slice the plan's kernels take: static offsets and nonzero strides
  /// (a negative one walks the axis backwards from its offset).
  template <typename SliceOp> static LogicalResult checkSlice(SliceOp s) {
    if (!s.getOffsets().empty() || !s.getStrides().empty() ||
        llvm::is_contained(s.getStaticStrides(), 0))
      return s.emitOpError("only static slices with nonzero strides lower "
                           "to plans");
    return success();
  }
  /// Its kernel's parameters: offsets, and strides unless all are 1.
  template <typename SliceOp>
  SmallVector<NamedAttribute> sliceParams(SliceOp s) {
    SmallVector<NamedAttribute> params = {
        param("offsets", s.getStaticOffsetsAttr())};
    if (!s.hasUnitStride())
      params.push_back(param("strides", s.getStaticStridesAttr()));
    return params;
  }

  /// Elements of every dimension but the last: the rows a norm works on.
  static int64_t rows(Value tensor) {
    auto type = cast<RankedTensorType>(tensor.getType());
    return type.getNumElements() / type.getShape().back();
  }

  LogicalResult lowerOp(Operation *op);

  SmallVector<Value> resultBuffers(Operation *op) {
    return llvm::map_to_vector(op->getResults(),
                               [&](Value r) { return resultBuffer(r); });
  }

  /// A norm's forward kernel: its result plus `numStats` per-row statistics
  /// that the backward kernel of the same (input, weight) will read.
  LogicalResult lowerNorm(Operation *op, Value input, Value weight,
                          FloatAttr epsilon, StringRef callee,
                          unsigned numStats) {
    SmallVector<Value> outs = resultBuffers(op);
    SmallVector<Value, 2> &stats = savedStats[op->getResult(0)];
    for (unsigned i = 0; i < numStats; ++i)
      stats.push_back(statsBuffer({rows(input)}));
    llvm::append_range(outs, stats);
    normResults[{input, weight}] = op->getResult(0);
    kernel(callee, lookup(op->getOperands()), outs,
           {param("epsilon", epsilon)});
    return success();
  }

  /// A norm's backward kernel, reading its forward kernel's statistics.
  LogicalResult lowerNormGrad(Operation *op, Value input, Value weight,
                              FloatAttr epsilon, StringRef callee,
                              StringRef forwardOp) {
    Value forward = normResults.lookup({input, weight});
    if (!forward)
      return op->emitOpError("has no forward ")
             << forwardOp << " to read its statistics from";
    SmallVector<Value> ins = lookup(op->getOperands());
    llvm::append_range(ins, savedStats[forward]);
    kernel(callee, ins, resultBuffers(op), {param("epsilon", epsilon)});
    return success();
  }

  /// The ranks of a mesh axis: the one-dimensional shard.grid of its name.
  FailureOr<int64_t> axisSize(StringAttr axis) {
    auto grid = module.lookupSymbol<shard::GridOp>(axis);
    if (grid && grid.getRank() == 1 && grid.getShape()[0] > 0)
      return grid.getShape()[0];
    return current->emitOpError("uses mesh axis '")
           << axis.getValue() << "', which no one-dimensional shard.grid @"
           << axis.getValue() << " sizes";
  }

  /// The kernel parameter naming a vocab-parallel axis, if there is one.
  SmallVector<NamedAttribute> vocabParallel(StringAttr axis) {
    if (!axis)
      return {};
    return {param("vocab_parallel_axis", axis)};
  }

  /// Megatron's vocab-parallel cross-entropy without gathering logits: each
  /// rank reduces its vocabulary block to (max, sum of exp, target logit) per
  /// token, one all-gather shares those 3 numbers, and every rank combines
  /// them into the loss and the log-sum-exp its backward reads.
  LogicalResult lowerVocabParallelCrossEntropy(CrossEntropyOp c,
                                               StringAttr axis) {
    FailureOr<int64_t> ranks = axisSize(axis);
    if (failed(ranks))
      return failure();
    int64_t tokens = rows(c.getLogits());
    auto f32 = [&](ArrayRef<int64_t> shape) {
      return RankedTensorType::get(shape, b.getF32Type());
    };
    Value partial = newBuffer(f32({tokens, 3}), "", BufferCategory::temporary);
    Value gathered =
        newBuffer(f32({*ranks * tokens, 3}), "", BufferCategory::temporary);
    kernel(kernel_name(KernelId::cross_entropy_vp_partial),
           lookup(c->getOperands()), {partial}, vocabParallel(axis));
    kernel(kernel_name(KernelId::all_gather), {partial}, {gathered},
           {param("axis", axis), param("dim", b.getI64IntegerAttr(0))});
    Value loss = resultBuffer(c.getResult());
    Value lse = statsBuffer({tokens});
    savedStats[c.getResult()] = {lse};
    crossEntropyResults[{c.getLogits(), c.getTargets()}] = c.getResult();
    kernel(kernel_name(KernelId::cross_entropy_vp_finish), {gathered},
           {loss, lse});
    return success();
  }

  OpBuilder &b;
  ModuleOp module;
  std::string prefix;
  /// Parameter and KV-cache buffers by name, shared by every program.
  llvm::StringMap<Value> shared;
  /// Forward cross-entropies by (logits, targets), for their gradient ops.
  DenseMap<std::pair<Value, Value>, Value> crossEntropyResults;
  /// The op being lowered.
  Operation *current = nullptr;
  DenseMap<Value, Value> buffers;
  /// Statistics forward kernels saved, keyed by the forward result.
  DenseMap<Value, SmallVector<Value, 2>> savedStats;
  /// Forward layer norms by (input, weight), for their gradient ops.
  DenseMap<std::pair<Value, Value>, Value> normResults;
};

LogicalResult PlanLowering::lowerOp(Operation *op) {
  auto simple = [&](StringRef callee, ArrayRef<NamedAttribute> params = {}) {
    kernel(callee, lookup(op->getOperands()), resultBuffers(op), params);
    return success();
  };
  auto gelu = [&](GeluApproximation a) {
    return param("approximate", b.getStringAttr(stringifyGeluApproximation(a)));
  };
  auto attentionParams = [&](bool causal, double scale) {
    return SmallVector<NamedAttribute>{
        param("causal", b.getBoolAttr(causal)),
        param("scale", b.getF64FloatAttr(scale))};
  };

  return TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](EmbeddingOp e) {
        return simple(kernel_name(KernelId::embedding_forward),
                      vocabParallel(e.getVocabParallelAxisAttr()));
      })
      .Case([&](EmbeddingGradOp e) {
        return simple(kernel_name(KernelId::embedding_backward),
                      vocabParallel(e.getVocabParallelAxisAttr()));
      })
      .Case([&](AllReduceOp c) {
        return simple(kernel_name(KernelId::all_reduce_sum),
                      {param("axis", c.getAxisAttr())});
      })
      .Case([&](CopyToParallelOp c) {
        // The identity: its backward dual is where the communication is.
        auto tensor = c.getType();
        buffers[c.getResult()] = plan::ViewOp::create(
            b, c.getLoc(),
            MemRefType::get(tensor.getShape(), tensor.getElementType()),
            buffers[c.getInput()]);
        return success();
      })
      .Case<AllGatherOp, ReduceScatterOp, ScatterToParallelOp>([&](auto c) {
        return simple(
            c->getName().stripDialect(),
            {param("axis", c.getAxisAttr()), param("dim", c.getDimAttr())});
      })
      .Case([&](MatmulOp m) {
        return simple(
            kernel_name(KernelId::matmul),
            {param("transpose_lhs", b.getBoolAttr(m.getTransposeLhs())),
             param("transpose_rhs", b.getBoolAttr(m.getTransposeRhs()))});
      })
      .Case([&](UnaryOp u) {
        return simple(kernel_name(KernelId::unary),
                      {param("kind", u.getKindAttr())});
      })
      .Case([&](BinaryOp o) {
        return simple(kernel_name(KernelId::binary),
                      {param("kind", o.getKindAttr())});
      })
      .Case([&](WhereOp) { return simple(kernel_name(KernelId::where)); })
      .Case([&](ReduceOp r) {
        return simple(
            kernel_name(KernelId::reduce),
            {param("kind", r.getKindAttr()), param("axes", r.getAxesAttr())});
      })
      .Case([&](AddOp) { return simple(kernel_name(KernelId::add)); })
      .Case([&](MulOp) { return simple(kernel_name(KernelId::mul)); })
      .Case([&](SumToOp) { return simple(kernel_name(KernelId::sum_to)); })
      .Case([&](GeluOp g) {
        return simple(kernel_name(KernelId::gelu_forward),
                      {gelu(g.getApproximate())});
      })
      .Case([&](GeluGradOp g) {
        return simple(kernel_name(KernelId::gelu_backward),
                      {gelu(g.getApproximate())});
      })
      .Case([&](SiluOp) { return simple(kernel_name(KernelId::silu_forward)); })
      .Case([&](SiluGradOp) {
        return simple(kernel_name(KernelId::silu_backward));
      })
      .Case([&](SwigluOp) {
        return simple(kernel_name(KernelId::swiglu_forward));
      })
      .Case([&](SwigluGradOp) {
        return simple(kernel_name(KernelId::swiglu_backward));
      })
      .Case([&](LayerNormOp n) {
        // Mean and rstd, saved for layernorm_backward.
        return lowerNorm(n, n.getInput(), n.getWeight(), n.getEpsilonAttr(),
                         kernel_name(KernelId::layernorm_forward), 2);
      })
      .Case([&](LayerNormGradOp g) {
        return lowerNormGrad(g, g.getInput(), g.getWeight(), g.getEpsilonAttr(),
                             kernel_name(KernelId::layernorm_backward),
                             LayerNormOp::getOperationName());
      })
      .Case([&](RmsNormOp n) {
        return lowerNorm(n, n.getInput(), n.getWeight(), n.getEpsilonAttr(),
                         kernel_name(KernelId::rmsnorm_forward), 1);
      })
      .Case([&](RmsNormGradOp g) {
        return lowerNormGrad(g, g.getInput(), g.getWeight(), g.getEpsilonAttr(),
                             kernel_name(KernelId::rmsnorm_backward),
                             RmsNormOp::getOperationName());
      })
      .Case([&](SoftmaxOp s) -> LogicalResult {
        if (int64_t(s.getAxis()) != -1 &&
            int64_t(s.getAxis()) != s.getType().getRank() - 1)
          return s.emitOpError("lowers only along the last axis");
        return simple(kernel_name(KernelId::softmax_forward));
      })
      .Case([&](SoftmaxGradOp s) -> LogicalResult {
        if (int64_t(s.getAxis()) != -1 &&
            int64_t(s.getAxis()) != s.getType().getRank() - 1)
          return s.emitOpError("lowers only along the last axis");
        return simple(kernel_name(KernelId::softmax_backward));
      })
      .Case([&](AttentionOp a) {
        auto q = a.getQuery().getType();
        Value out = resultBuffer(a.getResult());
        Value lse = statsBuffer(q.getShape().drop_back());
        savedStats[a.getResult()] = {lse};
        kernel(kernel_name(KernelId::attention_forward),
               lookup(a->getOperands()), {out, lse},
               attentionParams(a.getCausal(), a.getScaleOrDefault()));
        return success();
      })
      .Case([&](AttentionGradOp g) -> LogicalResult {
        auto forward = g.getOutput().getDefiningOp<AttentionOp>();
        if (!forward)
          return g.emitOpError("output must come from an llm.attention");
        SmallVector<Value> ins = lookup(g->getOperands());
        llvm::append_range(ins, savedStats[forward.getResult()]);
        kernel(kernel_name(KernelId::attention_backward), ins, resultBuffers(g),
               attentionParams(g.getCausal(), g.getScaleOrDefault()));
        return success();
      })
      .Case([&](KVCacheWriteOp w) {
        // In place: the written cache is the cache's own buffer.
        Value cache = buffers[w.getCache()];
        buffers[w.getResult()] = cache;
        kernel(kernel_name(KernelId::kv_cache_write),
               lookup({w.getInput(), w.getBlockTable(), w.getPositions()}),
               {cache});
        return success();
      })
      .Case([&](PagedAttentionOp a) {
        return simple(
            kernel_name(KernelId::paged_attention),
            {param("scale", b.getF64FloatAttr(a.getScaleOrDefault()))});
      })
      .Case([&](RopeAtOp r) {
        return simple(kernel_name(KernelId::rope_at),
                      {param("theta", r.getThetaAttr())});
      })
      .Case([&](LastTokenOp) {
        return simple(kernel_name(KernelId::last_token));
      })
      .Case([&](RopeOp r) {
        return simple(r.getInverse() ? kernel_name(KernelId::rope_backward)
                                     : kernel_name(KernelId::rope_forward),
                      {param("theta", r.getThetaAttr())});
      })
      .Case([&](ReshapeOp r) {
        auto tensor = r.getType();
        buffers[r.getResult()] = plan::ViewOp::create(
            b, r.getLoc(),
            MemRefType::get(tensor.getShape(), tensor.getElementType()),
            buffers[r.getInput()]);
        return success();
      })
      .Case([&](TransposeOp t) {
        return simple(kernel_name(KernelId::permute),
                      {param("permutation", t.getPermutationAttr())});
      })
      .Case([&](SplitOp s) {
        return simple(kernel_name(KernelId::split),
                      {param("axis", s.getAxisAttr())});
      })
      .Case([&](ConcatOp c) {
        return simple(kernel_name(KernelId::concat),
                      {param("axis", c.getAxisAttr())});
      })
      .Case([&](CrossEntropyOp c) -> LogicalResult {
        StringAttr axis = c.getVocabParallelAxisAttr();
        if (!axis)
          return simple(kernel_name(KernelId::cross_entropy_forward));
        return lowerVocabParallelCrossEntropy(c, axis);
      })
      .Case([&](CrossEntropyGradOp g) -> LogicalResult {
        StringAttr axis = g.getVocabParallelAxisAttr();
        if (!axis)
          return simple(kernel_name(KernelId::cross_entropy_backward));
        Value forward =
            crossEntropyResults.lookup({g.getLogits(), g.getTargets()});
        if (!forward)
          return g.emitOpError("has no forward llm.cross_entropy to read its "
                               "log-sum-exp from");
        SmallVector<Value> ins = lookup(g->getOperands());
        llvm::append_range(ins, savedStats[forward]);
        kernel(kernel_name(KernelId::cross_entropy_vp_backward), ins,
               resultBuffers(g), vocabParallel(axis));
        return success();
      })
      .Case([&](GradNormOp n) {
        if (!n.getAxis())
          return simple(kernel_name(KernelId::grad_norm));
        SmallVector<int64_t> sharded(n.getShardedAttr().asArrayRef());
        return simple(kernel_name(KernelId::grad_norm),
                      {param("axis", n.getAxisAttr()),
                       param("sharded", b.getDenseI64ArrayAttr(sharded))});
      })
      .Case([&](AccumulateGradOp a) {
        // The running sum lives across the microbatches of a step.
        kernel(kernel_name(KernelId::accumulate_grad), lookup({a.getGrad()}),
               resultBuffers(a));
        buffers[a.getSum()].getDefiningOp<plan::BufferOp>().setLiveOut(true);
        return success();
      })
      .Case([&](AdamWOp a) {
        // In place: the new parameter and moments reuse the old buffers.
        Value param = buffers[a.getParam()], m = buffers[a.getM()],
              v = buffers[a.getV()];
        buffers[a.getNewParam()] = param;
        buffers[a.getNewM()] = m;
        buffers[a.getNewV()] = v;
        if (auto grad = buffers[a.getGrad()].getDefiningOp<plan::BufferOp>()) {
          grad.setCategory(BufferCategory::grad);
          grad.setName(param.getDefiningOp<plan::BufferOp>().getName());
        }
        kernel(kernel_name(KernelId::adamw),
               lookup({a.getGrad(), a.getGradNorm()}), {param, m, v},
               {this->param("decay", b.getBoolAttr(a.getDecay()))});
        return success();
      })
      .Case([&](arith::ConstantOp c) -> LogicalResult {
        auto dense = dyn_cast<SplatElementsAttr>(c.getValue());
        if (!dense || !isa<FloatType>(dense.getElementType()))
          return c.emitOpError("only float splat constants lower to plans");
        return simple(kernel_name(KernelId::fill),
                      {param("value", dense.getSplatValue<FloatAttr>())});
      })
      .Case([&](tensor::ExtractSliceOp s) -> LogicalResult {
        if (failed(checkSlice(s)))
          return failure();
        return simple(kernel_name(KernelId::extract_slice), sliceParams(s));
      })
      .Case([&](tensor::InsertSliceOp s) -> LogicalResult {
        if (failed(checkSlice(s)))
          return failure();
        return simple(kernel_name(KernelId::insert_slice), sliceParams(s));
      })
      .Default([](Operation *op) {
        return op->emitOpError("has no plan lowering");
      });
}

struct LowerToPlanPass : mlir::llm::impl::LowerToPlanBase<LowerToPlanPass> {
  using Base::Base;

  void runOnOperation() override {
    if (!programs.empty())
      return lowerPrograms();
    ModuleOp module = getOperation();
    auto func = module.lookupSymbol<func::FuncOp>(funcName);
    if (!func || !func.getBody().hasOneBlock()) {
      module.emitError("llmc-lower-to-plan: no single-block function @")
          << funcName;
      return signalPassFailure();
    }
    OpBuilder b(func);
    auto program = func::FuncOp::create(b, func.getLoc(), funcName,
                                        b.getFunctionType({}, {}));
    b.setInsertionPointToStart(program.addEntryBlock());
    PlanLowering lowering(b, module);
    LLVM_DEBUG(llvm::dbgs()
               << "[" DEBUG_TYPE "] @" << funcName << " to one program\n");
    if (failed(lowering.lower(func)))
      return signalPassFailure();
    func::ReturnOp::create(b, func.getLoc());
    func.erase();
  }

  /// `programs`: each function in turn into the one plan `@<func-name>`,
  /// every kernel tagged with its program (plan.program), which fusion
  /// never crosses and the plan file's programs are cut by.
  void lowerPrograms() {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> funcs;
    for (const std::string &name : programs) {
      auto func = module.lookupSymbol<func::FuncOp>(name);
      if (!func || !func.getBody().hasOneBlock()) {
        module.emitError("llmc-lower-to-plan: no single-block function @")
            << name;
        return signalPassFailure();
      }
      funcs.push_back(func);
    }
    OpBuilder b(funcs.front());
    auto program = func::FuncOp::create(b, funcs.front().getLoc(), funcName,
                                        b.getFunctionType({}, {}));
    Block *body = program.addEntryBlock();
    b.setInsertionPointToStart(body);
    PlanLowering lowering(b, module);
    for (func::FuncOp func : funcs) {
      LLVM_DEBUG(llvm::dbgs()
                 << "[" DEBUG_TYPE "] program '" << func.getSymName()
                 << "' of @" << funcName << "\n");
      if (failed(lowering.lower(func, func.getSymName())))
        return signalPassFailure();
      for (plan::KernelOp k : body->getOps<plan::KernelOp>())
        if (!k->hasAttr(plan::PlanDialect::kProgramAttrName))
          k->setAttr(plan::PlanDialect::kProgramAttrName,
                     b.getStringAttr(func.getSymName()));
    }
    func::ReturnOp::create(b, funcs.front().getLoc());
    for (func::FuncOp func : funcs)
      func.erase();
  }
};

} // namespace
