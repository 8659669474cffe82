//===- QuantizeWeights.cpp - Weight-only GEMMs of an inference plan ------===//
//
// Decoding reads every weight once per token, so its time is the bytes of
// weights it reads: INT8 weights, quantized per output channel when the
// plan is loaded, cut them by four. Each parameter that only ever feeds
// GEMMs as their weight becomes an i8 buffer with a buffer of channel scales
// beside it (`<name>.scale`, made by the runtime when it quantizes the fp32
// checkpoint), and its GEMMs become matmul_i8w. A parameter with other users
// (GPT-2's tied embedding, looked up as a table) stays fp32 for them, and its
// GEMMs read an int8 copy (`<name>.int8`) the runtime makes from it.
// dtype=bf16 does the same with bf16 weights (rounded at load, no scales)
// and matmul_bf16w: half the bytes, for what the rounding costs in accuracy;
// with math=bf16 their activations are rounded too (bf16-mixed inference,
// the GEMMs of bf16-mixed training).
// dtype=fp32 keeps the weights and only stores GPT-2's (K, N) ones (N, K)
// (matmul_f32w), the layout a one-row GEMV streams.
//
// -debug-only=llmc-quantize-weights names each weight it quantizes.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "runtime/kernels/kernel_table.h"

#include "mlir/IR/Builders.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "llmc-quantize-weights"

namespace mlir::llm {
#define GEN_PASS_DEF_QUANTIZEWEIGHTS
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::plan;
using llmc::kernels::kernel_name;
using llmc::kernels::KernelId;

/// The GEMMs that read a weight as their right operand, and whether it has
/// other users (GPT-2's tied embedding, also looked up as a table).
struct WeightUses {
  SmallVector<KernelOp> gemms;
  bool shared = false;
};

/// `weight`'s GEMM uses, or nothing when it is not an fp32 matrix, no GEMM
/// reads it as its weight, or its GEMMs disagree on its layout.
static std::optional<WeightUses> usesOf(BufferOp weight) {
  if (weight.getCategory() != BufferCategory::param ||
      weight.getType().getRank() != 2 ||
      !weight.getType().getElementType().isF32())
    return std::nullopt;
  WeightUses uses;
  std::optional<bool> transposed;
  for (Operation *user : weight->getUsers()) {
    auto k = dyn_cast<KernelOp>(user);
    if (!k || k.getCallee() != kernel_name(KernelId::matmul) ||
        k.getIns().size() < 2 || k.getIns()[1] != weight.getBuffer() ||
        llvm::is_contained(k.getIns().drop_front(2), weight.getBuffer()) ||
        k.getIns()[0] == weight.getBuffer()) {
      uses.shared = true;
      continue;
    }
    auto params = k.getParams();
    auto lhs = params.getAs<BoolAttr>("transpose_lhs");
    auto rhs = params.getAs<BoolAttr>("transpose_rhs");
    if (!lhs || !rhs || lhs.getValue()) {
      uses.shared = true;
      continue;
    }
    if (transposed && *transposed != rhs.getValue())
      return std::nullopt;
    transposed = rhs.getValue();
    uses.gemms.push_back(k);
  }
  if (uses.gemms.empty())
    return std::nullopt;
  return uses;
}

namespace {

struct QuantizeWeightsPass
    : mlir::llm::impl::QuantizeWeightsBase<QuantizeWeightsPass> {
  using QuantizeWeightsBase::QuantizeWeightsBase;

  void runOnOperation() override {
    if (dtype != "int8" && dtype != "bf16" && dtype != "fp32") {
      getOperation().emitError("llmc-quantize-weights: dtype '")
          << dtype << "': expected int8, bf16 or fp32";
      return signalPassFailure();
    }
    if (math != "fp32" && !(math == "bf16" && dtype == "bf16")) {
      getOperation().emitError("llmc-quantize-weights: math '")
          << math << "': expected fp32, or bf16 with dtype bf16";
      return signalPassFailure();
    }
    const bool bf16 = dtype == "bf16";
    SmallVector<BufferOp> weights;
    getOperation().walk([&](BufferOp b) { weights.push_back(b); });
    OpBuilder b(&getContext());
    for (BufferOp weight : weights) {
      std::optional<WeightUses> uses = usesOf(weight);
      if (!uses)
        continue;
      SmallVector<KernelOp> *gemms = &uses->gemms;
      MemRefType type = weight.getType();
      bool transposed =
          (*gemms)[0].getParams().getAs<BoolAttr>("transpose_rhs").getValue();
      if (dtype == "fp32") {
        // fp32 weights change only their storage: a (K, N) weight read by
        // GEMMs alone is transposed to (N, K) at load, in place, so the
        // decode GEMV reads each output's weights contiguously.
        if (transposed || uses->shared)
          continue;
        for (KernelOp gemm : *gemms)
          gemm.setCalleeAttr(
              b.getStringAttr(kernel_name(KernelId::matmul_f32w)));
        continue;
      }
      // Output channels: the rows of a (N, K) weight, else its columns.
      int64_t channels = type.getShape()[transposed ? 0 : 1];
      LLVM_DEBUG(llvm::dbgs()
                 << "[" DEBUG_TYPE "] '" << weight.getName() << "' " << type
                 << ": " << gemms->size() << " GEMM(s), " << channels
                 << " channels" << (uses->shared ? ", a copy" : "") << "\n");
      // A weight with other users stays fp32 for them; its GEMMs read an
      // int8 (bf16) copy made from it at load.
      b.setInsertionPoint(weight);
      std::string name = weight.getName().str();
      if (uses->shared)
        name += "." + dtype;
      Type element = bf16 ? Type(b.getBF16Type()) : b.getIntegerType(8);
      auto q = BufferOp::create(
          b, weight.getLoc(), MemRefType::get(type.getShape(), element), name,
          uses->shared ? BufferCategory::weight_copy : BufferCategory::param,
          IntegerAttr());
      if (!uses->shared)
        q->setDiscardableAttrs(weight->getDiscardableAttrDictionary());
      SmallVector<Value> scales;
      if (!bf16)
        scales.push_back(
            BufferOp::create(
                b, weight.getLoc(), MemRefType::get({channels}, b.getF32Type()),
                name + ".scale", BufferCategory::weight_scale, IntegerAttr())
                .getBuffer());
      for (KernelOp gemm : *gemms) {
        SmallVector<Value> ins = {gemm.getIns()[0], q.getBuffer()};
        llvm::append_range(ins, scales);
        llvm::append_range(ins, gemm.getIns().drop_front(2)); // a bias
        b.setInsertionPoint(gemm);
        NamedAttrList params(gemm.getParams());
        if (math == "bf16")
          params.set("math", b.getStringAttr("bf16"));
        auto quantized = KernelOp::create(
            b, gemm.getLoc(),
            kernel_name(bf16 ? KernelId::matmul_bf16w : KernelId::matmul_i8w),
            ins, gemm.getOuts(), params.getDictionary(&getContext()));
        quantized->setDiscardableAttrs(gemm->getDiscardableAttrDictionary());
        gemm.erase();
      }
      if (!uses->shared)
        weight.erase();
    }
  }
};

} // namespace
