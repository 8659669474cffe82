// The plan loader: a plan file whose content is crafted or damaged (framing
// intact) is refused with one PlanError naming what is wrong, and no plan
// that loads makes a kernel read or write outside the arena.
#include "runtime/executor.h"
#include "runtime/plan/plan_file.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>

namespace llmc {
namespace {

using planfile::Plan;

// A tiny forward step: logits = embedding(ids) . W, loss = CE(logits).
// Vocabulary 8, width 4, 2 x 3 tokens.
class TinyPlan {
public:
  TinyPlan() {
    plan.mutable_model()->set_vocab_size(8);
    plan.mutable_model()->set_micro_batch(2);
    plan.mutable_model()->set_seq_len(3);
    wte = tensor("wte", planfile::PARAM, planfile::F32, {8, 4});
    ids = tensor("input_ids", planfile::INPUT, planfile::I32, {2, 3});
    targets = tensor("targets", planfile::INPUT, planfile::I32, {6});
    x = tensor("", planfile::ACTIVATION, planfile::F32, {6, 4});
    w = tensor("w", planfile::PARAM, planfile::F32, {4, 8});
    logits = tensor("", planfile::ACTIVATION, planfile::F32, {6, 8});
    loss = tensor("loss", planfile::OUTPUT, planfile::F32, {});
    kernel("embedding_forward", {wte, ids}, {x});
    auto *mm = kernel("matmul", {x, w}, {logits});
    (*mm->mutable_params())["transpose_lhs"].set_b(false);
    (*mm->mutable_params())["transpose_rhs"].set_b(false);
    kernel("cross_entropy_forward", {logits, targets}, {loss});
  }

  uint32_t tensor(const std::string &name, planfile::Category category,
                  planfile::DType dtype, std::vector<int64_t> shape) {
    int64_t bytes = 4;
    for (int64_t d : shape)
      bytes *= d;
    planfile::Buffer *b = plan.add_buffers();
    b->set_name(name);
    b->set_category(category);
    b->set_offset(plan.arena_bytes());
    b->set_size_bytes(uint64_t(bytes));
    plan.set_arena_bytes(plan.arena_bytes() + uint64_t(bytes));
    planfile::Tensor *t = plan.add_tensors();
    t->set_buffer(uint32_t(plan.buffers_size() - 1));
    t->set_dtype(dtype);
    for (int64_t d : shape)
      t->add_shape(d);
    return uint32_t(plan.tensors_size() - 1);
  }

  planfile::Kernel *kernel(const std::string &name, std::vector<uint32_t> ins,
                           std::vector<uint32_t> outs) {
    planfile::Kernel *k = plan.add_kernels();
    k->set_name(name);
    for (uint32_t t : ins)
      k->add_ins(t);
    for (uint32_t t : outs)
      k->add_outs(t);
    return k;
  }

