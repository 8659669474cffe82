// Tests the α-β collective costs against values computed by hand from the
// formulas in collectives.h (Thakur et al. 2005; Patarasuk & Yuan 2009).

#include "compiler/planner/collectives.h"

#include "TestClusters.h"

#include <gtest/gtest.h>

using namespace llmc::planner;

namespace {
const LinkSpec kLink = {1e10, 1e-5}; // 10 GB/s, 10 µs
} // namespace

// Tests ring all-reduce, p = 4, n = 1 GB: 2·3·α + 2·(3/4)·n/B
// = 60 µs + 0.15 s.
TEST(Collectives, RingAllReduce) {
  EXPECT_NEAR(ring_time(Collective::AllReduce, 4, 1e9, kLink), 0.15006, 1e-12);
}

// Tests the ring all-gather, reduce-scatter (half an all-reduce), broadcast
// and send.
TEST(Collectives, RingOthers) {
  EXPECT_NEAR(ring_time(Collective::AllGather, 4, 1e9, kLink), 0.07503, 1e-12);
  EXPECT_NEAR(ring_time(Collective::ReduceScatter, 4, 1e9, kLink), 0.07503,
              1e-12);
  EXPECT_NEAR(ring_time(Collective::Broadcast, 4, 1e9, kLink), 0.10003, 1e-12);
  EXPECT_NEAR(ring_time(Collective::Send, 2, 1e9, kLink), 0.10001, 1e-12);
}

// Tests the tree: p = 8 gives depth 3; p = 5 rounds up to depth 3 too.
TEST(Collectives, TreeTimes) {
  // 2·3·α + 2·n/B
  EXPECT_NEAR(tree_time(Collective::AllReduce, 8, 1e9, kLink), 0.20006, 1e-12);
  EXPECT_NEAR(tree_time(Collective::AllReduce, 5, 1e9, kLink), 0.20006, 1e-12);
  // 3·α + (7/8)·n/B
  EXPECT_NEAR(tree_time(Collective::AllGather, 8, 1e9, kLink), 0.08753, 1e-12);
  EXPECT_NEAR(tree_time(Collective::Broadcast, 8, 1e9, kLink), 0.10003, 1e-12);
}

// Tests that small messages take the tree (latency) and large ones the ring
// (bandwidth): at 1 KB, tree 60.2 µs < ring 140.175 µs.
TEST(Collectives, PicksCheaperAlgorithm) {
  CollectiveCost small = flat_collective(Collective::AllReduce, 8, 1e3, kLink);
  EXPECT_EQ(small.algorithm, Algorithm::Tree);
  EXPECT_NEAR(small.seconds, 6e-5 + 2e-7, 1e-15);
  CollectiveCost large = flat_collective(Collective::AllReduce, 8, 1e9, kLink);
  EXPECT_EQ(large.algorithm, Algorithm::Ring);
  EXPECT_NEAR(large.seconds, 14e-5 + 0.175, 1e-12);
  EXPECT_EQ(flat_collective(Collective::AllReduce, 1, 1e9, kLink).seconds, 0);
}

// Tests a group inside one node: the intra-node link, 100 GB/s and 1 µs.
TEST(Collectives, IntraNodeGroup) {
  ClusterSpec cluster = llmc::planner::testing::two_node_cluster();
  CollectiveCost cost =
      collective_time(Collective::AllReduce, 8, 1.6e9, cluster, 8);
  EXPECT_EQ(cost.algorithm, Algorithm::Ring);
  EXPECT_NEAR(cost.seconds, 14e-6 + 2 * 0.875 * 1.6e9 / 100e9, 1e-12);
}

// Tests the hierarchical all-reduce of 1.6 GB over 2 nodes × 8:
//   RS_intra(8, n):  tree 3 µs + (7/8)·1.6e9/1e11      = 0.014003
//   AR_inter(2, n/8): ring 2·10 µs + 2·(1/2)·2e8/1e10  = 0.02002
//   AG_intra(8, n):  as RS                              = 0.014003
// = 0.048026 s, against a flat ring on the NICs: 30·10 µs + 2·(15/16)·0.16
// = 0.3003 s.
TEST(Collectives, HierarchicalAcrossNodes) {
  ClusterSpec cluster = llmc::planner::testing::two_node_cluster();
  CollectiveCost cost =
      collective_time(Collective::AllReduce, 16, 1.6e9, cluster, 8);
  EXPECT_EQ(cost.algorithm, Algorithm::Hierarchical);
  EXPECT_NEAR(cost.seconds, 0.048026, 1e-12);
  // One rank per node: no intra-node stage, a flat ring over the NICs.
  CollectiveCost flat =
      collective_time(Collective::AllReduce, 2, 1.6e9, cluster, 1);
  EXPECT_EQ(flat.algorithm, Algorithm::Ring);
  EXPECT_NEAR(flat.seconds, 2e-5 + 0.16, 1e-12);
}

// Tests the hierarchical all-gather: AG_inter(2, n/8) + AG_intra(8, n)
// = (10 µs + 0.5·2e8/1e10) + (3 µs + 0.875·0.016) = 0.010010 + 0.014003.
TEST(Collectives, HierarchicalAllGather) {
  ClusterSpec cluster = llmc::planner::testing::two_node_cluster();
  CollectiveCost cost =
      collective_time(Collective::AllGather, 16, 1.6e9, cluster, 8);
  EXPECT_EQ(cost.algorithm, Algorithm::Hierarchical);
  EXPECT_NEAR(cost.seconds, 0.010010 + 0.014003, 1e-12);
}
