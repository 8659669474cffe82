// The kernel table: every entry is well formed and has a CPU function, and
// check_call refuses each kind of bad call with a line naming it.
#include "runtime/cpu_dispatch.h"
#include "runtime/kernels/kernel_table.h"

#include <gtest/gtest.h>

#include <set>

namespace llmc::kernels {
namespace {

TEST(KernelTable, EntriesAreWellFormed) {
  std::set<std::string> names;
  for (const KernelSpec &spec : all_kernels()) {
    SCOPED_TRACE(spec.name);
    EXPECT_TRUE(names.insert(spec.name).second) << "declared twice";
    EXPECT_EQ(&spec, find(spec.name));
    EXPECT_STREQ(kernel_name(spec.id), spec.name);
    // CPU is the reference backend: every kernel has a CPU function.
    EXPECT_TRUE(spec.backends & kCpu);
    EXPECT_NE(find_cpu_kernel(spec.name), nullptr);
    EXPECT_FALSE(spec.outs.empty()) << "a kernel without outputs is dead";
    // An optional or variadic operand can only be the last one.
    for (const auto *list : {&spec.ins, &spec.outs})
      for (size_t i = 0; i + 1 < list->size(); ++i)
        EXPECT_EQ((*list)[i].arity, Arity::One);
  }
  EXPECT_EQ(find("no_such_kernel"), nullptr);
  EXPECT_EQ(find_cpu_kernel("no_such_kernel"), nullptr);
}

TensorDesc f32(std::vector<int64_t> shape) { return {DType::F32, shape}; }
TensorDesc i32(std::vector<int64_t> shape) { return {DType::I32, shape}; }
ParamValue boolean(bool b) {
  ParamValue v;
  v.type = ParamType::Bool;
  v.b = b;
  return v;
}
ParamValue str(std::string s) {
  ParamValue v;
  v.type = ParamType::String;
  v.s = std::move(s);
  return v;
}
ParamValue real(double f) {
  ParamValue v;
  v.type = ParamType::Float;
  v.f = f;
  return v;
}

CallDesc matmul(TensorDesc a, TensorDesc b, TensorDesc out) {
  return {
      "matmul",
      {a, b},
      {out},
      {{"transpose_lhs", boolean(false)}, {"transpose_rhs", boolean(false)}}};
}

TEST(KernelTable, AcceptsValidCalls) {
  EXPECT_EQ(check_call(matmul(f32({2, 3, 4}), f32({4, 5}), f32({2, 3, 5}))),
            "");
  CallDesc batched = matmul(f32({2, 3, 4}), f32({2, 5, 4}), f32({2, 3, 5}));
  batched.params["transpose_rhs"] = boolean(true);
  EXPECT_EQ(check_call(batched), "");
  CallDesc attention{
      "attention_forward",
      {f32({1, 4, 8, 16}), f32({1, 2, 8, 16}), f32({1, 2, 8, 16})},
      {f32({1, 4, 8, 16}), f32({1, 4, 8})},
      {{"causal", boolean(true)}, {"scale", real(0.25)}}};
  EXPECT_EQ(check_call(attention), "");
}

TEST(KernelTable, RefusesBadCalls) {
  // One input where matmul takes two or three.
  CallDesc one = matmul(f32({2, 4}), f32({4, 5}), f32({2, 5}));
  one.ins.pop_back();
  EXPECT_EQ(check_call(one), "matmul: takes ins (lhs, rhs, bias?), got 1");
  // An embedding without its ids.
  CallDesc embedding{"embedding_forward", {f32({8, 4})}, {f32({2, 4})}, {}};
  EXPECT_EQ(check_call(embedding),
            "embedding_forward: takes ins (table, ids), got 1");
  // Ids as floats.
  embedding.ins.push_back(f32({2}));
  EXPECT_EQ(check_call(embedding),
            "embedding_forward: ins 1 (ids) is f32; expected i32");
  // More output rows than ids.
  embedding.ins[1] = i32({3});
  EXPECT_EQ(check_call(embedding),
            "embedding_forward: out has 8 elements; expected 3 ids x C = 4");
  // K differs.
  EXPECT_EQ(check_call(matmul(f32({2, 3}), f32({4, 5}), f32({2, 5}))),
            "matmul: lhs (2, 3) and rhs (4, 5) do not multiply into out (2, "
            "5)");
  // A parameter missing, of the wrong type, or unknown.
  CallDesc params = matmul(f32({2, 4}), f32({4, 5}), f32({2, 5}));
  params.params.erase("transpose_rhs");
  EXPECT_EQ(check_call(params),
            "matmul: needs parameter 'transpose_rhs' (bool)");
  params.params["transpose_rhs"] = str("no");
  EXPECT_EQ(check_call(params),
            "matmul: parameter 'transpose_rhs' is string; expected bool");
  params.params["transpose_rhs"] = boolean(false);
  params.params["alpha"] = real(2.0);
  EXPECT_EQ(check_call(params), "matmul: has no parameter 'alpha'");
  // Sizes that would overflow, and negative ones.
  EXPECT_EQ(check_call(matmul(f32({1 << 30, 1 << 30}), f32({1 << 30, 5}),
                              f32({1 << 30, 5}))),
            "matmul: ins 0 (lhs) has shape (1073741824, 1073741824), more "
            "than 2^40 elements");
  EXPECT_EQ(check_call(matmul(f32({2, -4}), f32({-4, 5}), f32({2, 5}))),
            "matmul: ins 0 (lhs) has shape (2, -4) with a negative "
            "dimension");
  // Query heads that are not groups of the kv heads.
  CallDesc attention{
      "attention_forward",
      {f32({1, 3, 8, 16}), f32({1, 2, 8, 16}), f32({1, 2, 8, 16})},
      {f32({1, 3, 8, 16}), f32({1, 3, 8})},
      {{"causal", boolean(true)}, {"scale", real(0.25)}}};
  EXPECT_EQ(check_call(attention),
            "attention_forward: q's 3 heads are not groups of k's 2");
  // A collective on an axis the plan's mesh does not have.
  CallDesc sum{"all_reduce_sum", {f32({4})}, {f32({4})}, {{"axis", str("sp")}}};
  auto axes = [](const std::string &axis) -> int64_t {
    return axis == "dp" ? 2 : 0;
  };
  EXPECT_EQ(check_call(sum, axes),
            "all_reduce_sum: axis 'sp' is not a mesh axis (dp, tp, pp or "
            "embedding)");
  // An all-gather whose output is not the axis's ranks' blocks.
  CallDesc gather{"all_gather",
                  {f32({2, 4})},
                  {f32({2, 12})},
                  {{"axis", str("dp")}, {"dim", ParamValue{}}}};
  gather.params["dim"].i = 1;
  EXPECT_EQ(check_call(gather, axes),
            "all_gather: (2, 4) is not one of 2 blocks of (2, 12) along dim "
            "1");
  // Logits that do not cover the model's vocabulary.
  CallDesc ce{"cross_entropy_forward", {f32({4, 10}), i32({4})}, {f32({})}, {}};
  EXPECT_EQ(check_call(ce, {}, 10), "");
  EXPECT_EQ(check_call(ce, {}, 50),
            "cross_entropy_forward: logits (4, 10) over 1 rank(s) do not "
            "cover the model's vocabulary of 50");
}

} // namespace
} // namespace llmc::kernels
