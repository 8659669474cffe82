// α-β cost model of collectives: ring and tree algorithms on one link, and
// NCCL-style hierarchical algorithms for groups that span nodes.
//
// Notation: p ranks, n bytes, α the link latency, β = 1 / bandwidth. n is
// always the size of the full buffer (the all-gather output, the
// reduce-scatter input), so a rank's shard is n / p.
#pragma once

#include "compiler/planner/cluster_spec.h"

namespace llmc::planner {

enum class Collective { AllReduce, AllGather, ReduceScatter, Broadcast, Send };
enum class Algorithm { Ring, Tree, Hierarchical, Direct };

const char *collective_name(Collective collective);
const char *algorithm_name(Algorithm algorithm);

struct CollectiveCost {
  double seconds = 0;
  Algorithm algorithm = Algorithm::Direct;
};

// Ring algorithms (Thakur, Rabenseifner & Gropp 2005 §3-4; Patarasuk & Yuan
// 2009 for the bandwidth-optimal all-reduce; NCCL's ring):
//   all_reduce      2(p-1)·α + 2(p-1)/p · n·β
//   all_gather       (p-1)·α +  (p-1)/p · n·β
//   reduce_scatter   (p-1)·α +  (p-1)/p · n·β
//   broadcast        (p-1)·α +            n·β   (pipelined ring, as NCCL)
//   send                   α +            n·β
double ring_time(Collective collective, int p, double bytes, LinkSpec link);

// Logarithmic-latency algorithms, with L = ceil(log2 p):
//   all_reduce      2L·α + 2·n·β   (NCCL's double binary tree, pipelined:
//                                   reduce up + broadcast down; Sanders,
//                                   Speck & Träff 2009; NCCL 2.4 blog)
//   all_gather       L·α + (p-1)/p · n·β   (recursive doubling, Thakur §3)
//   reduce_scatter   L·α + (p-1)/p · n·β   (recursive halving, Thakur §4)
//   broadcast        L·α + n·β     (pipelined double binary tree)
//   send                 α + n·β
double tree_time(Collective collective, int p, double bytes, LinkSpec link);

// The cheaper of ring and tree on one link; p = 1 costs nothing.
CollectiveCost flat_collective(Collective collective, int p, double bytes,
                               LinkSpec link);

// A group of p ranks, ranks_per_node of them on each node (p is a multiple of
// ranks_per_node). Inside a node: flat on the intra-node link. Across nodes,
// the cheapest of a flat algorithm on the inter-node link and the
// hierarchical one NCCL uses (d = ranks_per_node, N = p / d nodes):
//   all_reduce      RS_intra(d, n) + AR_inter(N, n/d) + AG_intra(d, n)
//   all_gather      AG_inter(N, n/d) + AG_intra(d, n)
//   reduce_scatter  RS_intra(d, n) + RS_inter(N, n/d)
//   broadcast       BC_inter(N, n) + BC_intra(d, n)
// where each of the d local ranks drives its own NIC in the inter-node step.
CollectiveCost collective_time(Collective collective, int p, double bytes,
                               const ClusterSpec &cluster, int ranks_per_node);

} // namespace llmc::planner
