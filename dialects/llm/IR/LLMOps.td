//===- LLMOps.td - Ops of the llm dialect ------------------*- tablegen -*-===//
//
// Tensor-level ops of GPT-2 and LLaMA models. Every op verifies its shapes;
// ops whose result shape follows from their operands infer it.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_DIALECT_LLM_OPS
#define LLMC_DIALECT_LLM_OPS

include "dialects/llm/IR/LLMBase.td"
include "dialects/llm/IR/LLMInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// Ops whose cost is more than moving data declare FlopCount methods.
class LLM_ComputeOp<string mnemonic, list<Trait> traits = []>
    : LLM_Op<mnemonic, !listconcat(traits, [Pure,
        DeclareOpInterfaceMethods<LLM_FlopCountOpInterface, ["getFlopCount"]>])>;
class LLM_MovementOp<string mnemonic, list<Trait> traits = []>
    : LLM_Op<mnemonic, !listconcat(traits, [Pure, LLM_FlopCountOpInterface])>;
// Forward ops also know their gradient; gradient ops are not differentiated
// again (llmc trains with first-order optimizers).
defvar LLM_Differentiable = DeclareOpInterfaceMethods<LLM_AutodiffOpInterface>;

//===----------------------------------------------------------------------===//
// Embedding and linear layers
//===----------------------------------------------------------------------===//

