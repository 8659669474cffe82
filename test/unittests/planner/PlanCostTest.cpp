// Tests the cost of a plan, kernel by kernel, against hand-computed times:
// a shared-weight matmul is one GEMM of all rows, an add moves its bytes at
// the memory (or measured) bandwidth, a causal attention costs half its
// GEMMs, and a tp all-reduce is a ring on the node's link.

#include "compiler/planner/plan_cost.h"

#include "compiler/planner/collectives.h"
#include "compiler/planner/compute.h"

#include "TestClusters.h"

#include <gtest/gtest.h>

using namespace llmc::planner;
namespace planfile = llmc::planfile;

namespace {

// A plan whose tensors each have their own buffer.
class PlanBuilder {
public:
  uint32_t tensor(std::vector<int64_t> shape) {
    planfile::Buffer *b = plan.add_buffers();
    planfile::Tensor *t = plan.add_tensors();
    t->set_buffer(uint32_t(plan.buffers_size() - 1));
    int64_t n = 1;
    for (int64_t d : shape) {
      t->add_shape(d);
      n *= d;
    }
    b->set_size_bytes(uint64_t(4 * n));
    return uint32_t(plan.tensors_size() - 1);
  }
  planfile::Kernel &kernel(const std::string &name, std::vector<uint32_t> ins,
                           std::vector<uint32_t> outs) {
    planfile::Kernel *k = plan.add_kernels();
    k->set_name(name);
    for (uint32_t i : ins)
      k->add_ins(i);
    for (uint32_t o : outs)
      k->add_outs(o);
    return *k;
  }
  planfile::Plan plan;
};

void set_bool(planfile::Kernel &k, const char *name, bool value) {
  (*k.mutable_params())[name].set_b(value);
}

TEST(PlanCost, KernelsByHand) {
  ClusterSpec cluster = llmc::planner::testing::two_node_cluster();
  PlanBuilder p;
  p.plan.mutable_model()->set_tp(2);
  uint32_t x = p.tensor({4, 8, 16}), w = p.tensor({16, 32}),
           y = p.tensor({4, 8, 32}), bias = p.tensor({32}),
           z = p.tensor({4, 8, 32});
  auto &mm = p.kernel("matmul", {x, w}, {y});
  set_bool(mm, "transpose_lhs", false);
  set_bool(mm, "transpose_rhs", false);
  p.kernel("add", {y, bias}, {z});
  auto &ar = p.kernel("all_reduce_sum", {z}, {z});
  (*ar.mutable_params())["axis"].set_s("tp");
  uint32_t q = p.tensor({1, 2, 8, 4}), k = p.tensor({1, 2, 8, 4}),
           v = p.tensor({1, 2, 8, 4}), o = p.tensor({1, 2, 8, 4}),
           lse = p.tensor({1, 2, 8});
  set_bool(p.kernel("attention_forward", {q, k, v}, {o, lse}), "causal", true);

  double gemm = gemm_time(cluster, DType::FP32, 32, 32, 16);
  double add = (1024 + 32 + 1024) * 4 / 2e12;
  double ring = ring_time(Collective::AllReduce, 2, 4096, cluster.intra_node);
  double attention = 0.5 * (gemm_time(cluster, DType::FP32, 8, 8, 4, 2) +
                            gemm_time(cluster, DType::FP32, 8, 4, 8, 2));
  PlanCost cost = cost_plan(p.plan, cluster);
  EXPECT_DOUBLE_EQ(cost.seconds_by_kernel["matmul"], gemm);
  EXPECT_DOUBLE_EQ(cost.seconds_by_kernel["add"], add);
  EXPECT_DOUBLE_EQ(cost.seconds_by_kernel["all_reduce_sum"], ring);
  EXPECT_DOUBLE_EQ(cost.seconds_by_kernel["attention_forward"], attention);
  EXPECT_DOUBLE_EQ(cost.comm_s, ring);
  EXPECT_DOUBLE_EQ(cost.total(), gemm + add + ring + attention);
  // GEMM FLOPs: 2·32·32·16, attention: half of 2·2·8·8·(4 + 4).
  EXPECT_DOUBLE_EQ(cost.flops, 2.0 * 32 * 32 * 16 + 0.5 * 2 * 2 * 8 * 8 * 8);

  // Measured rates (llmc calibrate) replace the roofline for their kernels.
  cluster.kernel_bandwidth["add"] = 1e9;
  cluster.kernel_flops["attention_forward"] = 1e9;
  cost = cost_plan(p.plan, cluster);
  EXPECT_DOUBLE_EQ(cost.seconds_by_kernel["add"], (1024 + 32 + 1024) * 4 / 1e9);
  EXPECT_DOUBLE_EQ(cost.seconds_by_kernel["attention_forward"],
                   0.5 * 2 * 2 * 8 * 8 * 8 / 1e9);
}

} // namespace
