// The kernel specs expanded from kernel_table.def, and the check of a call
// against them: the generic part (operands, dtypes, parameters, sizes) and
// one shape rule per kernel, stating what its CPU and CUDA code assume.
#include "runtime/kernels/kernel_table.h"
#include "runtime/kernels/general_kinds.h"

#include <algorithm>
#include <sstream>
#include <unordered_map>

namespace llmc::kernels {
namespace {

//===----------------------------------------------------------------------===//
// The table
//===----------------------------------------------------------------------===//

// The words kernel_table.def is written in.
constexpr KernelKind Compute = KernelKind::Compute;
constexpr KernelKind Collective = KernelKind::Collective;
constexpr KernelKind CollectiveWait = KernelKind::CollectiveWait;
constexpr ParamType Int = ParamType::Int;
constexpr ParamType Float = ParamType::Float;
constexpr ParamType Bool = ParamType::Bool;
constexpr ParamType String = ParamType::String;
constexpr ParamType Ints = ParamType::Ints;
OperandSpec f32(const char *name) { return {name, DType::F32, Arity::One}; }
OperandSpec i32(const char *name) { return {name, DType::I32, Arity::One}; }
OperandSpec i8(const char *name) { return {name, DType::I8, Arity::One}; }
OperandSpec bf16(const char *name) { return {name, DType::BF16, Arity::One}; }
OperandSpec f32_or_bf16(const char *name) {
  return {name, DType::F32, Arity::One, true};
}
OperandSpec optional_f32(const char *name) {
  return {name, DType::F32, Arity::Optional};
}
OperandSpec variadic_f32(const char *name) {
  return {name, DType::F32, Arity::Variadic};
}
ParamSpec required(const char *name, ParamType type) {
  return {name, type, true};
}
ParamSpec optional(const char *name, ParamType type) {
  return {name, type, false};
}

std::vector<KernelSpec> build_table() {
  // clang-format off
#define LLMC_LIST(...) {__VA_ARGS__}
#define LLMC_KERNEL(ID, KIND, BACKENDS, INS, OUTS, PARAMS)                     \
  KernelSpec{KernelId::ID, #ID, KIND, BACKENDS,                                \
             std::vector<OperandSpec> LLMC_LIST INS,                           \
             std::vector<OperandSpec> LLMC_LIST OUTS,                          \
             std::vector<ParamSpec> LLMC_LIST PARAMS},
  // clang-format on
  return {
#include "runtime/kernels/kernel_table.def"
  };
#undef LLMC_LIST
}

//===----------------------------------------------------------------------===//
// Messages
//===----------------------------------------------------------------------===//

void append(std::ostringstream &) {}
template <typename T, typename... Rest>
void append(std::ostringstream &os, const T &first, const Rest &...rest) {
  os << first;
  append(os, rest...);
}
template <typename... Parts> std::string cat(const Parts &...parts) {
  std::ostringstream os;
  append(os, parts...);
  return os.str();
}

std::string shape_text(const std::vector<int64_t> &shape) {
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + (shape.size() == 1 ? ",)" : ")");
}

int64_t product(const std::vector<int64_t> &shape, size_t begin, size_t end) {
  int64_t n = 1;
  for (size_t i = begin; i < end && i < shape.size(); ++i)
    n *= shape[i];
  return n;
}

int64_t numel(const TensorDesc &t) {
  return product(t.shape, 0, t.shape.size());
}

//===----------------------------------------------------------------------===//
// Shape rules, one per kernel
//===----------------------------------------------------------------------===//

// What a rule sees: the call, already checked for arity, dtypes, parameter
// types and sizes, so every operand the spec lists is there.
class Call {
public:
  Call(const CallDesc &desc, const KernelSpec &spec, const AxisSizeFn &axes)
      : desc_(desc), spec_(spec), axes_(axes) {}

  const std::vector<int64_t> &in(size_t i) const { return desc_.ins[i].shape; }
  // A bf16 operand in a slot that also takes f32 (a GEMM's lhs or rhs, an
  // all_gather's x or out).
  bool in_bf16_of_f32(size_t i) const {
    return desc_.ins[i].dtype == DType::BF16 &&
           spec_.ins[std::min(i, spec_.ins.size() - 1)].or_bf16;
  }
  bool out_bf16_of_f32(size_t i) const {
    return desc_.outs[i].dtype == DType::BF16 &&
           spec_.outs[std::min(i, spec_.outs.size() - 1)].or_bf16;
  }
  const std::vector<int64_t> &out(size_t i) const {
    return desc_.outs[i].shape;
  }
  int64_t n_in(size_t i) const { return numel(desc_.ins[i]); }
  int64_t n_out(size_t i) const { return numel(desc_.outs[i]); }
  size_t num_ins() const { return desc_.ins.size(); }
  size_t num_outs() const { return desc_.outs.size(); }
  std::string in_name(size_t i) const { return operand_name(spec_.ins, i); }
  std::string out_name(size_t i) const { return operand_name(spec_.outs, i); }