def LLM_EmbeddingOp : LLM_MovementOp<"embedding", [InferTypeOpAdaptor, LLM_Differentiable]> {
  let summary = "Looks up rows of an embedding table";
  let description = [{
    Gathers row `ids[...]` of `table` (shape `V x C`) for every token id; the
    result has the shape of `ids` followed by `C`. Ids out of `[0, V)` are a
    runtime error.

    With `vocab_parallel_axis`, `table` is this rank's block of rows of a
    table split evenly over that mesh axis (Megatron's VocabParallelEmbedding):
    ids outside the block give zero rows, and a sum over the axis (an
    `llm.all_reduce` or `llm.reduce_scatter`) completes the lookup.

    ```mlir
    %x = llm.embedding %wte[%ids]
        : (tensor<50257x768xf32>, tensor<4x1024xi32>) -> tensor<4x1024x768xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$table, LLM_IdTensor:$ids,
                       OptionalAttr<StrAttr>:$vocab_parallel_axis);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $table `[` $ids `]` attr-dict `:` functional-type(operands, results)
  }];
}

def LLM_MatmulOp : LLM_ComputeOp<"matmul", [InferTypeOpAdaptor, LLM_Differentiable]> {
  let summary = "Batched matrix product with optional transposes and bias";
  let description = [{
    Computes `op(lhs) · op(rhs) + bias`, where `op` transposes the last two
    dimensions when `transpose_lhs` / `transpose_rhs` is set. `lhs` is
    `[batch..., M, K]`; `rhs` is either a `K x N` matrix shared by every
    batch (a weight) or has the same batch dimensions as `lhs`. `bias` has
    shape `[N]`. A Hugging Face `nn.Linear` (weight `out x in`) is a matmul
    with `transpose_rhs`; GPT-2's `Conv1D` (weight `in x out`) is one without.

    ```mlir
    %y = llm.matmul %x, %w, %b
        : (tensor<4x1024x768xf32>, tensor<768x2304xf32>, tensor<2304xf32>)
        -> tensor<4x1024x2304xf32>
    %z = llm.matmul %x, %q_proj transpose_rhs
        : (tensor<1x16x64xf32>, tensor<64x64xf32>) -> tensor<1x16x64xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$lhs, LLM_FloatTensor:$rhs,
                       Optional<LLM_FloatTensor>:$bias,
                       UnitAttr:$transpose_lhs, UnitAttr:$transpose_rhs);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs (`,` $bias^)? (`transpose_lhs` $transpose_lhs^)?
    (`transpose_rhs` $transpose_rhs^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    /// The M, N and K of one GEMM, after the transposes.
    int64_t getM();
    int64_t getN();
    int64_t getK();
    /// How many GEMMs of that size the op performs (product of batch dims).
    int64_t getBatchCount();
  }];
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

class LLM_BinaryOp<string mnemonic, string meaning>
    : LLM_ComputeOp<mnemonic, [InferTypeOpAdaptor, LLM_Differentiable]> {
  let summary = "Elementwise " # meaning # " with trailing broadcast";
  let description = [{
    Applies the op elementwise. `rhs` has the shape of `lhs` or of a suffix
    of it, in which case it is broadcast over the leading dimensions (a bias,
    or a position embedding added to every batch row). The result has the
    type of `lhs`.

    ```mlir
    %y = llm.}] # mnemonic # [{ %a, %b : tensor<4x16x64xf32>, tensor<16x64xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$lhs, LLM_FloatTensor:$rhs);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)";
}

def LLM_AddOp : LLM_BinaryOp<"add", "sum">;
def LLM_MulOp : LLM_BinaryOp<"mul", "product">;

def LLM_GeluOp : LLM_ComputeOp<"gelu", [SameOperandsAndResultType, LLM_Differentiable]> {
  let summary = "Gaussian error linear unit";
  let description = [{
    `x · Φ(x)`, computed exactly with erf (`approximate = none`, HF's
    `gelu`) or with the tanh approximation (`approximate = tanh`, HF's
    `gelu_new`, used by GPT-2).

    ```mlir
    %y = llm.gelu %x approximate = tanh : tensor<4x16x256xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input,
                       LLM_GeluApproximationAttr:$approximate);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $input `approximate` `=` `` $approximate attr-dict `:` type($result)
  }];
}

def LLM_SiluOp : LLM_ComputeOp<"silu", [SameOperandsAndResultType, LLM_Differentiable]> {
  let summary = "Sigmoid linear unit, x · sigmoid(x)";
  let description = [{
    ```mlir
    %y = llm.silu %x : tensor<4x16x172xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

def LLM_SwigluOp : LLM_ComputeOp<"swiglu", [SameOperandsAndResultType, LLM_Differentiable]> {
  let summary = "The SwiGLU product silu(gate) · up";
  let description = [{
    The gated activation of LLaMA's MLP (Shazeer 2020), on the outputs of
    `gate_proj` and `up_proj`.

    ```mlir
    %a = llm.swiglu %gate, %up : tensor<4x16x172xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$gate, LLM_FloatTensor:$up);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = "$gate `,` $up attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// Normalization and softmax
//===----------------------------------------------------------------------===//

def LLM_LayerNormOp : LLM_ComputeOp<"layer_norm", [InferTypeOpAdaptor, LLM_Differentiable]> {
  let summary = "Layer normalization over the last dimension";
  let description = [{
    `(x - mean) / sqrt(var + epsilon) · weight + bias` over the last
    dimension `C`, with the biased variance (as `torch.nn.LayerNorm`).
    `weight` and `bias` have shape `[C]`.

    ```mlir
    %y = llm.layer_norm %x, %w, %b {epsilon = 1.0e-05 : f64}
        : (tensor<4x16x64xf32>, tensor<64xf32>, tensor<64xf32>)
        -> tensor<4x16x64xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input, LLM_FloatTensor:$weight,
                       LLM_FloatTensor:$bias, F64Attr:$epsilon);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias attr-dict `:` functional-type(operands, results)
  }];
}

def LLM_RmsNormOp : LLM_ComputeOp<"rms_norm", [InferTypeOpAdaptor, LLM_Differentiable]> {
  let summary = "Root-mean-square normalization over the last dimension";
  let description = [{
    `x / sqrt(mean(x²) + epsilon) · weight` over the last dimension `C`
    (Zhang & Sennrich 2019, as LLaMA's `LlamaRMSNorm`). `weight` is `[C]`.

    ```mlir
    %y = llm.rms_norm %x, %w {epsilon = 1.0e-06 : f64}
        : (tensor<4x16x64xf32>, tensor<64xf32>) -> tensor<4x16x64xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input, LLM_FloatTensor:$weight,
                       F64Attr:$epsilon);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` functional-type(operands, results)
  }];
}

def LLM_SoftmaxOp : LLM_ComputeOp<"softmax", [SameOperandsAndResultType, LLM_Differentiable]> {
  let summary = "Softmax along one axis";
  let description = [{
    `exp(x - max) / sum(exp(x - max))` along `axis` (negative counts from the
    end).

    ```mlir
    %p = llm.softmax %x axis = -1 : tensor<4x8x16x16xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input, I64Attr:$axis);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = "$input `axis` `=` $axis attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// General ops: what an imported graph computes outside the patterns
//===----------------------------------------------------------------------===//

def LLM_UnaryOp : LLM_ComputeOp<"unary", [SameOperandsAndResultType, LLM_Differentiable]> {
  let summary = "A named elementwise function of one tensor";
  let description = [{
    The ONNX importer's lowering of a primitive op no recomposition pattern
    absorbed. `kind` is one of `neg`, `abs`, `relu`, `exp`, `log`, `sqrt`,
    `reciprocal`, `tanh`, `sigmoid`, `erf`, `sin`, `cos`, `floor`, `ceil`
    (ONNX's ops of those names) or `sign` (-1, 0 or 1; relu's and abs's
    gradients use it).

    ```mlir
    %y = llm.unary %x kind = "exp" : tensor<3x4xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input, StrAttr:$kind);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = "$input `kind` `=` $kind attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def LLM_BinaryOp : LLM_ComputeOp<"binary", [InferTypeOpAdaptor, LLM_Differentiable]> {
  let summary = "A named elementwise function of two tensors, broadcast";
  let description = [{
    `kind` is one of `add`, `sub`, `mul`, `div`, `pow`, `max`, `min`. The
    operands broadcast as numpy's do (ONNX's multidirectional broadcasting):
    shapes aligned at their last dimension, a dimension of 1 stretched.

    ```mlir
    %y = llm.binary %a, %b kind = "sub"
        : (tensor<3x4x5xf32>, tensor<5xf32>) -> tensor<3x4x5xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$lhs, LLM_FloatTensor:$rhs,
                       StrAttr:$kind);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs `kind` `=` $kind attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def LLM_WhereOp : LLM_ComputeOp<"where", [InferTypeOpAdaptor, LLM_Differentiable]> {
  let summary = "Elementwise choice between two tensors, broadcast";
  let description = [{
    `condition != 0 ? lhs : rhs`, the three operands broadcast as numpy's
    (ONNX's Where; a bool condition arrives as 0 and 1).

    ```mlir
    %y = llm.where %mask, %scores, %fill
        : (tensor<8x8xf32>, tensor<2x4x8x8xf32>, tensor<f32>)
        -> tensor<2x4x8x8xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$condition, LLM_FloatTensor:$lhs,
                       LLM_FloatTensor:$rhs);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $condition `,` $lhs `,` $rhs attr-dict `:`
    functional-type(operands, results)
  }];
}

def LLM_ReduceOp : LLM_ComputeOp<"reduce", [InferTypeOpAdaptor, LLM_Differentiable]> {
  let summary = "Sum, mean, max, min or product over some axes";
  let description = [{
    Reduces `input` over `axes` (distinct, in `[0, rank)`, increasing),
    keeping them as dimensions of size 1 when `keepdims` is set. `kind` is
    one of `sum`, `mean`, `max`, `min`, `prod`.

    ```mlir
    %y = llm.reduce %x kind = "max" axes = [1] keepdims
        : tensor<3x4x5xf32> -> tensor<3x1x5xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input, StrAttr:$kind,
                       DenseI64ArrayAttr:$axes, UnitAttr:$keepdims);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $input `kind` `=` $kind `axes` `=` $axes (`keepdims` $keepdims^)?
    attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

def LLM_AttentionOp : LLM_ComputeOp<"attention", [InferTypeOpAdaptor, LLM_Differentiable]> {
  let summary = "Scaled dot-product attention with grouped-query heads";
  let description = [{
    `softmax(q·kᵀ · scale + mask) · v` per head. `query` is
    `[B, Hq, Tq, D]`, `key` is `[B, Hkv, Tk, D]` and `value` is
    `[B, Hkv, Tk, Dv]`; query head `h` reads kv head `h / (Hq / Hkv)`, so
    `Hkv` must divide `Hq` (grouped-query attention; `Hkv = Hq` is plain
    multi-head attention). `scale` defaults to `1/sqrt(D)`. With `causal`,
    query `i` sees keys `j <= i + (Tk - Tq)`, so a decode step with a KV cache
    (`Tq < Tk`) sees the whole past.

    ```mlir
    %y = llm.attention %q, %k, %v causal
        : (tensor<4x8x16x8xf32>, tensor<4x2x16x8xf32>, tensor<4x2x16x8xf32>)
        -> tensor<4x8x16x8xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$query, LLM_FloatTensor:$key,
                       LLM_FloatTensor:$value, UnitAttr:$causal,
                       OptionalAttr<F64Attr>:$scale);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value (`causal` $causal^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    /// The softmax scale: the `scale` attribute, or 1/sqrt(head_dim).
    double getScaleOrDefault();
  }];
}

def LLM_RopeOp : LLM_ComputeOp<"rope", [SameOperandsAndResultType, LLM_Differentiable]> {
  let summary = "Rotary position embedding";
  let description = [{
    Rotates each pair `(x[i], x[i + D/2])` of a `[B, H, T, D]` tensor at
    position `t` by the angle `t · theta^(-2i/D)` (Su et al. 2021, in the
    "rotate half" layout of Hugging Face's LLaMA). `D` must be even. With
    `inverse` it rotates by the negative angle: the rotation's inverse and
    transpose, so it is also rope's gradient.

    ```mlir
    %q2 = llm.rope %q theta = 10000.0 : tensor<4x8x16x8xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input, F64Attr:$theta,
                       UnitAttr:$inverse);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $input `theta` `=` $theta (`inverse` $inverse^)? attr-dict `:` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Shape ops
//===----------------------------------------------------------------------===//

def LLM_ReshapeOp : LLM_MovementOp<"reshape", [LLM_Differentiable]> {
  let summary = "Reinterprets a tensor with a new shape";
  let description = [{
    Keeps the elements in row-major order; the element counts must agree.

    ```mlir
    %y = llm.reshape %x : tensor<4x16x64xf32> -> tensor<4x16x8x8xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def LLM_TransposeOp : LLM_MovementOp<"transpose", [InferTypeOpAdaptor, LLM_Differentiable]> {
  let summary = "Permutes the dimensions of a tensor";
  let description = [{
    Result dimension `i` is input dimension `permutation[i]`.

    ```mlir
    %y = llm.transpose %x [0, 2, 1, 3]
        : tensor<4x16x8x8xf32> -> tensor<4x8x16x8xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input,
                       DenseI64ArrayAttr:$permutation);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $input $permutation attr-dict `:` type($input) `->` type($result)
  }];
}

def LLM_SplitOp : LLM_MovementOp<"split", [LLM_Differentiable]> {
  let summary = "Splits a tensor into consecutive pieces along one axis";
  let description = [{
    The results' sizes along `axis` add up to the input's; their other
    dimensions equal the input's.

    ```mlir
    %q, %k, %v = llm.split %qkv axis = 2
        : tensor<4x16x192xf32> -> tensor<4x16x64xf32>, tensor<4x16x64xf32>,
          tensor<4x16x64xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input, I64Attr:$axis);
  let results = (outs Variadic<LLM_FloatTensor>:$results);
  let assemblyFormat = [{
    $input `axis` `=` $axis attr-dict `:` type($input) `->` type($results)
  }];
  let hasVerifier = 1;
}

def LLM_ConcatOp : LLM_MovementOp<"concat", [InferTypeOpAdaptor, LLM_Differentiable]> {
  let summary = "Joins tensors along one axis";
  let description = [{
    The inputs agree in every dimension but `axis`.

    ```mlir
    %y = llm.concat %a, %b axis = 0
        : tensor<2x8xf32>, tensor<3x8xf32> -> tensor<5x8xf32>
    ```
  }];
  let arguments = (ins Variadic<LLM_FloatTensor>:$inputs, I64Attr:$axis);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $inputs `axis` `=` $axis attr-dict `:` type($inputs) `->` type($result)
  }];
}

//===----------------------------------------------------------------------===//
// Loss
//===----------------------------------------------------------------------===//

def LLM_CrossEntropyOp : LLM_ComputeOp<"cross_entropy", [InferTypeOpAdaptor, LLM_Differentiable]> {
  let summary = "Mean softmax cross-entropy over tokens";
  let description = [{
    `mean over tokens of (logsumexp(logits[t]) - logits[t, targets[t]])`.
    `logits` is `[..., V]` and `targets` has the leading shape of `logits`.
    The result is a scalar of the logits' element type.

    With `vocab_parallel_axis`, `logits` is this rank's block of the vocabulary
    (the output of a vocab-parallel LM head): the loss is computed without
    ever gathering the full logits (Megatron's vocab_parallel_cross_entropy),
    and every rank of the axis gets the same value.

    ```mlir
    %loss = llm.cross_entropy %logits, %targets
        : (tensor<4x16x512xf32>, tensor<4x16xi32>) -> tensor<f32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$logits, LLM_IdTensor:$targets,
                       OptionalAttr<StrAttr>:$vocab_parallel_axis);
  let results = (outs LLM_ScalarFloatTensor:$result);
  let assemblyFormat = [{
    $logits `,` $targets attr-dict `:` functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Inference over a paged KV cache (PagedAttention, Kwon et al. 2023). Each
// layer's keys and values live in a pool of `N` blocks of `BT` tokens; a
// sequence's block table lists the blocks holding its positions in order.
// Every query token carries its absolute position in its sequence
// (`positions`, -1 for padding), so the same ops serve a prefill, a prefill
// chunk and a decode step. llmc-paged-kv-cache rewrites a forward into them.
//===----------------------------------------------------------------------===//

def LLM_KVCacheWriteOp : LLM_MovementOp<"kv_cache_write",
    [AllTypesMatch<["cache", "result"]>]> {
  let summary = "Writes new keys or values into a paged KV cache";
  let description = [{
    The result is `cache` with `input[b, h, t]` (`[B, H, T, D]`) stored at
    block `block_table[b, p / BT]`, slot `p % BT`, for every token whose
    position `p = positions[b, t]` is not -1. `cache` is `[N, H, BT, D]`,
    `block_table` `[B, M]` and `positions` `[B, T]`. Lowered in place: the
    result is the cache's own buffer.

    ```mlir
    %kc2 = llm.kv_cache_write %k into %kc, %table, %pos
        : tensor<2x2x8x16xf32> into tensor<32x2x4x16xf32>,
          tensor<2x4xi32>, tensor<2x8xi32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input, LLM_FloatTensor:$cache,
                       LLM_IdTensor:$block_table, LLM_IdTensor:$positions);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $input `into` $cache `,` $block_table `,` $positions attr-dict `:`
    type($input) `into` type($cache) `,` type($block_table) `,`
    type($positions)
  }];
  let hasVerifier = 1;
}

def LLM_PagedAttentionOp : LLM_ComputeOp<"paged_attention",
    [InferTypeOpAdaptor]> {
  let summary = "Causal attention over a paged KV cache";
  let description = [{
    For each query token at position `p >= 0`, attention over positions
    `[0, p]` of its own sequence, read from `key_cache` `[N, Hkv, BT, D]`
    and `value_cache` `[N, Hkv, BT, Dv]` through `block_table` `[B, M]`;
    padding tokens (`p = -1`) give zeros. `query` is `[B, Hq, T, D]`;
    query head `h` reads kv head `h / (Hq / Hkv)`. `scale` defaults to
    `1/sqrt(D)`. The token's own key and value must be written first
    (`llm.kv_cache_write`).

    ```mlir
    %y = llm.paged_attention %q, %kc, %vc, %table, %pos
        : (tensor<2x4x8x16xf32>, tensor<32x2x4x16xf32>,
           tensor<32x2x4x16xf32>, tensor<2x4xi32>, tensor<2x8xi32>)
        -> tensor<2x4x8x16xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$query, LLM_FloatTensor:$key_cache,
                       LLM_FloatTensor:$value_cache,
                       LLM_IdTensor:$block_table, LLM_IdTensor:$positions,
                       OptionalAttr<F64Attr>:$scale);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $query `,` $key_cache `,` $value_cache `,` $block_table `,` $positions
    attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    /// The softmax scale: the `scale` attribute, or 1/sqrt(head_dim).
    double getScaleOrDefault();
  }];
}

def LLM_RopeAtOp : LLM_ComputeOp<"rope_at",
    [AllTypesMatch<["input", "result"]>]> {
  let summary = "Rotary position embedding at given positions";
  let description = [{
    `llm.rope` with each token's angle taken from its position
    `positions[b, t]` (`[B, T]`) instead of its index `t`; padding tokens
    (-1) are copied unchanged.

    ```mlir
    %q2 = llm.rope_at %q, %pos theta = 10000.0
        : tensor<2x4x8x16xf32>, tensor<2x8xi32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input, LLM_IdTensor:$positions,
                       F64Attr:$theta);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $positions `theta` `=` $theta attr-dict `:` type($input) `,`
    type($positions)
  }];
  let hasVerifier = 1;
}

def LLM_LastTokenOp : LLM_MovementOp<"last_token", [InferTypeOpAdaptor]> {
  let summary = "Each sequence's row at its last real token";
  let description = [{
    For `input` `[B, T, C]` and `positions` `[B, T]`, row `b` of the
    `[B, C]` result is `input[b, t]` for the token `t` with the largest
    position (the last one a prefill or decode step fed), or zeros when the
    sequence has only padding. The LM head then runs on one token per
    sequence.

    ```mlir
    %h = llm.last_token %x, %pos
        : (tensor<2x8x64xf32>, tensor<2x8xi32>) -> tensor<2x64xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input, LLM_IdTensor:$positions);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $positions attr-dict `:` functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Parallelism: collectives over one named mesh axis. The IR is SPMD: every
// rank runs the same function on its own shards (local shapes), and each op
// says how the backward pass communicates (Megatron-LM's f, g and the
// sequence-parallel pair), so llmc-autodiff needs no special cases.
//===----------------------------------------------------------------------===//

class LLM_CollectiveOp<string mnemonic, list<Trait> traits = []>
    : LLM_MovementOp<mnemonic, !listconcat(traits, [LLM_Differentiable])> {
  let assemblyFormat = [{
    $input attr-dict `:` functional-type($input, $result)
  }];
}

def LLM_AllReduceOp : LLM_CollectiveOp<"all_reduce", [SameOperandsAndResultType]> {
  let summary = "Sum over a mesh axis (Megatron's g)";
  let description = [{
    Every rank of `axis` gets the sum of the ranks' inputs: the partial sums
    after a row-parallel linear or a vocab-parallel embedding. The gradient
    of the (replicated) result is the gradient of each partial input, so the
    backward is the identity.

    ```mlir
    %y = llm.all_reduce %x {axis = "tp"} : (tensor<2x8x64xf32>) -> tensor<2x8x64xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input, StrAttr:$axis);
  let results = (outs LLM_FloatTensor:$result);
}

def LLM_CopyToParallelOp : LLM_CollectiveOp<"copy_to_parallel", [SameOperandsAndResultType]> {
  let summary = "Identity into a parallel region (Megatron's f)";
  let description = [{
    The identity in the forward pass; in the backward pass, the gradients of
    the ranks of `axis` (each a partial sum, e.g. from a column-parallel
    linear) are summed. Placed before column-parallel linears and on
    replicated parameters used in a sequence-parallel region.

    ```mlir
    %y = llm.copy_to_parallel %x {axis = "tp"} : (tensor<2x8x64xf32>) -> tensor<2x8x64xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input, StrAttr:$axis);
  let results = (outs LLM_FloatTensor:$result);
}

def LLM_AllGatherOp : LLM_CollectiveOp<"all_gather"> {
  let summary = "Concatenates the ranks' tensors along one dimension";
  let description = [{
    Every rank of `axis` gets the concatenation, in rank order along `dim`,
    of the ranks' inputs (sequence parallelism before a column-parallel
    linear). Its backward is `llm.reduce_scatter` along the same dimension.

    ```mlir
    %y = llm.all_gather %x {axis = "tp", dim = 1 : i64}
        : (tensor<2x4x64xf32>) -> tensor<2x8x64xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input, StrAttr:$axis, I64Attr:$dim);
  let results = (outs LLM_FloatTensor:$result);
  let hasVerifier = 1;
}

def LLM_ReduceScatterOp : LLM_CollectiveOp<"reduce_scatter"> {
  let summary = "Sums over a mesh axis and keeps this rank's block";
  let description = [{
    Sums the ranks' inputs and gives rank r block r along `dim` (sequence
    parallelism after a row-parallel linear). Its backward is
    `llm.all_gather` along the same dimension.

    ```mlir
    %y = llm.reduce_scatter %x {axis = "tp", dim = 1 : i64}
        : (tensor<2x8x64xf32>) -> tensor<2x4x64xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input, StrAttr:$axis, I64Attr:$dim);
  let results = (outs LLM_FloatTensor:$result);
  let hasVerifier = 1;
}

def LLM_ScatterToParallelOp : LLM_CollectiveOp<"scatter_to_parallel"> {
  let summary = "Keeps this rank's block of a replicated tensor";
  let description = [{
    Rank r of `axis` keeps block r along `dim` of a tensor every rank holds
    whole: no communication. Its backward is `llm.all_gather`. Enters the
    sequence-parallel region after the embeddings.

    ```mlir
    %y = llm.scatter_to_parallel %x {axis = "tp", dim = 1 : i64}
        : (tensor<2x8x64xf32>) -> tensor<2x4x64xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input, StrAttr:$axis, I64Attr:$dim);
  let results = (outs LLM_FloatTensor:$result);
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Gradient ops: what llmc-autodiff builds. Each takes the gradient of the
// forward op's result (`dout`) and what the forward op read, and returns the
// gradients of the forward op's operands.
//===----------------------------------------------------------------------===//

def LLM_EmbeddingGradOp : LLM_ComputeOp<"embedding_grad"> {
  let summary = "Gradient of an embedding table: scatter-add of rows";
  let description = [{
    Row `v` of the result is the sum of the `dout` rows of every token with
    id `v`; rows of ids that do not occur are zero. With
    `vocab_parallel_axis`, the result is this rank's block of rows (see
    `llm.embedding`).

    ```mlir
    %dwte = llm.embedding_grad %dx, %ids
        : (tensor<4x16x64xf32>, tensor<4x16xi32>) -> tensor<512x64xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$dout, LLM_IdTensor:$ids,
                       OptionalAttr<StrAttr>:$vocab_parallel_axis);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $dout `,` $ids attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def LLM_SumToOp : LLM_ComputeOp<"sum_to"> {
  let summary = "Sums away leading dimensions";
  let description = [{
    Sums the input over its leading dimensions so that the result has the
    shape of a suffix of the input's: the gradient of a broadcast operand
    (a bias, a position embedding).

    ```mlir
    %db = llm.sum_to %dy : tensor<4x16x64xf32> -> tensor<64xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def LLM_GeluGradOp : LLM_ComputeOp<"gelu_grad", [SameOperandsAndResultType]> {
  let summary = "Gradient of gelu: dout · gelu'(input)";
  let description = [{
    ```mlir
    %dx = llm.gelu_grad %dy, %x approximate = tanh : tensor<4x16x256xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$dout, LLM_FloatTensor:$input,
                       LLM_GeluApproximationAttr:$approximate);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $dout `,` $input `approximate` `=` `` $approximate attr-dict `:`
    type($result)
  }];
}

def LLM_SiluGradOp : LLM_ComputeOp<"silu_grad", [SameOperandsAndResultType]> {
  let summary = "Gradient of silu: dout · silu'(input)";
  let description = [{
    ```mlir
    %dx = llm.silu_grad %dy, %x : tensor<4x16x172xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$dout, LLM_FloatTensor:$input);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = "$dout `,` $input attr-dict `:` type($result)";
}

def LLM_SwigluGradOp : LLM_ComputeOp<"swiglu_grad",
    [SameOperandsAndResultType]> {
  let summary = "Gradients of silu(gate) · up for gate and up";
  let description = [{
    ```mlir
    %dgate, %dup = llm.swiglu_grad %da, %gate, %up : tensor<4x16x172xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$dout, LLM_FloatTensor:$gate,
                       LLM_FloatTensor:$up);
  let results = (outs LLM_FloatTensor:$dgate, LLM_FloatTensor:$dup);
  let assemblyFormat = "$dout `,` $gate `,` $up attr-dict `:` type($dgate)";
}

def LLM_LayerNormGradOp : LLM_ComputeOp<"layer_norm_grad",
    [InferTypeOpAdaptor]> {
  let summary = "Gradients of layer_norm for its input, weight and bias";
  let description = [{
    Recomputes the mean and variance of `input` (or, after lowering, reads
    the ones its forward kernel saved).

    ```mlir
    %dx, %dw, %db = llm.layer_norm_grad %dy, %x, %w {epsilon = 1.0e-05 : f64}
        : (tensor<4x16x64xf32>, tensor<4x16x64xf32>, tensor<64xf32>)
        -> (tensor<4x16x64xf32>, tensor<64xf32>, tensor<64xf32>)
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$dout, LLM_FloatTensor:$input,
                       LLM_FloatTensor:$weight, F64Attr:$epsilon);
  let results = (outs LLM_FloatTensor:$dinput, LLM_FloatTensor:$dweight,
                      LLM_FloatTensor:$dbias);
  let assemblyFormat = [{
    $dout `,` $input `,` $weight attr-dict `:` functional-type(operands, results)
  }];
}

def LLM_RmsNormGradOp : LLM_ComputeOp<"rms_norm_grad", [InferTypeOpAdaptor]> {
  let summary = "Gradients of rms_norm for its input and weight";
  let description = [{
    ```mlir
    %dx, %dw = llm.rms_norm_grad %dy, %x, %w {epsilon = 1.0e-06 : f64}
        : (tensor<4x16x64xf32>, tensor<4x16x64xf32>, tensor<64xf32>)
        -> (tensor<4x16x64xf32>, tensor<64xf32>)
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$dout, LLM_FloatTensor:$input,
                       LLM_FloatTensor:$weight, F64Attr:$epsilon);
  let results = (outs LLM_FloatTensor:$dinput, LLM_FloatTensor:$dweight);
  let assemblyFormat = [{
    $dout `,` $input `,` $weight attr-dict `:` functional-type(operands, results)
  }];
}

def LLM_SoftmaxGradOp : LLM_ComputeOp<"softmax_grad",
    [SameOperandsAndResultType]> {
  let summary = "Gradient of softmax from its output";
  let description = [{
    `y · (dout - sum(dout · y))` along `axis`, where `y` is the softmax
    output.

    ```mlir
    %dx = llm.softmax_grad %dy, %y axis = -1 : tensor<4x8x16x16xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$dout, LLM_FloatTensor:$output,
                       I64Attr:$axis);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $dout `,` $output `axis` `=` $axis attr-dict `:` type($result)
  }];
  let hasVerifier = 1;
}

def LLM_AttentionGradOp : LLM_ComputeOp<"attention_grad",
    [InferTypeOpAdaptor]> {
  let summary = "Gradients of attention for query, key and value";
  let description = [{
    Takes the forward op's operands and output; the kernel recomputes the
    probabilities from q and k instead of storing the Tq×Tk matrix (as
    FlashAttention does). Key and value gradients sum over the query heads
    that share a kv head.

    ```mlir
    %dq, %dk, %dv = llm.attention_grad %dy, %q, %k, %v, %y causal
        : (tensor<4x8x16x8xf32>, tensor<4x8x16x8xf32>, tensor<4x2x16x8xf32>,
           tensor<4x2x16x8xf32>, tensor<4x8x16x8xf32>)
        -> (tensor<4x8x16x8xf32>, tensor<4x2x16x8xf32>, tensor<4x2x16x8xf32>)
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$dout, LLM_FloatTensor:$query,
                       LLM_FloatTensor:$key, LLM_FloatTensor:$value,
                       LLM_FloatTensor:$output, UnitAttr:$causal,
                       OptionalAttr<F64Attr>:$scale);
  let results = (outs LLM_FloatTensor:$dquery, LLM_FloatTensor:$dkey,
                      LLM_FloatTensor:$dvalue);
  let assemblyFormat = [{
    $dout `,` $query `,` $key `,` $value `,` $output (`causal` $causal^)?
    attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    /// The softmax scale: the `scale` attribute, or 1/sqrt(head_dim).
    double getScaleOrDefault();
  }];
}

def LLM_CrossEntropyGradOp : LLM_ComputeOp<"cross_entropy_grad",
    [InferTypeOpAdaptor]> {
  let summary = "Gradient of the mean cross-entropy for the logits";
  let description = [{
    `dloss · (softmax(logits) - onehot(targets)) / tokens`; with
    `vocab_parallel_axis`, for this rank's block of the vocabulary.

    ```mlir
    %dlogits = llm.cross_entropy_grad %dloss, %logits, %targets
        : (tensor<f32>, tensor<4x16x512xf32>, tensor<4x16xi32>)
        -> tensor<4x16x512xf32>
    ```
  }];
  let arguments = (ins LLM_ScalarFloatTensor:$dloss, LLM_FloatTensor:$logits,
                       LLM_IdTensor:$targets,
                       OptionalAttr<StrAttr>:$vocab_parallel_axis);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $dloss `,` $logits `,` $targets attr-dict `:`
    functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Optimizer ops: what llmc-append-adamw adds after the gradients.
//===----------------------------------------------------------------------===//

def LLM_GradNormOp : LLM_ComputeOp<"grad_norm"> {
  let summary = "Global L2 norm of a list of gradients";
  let description = [{
    `sqrt(sum over all tensors of sum(g²))`, for clipping by global norm
    (Pascanu et al. 2013, `torch.nn.utils.clip_grad_norm_`).

    With `axis`, the gradients flagged in `sharded` are this rank's shards of
    tensors split over that mesh axis: their squares are summed over the
    axis, and the others (replicated on every rank) are counted once.

    ```mlir
    %norm = llm.grad_norm %dw, %db : tensor<64x64xf32>, tensor<64xf32> -> tensor<f32>
    ```
  }];
  let arguments = (ins Variadic<LLM_FloatTensor>:$grads,
                       OptionalAttr<StrAttr>:$axis,
                       OptionalAttr<DenseBoolArrayAttr>:$sharded);
  let results = (outs LLM_ScalarFloatTensor:$result);
  let assemblyFormat = "$grads attr-dict `:` type($grads) `->` type($result)";
  let hasVerifier = 1;
}

def LLM_AccumulateGradOp : LLM_Op<"accumulate_grad", [
    SameOperandsAndResultType,
    DeclareOpInterfaceMethods<LLM_FlopCountOpInterface, ["getFlopCount"]>]> {
  let summary = "Sums a parameter's gradient over the microbatches of a step";
  let description = [{
    Gradient accumulation: each microbatch adds `grad` into one buffer that
    lives across the microbatches of a step (the runtime zeroes it when the
    step starts), and the result is that running sum, which clipping and the
    optimizer read once every microbatch has run. Not pure: the sum is state
    kept between runs of the backward program.

    ```mlir
    %sum = llm.accumulate_grad %dw : tensor<64x64xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$grad);
  let results = (outs LLM_FloatTensor:$sum);
  let assemblyFormat = "$grad attr-dict `:` type($grad)";
}

def LLM_AdamWOp : LLM_ComputeOp<"adamw", [AllTypesMatch<["param", "grad",
    "m", "v", "new_param", "new_m", "new_v"]>]> {
  let summary = "One AdamW step of one parameter tensor";
  let description = [{
    The decoupled-weight-decay Adam update of `torch.optim.AdamW`, after
    scaling the gradient by `min(1, max_norm / grad_norm)` (clipping by
    global norm). The learning rate, its schedule, the betas, epsilon, the
    weight decay and `max_norm` are training options the runtime supplies at
    each step; the op says only whether weight decay applies (`decay`: to
    tensors of rank >= 2, as nanoGPT and Megatron do). Lowered to one fused
    kernel that updates the parameter and both moments in place.

    ```mlir
    %p2, %m2, %v2 = llm.adamw %p, %g, %m, %v, %norm decay
        : tensor<64x64xf32>, tensor<f32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$param, LLM_FloatTensor:$grad,
                       LLM_FloatTensor:$m, LLM_FloatTensor:$v,
                       LLM_ScalarFloatTensor:$grad_norm, UnitAttr:$decay);
  let results = (outs LLM_FloatTensor:$new_param, LLM_FloatTensor:$new_m,
                      LLM_FloatTensor:$new_v);
  let assemblyFormat = [{
    $param `,` $grad `,` $m `,` $v `,` $grad_norm (`decay` $decay^)? attr-dict
    `:` type($param) `,` type($grad_norm)
  }];
}

#endif // LLMC_DIALECT_LLM_OPS
