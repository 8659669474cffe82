//===- Passes.td - llmc passes -----------------------------*- tablegen -*-===//
//
// Every llmc pass, named llmc-<verb>-<noun>.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_PASSES
#define LLMC_PASSES

include "mlir/Pass/PassBase.td"

def CountFlops : Pass<"llmc-count-flops", "func::FuncOp"> {
  let summary = "Counts the floating-point operations of a function";
  let description = [{
    Sums the `FlopCountOpInterface` counts of every op in the function and
    records them, by kind of work, in the function attribute `llm.flops`.
    GEMMs count 2·M·N·K; the attention products QKᵀ and P·V count the full
    Tq×Tk square (Kaplan et al. 2020); vector work uses a nominal count per
    element. `llmc compile --emit=summary` reports `forward_flops_per_token`
    from the GEMM and attention counts.

    Before:
    ```mlir
    func.func @f(%x: tensor<2x8xf32>, %w: tensor<8x4xf32>) -> tensor<2x4xf32> {
      %y = llm.matmul %x, %w : (tensor<2x8xf32>, tensor<8x4xf32>) -> tensor<2x4xf32>
      return %y : tensor<2x4xf32>
    }
    ```
    After:
    ```mlir
    func.func @f(...) -> tensor<2x4xf32>
        attributes {llm.flops = {attention = 0 : i64, matmul = 128 : i64,
                                 vector = 0 : i64}} { ... }
    ```
  }];
  let options = [
    Option<"annotateOps", "annotate-ops", "bool", /*default=*/"false",
           "Also record each op's own count in its `llm.flops` attribute">
  ];
  let dependentDialects = ["::mlir::llm::LLMDialect"];
}

