// The kernel table: every kernel a plan may call, declared once in
// kernel_table.def, and the check of one call against it (operand counts and
// dtypes, parameters and their types, and each kernel's shape rule). The
// compiler checks every call it emits with it (the plan dialect's verifier),
// the runtime every call of a plan file it loads, so a crafted plan gets one
// error line instead of undefined behaviour. Plain C++: no MLIR, no
// protobuf, no exceptions.
#pragma once

#include "runtime/kernels/dtype.h"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace llmc::kernels {

enum class KernelId {
#define LLMC_KERNEL(ID, ...) ID,
#include "runtime/kernels/kernel_table.def"
};

enum class KernelKind { Compute, Collective, CollectiveWait };
enum class ParamType { Int, Float, Bool, String, Ints };
// How many tensors an operand slot takes.
enum class Arity { One, Optional, Variadic };

enum Backend : unsigned { kCpu = 1, kCuda = 2 };

struct OperandSpec {
  const char *name;
  DType dtype;
  Arity arity;
  // A GEMM operand of f32 dtype that may also be bf16 (with bf16 math: an
  // activation a bf16-mixed plan keeps rounded).
  bool or_bf16 = false;
};

struct ParamSpec {
  const char *name;
  ParamType type;
  bool required;
};

struct KernelSpec {
  KernelId id;
  const char *name;
  KernelKind kind;
  unsigned backends;
  std::vector<OperandSpec> ins, outs;
  std::vector<ParamSpec> params;
};

// Every kernel, in the order of kernel_table.def.
const std::vector<KernelSpec> &all_kernels();
const KernelSpec &spec(KernelId id);
// The spec of a kernel name, or nullptr.
const KernelSpec *find(std::string_view name);
inline const char *kernel_name(KernelId id) { return spec(id).name; }
// True when `name` names kernel `id`: comparisons a typo cannot pass.
inline bool is(std::string_view name, KernelId id) {
  return name == spec(id).name;
}

// The GEMMs whose operands are fp32 tensors (a plain matmul and those with
// an epilogue), as opposed to the weight-only ones: what bf16-mixed rounds,
// what the cost model times on the GEMM roofline, what an SP re-gather can
// start before.
inline bool is_fp32_gemm(std::string_view name) {
  return is(name, KernelId::matmul) || is(name, KernelId::matmul_bias_gelu) ||
         is(name, KernelId::matmul_swiglu);
}

// Kernels whose products a bf16-mixed plan makes bf16 (`math`): the fp32
// GEMMs and attention.
inline bool takes_bf16_math(std::string_view name) {
  return is_fp32_gemm(name) || is(name, KernelId::attention_forward) ||
         is(name, KernelId::attention_backward);
}

// Kernels that may write their one result over an input of its shape
// (llmc-write-in-place): on every backend, element i of the result depends
// on element i of each operand alone, read before element i is written.
inline bool may_write_over_input(std::string_view name) {
  for (KernelId id :
       {KernelId::add, KernelId::mul, KernelId::unary, KernelId::gelu_forward,
        KernelId::gelu_backward, KernelId::silu_forward,
        KernelId::silu_backward, KernelId::swiglu_forward})
    if (is(name, id))
      return true;
  return false;
}

const char *dtype_name(DType dtype);
const char *param_type_name(ParamType type);

//===----------------------------------------------------------------------===//
// Checking one call
//===----------------------------------------------------------------------===//

struct TensorDesc {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
};

struct ParamValue {
  ParamType type = ParamType::Int;
  int64_t i = 0;
  double f = 0.0;
  bool b = false;
  std::string s;
  std::vector<int64_t> ints;
};

// One kernel call as both sides see it: the compiler builds it from a
// plan.kernel op, the runtime from a plan file's Kernel.
struct CallDesc {
  std::string name;
  std::vector<TensorDesc> ins, outs;
  std::map<std::string, ParamValue> params;
};

// The ranks of a mesh axis, or 0 where the caller does not know them (the
// compiler checking one op); rules that need them are then skipped.
using AxisSizeFn = std::function<int64_t(const std::string &axis)>;

// The largest element count a tensor may have: sizes stay far from int64
// overflow in every product a rule or kernel forms.
inline constexpr int64_t kMaxElements = int64_t(1) << 40;

// An empty string when `call` is a valid call of a table kernel, else one
// line saying what is wrong ("matmul: lhs (4, 8) and rhs (16, 2) do not
// share K"). Every dimension must be non-negative with at most kMaxElements
// elements per tensor, or the call is refused before any rule reads it.
// `vocab_size` (0: unknown) is the model's: cross-entropy logits must cover
// it, since targets are checked against it when the data is read.
std::string check_call(const CallDesc &call, const AxisSizeFn &axis_size = {},
                       int64_t vocab_size = 0);

} // namespace llmc::kernels
