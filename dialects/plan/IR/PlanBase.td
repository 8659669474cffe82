//===- PlanBase.td - The plan dialect ----------------------*- tablegen -*-===//
//
// The `plan` dialect is the lowered execution plan: buffers carved from one
// arena, kernel calls on them, in program order. A reader of a plan can say
// exactly what each rank does; the runtime executes it without MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_DIALECT_PLAN_BASE
#define LLMC_DIALECT_PLAN_BASE

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Plan_Dialect : Dialect {
  let name = "plan";
  let summary = "Execution plans: buffers in an arena and kernel calls";
  let description = [{
    A plan program is a `func.func` without arguments whose body declares
    buffers (`plan.buffer`, with their category and, after memory planning,
    their arena offset), aliases (`plan.view`) and kernel calls
    (`plan.kernel`) that read `ins` and write `outs`, in execution order.
  }];
  let cppNamespace = "::mlir::plan";
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    /// Function attribute: the arena size in bytes, set by memory planning.
    static constexpr llvm::StringLiteral kArenaBytesAttrName =
        "plan.arena_bytes";
    /// Function attribute: the bytes of one stash slot (the buffers marked
    /// `stashed`), set by memory planning when there are any.
    static constexpr llvm::StringLiteral kStashBytesAttrName =
        "plan.stash_bytes";
    /// Function attribute of a pipelined program: the kernel indices where
    /// its forward, backward and gradients programs end (the update runs on
    /// to the last kernel).
    static constexpr llvm::StringLiteral kProgramEndsAttrName =
        "plan.program_ends";
    /// Kernel attribute: the program a kernel belongs to in a plan of
    /// several (an inference plan's prefill and decode).
    static constexpr llvm::StringLiteral kProgramAttrName = "plan.program";
  }];
}

class Plan_Op<string mnemonic, list<Trait> traits = []>
    : Op<Plan_Dialect, mnemonic, traits>;

// What a buffer holds decides its lifetime: inputs, parameters, optimizer
// state and outputs live for the whole program; activations and temporaries
// only between their first write and their last read.
def Plan_Input : I32EnumAttrCase<"input", 0>;
def Plan_Param : I32EnumAttrCase<"param", 1>;
def Plan_Grad : I32EnumAttrCase<"grad", 2>;
def Plan_OptimizerState : I32EnumAttrCase<"optimizer_state", 3>;
def Plan_Activation : I32EnumAttrCase<"activation", 4>;
def Plan_Temporary : I32EnumAttrCase<"temporary", 5>;
def Plan_Output : I32EnumAttrCase<"output", 6>;
// An inference plan's paged key/value cache: lives as long as the plan.
def Plan_KVCache : I32EnumAttrCase<"kv_cache", 7>;
// The per-channel scales of an int8 weight, made when it is quantized.
def Plan_WeightScale : I32EnumAttrCase<"weight_scale", 8>;
// An int8 copy of a parameter that stays fp32 for its other users, made
// from it at load.
def Plan_WeightCopy : I32EnumAttrCase<"weight_copy", 9>;
def Plan_BufferCategory : I32EnumAttr<"BufferCategory",
    "what a buffer holds", [Plan_Input, Plan_Param, Plan_Grad,
    Plan_OptimizerState, Plan_Activation, Plan_Temporary, Plan_Output,
    Plan_KVCache, Plan_WeightScale, Plan_WeightCopy]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::plan";
}
def Plan_BufferCategoryAttr
    : EnumAttr<Plan_Dialect, Plan_BufferCategory, "category"> {
  let assemblyFormat = "$value";
}

#endif // LLMC_DIALECT_PLAN_BASE