def Autodiff : Pass<"llmc-autodiff", "ModuleOp"> {
  let summary = "Reverse-mode differentiation of a loss function";
  let description = [{
    Builds `@<func>_grad` next to the scalar loss function `@<func>`: the
    forward ops, then the backward ops in exactly the reverse order, each
    built by the forward op's `AutodiffOpInterface::buildVJP`. Gradients of
    a value used several times are summed with `llm.add`. The new function
    returns the loss and then one gradient per `llm.param` argument, in
    argument order; each gradient result carries `llm.grad_of` naming its
    parameter. Forward ops are tagged `llm.role = "forward"`, backward ops
    `llm.role = "backward"` with the `llm.layer` of the op they differentiate.

    A pipeline stage returns a tensor named by `llm.output` instead of a
    loss: its gradient becomes a new last argument (`llm.input =
    "grad_<output>"`). The gradients of the `llm.input` arguments named in
    `input-grads` (a stage's input, for the previous stage) are returned
    after the output as `llm.output = "grad_<input>"`.

    Before:
    ```mlir
    func.func @loss(%x: tensor<2x8xf32>, %w: tensor<8x4xf32> {llm.param = "w"},
                    %t: tensor<2xi32>) -> tensor<f32> {
      %y = llm.matmul %x, %w : (tensor<2x8xf32>, tensor<8x4xf32>) -> tensor<2x4xf32>
      %l = llm.cross_entropy %y, %t : (tensor<2x4xf32>, tensor<2xi32>) -> tensor<f32>
      return %l : tensor<f32>
    }
    ```
    After (added):
    ```mlir
    func.func @loss_grad(...) -> (tensor<f32> {llm.output = "loss"},
                                  tensor<8x4xf32> {llm.grad_of = "w"}) {
      ... forward ops ...
      %one = arith.constant dense<1.0> : tensor<f32>
      %dy = llm.cross_entropy_grad %one, %y, %t : ...
      %dw = llm.matmul %x, %dy transpose_lhs : ...
      return %l, %dw : tensor<f32>, tensor<8x4xf32>
    }
    ```
  }];
  let options = [
    Option<"funcName", "func-name", "std::string", /*default=*/"\"loss\"",
           "The scalar loss function to differentiate">,
    Option<"lossScale", "loss-scale", "double", /*default=*/"1.0",
           "The gradient seed of a scalar loss: 1/M averages the gradients "
           "accumulated over M microbatches">,
    ListOption<"inputGrads", "input-grads", "std::string",
               "llm.input arguments whose gradients to return (a pipeline "
               "stage's input, for the previous stage)">
  ];
  let dependentDialects = ["::mlir::llm::LLMDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}

def Recompute : Pass<"llmc-recompute", "ModuleOp"> {
  let summary = "Recomputes forward values in the backward pass";
  let description = [{
    Activation recomputation (Korthikanti et al. 2022) on `@<func-name>_grad`:
    before the first backward op of each layer (`llm.layer`), the forward ops
    whose results that backward pass reads run again (tagged `llm.role =
    "recompute"`), and the backward ops read the copies, so the originals
    die during the forward pass.

    - `full`: every forward op of the layer the backward pass needs; only
      the layer's inputs are kept.
    - `selective`: the attention core (`llm.attention`) only; it then keeps
      no output or softmax statistics between the passes.
    - `none`: nothing but the values of parameters alone (below).

    In every mode two kinds of forward value are made again rather than
    kept, as Megatron does:
    - an `llm.all_gather` the backward pass reads (under sequence
      parallelism, a column-parallel GEMM's or the LM head's input, for the
      weight gradient) runs again right before its first backward reader, so
      the [s/t, b, h] shard is kept instead of the gathered [s, b, h];
    - a value computed from parameters alone (a slice of GPT-2's fused
      c_attn weight for the Q, K and V GEMMs): it costs a copy of the
      weights, where keeping it would cost their bytes in activation memory.
  }];
  let options = [
    Option<"mode", "mode", "::llmc::Recompute",
           /*default=*/"::llmc::Recompute::Full", "What to recompute",
           "::llmc::recomputeValues()">,
    Option<"funcName", "func-name", "std::string", /*default=*/"\"loss\"",
           "The differentiated function is @<func-name>_grad">
  ];
  let dependentDialects = ["::mlir::llm::LLMDialect"];
}

def AppendAdamW : Pass<"llmc-append-adamw", "ModuleOp"> {
  let summary = "Appends clipping and AdamW to a gradient function";
  let description = [{
    Builds `@train_step` from `@<func>_grad` (the output of llmc-autodiff):
    the first and second moments of every parameter become arguments
    (`llm.adam_m` / `llm.adam_v` naming the parameter), the global gradient
    norm is computed once (`llm.grad_norm`), and each parameter gets one
    `llm.adamw`, with weight decay only for tensors of rank >= 2 as nanoGPT
    and Megatron do. With `accumulate`, each gradient first goes through
    `llm.accumulate_grad`, right after the op that completes it. It returns
    the outputs of the gradient function (the loss, or a pipeline stage's
    output and input gradient), the gradient norm, then the new
    parameters, first moments and second moments, each result named by
    `llm.output`, `llm.update_of`, `llm.adam_m_of` or `llm.adam_v_of`.
    Ops it adds carry `llm.role = "optimizer"`.

    ```mlir
    %norm = llm.grad_norm %dw, %db : tensor<8x4xf32>, tensor<4xf32> -> tensor<f32>
    %w2, %mw2, %vw2 = llm.adamw %w, %dw, %mw, %vw, %norm decay : tensor<8x4xf32>, tensor<f32>
    %b2, %mb2, %vb2 = llm.adamw %b, %db, %mb, %vb, %norm : tensor<4xf32>, tensor<f32>
    ```
  }];
  let options = [
    Option<"funcName", "func-name", "std::string", /*default=*/"\"loss\"",
           "The loss whose `_grad` function to extend">,
    Option<"accumulate", "accumulate", "bool", /*default=*/"false",
           "Sum each gradient over microbatches (llm.accumulate_grad) before "
           "clipping and the update">
  ];
  let dependentDialects = ["::mlir::llm::LLMDialect"];
}

def PagedKVCache : Pass<"llmc-paged-kv-cache", "ModuleOp"> {
  let summary = "Rewrites a forward into an inference step over a paged KV cache";
  let description = [{
    Turns `@<func>` (token ids `[B, T]` to logits `[B, T, V]`, as the
    frontend builds it) into one step of generation (PagedAttention, Kwon et
    al. 2023): it takes each token's position (`positions`, `[B, T]`, -1 for
    padding) and each sequence's block table (`block_tables`, `[B, M]`) as
    inputs, and every layer's key and value cache (`[blocks, Hkv,
    block-tokens, D]`, marked `llm.kv_cache = "layers.<l>.key"`) as
    arguments. Each `llm.attention` becomes two `llm.kv_cache_write` and one
    `llm.paged_attention`; `llm.rope` takes its angles from the positions
    (`llm.rope_at`); a learned position table's slice becomes a lookup of
    the positions; and the LM head runs on each sequence's last token only
    (`llm.last_token`), returning `logits` `[B, V]`. The same rewrite of a
    forward with `T` tokens is a prefill (or prefill chunk), with one token
    a decode step.

    ```mlir
    %y = llm.attention %q, %k, %v causal : ...
    ```
    becomes
    ```mlir
    %kc2 = llm.kv_cache_write %k into %kc, %table, %pos : ...
    %vc2 = llm.kv_cache_write %v into %vc, %table, %pos : ...
    %y = llm.paged_attention %q, %kc2, %vc2, %table, %pos : ...
    ```
  }];
  let options = [
    Option<"funcName", "func-name", "std::string", /*default=*/"\"forward\"",
           "The forward to rewrite">,
    Option<"blockTokens", "block-tokens", "int64_t", /*default=*/"16",
           "Tokens per KV-cache block">,
    Option<"blocks", "blocks", "int64_t", /*default=*/"64",
           "Blocks in each layer's pool">,
    Option<"maxBlocks", "max-blocks", "int64_t", /*default=*/"0",
           "Block-table entries per sequence (0: enough for the step's own "
           "tokens)">
  ];
  let dependentDialects = ["::mlir::llm::LLMDialect"];
}

def LowerToPlan : Pass<"llmc-lower-to-plan", "ModuleOp"> {
  let summary = "Lowers an llm function to a plan program of kernel calls";
  let description = [{
    Replaces the tensor function `@<func>` by a plan program of the same
    name without arguments: every tensor becomes a `plan.buffer` (arguments
    become input, param or optimizer_state buffers named after their
    Hugging Face parameter), `llm.reshape` becomes a `plan.view`, and every
    other op becomes one `plan.kernel` call. Forward kernels that backward
    kernels need statistics from (layer norm mean and rstd, attention
    log-sum-exp) write them to extra buffers; AdamW updates parameters and
    moments in place.

    ```mlir
    %0 = llm.gelu %x approximate = tanh : tensor<2x8xf32>
    ```
    becomes
    ```mlir
    %b1 = plan.buffer "" activation : memref<2x8xf32>
    plan.kernel "gelu_forward" ins(%b0) outs(%b1)
        {params = {approximate = "tanh"}} : (memref<2x8xf32>) -> (memref<2x8xf32>)
    ```
  }];
  let options = [
    Option<"funcName", "func-name", "std::string",
           /*default=*/"\"train_step\"", "The function to lower">,
    ListOption<"programs", "programs", "std::string",
               "Functions lowered in turn into the one plan @<func-name>, "
               "each a program of its name (an inference plan's prefill and "
               "decode); parameters and KV caches of one name share a "
               "buffer, inputs and outputs are named <program>.<name>">
  ];
  let dependentDialects = ["::mlir::plan::PlanDialect"];
}

def InsertGradAllReduce : Pass<"llmc-insert-grad-allreduce", "func::FuncOp"> {
  let summary = "Averages gradients over the data-parallel ranks, in buckets";
  let description = [{
    Data parallelism on a plan: every rank runs the same program on its own
    rows of the global batch, so each gradient is all-reduced over the `dp`
    axis and divided by its size before the global gradient norm (and so
    before AdamW). The mean of the ranks' mean losses is the loss of the
    whole batch, so the update equals the one-device update on all rows.

    Gradients are grouped in buckets of about `bucket-bytes`, in the order
    the backward pass finishes them (the last layers' first). Each bucket's
    non-blocking all-reduce starts (`all_reduce_mean_start`) right after the
    kernel that completes its last gradient, so communication overlaps the
    rest of the backward pass, as PyTorch DDP and Megatron do; the wait
    (`all_reduce_mean_wait`) comes just before the gradient norm.

    ```mlir
    plan.kernel "matmul" ... outs(%dw) ...          // dw is complete
    plan.kernel "all_reduce_mean_start" outs(%dw, %db) {params = {axis = "dp", bucket = 0 : i64}}
    ...                                             // more backward
    plan.kernel "all_reduce_mean_wait" outs(%dw, %db) {params = {axis = "dp", bucket = 0 : i64}}
    plan.kernel "grad_norm" ins(%dw, %db, ...) ...
    ```
  }];
  let options = [
    Option<"dp", "dp", "int64_t", /*default=*/"1", "Data-parallel ranks">,
    Option<"bucketBytes", "bucket-bytes", "int64_t",
           /*default=*/"25 * 1024 * 1024",
           "Gradient bytes per all-reduce bucket (PyTorch DDP's default)">,
    Option<"overlap", "overlap", "bool", /*default=*/"true",
           "Start each bucket during the backward pass; false: all of them "
           "just before the norm (gradients summed over microbatches are "
           "complete only after the last one)">
  ];
  let dependentDialects = ["::mlir::plan::PlanDialect"];
}

def ShardOptimizer : Pass<"llmc-shard-optimizer", "func::FuncOp"> {
  let summary = "ZeRO stages 1-3: slices optimizer state, gradients, parameters";
  let description = [{
    ZeRO (Rajbhandari et al. 2020) on a data-parallel plan. Every rank keeps
    a 1/dp slice of each tensor, flattened in row-major order (a parameter's
    size must be a multiple of dp); slice buffers carry `plan.shard` with
    the full shape, so checkpoints still hold whole Hugging Face tensors.

    - stages 1 and 2: AdamW's moments are slices; each gradient is
      reduce-scattered (mean) into its slice right after the kernel that
      finishes it (instead of llmc-insert-grad-allreduce's all-reduce), the
      gradient norm sums the slices' squares over the ranks, `adamw` (with
      `zero_axis`) updates this rank's slice of the parameter, and
      `all_gather_inplace` restores the whole parameter on every rank. A full
      gradient then lives only until its reduce-scatter, so stage 1 already
      has stage 2's memory, and both move 2Ψ per step like plain DP.
    - stage 3: also parameters: each run of kernels with the same layer and
      role that reads a parameter first all-gathers it into a temporary,
      which memory planning frees after the run's last kernel.

    ```mlir
    plan.kernel "reduce_scatter" ins(%dw_flat) outs(%dw_slice) {params = {axis = "dp", dim = 0 : i64, mean = true}}
    plan.kernel "adamw" ins(%dw_slice, %norm) outs(%w, %m_slice, %v_slice) {params = {decay = true, zero_axis = "dp"}}
    plan.kernel "all_gather_inplace" outs(%w_flat) {params = {axis = "dp"}}
    ```
  }];
  let options = [
    Option<"dp", "dp", "int64_t", /*default=*/"1", "Data-parallel ranks">,
    Option<"stage", "stage", "int64_t", /*default=*/"0", "ZeRO stage, 0-3">,
    Option<"overlap", "overlap", "bool", /*default=*/"true",
           "Reduce-scatter each gradient during the backward pass; false: "
           "just before the norm (gradients summed over microbatches)">
  ];
  let dependentDialects = ["::mlir::plan::PlanDialect"];
}

def FuseKernels : Pass<"llmc-fuse-kernels", "func::FuncOp"> {
  let summary = "Fuses adjacent plan kernels into single kernel calls";
  let description = [{
    Replaces pairs of adjacent kernels of the same layer and role where the
    second consumes the first's output by one fused kernel with the same
    results:
    - `add` then `layernorm_forward` / `rmsnorm_forward` of the sum becomes
      `add_layernorm_forward` / `add_rmsnorm_forward` (the residual add and
      the next norm in one pass over each row);
    - `matmul` with a bias then `gelu_forward` becomes `matmul_bias_gelu`
      (GELU applied block by block while the GEMM output is in cache);
    - `matmul` without bias then `swiglu_forward` reading its output as `up`
      becomes `matmul_swiglu` (LLaMA's up projection with SwiGLU in its
      epilogue, the same way).
    The masked softmax of attention is already inside the `attention_*`
    kernels, and AdamW is one kernel per tensor from the start.

    ```mlir
    plan.kernel "add" ins(%x, %y) outs(%s) : ...
    plan.kernel "layernorm_forward" ins(%s, %w, %b) outs(%o, %m, %r) ...
    ```
    becomes
    ```mlir
    plan.kernel "add_layernorm_forward" ins(%x, %y, %w, %b) outs(%s, %o, %m, %r) ...
    ```
  }];
  let dependentDialects = ["::mlir::plan::PlanDialect"];
}

def FuseSiblingGemms : Pass<"llmc-fuse-sibling-gemms", "func::FuncOp"> {
  let summary = "Merges an inference plan's sibling GEMMs into one GEMM";
  let description = [{
    Horizontal fusion on an inference plan: `matmul` kernels that read one
    input and each multiply it by a weight stored (N, K) (LLaMA's q, k and v
    projections, whole or tensor-parallel) become one `matmul` by a weight
    of their rows one after another, and a `split` of its result into
    theirs. The merged weight is a `param` buffer whose `plan.parts` name
    the checkpoint tensors it holds and their rows (with their own
    `plan.shard`), which the runtime loads each at its rows (and quantizes
    as one weight: INT8 scales are per row). A decode step then streams
    one weight per layer instead of three. Weights another kernel reads, or
    that some program multiplies apart, stay as they are; so do siblings
    whose result feeds `swiglu_forward` (the gate and up projections: their
    GEMM fuses with SwiGLU instead, and merging them measured no faster,
    BENCHMARKS.md).

    ```mlir
    plan.kernel "matmul" ins(%x, %wq) outs(%q) {params = {transpose_lhs = false, transpose_rhs = true}} ...
    plan.kernel "matmul" ins(%x, %wk) outs(%k) ...
    plan.kernel "matmul" ins(%x, %wv) outs(%v) ...
    ```
    becomes
    ```mlir
    %w = plan.buffer "model.layers.0.self_attn.{q,k,v}_proj.weight" param {plan.parts = [...]} : memref<96x32xf32>
    plan.kernel "matmul" ins(%x, %w) outs(%qkv) ...
    plan.kernel "split" ins(%qkv) outs(%q, %k, %v) {params = {axis = 1 : i64}} ...
    ```
    -debug-only=llmc-fuse-sibling-gemms names each merged weight.
  }];
  let dependentDialects = ["::mlir::plan::PlanDialect"];
}

def OverlapRegather : Pass<"llmc-overlap-regather", "func::FuncOp"> {
  let summary = "Starts sequence parallelism's re-gathers before the GEMM "
                "they can overlap";
  let description = [{
    Under sequence parallelism the backward pass all-gathers a
    column-parallel GEMM's input again for its weight gradient (see
    `llmc-recompute`). The input-gradient GEMM runs just before and does not
    need it, so, as Megatron-LM does, the all-gather is started before that
    GEMM and waited for after it: each backward `all_gather` of a buffer a
    forward kernel wrote, right after a GEMM that touches neither of its
    buffers, becomes a non-blocking `all_gather_start` before the GEMM and an
    `all_gather_wait` in its place (one bucket each, numbered from 2^32 so
    that they never share one with data parallelism's or ZeRO's).

    ```mlir
    plan.kernel "matmul" ins(%dy, %w) outs(%dx) ...
    plan.kernel "all_gather" ins(%x) outs(%xg) {axis = "tp", dim = 0} ...
    plan.kernel "matmul" ins(%dy, %xg) outs(%dw) ...
    ```
    becomes
    ```mlir
    plan.kernel "all_gather_start" ins(%x) outs(%xg) {axis = "tp", bucket = 4294967296, dim = 0} ...
    plan.kernel "matmul" ins(%dy, %w) outs(%dx) ...
    plan.kernel "all_gather_wait" ins(%x) outs(%xg) {axis = "tp", bucket = 4294967296, dim = 0} ...
    plan.kernel "matmul" ins(%dy, %xg) outs(%dw) ...
    ```
  }];
  let dependentDialects = ["::mlir::plan::PlanDialect"];
}

def MixedPrecision : Pass<"llmc-mixed-precision", "func::FuncOp"> {
  let summary = "bf16 GEMM math for a bf16-mixed training plan";
  let description = [{
    Marks every GEMM kernel (`matmul`, `matmul_bias_gelu`, `matmul_swiglu`)
    with `math = "bf16"`: the runtime rounds its two operands to bf16 and
    sums their products in fp32 (oneDNN's bf16 kernels, where the processor
    has them), giving an fp32 result. Parameters, gradients and AdamW
    moments stay fp32 (the master weights), as do norms, softmax and the
    loss; attention's two kernels get bf16 math too. `matmul_i8w` is left
    alone.

    An activation that only these GEMMs read, two or more times (a layer's
    input, read by its forward GEMM and its weight-gradient GEMM), is
    rounded once after the kernel that writes it (`round_bf16`, into a bf16
    buffer beside it) and the GEMMs read the bf16 buffer: the fp32 one dies
    at once, so the backward pass keeps half the bytes, and no GEMM rounds
    it again.

    With `weight-copies`, a parameter these GEMMs read two or more times
    with no kernel writing it in between (a weight: its forward GEMM, then
    its input-gradient GEMM, before AdamW updates it) is rounded once before
    its first GEMM, into a bf16 buffer that lives until its last one, as
    autocast caches a weight's bf16 cast for the step and Megatron-LM keeps
    bf16 parameters beside the fp32 master copy. (A pipeline stage runs its
    forward and backward as programs per microbatch, which would stash one
    copy per microbatch, so its plans leave this off.)

    ```mlir
    plan.kernel "matmul" ins(%x, %w) outs(%y) {params = {transpose_lhs = false, transpose_rhs = true}} ...
    ```
    becomes
    ```mlir
    plan.kernel "matmul" ins(%x, %w) outs(%y) {params = {math = "bf16", transpose_lhs = false, transpose_rhs = true}} ...
    ```
  }];
  let options = [
    Option<"weightCopies", "weight-copies", "bool", /*default=*/"true",
           "Round each weight the step's GEMMs read twice or more once, "
           "into a bf16 copy they all read">,
  ];
}

def QuantizeWeights : Pass<"llmc-quantize-weights", "func::FuncOp"> {
  let summary = "INT8 or bf16 weight-only GEMMs of an inference plan";
  let description = [{
    On an inference plan: each parameter that only feeds `matmul` kernels as
    their right operand (with one layout) becomes an `i8` buffer of the
    same name, with a `weight_scale` buffer `<name>.scale` of one fp32 scale
    per output channel; its GEMMs become `matmul_i8w`. The runtime quantizes
    the fp32 checkpoint into them when it loads the plan (symmetric,
    `scale = max|w| / 127` per channel). A parameter with other users (GPT-2's
    tied embedding, looked up as a table) stays fp32 for them, and its GEMMs
    read an int8 copy, a `weight_copy` buffer `<name>.int8` the runtime makes
    from it at load.

    ```mlir
    %w = plan.buffer "lm_head.weight" param : memref<50x16xf32>
    plan.kernel "matmul" ins(%x, %w) outs(%y) {params = {transpose_lhs = false, transpose_rhs = true}} ...
    ```
    becomes
    ```mlir
    %w = plan.buffer "lm_head.weight" param : memref<50x16xi8>
    %s = plan.buffer "lm_head.weight.scale" weight_scale : memref<50xf32>
    plan.kernel "matmul_i8w" ins(%x, %w, %s) outs(%y) {params = {transpose_lhs = false, transpose_rhs = true}} ...
    ```

    With `dtype=bf16` the same weights become `bf16` buffers (a copy
    `<name>.bf16` where the parameter has other users), rounded to nearest
    even from the fp32 checkpoint at load, and their GEMMs `matmul_bf16w`
    (no scales): half the bytes, the activations and sums still fp32.
    With `dtype=fp32` the weights stay fp32, and a (K, N) weight (GPT-2's
    Conv1D) read only by GEMMs is stored (N, K), transposed in place at load,
    its GEMMs `matmul_f32w`: a decode step's GEMV then reads each output's
    weights contiguously instead of with a stride of N.

    With `dtype=bf16 math=bf16` (`llmc compile --mode infer --precision
    bf16-mixed`) the `matmul_bf16w` kernels also get `math = "bf16"`: their
    activations are rounded to bf16 too, the products summed in fp32, as
    the GEMMs of a bf16-mixed training plan (a prefill's rows then run on
    the processor's bf16 units).
  }];
  let options = [
    Option<"dtype", "dtype", "std::string", "\"int8\"",
           "int8 (per-channel scales), bf16, or fp32 (layout only)">,
    Option<"math", "math", "std::string", "\"fp32\"",
           "fp32, or bf16 (with dtype=bf16: activations rounded too)">,
  ];
  let dependentDialects = ["::mlir::plan::PlanDialect"];
}

def AnnotateShardings : Pass<"llmc-annotate-shardings", "func::FuncOp"> {
  let summary = "Marks a differentiated function for upstream sharding";
  let description = [{
    The input of GSPMD-style partitioning (upstream `sharding-propagation`
    and `shard-partition`) on a one-device, differentiated function:
    every ranked argument is annotated once, as shard-partition requires: a
    parameter with `llm.split = {axis, dim}` split along `dim` over the grid
    named `axis`, every other argument replicated over `grid`. Each returned
    gradient (`llm.grad_of`) gets its parameter's sharding, so the greedy
    propagation keeps weight gradients local shards instead of gathering
    them.

    ```mlir
    func.func @loss_grad(%x: tensor<4x8xf32>,
        %w: tensor<8x32xf32> {llm.param = "w", llm.split = {axis = "tp", dim = 1 : i64}}, ...)
    ```
    gets
    ```mlir
    %s = shard.sharding @tp split_axes = [[], [0]] : !shard.sharding
    %ws = shard.shard %w to %s : tensor<8x32xf32>
    ```
  }];
  let options = [
    Option<"grid", "grid", "std::string", /*default=*/"\"tp\"",
           "The grid replicated arguments are annotated on">
  ];
  let dependentDialects = ["::mlir::shard::ShardDialect"];
}

def LowerShardCollectives : Pass<"llmc-lower-shard-collectives",
                                 "func::FuncOp"> {
  let summary = "Turns shard collectives on a 1-D grid into llm collectives";
  let description = [{
    After `shard-partition`, the collectives it inserted become the llm ops
    that plan lowering and the runtime know, the grid's name becoming the
    mesh axis: `shard.all_reduce` (sums) → `llm.all_reduce`,
    `shard.all_gather` → `llm.all_gather`, `shard.reduce_scatter` →
    `llm.reduce_scatter`, `shard.all_slice` → `llm.scatter_to_parallel`.
    Collectives over more than one grid axis are refused.
  }];
  let dependentDialects = ["::mlir::llm::LLMDialect"];
}

def PartitionTensorParallel : Pass<"llmc-partition-tensor-parallel",
                                    "ModuleOp"> {
  let summary = "Splits a differentiated step over the tp ranks, GSPMD-style";
  let description = [{
    Runs on `@<func-name>` (llmc-autodiff's output) when its parameters carry
    `llm.split = {axis, dim}` marks: llmc-annotate-shardings, upstream
    `sharding-propagation` and `shard-partition` (through the llm ops'
    ShardingInterface models), then llmc-lower-shard-collectives. Under
    sequence parallelism (the body marks the residual stream split along
    the sequence with shard.shard) an all-reduce whose slice alone is kept
    becomes a reduce-scatter. The function then holds one rank's shards and
    Megatron's collectives, and
    each split parameter its `llm.shard = {axis, dim, parts, blocks}`
    layout, as if the frontend had built the rank's model. A `blocked`
    split (GPT-2's fused c_attn as [C, 3, C]) is stored merged, as in the
    checkpoint: [C, 3·C/tp] with `blocks = 3`, reshaped on entry and its
    gradient on return.
  }];
  let options = [
    Option<"funcName", "func-name", "std::string", /*default=*/"\"loss_grad\"",
           "The differentiated function to partition">,
    Option<"gatherResults", "gather-results", "bool", /*default=*/"false",
           "All-gather each result that comes out split (a forward's "
           "vocab-parallel logits), so every rank returns it whole">
  ];
  let dependentDialects = ["::mlir::llm::LLMDialect",
                           "::mlir::shard::ShardDialect",
                           "::mlir::tensor::TensorDialect"];
}

def PipelineStage : Pass<"llmc-pipeline-stage", "func::FuncOp"> {
  let summary = "Readies a plan program to run as one pipeline stage";
  let description = [{
    A pipeline stage (or any plan that accumulates gradients over
    microbatches) runs in three programs: its forward kernels once per
    microbatch, its backward kernels once per microbatch, and the optimizer
    once per step. The pass checks the kernels come in that order (by
    `llm.role`) and marks `stashed` every buffer that a forward and a
    backward kernel both touch and that does not persist anyway (parameters,
    optimizer state, gradient sums, outputs): the activations, the stage's
    input and targets, which each microbatch in flight keeps a copy of.

    The optimizer's kernels split at the gradient norm into a "gradients"
    program (reductions and the norm) and an "update" program; with
    `stages` > 1 the norm is `partial`: this stage's sum of squares, which
    the runtime adds up over the stages (and a rank's model chunks) before
    taking the root and running the updates. A tied embedding (`tied`),
    held by the first and the last stage, has its gradient summed over the
    two (`all_reduce_sum` over the "embedding" axis) before the norm, which
    counts it on the first stage only (Megatron's embedding group).

    ```mlir
    plan.kernel "all_reduce_sum" ins(%dwte) outs(%dwte) {params = {axis = "embedding"}}
    plan.kernel "grad_norm" ins(%dwte, ...) outs(%norm) {params = {partial = true}}
    ```
  }];
  let options = [
    Option<"stages", "stages", "int64_t", /*default=*/"1",
           "Pipeline stages of the model">,
    Option<"stage", "stage", "int64_t", /*default=*/"0",
           "The stage this program is, 0-based">,
    Option<"tied", "tied", "std::string", /*default=*/"\"\"",
           "The parameter the first and last stage share, if any">
  ];
  let dependentDialects = ["::mlir::plan::PlanDialect"];
}

def WriteInPlace : Pass<"llmc-write-in-place", "func::FuncOp"> {
  let summary = "Writes elementwise results over the inputs that die there";
  let description = [{
    Memory fusion: an elementwise kernel (`add`, `mul`, `unary`,
    `gelu_forward`, `gelu_backward`, `silu_forward`, `silu_backward`,
    `swiglu_forward`) whose input of the result's shape has its last use at
    this kernel writes its result into that input's buffer. Both must be
    unnamed activations (or temporaries) that no program returns and no
    pipeline stage stashes, the result's buffer first used here. A chain of such kernels
    then walks one buffer, and memory planning has one tensor to place
    where it had two. Each of these kernels reads element i of its operands
    before writing element i of its result on every backend.

    ```mlir
    %g = plan.buffer "" activation : memref<4x8xf32>
    %d = plan.buffer "" activation : memref<4x8xf32>
    plan.kernel "gelu_backward" ins(%g, %x) outs(%d) ...   // last use of %g
    ```
    becomes
    ```mlir
    plan.kernel "gelu_backward" ins(%g, %x) outs(%g) ...
    ```
  }];
  let dependentDialects = ["::mlir::plan::PlanDialect"];
}

def PlanMemory : Pass<"llmc-plan-memory", "func::FuncOp"> {
  let summary = "Assigns arena offsets to plan buffers by liveness";
  let description = [{
    Inputs, parameters, optimizer state, outputs and `live_out` buffers (the
    gradients a `_grad` program returns) live for the whole program; every
    other buffer lives from the first kernel that touches it to the last
    (through views of it). Buffers are placed greedily, largest
    first, at the lowest 64-byte aligned offset that no buffer alive at the
    same time occupies. Sets each buffer's `offset` and the function's
    `plan.arena_bytes`.
  }];
  let dependentDialects = ["::mlir::plan::PlanDialect"];
}

#endif // LLMC_PASSES
