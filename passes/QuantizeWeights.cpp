//===- QuantizeWeights.cpp - INT8 weight-only GEMMs of an inference plan --===//
//
// Decoding reads every weight once per token, so its time is the bytes of
// weights it reads: INT8 weights, quantized per output channel when the
// plan is loaded, cut them by four. Each parameter that only ever feeds
// GEMMs as their weight becomes an i8 buffer with a buffer of channel scales
// beside it (`<name>.scale`, made by the runtime when it quantizes the fp32
// checkpoint), and its GEMMs become matmul_i8w. Parameters with other users
// (GPT-2's tied embedding, looked up as a table) stay fp32.
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

/// The GEMMs that read `weight` as their right operand, or nothing when it
/// has any other user, is not a matrix, or its GEMMs disagree on its layout.
static std::optional<SmallVector<KernelOp>> gemmsOf(BufferOp weight) {
  if (weight.getCategory() != BufferCategory::param ||
      weight.getType().getRank() != 2 ||
      !weight.getType().getElementType().isF32())
    return std::nullopt;
  SmallVector<KernelOp> gemms;
  std::optional<bool> transposed;
  for (Operation *user : weight->getUsers()) {
    auto k = dyn_cast<KernelOp>(user);
    if (!k || k.getCallee() != kernel_name(KernelId::matmul) ||
        k.getIns().size() < 2 || k.getIns()[1] != weight.getBuffer() ||
        llvm::is_contained(k.getIns().drop_front(2), weight.getBuffer()) ||
        k.getIns()[0] == weight.getBuffer())
      return std::nullopt;
    auto params = k.getParams();
    auto lhs = params.getAs<BoolAttr>("transpose_lhs");
    auto rhs = params.getAs<BoolAttr>("transpose_rhs");
    if (!lhs || !rhs || lhs.getValue() ||
        (transposed && *transposed != rhs.getValue()))
      return std::nullopt;
    transposed = rhs.getValue();
    gemms.push_back(k);
  }
  if (gemms.empty())
    return std::nullopt;
  return gemms;
}

namespace {

struct QuantizeWeightsPass
    : mlir::llm::impl::QuantizeWeightsBase<QuantizeWeightsPass> {
  void runOnOperation() override {
    SmallVector<BufferOp> weights;
    getOperation().walk([&](BufferOp b) { weights.push_back(b); });
    OpBuilder b(&getContext());
    for (BufferOp weight : weights) {
      std::optional<SmallVector<KernelOp>> gemms = gemmsOf(weight);
      if (!gemms)
        continue;
      MemRefType type = weight.getType();
      bool transposed =
          (*gemms)[0].getParams().getAs<BoolAttr>("transpose_rhs").getValue();
      // Output channels: the rows of a (N, K) weight, else its columns.
      int64_t channels = type.getShape()[transposed ? 0 : 1];
      LLVM_DEBUG(llvm::dbgs() << "[" DEBUG_TYPE "] '" << weight.getName()
                              << "' " << type << ": " << gemms->size()
                              << " GEMM(s), " << channels << " channels\n");
      b.setInsertionPoint(weight);
      auto q = BufferOp::create(
          b, weight.getLoc(),
          MemRefType::get(type.getShape(), b.getIntegerType(8)),
          weight.getName(), BufferCategory::param, IntegerAttr());
      q->setDiscardableAttrs(weight->getDiscardableAttrDictionary());
      auto scale = BufferOp::create(
          b, weight.getLoc(), MemRefType::get({channels}, b.getF32Type()),
          (weight.getName() + ".scale").str(), BufferCategory::weight_scale,
          IntegerAttr());
      for (KernelOp gemm : *gemms) {
        SmallVector<Value> ins = {gemm.getIns()[0], q.getBuffer(),
                                  scale.getBuffer()};
        llvm::append_range(ins, gemm.getIns().drop_front(2)); // a bias
        b.setInsertionPoint(gemm);
        auto quantized = KernelOp::create(
            b, gemm.getLoc(), kernel_name(KernelId::matmul_i8w), ins,
            gemm.getOuts(), gemm.getParams());
        quantized->setDiscardableAttrs(gemm->getDiscardableAttrDictionary());
        gemm.erase();
      }
      weight.erase();
    }
  }
};

} // namespace