  Plan plan;
  uint32_t wte, ids, targets, x, w, logits, loss;
};

std::string temp_path() {
  return ::testing::TempDir() + "plan-loader-" +
         std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         ".plan";
}

// The error read_plan_file gives for `plan` once written, or "" when it
// loads.
std::string load_error(const Plan &plan) {
  std::string path = temp_path();
  plan::write_plan_file(plan, path);
  try {
    plan::read_plan_file(path);
  } catch (const plan::PlanError &e) {
    std::string what = e.what();
    return what.substr(what.find(": ") + 2);
  }
  return "";
}

TEST(PlanLoader, LoadsAndRunsTheTinyPlan) {
  TinyPlan tiny;
  ASSERT_EQ(load_error(tiny.plan), "");
  Executor exec(tiny.plan);
  for (int i = 0; i < 6; ++i) {
    exec.i32(int(tiny.ids))[i] = i;
    exec.i32(int(tiny.targets))[i] = 7 - i;
  }
  exec.run({});
  EXPECT_NEAR(exec.output("loss"), std::log(8.0f), 1e-6); // zero weights
}

TEST(PlanLoader, RefusesCraftedKernels) {
  {
    TinyPlan t; // a matmul with one input
    t.plan.mutable_kernels(1)->mutable_ins()->RemoveLast();
    EXPECT_EQ(load_error(t.plan),
              "kernel 1: matmul: takes ins (lhs, rhs, bias?), got 1");
  }
  {
    TinyPlan t; // an embedding with one input
    t.plan.mutable_kernels(0)->mutable_ins()->RemoveLast();
    EXPECT_EQ(load_error(t.plan),
              "kernel 0: embedding_forward: takes ins (table, ids), got 1");
  }
  {
    TinyPlan t; // logits narrower than the vocabulary targets index
    t.plan.mutable_tensors(int(t.logits))->set_shape(1, 4);
    t.plan.mutable_tensors(int(t.w))->set_shape(1, 4);
    EXPECT_EQ(load_error(t.plan),
              "kernel 2: cross_entropy_forward: logits (6, 4) over 1 rank(s) "
              "do not cover the model's vocabulary of 8");
  }
  {
    TinyPlan t; // an unknown kernel
    t.plan.mutable_kernels(2)->set_name("cross_entropy");
    EXPECT_EQ(load_error(t.plan),
              "kernel 2: 'cross_entropy' is not a kernel of the kernel table "
              "(runtime/kernels/kernel_table.def)");
  }
  {
    TinyPlan t; // a parameter of the wrong type
    (*t.plan.mutable_kernels(1)->mutable_params())["transpose_lhs"].set_i(0);
    EXPECT_EQ(load_error(t.plan), "kernel 1: matmul: parameter "
                                  "'transpose_lhs' is int; expected bool");
  }
}

TEST(PlanLoader, RefusesOverflowingSizes) {
  {
    TinyPlan t; // offset + size wraps around 2^64
    t.plan.mutable_buffers(3)->set_offset(~uint64_t(0) - 8);
    EXPECT_EQ(load_error(t.plan), "buffer 3 ('') ends past the arena of " +
                                      std::to_string(t.plan.arena_bytes()) +
                                      " bytes");
  }
  {
    TinyPlan t; // dimensions whose product overflows int64
    t.plan.mutable_tensors(int(t.x))->set_shape(0, int64_t(1) << 40);
    t.plan.mutable_tensors(int(t.x))->set_shape(1, int64_t(1) << 40);
    EXPECT_EQ(load_error(t.plan), "tensor 3 has more than 2^40 elements");
  }
  {
    TinyPlan t; // an arena no device has, whose rounding would overflow
    t.plan.set_arena_bytes(~uint64_t(0));
    EXPECT_EQ(load_error(t.plan).substr(0, 24), "the arena of 18446744073");
  }
  {
    TinyPlan t; // a program past the kernels
    planfile::Program *p = t.plan.add_programs();
    p->set_name("prefill");
    p->set_end(9);
    EXPECT_EQ(load_error(t.plan), "program 'prefill' (kernels 0..9) is not "
                                  "the run of kernels after the previous "
                                  "program's");
  }
  {
    TinyPlan t; // a dtype the format does not have
    t.plan.mutable_tensors(int(t.x))->set_dtype(planfile::DType(7));
    EXPECT_EQ(load_error(t.plan), "tensor 3 has an unknown dtype 7");
  }
}

// A merged weight (llmc-fuse-sibling-gemms) names the checkpoint tensors
// its rows hold; parts that do not fill it exactly, or on a buffer that is
// not a 2-D parameter, are refused; rows that fill it load.
TEST(PlanLoader, ChecksTheRowsOfAMergedWeight) {
  auto with_parts = [](std::vector<int64_t> rows, uint32_t tensor = 4) {
    TinyPlan t; // w is (4, 8): rows 4
    planfile::Buffer *b =
        t.plan.mutable_buffers(int(t.plan.tensors(int(tensor)).buffer()));
    for (size_t i = 0; i < rows.size(); ++i) {
      planfile::Part *part = b->add_parts();
      part->set_name("part" + std::to_string(i));
      part->set_rows(rows[i]);
    }
    return load_error(t.plan);
  };
  EXPECT_EQ(with_parts({1, 3}), "");
  EXPECT_EQ(with_parts({1, 2}), "buffer 'w': its parts hold 3 of its 4 rows");
  EXPECT_EQ(with_parts({3, 2}), "buffer 'w': part 'part1' of 2 rows does not "
                                "fit its 4 rows");
  EXPECT_EQ(with_parts({4}, 3), "buffer '' has parts but is not an unsplit "
                                "2-D parameter");
}

// Random structural damage (shapes, operands, parameters, offsets, names)
// to the tiny plan: every variant is refused or runs inside its arena.
TEST(PlanLoader, RandomDamageIsRefusedOrSafe) {
  std::mt19937 rng(1234);
  auto pick = [&](int n) { return int(rng() % uint32_t(n)); };
  const char *names[] = {"matmul",
                         "add",
                         "copy",
                         "embedding_backward",
                         "softmax_forward",
                         "sum_to",
                         "layernorm_forward"};
  int loaded = 0, refused = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    TinyPlan t;
    for (int edits = 1 + pick(3); edits-- > 0;) {
      switch (pick(6)) {
      case 0: { // a dimension
        auto *tensor = t.plan.mutable_tensors(pick(t.plan.tensors_size()));
        if (tensor->shape_size() > 0)
          tensor->set_shape(pick(tensor->shape_size()), pick(20) - 2);
        break;
      }
      case 1: { // an operand
        auto *k = t.plan.mutable_kernels(pick(t.plan.kernels_size()));
        if (k->ins_size() > 0)
          k->set_ins(pick(k->ins_size()), uint32_t(pick(9)));
        break;
      }
      case 2: // a kernel name
        t.plan.mutable_kernels(pick(t.plan.kernels_size()))
            ->set_name(names[pick(7)]);
        break;
      case 3: // a buffer's place
        t.plan.mutable_buffers(pick(t.plan.buffers_size()))
            ->set_offset(uint64_t(pick(400)));
        break;
      case 4: // an extra or missing operand
        if (pick(2))
          t.plan.mutable_kernels(pick(3))->add_outs(uint32_t(pick(7)));
        else
          t.plan.mutable_kernels(pick(3))->mutable_ins()->RemoveLast();
        break;
      case 5: // a dtype
        t.plan.mutable_tensors(pick(t.plan.tensors_size()))
            ->set_dtype(planfile::DType(pick(3)));
        break;
      }
    }
    if (!load_error(t.plan).empty()) {
      ++refused;
      continue;
    }
    ++loaded;
    Executor exec(t.plan);
    try {
      exec.run({});
    } catch (const std::exception &) {
      // A missing output or parameter: an error, not undefined behaviour.
    }
  }
  // Both kinds occur, so the test exercises the loader and the kernels.
  EXPECT_GT(loaded, 50);
  EXPECT_GT(refused, 1000);
}

} // namespace
} // namespace llmc
