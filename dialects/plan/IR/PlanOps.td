//===- PlanOps.td - Ops of the plan dialect ----------------*- tablegen -*-===//

#ifndef LLMC_DIALECT_PLAN_OPS
#define LLMC_DIALECT_PLAN_OPS

include "dialects/plan/IR/PlanBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Plan_BufferOp : Plan_Op<"buffer"> {
  let summary = "Declares a buffer of the arena";
  let description = [{
    A named, typed region of the program's arena. `name` ties inputs,
    parameters, gradients and optimizer state to what the runtime loads and
    saves (Hugging Face names); `offset` (bytes) is set by memory planning.
    `live_out` marks a result of the program (a returned gradient): memory
    planning keeps it intact until the program ends. `stashed` marks a
    buffer a pipeline stage's forward program writes and its backward
    program reads: each microbatch in flight needs its own copy, so memory
    planning puts it in the stash region (its `offset` counts from there),
    of which the runtime keeps one slot per microbatch in flight.

    ```mlir
    %w = plan.buffer "transformer.wte.weight" param offset 0 : memref<512x64xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, Plan_BufferCategoryAttr:$category,
                       OptionalAttr<I64Attr>:$offset, UnitAttr:$live_out,
                       UnitAttr:$stashed);
  let results = (outs AnyStaticShapeMemRef:$buffer);
  let assemblyFormat = [{
    $name `` $category (`live_out` $live_out^)? (`stashed` $stashed^)?
    (`offset` $offset^)? attr-dict
    `:` type($buffer)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Bytes the buffer occupies.
    int64_t getSizeInBytes();
  }];
}

def Plan_ViewOp : Plan_Op<"view", [Pure]> {
  let summary = "Another shape for the same bytes";
  let description = [{
    Aliases a contiguous buffer with a new shape of the same element count
    (the lowering of `llm.reshape`): no kernel, no copy.

    ```mlir
    %v = plan.view %b : memref<4x16x64xf32> to memref<64x64xf32>
    ```
  }];
  let arguments = (ins AnyStaticShapeMemRef:$source);
  let results = (outs AnyStaticShapeMemRef:$result);
  let assemblyFormat = "$source attr-dict `:` type($source) `to` type($result)";
  let hasVerifier = 1;
}

def Plan_KernelOp : Plan_Op<"kernel", [AttrSizedOperandSegments]> {
  let summary = "Calls a runtime kernel";
  let description = [{
    Runs kernel `callee` reading `ins` and writing `outs`; `params` holds its
    scalar settings (epsilon, transposes, causal, ...). Shapes come from the
    buffers. A buffer may be both read and written (in-place updates such as
    AdamW list it in `outs` only).

    ```mlir
    plan.kernel "layernorm_forward" ins(%x, %w, %b) outs(%y, %mean, %rstd)
        {params = {epsilon = 1.0e-05 : f64}}
        : (memref<4x16x64xf32>, memref<64xf32>, memref<64xf32>)
        -> (memref<4x16x64xf32>, memref<64xf32>, memref<64xf32>)
    ```
  }];
  let arguments = (ins StrAttr:$callee, Variadic<AnyStaticShapeMemRef>:$ins,
                       Variadic<AnyStaticShapeMemRef>:$outs,
                       DefaultValuedAttr<DictionaryAttr, "{}">:$params);
  let assemblyFormat = [{
    $callee (`ins` `(` $ins^ `)`)? (`outs` `(` $outs^ `)`)? attr-dict `:`
    functional-type($ins, $outs)
  }];
  let hasVerifier = 1;
}

#endif // LLMC_DIALECT_PLAN_OPS