  bool has(const char *param) const { return desc_.params.count(param); }
  const ParamValue &param(const char *name) const {
    return desc_.params.at(name);
  }
  // The ranks of the axis a parameter names; 0 when unknown here.
  int64_t ranks(const char *param_name) const {
    if (!axes_ || !has(param_name))
      return 0;
    return axes_(param(param_name).s);
  }

private:
  static std::string operand_name(const std::vector<OperandSpec> &slots,
                                  size_t i) {
    const OperandSpec &slot = slots[std::min(i, slots.size() - 1)];
    if (slot.arity == Arity::Variadic)
      return cat(slot.name, "[", i - (slots.size() - 1), "]");
    return slot.name;
  }

  const CallDesc &desc_;
  const KernelSpec &spec_;
  const AxisSizeFn &axes_;
};

#define EXPECT(cond, ...)                                                      \
  do {                                                                         \
    if (!(cond))                                                               \
      return cat(__VA_ARGS__);                                                 \
  } while (0)

// Every operand of the call has `n` elements.
std::string same_size(const Call &c) {
  int64_t n = c.n_out(0);
  for (size_t i = 0; i < c.num_ins(); ++i)
    EXPECT(c.n_in(i) == n, c.in_name(i), " ", shape_text(c.in(i)), " and ",
           c.out_name(0), " ", shape_text(c.out(0)), " differ in size");
  for (size_t i = 1; i < c.num_outs(); ++i)
    EXPECT(c.n_out(i) == n, c.out_name(i), " ", shape_text(c.out(i)), " and ",
           c.out_name(0), " ", shape_text(c.out(0)), " differ in size");
  return {};
}

std::string gelu_approximation(const Call &c) {
  const std::string &a = c.param("approximate").s;
  EXPECT(a == "none" || a == "tanh", "approximate is '", a,
         "'; expected none or tanh");
  return {};
}

std::string embedding(const Call &c, bool forward) {
  const auto &table = forward ? c.in(0) : c.out(0);
  EXPECT(table.size() == 2, "the table must be (V, C), got ",
         shape_text(table));
  int64_t rows = forward ? c.n_out(0) : c.n_in(0);
  EXPECT(rows == c.n_in(1) * table[1], forward ? "out " : "dout ", "has ", rows,
         " elements; expected ", c.n_in(1), " ids x C = ", table[1]);
  return {};
}

// The optional `math` of GEMMs and attention.
std::string math(const Call &c) {
  if (c.has("math")) {
    const std::string &m = c.param("math").s;
    EXPECT(m == "fp32" || m == "bf16", "math is '", m,
           "'; expected fp32 or bf16");
  }
  return {};
}

// lhs · rhs into out(0); `biased`: a third input is a bias of N elements.
std::string gemm(const Call &c, bool biased = true) {
  if (std::string bad = math(c); !bad.empty())
    return bad;
  bool bf16_math = c.has("math") && c.param("math").s == "bf16";
  for (size_t i = 0; i < 2; ++i)
    EXPECT(!c.in_bf16_of_f32(i) || bf16_math, c.in_name(i),
           " is bf16; only a GEMM with math bf16 takes bf16 operands");
  const auto &lhs = c.in(0), &rhs = c.in(1), &out = c.out(0);
  EXPECT(lhs.size() >= 2 && rhs.size() >= 2 && out.size() >= 2, "lhs ",
         shape_text(lhs), ", rhs ", shape_text(rhs), " and out ",
         shape_text(out), " must each have at least 2 dimensions");
  bool ta = c.param("transpose_lhs").b, tb = c.param("transpose_rhs").b;
  size_t r = out.size();
  int64_t batch = product(out, 0, r - 2), M = out[r - 2], N = out[r - 1];
  int64_t lhs_m = lhs[lhs.size() - (ta ? 1 : 2)];
  int64_t K = lhs[lhs.size() - (ta ? 2 : 1)];
  EXPECT(lhs_m == M && product(lhs, 0, lhs.size() - 2) == batch, "lhs ",
         shape_text(lhs), " does not give out ", shape_text(out), "'s ", batch,
         " x ", M, " rows");
  int64_t rhs_k = rhs[rhs.size() - (tb ? 1 : 2)];
  int64_t rhs_n = rhs[rhs.size() - (tb ? 2 : 1)];
  EXPECT(rhs_k == K && rhs_n == N, "lhs ", shape_text(lhs), " and rhs ",
         shape_text(rhs), " do not multiply into out ", shape_text(out));
  EXPECT(rhs.size() == 2 || product(rhs, 0, rhs.size() - 2) == batch, "rhs ",
         shape_text(rhs), " is batched, but not by out's ", batch);
  if (biased && c.num_ins() > 2)
    EXPECT(c.n_in(2) == N, "bias ", shape_text(c.in(2)), " must have N = ", N,
           " elements");
  if (c.num_outs() > 1)
    EXPECT(c.n_out(1) == c.n_out(0), "out ", shape_text(c.out(1)),
           " and pre_gelu ", shape_text(c.out(0)), " differ in size");
  return {};
}

// The weight of a weight-only GEMM (ins 1, stored (N, K) at load): one
// matrix, read by rows of an lhs that is not transposed.
std::string packed_weight(const Call &c, const char *what) {
  EXPECT(c.in(1).size() == 2 && !c.param("transpose_lhs").b, what, " ",
         shape_text(c.in(1)), " must be one matrix, and lhs not transposed");
  return {};
}

// a (n / nb, nb) op b (nb,).
std::string broadcast(const Call &c) {
  int64_t n = c.n_in(0), nb = c.n_in(1);
  EXPECT(nb > 0 ? n % nb == 0 : n == 0, "b ", shape_text(c.in(1)),
         " does not repeat evenly over a ", shape_text(c.in(0)));
  EXPECT(c.n_out(0) == n, "out ", shape_text(c.out(0)), " and a ",
         shape_text(c.in(0)), " differ in size");
  return {};
}

// A kind of general kernel (unary, binary, reduce) from its list.
template <size_t N>
std::string general_kind(const Call &c,
                         const std::array<const char *, N> &kinds) {
  const std::string &kind = c.param("kind").s;
  std::string known;
  for (const char *k : kinds)
    known += std::string(known.empty() ? "" : ", ") + k;
  EXPECT(kind_index(kinds, kind.c_str()) >= 0, "kind is '", kind,
         "'; expected one of ", known);
  return {};
}

// Every input broadcasts (numpy's rule) to out's shape.
std::string general_broadcast(const Call &c) {
  const auto &out = c.out(0);
  for (size_t i = 0; i < c.num_ins(); ++i) {
    const auto &in = c.in(i);
    bool fits = in.size() <= out.size();
    for (size_t d = 0; fits && d < in.size(); ++d) {
      int64_t o = out[out.size() - in.size() + d];
      fits = in[d] == o || in[d] == 1;
    }
    EXPECT(fits, c.in_name(i), " ", shape_text(in),
           " does not broadcast to out ", shape_text(out));
  }
  return {};
}

// out is x with `axes` (increasing, in range) of size 1 or left out.
std::string general_reduce(const Call &c) {
  const auto &x = c.in(0), &out = c.out(0);
  const auto &axes = c.param("axes").ints;
  std::vector<int64_t> kept, squeezed;
  for (size_t d = 0; d < x.size(); ++d) {
    bool reduced =
        std::find(axes.begin(), axes.end(), int64_t(d)) != axes.end();
    kept.push_back(reduced ? 1 : x[d]);
    if (!reduced)
      squeezed.push_back(x[d]);
  }
  for (size_t i = 0; i < axes.size(); ++i)
    EXPECT(axes[i] >= 0 && axes[i] < int64_t(x.size()) &&
               (i == 0 || axes[i] > axes[i - 1]),
           "axes must be increasing dimensions of x ", shape_text(x));
  EXPECT(out == kept || out == squeezed, "out ", shape_text(out), " is not x ",
         shape_text(x), " reduced over its axes");
  return {};
}

// A norm over rows of the last dimension of x: operands of the row's size
// (C), of x's size, or one per row.
enum class Size { X, C, Rows };
std::string norm(const Call &c, size_t x, std::vector<Size> ins,
                 std::vector<Size> outs) {
  const auto &shape = c.in(x);
  EXPECT(!shape.empty(), c.in_name(x), " must have at least one dimension");
  int64_t C = shape.back(), n = c.n_in(x), rows = C ? n / C : 0;
  auto expected = [&](Size s) {
    return s == Size::X ? n : s == Size::C ? C : rows;
  };
  for (size_t i = 0; i < ins.size(); ++i)
    EXPECT(c.n_in(i) == expected(ins[i]), c.in_name(i), " ",
           shape_text(c.in(i)), " must have ", expected(ins[i]),
           " elements for ", c.in_name(x), " ", shape_text(shape));
  for (size_t i = 0; i < outs.size(); ++i)
    EXPECT(c.n_out(i) == expected(outs[i]), c.out_name(i), " ",
           shape_text(c.out(i)), " must have ", expected(outs[i]),
           " elements for ", c.in_name(x), " ", shape_text(shape));
  return {};
}

std::string last_dim_rows(const Call &c) {
  EXPECT(!c.in(0).empty(), c.in_name(0), " must have at least one dimension");
  return same_size(c);
}

std::string attention(const Call &c, bool forward) {
  if (std::string bad = math(c); !bad.empty())
    return bad;
  size_t first = forward ? 0 : 1;
  const auto &q = c.in(first), &k = c.in(first + 1), &v = c.in(first + 2);
  EXPECT(q.size() == 4 && k.size() == 4 && v.size() == 4, "q ", shape_text(q),
         ", k ", shape_text(k), " and v ", shape_text(v),
         " must be (B, H, T, D)");
  EXPECT(k[0] == q[0] && v[0] == q[0] && v[1] == k[1] && v[2] == k[2] &&
             k[3] == q[3],
         "q ", shape_text(q), ", k ", shape_text(k), " and v ", shape_text(v),
         " disagree on B, kv heads, keys or head size");
  EXPECT(k[1] > 0 && q[1] % k[1] == 0, "q's ", q[1],
         " heads are not groups of k's ", k[1]);
  int64_t out = q[0] * q[1] * q[2] * v[3], lse = q[0] * q[1] * q[2];
  if (forward) {
    EXPECT(c.n_out(0) == out && c.n_out(1) == lse, "out ", shape_text(c.out(0)),
           " and lse ", shape_text(c.out(1)), " must have ", out, " and ", lse,
           " elements");
    return {};
  }
  EXPECT(c.n_in(0) == out && c.n_in(4) == out && c.n_in(5) == lse,
         "dout, out and lse must have ", out, ", ", out, " and ", lse,
         " elements");
  for (size_t i = 0; i < 3; ++i)
    EXPECT(c.n_out(i) == c.n_in(first + i), c.out_name(i), " ",
           shape_text(c.out(i)), " and ", c.in_name(first + i), " ",
           shape_text(c.in(first + i)), " differ in size");
  return {};
}

std::string rope(const Call &c) {
  const auto &x = c.in(0);
  EXPECT(x.size() == 4 && x[3] % 2 == 0, c.in_name(0), " ", shape_text(x),
         " must be (B, H, T, D) with D even");
  return same_size(c);
}

// A (B, H, T, D) tensor and its sequences' block table (B, M) and
// positions (B, T).
std::string paging(const Call &c, size_t x, size_t table, size_t positions) {
  const auto &s = c.in(x), &t = c.in(table), &p = c.in(positions);
  EXPECT(s.size() == 4, c.in_name(x), " ", shape_text(s),
         " must be (B, H, T, D)");
  EXPECT(t.size() == 2 && t[0] == s[0], "block_table ", shape_text(t),
         " must be (B, blocks) for B = ", s[0]);
  EXPECT(p.size() == 2 && p[0] == s[0] && p[1] == s[2], "positions ",
         shape_text(p), " must be (B, T) = (", s[0], ", ", s[2], ")");
  return {};
}

// A cache (blocks, H, block_tokens, D) holding heads of `heads` x `dim`.
std::string cache(const std::vector<int64_t> &cache, int64_t heads, int64_t dim,
                  const char *what) {
  EXPECT(cache.size() == 4 && cache[1] == heads && cache[3] == dim &&
             cache[2] > 0,
         what, " ", shape_text(cache), " must be (blocks, ", heads,
         ", block_tokens, ", dim, ")");
  return {};
}

std::string paged_attention(const Call &c) {
  if (std::string e = paging(c, 0, 3, 4); !e.empty())
    return e;
  const auto &q = c.in(0), &k = c.in(1), &v = c.in(2);
  EXPECT(k.size() == 4 && v.size() == 4 && k[1] > 0 && q[1] % k[1] == 0,
         "key_cache ", shape_text(k),
         " must be (blocks, Hkv, bt, D) with Hkv "
         "dividing q's ",
         q[1], " heads");
  if (std::string e = cache(k, k[1], q[3], "key_cache"); !e.empty())
    return e;
  if (std::string e = cache(v, k[1], v[3], "value_cache"); !e.empty())
    return e;
  EXPECT(v[0] == k[0] && v[2] == k[2], "value_cache ", shape_text(v),
         " and key_cache ", shape_text(k), " differ in blocks or tokens");
  EXPECT(c.n_out(0) == q[0] * q[1] * q[2] * v[3], "out ", shape_text(c.out(0)),
         " must be (B, Hq, T, Dv)");
  return {};
}

std::string permute(const Call &c) {
  const auto &perm = c.param("permutation").ints;
  const auto &in = c.in(0), &out = c.out(0);
  std::vector<bool> seen(in.size(), false);
  EXPECT(perm.size() == in.size() && out.size() == in.size(), "permutation ",
         shape_text(perm), " does not permute x ", shape_text(in), " into ",
         shape_text(out));
  for (size_t d = 0; d < perm.size(); ++d) {
    int64_t p = perm[d];
    EXPECT(p >= 0 && p < int64_t(in.size()) && !seen[size_t(p)], "permutation ",
           shape_text(perm), " is not a permutation");
    seen[size_t(p)] = true;
    EXPECT(out[d] == in[size_t(p)], "out ", shape_text(out), " is not x ",
           shape_text(in), " permuted by ", shape_text(perm));
  }
  return {};
}

std::string split_or_concat(const Call &c, bool split) {
  const auto &whole = split ? c.in(0) : c.out(0);
  size_t parts = split ? c.num_outs() : c.num_ins();
  int64_t rank = int64_t(whole.size()), axis = c.param("axis").i;
  EXPECT(axis >= -rank && axis < rank, "axis ", axis, " is outside ",
         shape_text(whole));
  size_t a = size_t(axis < 0 ? axis + rank : axis);
  int64_t total = 0;
  for (size_t i = 0; i < parts; ++i) {
    const auto &part = split ? c.out(i) : c.in(i);
    EXPECT(part.size() == whole.size(), "part ", i, " ", shape_text(part),
           " and ", shape_text(whole), " differ in rank");
    for (size_t d = 0; d < part.size(); ++d)
      EXPECT(d == a || part[d] == whole[d], "part ", i, " ", shape_text(part),
             " and ", shape_text(whole), " differ outside axis ", a);
    total += part[a];
  }
  EXPECT(total == whole[a], "the parts sum to ", total, " along axis ", a,
         "; expected ", whole[a]);
  return {};
}

// A box of `small` at `offsets` inside `large`, every strides-th element
// of each axis (backwards for a negative stride).
std::string box(const Call &c, const std::vector<int64_t> &large,
                const std::vector<int64_t> &small) {
  const std::vector<int64_t> &offsets = c.param("offsets").ints;
  std::vector<int64_t> strides(offsets.size(), 1);
  if (c.has("strides"))
    strides = c.param("strides").ints;
  EXPECT(!large.empty() && small.size() == large.size() &&
             offsets.size() == large.size() && strides.size() == large.size(),
         "offsets ", shape_text(offsets), " and strides ", shape_text(strides),
         " do not place ", shape_text(small), " in ", shape_text(large));
  for (size_t d = 0; d < large.size(); ++d) {
    int64_t last = offsets[d] + (small[d] - 1) * strides[d];
    EXPECT(strides[d] != 0 && small[d] > 0 && offsets[d] >= 0 &&
               offsets[d] < large[d] && last >= 0 && last < large[d],
           "offsets ", shape_text(offsets), " and strides ",
           shape_text(strides), " place ", shape_text(small), " outside ",
           shape_text(large));
  }
  return {};
}

// logits (N, V) and N targets; on one device, V is the whole vocabulary.
std::string logits_and_targets(const Call &c, size_t logits, size_t targets,
                               int64_t vocab, const char *vp_param) {
  const auto &shape = c.in(logits);
  EXPECT(!shape.empty() && c.n_in(targets) * shape.back() == c.n_in(logits),
         "logits ", shape_text(shape), " are not one row per target of ",
         shape_text(c.in(targets)));
  int64_t ranks = vp_param && c.has(vp_param) ? c.ranks(vp_param) : 1;
  if (vocab > 0 && ranks > 0)
    EXPECT(shape.back() * ranks == vocab, "logits ", shape_text(shape),
           " over ", ranks, " rank(s) do not cover the model's vocabulary of ",
           vocab);
  return {};
}

// One rank's part along `dim` of a tensor split over the axis's ranks.
std::string block(const Call &c, const std::vector<int64_t> &whole,
                  const std::vector<int64_t> &part) {
  int64_t rank = int64_t(whole.size()), dim = c.param("dim").i;
  EXPECT(part.size() == whole.size() && dim >= 0 && dim < rank, "dim ", dim,
         " does not split ", shape_text(whole), " into ", shape_text(part));
  int64_t R = c.ranks("axis");
  for (int64_t d = 0; d < rank; ++d) {
    int64_t w = whole[size_t(d)], p = part[size_t(d)];
    bool fits = d != dim ? w == p : R > 0 ? w == p * R : p > 0 && w % p == 0;
    EXPECT(fits, shape_text(part), " is not one of ",
           R > 0 ? std::to_string(R) : std::string("the"), " blocks of ",
           shape_text(whole), " along dim ", dim);
  }
  return {};
}

// A flat tensor of `whole` elements in `slice`-sized pieces, one per rank.
std::string slices(const Call &c, int64_t whole, int64_t slice) {
  int64_t R = c.ranks("axis");
  if (R > 0)
    EXPECT(whole == slice * R, whole, " elements are not ", R, " slices of ",
           slice);
  return {};
}

std::string check_rule(const Call &c, KernelId id, int64_t vocab) {
  using S = Size;
  switch (id) {
  case KernelId::embedding_forward:
    return embedding(c, true);
  case KernelId::embedding_backward:
    return embedding(c, false);
  case KernelId::matmul:
    return gemm(c);
  case KernelId::matmul_bias_gelu:
    if (std::string e = gelu_approximation(c); !e.empty())
      return e;
    return gemm(c);
  case KernelId::matmul_swiglu:
    EXPECT(c.n_in(2) == c.n_out(0) && c.n_out(1) == c.n_out(0), "gate ",
           shape_text(c.in(2)), " and out ", shape_text(c.out(1)),
           " must be the size of up ", shape_text(c.out(0)));
    return gemm(c, /*biased=*/false);
  case KernelId::matmul_f32w:
  case KernelId::matmul_bf16w:
    // Their optional bias is ins 2, as matmul's: gemm checks it.
    if (std::string e = gemm(c); !e.empty())
      return e;
    return packed_weight(c, "the (N, K)-stored weight");
  case KernelId::matmul_i8w:
    if (std::string e = gemm(c, /*biased=*/false); !e.empty())
      return e;
    if (std::string e = packed_weight(c, "the int8 weight"); !e.empty())
      return e;
    EXPECT(c.n_in(2) == c.out(0).back(), "scale ", shape_text(c.in(2)),
           " must have one value per output "
           "channel (",
           c.out(0).back(), ")");
    if (c.num_ins() > 3)
      EXPECT(c.n_in(3) == c.out(0).back(), "bias ", shape_text(c.in(3)),
             " must have one value per output channel");
    return {};
  case KernelId::sum_to:
    EXPECT(c.n_out(0) > 0 ? c.n_in(0) % c.n_out(0) == 0 : c.n_in(0) == 0, "x ",
           shape_text(c.in(0)), " is not rows of out ", shape_text(c.out(0)));
    return {};
  case KernelId::add:
  case KernelId::mul:
    return broadcast(c);
  case KernelId::unary:
    if (std::string e = general_kind(c, kUnaryKinds); !e.empty())
      return e;
    return same_size(c);
  case KernelId::binary:
    if (std::string e = general_kind(c, kBinaryKinds); !e.empty())
      return e;
    return general_broadcast(c);
  case KernelId::where:
    return general_broadcast(c);
  case KernelId::reduce:
    if (std::string e = general_kind(c, kReduceKinds); !e.empty())
      return e;
    return general_reduce(c);
  case KernelId::gelu_forward:
  case KernelId::gelu_backward:
    if (std::string e = gelu_approximation(c); !e.empty())
      return e;
    return same_size(c);
  case KernelId::accumulate_grad:
  case KernelId::silu_forward:
  case KernelId::silu_backward:
  case KernelId::swiglu_forward:
  case KernelId::swiglu_backward:
  case KernelId::copy:
  case KernelId::round_bf16:
  case KernelId::all_reduce_sum:
    return same_size(c);
  case KernelId::softmax_forward:
  case KernelId::softmax_backward:
    return last_dim_rows(c);
  case KernelId::layernorm_forward:
    return norm(c, 0, {S::X, S::C, S::C}, {S::X, S::Rows, S::Rows});
  case KernelId::layernorm_backward:
    return norm(c, 1, {S::X, S::X, S::C, S::Rows, S::Rows}, {S::X, S::C, S::C});
  case KernelId::add_layernorm_forward:
    return norm(c, 0, {S::X, S::X, S::C, S::C}, {S::X, S::X, S::Rows, S::Rows});
  case KernelId::rmsnorm_forward:
    return norm(c, 0, {S::X, S::C}, {S::X, S::Rows});
  case KernelId::rmsnorm_backward:
    return norm(c, 1, {S::X, S::X, S::C, S::Rows}, {S::X, S::C});
  case KernelId::add_rmsnorm_forward:
    return norm(c, 0, {S::X, S::X, S::C}, {S::X, S::X, S::Rows});
  case KernelId::attention_forward:
    return attention(c, true);
  case KernelId::attention_backward:
    return attention(c, false);
  case KernelId::rope_forward:
  case KernelId::rope_backward:
    return rope(c);
  case KernelId::kv_cache_write: {
    if (std::string e = paging(c, 0, 1, 2); !e.empty())
      return e;
    return cache(c.out(0), c.in(0)[1], c.in(0)[3], "cache");
  }
  case KernelId::paged_attention:
    return paged_attention(c);
  case KernelId::rope_at: {
    const auto &x = c.in(0), &p = c.in(1);
    EXPECT(x.size() == 4 && x[3] % 2 == 0 && p.size() == 2 && p[0] == x[0] &&
               p[1] == x[2],
           "x ", shape_text(x), " and positions ", shape_text(p),
           " must be (B, H, T, D) with D even and (B, T)");
    EXPECT(c.n_out(0) == c.n_in(0), "out ", shape_text(c.out(0)), " and x ",
           shape_text(x), " differ in size");
    return {};
  }
  case KernelId::last_token: {
    const auto &x = c.in(0), &p = c.in(1);
    EXPECT(x.size() == 3 && p.size() == 2 && p[0] == x[0] && p[1] == x[1], "x ",
           shape_text(x), " and positions ", shape_text(p),
           " must be (B, T, C) and (B, T)");
    EXPECT(c.n_out(0) == x[0] * x[2], "out ", shape_text(c.out(0)),
           " must be (B, C)");
    return {};
  }
  case KernelId::permute:
    return permute(c);
  case KernelId::split:
    return split_or_concat(c, true);
  case KernelId::concat:
    return split_or_concat(c, false);
  case KernelId::extract_slice:
    return box(c, c.in(0), c.out(0));
  case KernelId::insert_slice:
    EXPECT(c.n_out(0) == c.n_in(1), "out ", shape_text(c.out(0)), " and dest ",
           shape_text(c.in(1)), " differ in size");
    return box(c, c.out(0), c.in(0));
  case KernelId::fill:
    return {};
  case KernelId::cross_entropy_forward:
    EXPECT(c.n_out(0) >= 1, "loss must hold one value");
    return logits_and_targets(c, 0, 1, vocab, nullptr);
  case KernelId::cross_entropy_backward:
    EXPECT(c.n_in(0) >= 1 && c.n_out(0) == c.n_in(1),
           "dloss must hold one value and dlogits match logits");
    return logits_and_targets(c, 1, 2, vocab, nullptr);
  case KernelId::cross_entropy_vp_partial:
    EXPECT(c.n_out(0) == 3 * c.n_in(1), "stats ", shape_text(c.out(0)),
           " must be (N, 3) for ", c.n_in(1), " targets");
    return logits_and_targets(c, 0, 1, vocab, "vocab_parallel_axis");
  case KernelId::cross_entropy_vp_finish: {
    int64_t N = c.n_out(1);
    EXPECT(c.n_out(0) >= 1 && N > 0 && c.n_in(0) % (3 * N) == 0, "gathered ",
           shape_text(c.in(0)), " is not (P, N, 3) for lse ",
           shape_text(c.out(1)));
    return {};
  }
  case KernelId::cross_entropy_vp_backward:
    EXPECT(c.n_in(0) >= 1 && c.n_in(3) == c.n_in(2) && c.n_out(0) == c.n_in(1),
           "dloss must hold one value, lse one per target and dlogits "
           "match logits");
    return logits_and_targets(c, 1, 2, vocab, "vocab_parallel_axis");
  case KernelId::grad_norm:
    EXPECT(c.n_out(0) >= 1, "norm must hold one value");
    if (c.has("sharded"))
      EXPECT(c.param("sharded").ints.size() == c.num_ins(), "sharded has ",
             c.param("sharded").ints.size(), " flags for ", c.num_ins(),
             " gradients");
    return {};
  case KernelId::adamw: {
    int64_t n = c.n_out(1);
    EXPECT(c.n_out(2) == n && c.n_in(1) >= 1,
           "m and v must match and grad_norm hold one value");
    // Under ZeRO the moments are this rank's slice of a whole parameter
    // (or gradient), each of which is the slice itself or all R slices.
    int64_t R = c.has("zero_axis") ? c.ranks("zero_axis") : 1;
    for (auto [what, size] :
         {std::pair{"param", c.n_out(0)}, std::pair{"grad", c.n_in(0)}}) {
      bool fits = size == n || (R > 1 && size == n * R) ||
                  (R == 0 && n > 0 && size % n == 0);
      EXPECT(fits, what, " of ", size, " elements does not match moments of ",
             n, R > 1 ? cat(" (or ", R, " slices of them)") : "");
    }
    return {};
  }
  case KernelId::all_gather:
    // bf16: ZeRO-3's rounded parameter slices, gathered whole (flat).
    EXPECT(c.in_bf16_of_f32(0) == c.out_bf16_of_f32(0),
           "x and out differ in dtype");
    EXPECT(!c.in_bf16_of_f32(0) || c.param("dim").i == 0,
           "a bf16 all_gather gathers along dim 0");
    return block(c, c.out(0), c.in(0));
  case KernelId::all_gather_start:
  case KernelId::all_gather_wait:
    return block(c, c.out(0), c.in(0));
  case KernelId::reduce_scatter:
  case KernelId::scatter_to_parallel:
    return block(c, c.in(0), c.out(0));
  case KernelId::all_gather_inplace: {
    int64_t R = c.ranks("axis");
    EXPECT(R <= 0 || c.n_out(0) % R == 0, "x of ", c.n_out(0),
           " elements is not ", R, " equal slices");
    return {};
  }
  case KernelId::reduce_scatter_start:
  case KernelId::reduce_scatter_wait:
    return slices(c, c.n_in(0), c.n_out(0));
  case KernelId::all_reduce_mean_start:
  case KernelId::all_reduce_mean_wait:
    return {};
  }
  return "has no shape rule";
}

//===----------------------------------------------------------------------===//
// The generic part
//===----------------------------------------------------------------------===//

std::string check_operands(const std::vector<OperandSpec> &slots,
                           const std::vector<TensorDesc> &tensors,
                           const char *side) {
  size_t fixed = 0;
  bool optional = false, variadic = false;
  for (const OperandSpec &slot : slots) {
    fixed += slot.arity == Arity::One;
    optional |= slot.arity == Arity::Optional;
    variadic |= slot.arity == Arity::Variadic;
  }
  size_t n = tensors.size();
  bool ok = variadic   ? n >= fixed + 1
            : optional ? n == fixed || n == fixed + 1
                       : n == fixed;
  if (!ok) {
    std::string names;
    for (const OperandSpec &slot : slots)
      names += std::string(names.empty() ? "" : ", ") + slot.name +
               (slot.arity == Arity::Optional   ? "?"
                : slot.arity == Arity::Variadic ? "..."
                                                : "");
    return cat("takes ", side, " (", names, "), got ", n);
  }
  for (size_t i = 0; i < n; ++i) {
    const OperandSpec &slot = slots[std::min(i, slots.size() - 1)];
    const TensorDesc &t = tensors[i];
    if (t.dtype != slot.dtype && !(slot.or_bf16 && t.dtype == DType::BF16))
      return cat(side, " ", i, " (", slot.name, ") is ", dtype_name(t.dtype),
                 "; expected ", dtype_name(slot.dtype),
                 slot.or_bf16 ? " or bf16" : "");
    int64_t elements = 1;
    for (int64_t d : t.shape) {
      if (d < 0)
        return cat(side, " ", i, " (", slot.name, ") has shape ",
                   shape_text(t.shape), " with a negative dimension");
      if (d > 0 && elements > kMaxElements / d)
        return cat(side, " ", i, " (", slot.name, ") has shape ",
                   shape_text(t.shape), ", more than 2^40 elements");
      elements *= d;
    }
  }
  return {};
}

std::string check_params(const KernelSpec &spec, const CallDesc &call) {
  for (const ParamSpec &p : spec.params) {
    auto it = call.params.find(p.name);
    if (it == call.params.end()) {
      if (p.required)
        return cat("needs parameter '", p.name, "' (", param_type_name(p.type),
                   ")");
      continue;
    }
    if (it->second.type != p.type)
      return cat("parameter '", p.name, "' is ",
                 param_type_name(it->second.type), "; expected ",
                 param_type_name(p.type));
  }
  for (const auto &entry : call.params) {
    const std::string &name = entry.first;
    bool known =
        std::any_of(spec.params.begin(), spec.params.end(),
                    [&](const ParamSpec &p) { return name == p.name; });
    if (!known)
      return cat("has no parameter '", name, "'");
  }
  return {};
}

} // namespace

const std::vector<KernelSpec> &all_kernels() {
  static const std::vector<KernelSpec> table = build_table();
  return table;
}

const KernelSpec &spec(KernelId id) { return all_kernels()[size_t(id)]; }

const KernelSpec *find(std::string_view name) {
  static const std::unordered_map<std::string_view, const KernelSpec *> index =
      [] {
        std::unordered_map<std::string_view, const KernelSpec *> map;
        for (const KernelSpec &s : all_kernels())
          map[s.name] = &s;
        return map;
      }();
  auto it = index.find(name);
  return it == index.end() ? nullptr : it->second;
}

const char *dtype_name(DType dtype) {
  return dtype == DType::F32   ? "f32"
         : dtype == DType::I32 ? "i32"
         : dtype == DType::I8  ? "i8"
                               : "bf16";
}

const char *param_type_name(ParamType type) {
  switch (type) {
  case ParamType::Int:
    return "int";
  case ParamType::Float:
    return "float";
  case ParamType::Bool:
    return "bool";
  case ParamType::String:
    return "string";
  case ParamType::Ints:
    return "int list";
  }
  return "?";
}

std::string check_call(const CallDesc &call, const AxisSizeFn &axis_size,
                       int64_t vocab_size) {
  const KernelSpec *spec = find(call.name);
  if (!spec)
    return cat("'", call.name,
               "' is not a kernel of the kernel table "
               "(runtime/kernels/kernel_table.def)");
  std::string error = check_operands(spec->ins, call.ins, "ins");
  if (error.empty())
    error = check_operands(spec->outs, call.outs, "outs");
  if (error.empty())
    error = check_params(*spec, call);
  if (error.empty() && axis_size)
    for (const char *param : {"axis", "zero_axis", "vocab_parallel_axis"})
      if (auto it = call.params.find(param);
          it != call.params.end() && it->second.type == ParamType::String &&
          axis_size(it->second.s) <= 0)
        error = cat(param, " '", it->second.s,
                    "' is not a mesh axis (dp, tp, pp or embedding)");
  if (error.empty())
    error = check_rule(Call(call, *spec, axis_size), spec->id, vocab_size);
  return error.empty() ? error : call.name + ": " + error;
}

} // namespace llmc::kernels
