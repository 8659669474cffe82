// α-β collective costs; the formulas and their sources are in collectives.h.

#include "compiler/planner/collectives.h"

#include <algorithm>
#include <cmath>

namespace llmc::planner {

const char *collective_name(Collective collective) {
  switch (collective) {
  case Collective::AllReduce:
    return "all_reduce";
  case Collective::AllGather:
    return "all_gather";
  case Collective::ReduceScatter:
    return "reduce_scatter";
  case Collective::Broadcast:
    return "broadcast";
  case Collective::Send:
    return "send";
  }
  return "?";
}

const char *algorithm_name(Algorithm algorithm) {
  switch (algorithm) {
  case Algorithm::Ring:
    return "ring";
  case Algorithm::Tree:
    return "tree";
  case Algorithm::Hierarchical:
    return "hierarchical";
  case Algorithm::Direct:
    return "direct";
  }
  return "?";
}

//===----------------------------------------------------------------------===//
// One link
//===----------------------------------------------------------------------===//

double ring_time(Collective collective, int p, double bytes, LinkSpec link) {
  double alpha = link.latency, beta = 1.0 / link.bandwidth;
  double steps = p - 1, share = double(p - 1) / p;
  switch (collective) {
  case Collective::AllReduce:
    return 2 * steps * alpha + 2 * share * bytes * beta;
  case Collective::AllGather:
  case Collective::ReduceScatter:
    return steps * alpha + share * bytes * beta;
  case Collective::Broadcast:
    return steps * alpha + bytes * beta;
  case Collective::Send:
    return alpha + bytes * beta;
  }
  return 0;
}

double tree_time(Collective collective, int p, double bytes, LinkSpec link) {
  double alpha = link.latency, beta = 1.0 / link.bandwidth;
  double depth = std::ceil(std::log2(double(p)));
  double share = double(p - 1) / p;
  switch (collective) {
  case Collective::AllReduce:
    return 2 * depth * alpha + 2 * bytes * beta;
  case Collective::AllGather:
  case Collective::ReduceScatter:
    return depth * alpha + share * bytes * beta;
  case Collective::Broadcast:
    return depth * alpha + bytes * beta;
  case Collective::Send:
    return alpha + bytes * beta;
  }
  return 0;
}

CollectiveCost flat_collective(Collective collective, int p, double bytes,
                               LinkSpec link) {
  if (p <= 1 || bytes <= 0)
    return {0, Algorithm::Direct};
  if (collective == Collective::Send)
    return {ring_time(collective, p, bytes, link), Algorithm::Direct};
  double ring = ring_time(collective, p, bytes, link);
  double tree = tree_time(collective, p, bytes, link);
  // Ties go to the ring: it is what NCCL picks for large messages.
  if (tree < ring)
    return {tree, Algorithm::Tree};
  return {ring, Algorithm::Ring};
}

//===----------------------------------------------------------------------===//
// Across nodes
//===----------------------------------------------------------------------===//

namespace {

double hierarchical_time(Collective collective, int d, int nodes, double bytes,
                         const ClusterSpec &cluster) {
  auto intra = [&](Collective c, double n) {
    return flat_collective(c, d, n, cluster.intra_node).seconds;
  };
  auto inter = [&](Collective c, double n) {
    return flat_collective(c, nodes, n, cluster.inter_node).seconds;
  };
  switch (collective) {
  case Collective::AllReduce:
    return intra(Collective::ReduceScatter, bytes) +
           inter(Collective::AllReduce, bytes / d) +
           intra(Collective::AllGather, bytes);
  case Collective::AllGather:
    return inter(Collective::AllGather, bytes / d) +
           intra(Collective::AllGather, bytes);
  case Collective::ReduceScatter:
    return intra(Collective::ReduceScatter, bytes) +
           inter(Collective::ReduceScatter, bytes / d);
  case Collective::Broadcast:
    return inter(Collective::Broadcast, bytes) +
           intra(Collective::Broadcast, bytes);
  case Collective::Send:
    return inter(Collective::Send, bytes);
  }
  return 0;
}

} // namespace

CollectiveCost collective_time(Collective collective, int p, double bytes,
                               const ClusterSpec &cluster, int ranks_per_node) {
  int d = std::clamp(ranks_per_node, 1, std::max(p, 1));
  if (p <= d)
    return flat_collective(collective, p, bytes, cluster.intra_node);
  CollectiveCost flat =
      flat_collective(collective, p, bytes, cluster.inter_node);
  if (d == 1 || collective == Collective::Send)
    return flat;
  double hierarchical = hierarchical_time(collective, d, p / d, bytes, cluster);
  if (hierarchical < flat.seconds)
    return {hierarchical, Algorithm::Hierarchical};
  return flat;
}

} // namespace llmc::planner
