//===- LLMBase.td - The llm dialect and its type constraints -*- tablegen -*-===//
//
// The `llm` dialect holds transformer language models at tensor level: the
// GPT-2 and LLaMA families on one device, before sharding and lowering.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_DIALECT_LLM_BASE
#define LLMC_DIALECT_LLM_BASE

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def LLM_Dialect : Dialect {
  let name = "llm";
  let summary = "Tensor-level ops of transformer language models";
  let description = [{
    The `llm` dialect describes GPT-2 and LLaMA style models as a graph of
    tensor ops (embedding lookups, linear layers, norms, attention, losses).
    Parameters are function arguments that carry their Hugging Face names in
    the `llm.param` argument attribute, so checkpoints map one to one.

    Ops may carry the discardable attribute `llm.layer` (the index of the
    transformer layer they belong to), which later passes use to cut pipeline
    stages, pick recomputation and attribute costs.

    Collectives name a mesh axis (`axis = "tp"`); the module sizes each axis
    with an upstream `shard.grid` of that name, e.g.
    `shard.grid @tp(shape = 2)`.
  }];
  let cppNamespace = "::mlir::llm";
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    /// Argument attribute naming a parameter in Hugging Face terms.
    static constexpr llvm::StringLiteral kParamAttrName = "llm.param";
    /// Argument attribute naming a constant the program reads (an imported
    /// graph's folded mask or table, PyTorch's buffers): loaded with the
    /// parameters by name, never differentiated nor updated.
    static constexpr llvm::StringLiteral kConstAttrName = "llm.const";
    /// Argument attribute naming a data input ("input_ids", "targets").
    static constexpr llvm::StringLiteral kInputAttrName = "llm.input";
    /// Result attribute naming a function output ("loss", "hidden_out").
    static constexpr llvm::StringLiteral kOutputAttrName = "llm.output";
    /// Op attribute giving the transformer layer an op belongs to.
    static constexpr llvm::StringLiteral kLayerAttrName = "llm.layer";
    /// Op attribute giving its role: "forward", "backward" or "optimizer".
    static constexpr llvm::StringLiteral kRoleAttrName = "llm.role";
    /// Argument attribute of a parameter (or its optimizer state) split over
    /// a mesh axis: {axis, dim, parts, blocks}. The argument is one rank's
    /// shard; the full tensor, in HF layout, is `blocks` equal blocks along
    /// `dim`, each split into `parts` consecutive pieces, one per rank.
    static constexpr llvm::StringLiteral kShardAttrName = "llm.shard";
    /// Argument attribute of a parameter in one-device shapes that
    /// GSPMD-style partitioning splits: {axis, dim}, the grid and the
    /// dimension (llmc-annotate-shardings).
    static constexpr llvm::StringLiteral kSplitAttrName = "llm.split";
  }];
}

class LLM_Op<string mnemonic, list<Trait> traits = []>
    : Op<LLM_Dialect, mnemonic, traits>;

// Models are static-shaped: a micro-batch and a sequence length are chosen at
// compile time, so every verifier can check exact sizes.
def LLM_FloatTensor : StaticShapeTensorOf<[AnyFloat]>;
def LLM_IdTensor : StaticShapeTensorOf<[I32, I64]>;
def LLM_ScalarFloatTensor : 0DTensorOf<[AnyFloat]>;

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def LLM_GeluApproximationNone : I32EnumAttrCase<"none", 0>;
def LLM_GeluApproximationTanh : I32EnumAttrCase<"tanh", 1>;
def LLM_GeluApproximation : I32EnumAttr<"GeluApproximation",
    "how gelu is computed: exactly with erf, or with the tanh approximation",
    [LLM_GeluApproximationNone, LLM_GeluApproximationTanh]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::llm";
}
def LLM_GeluApproximationAttr
    : EnumAttr<LLM_Dialect, LLM_GeluApproximation, "gelu_approximation"> {
  // Printed bare inside ops: `approximate = tanh`.
  let assemblyFormat = "$value";
}

#endif // LLMC_DIALECT_LLM_BASE
