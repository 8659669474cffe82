// The plan search; see search.h.
#include "compiler/planner/search.h"

#include <algorithm>

namespace llmc::planner {
namespace {

std::vector<int> divisors(int n) {
  std::vector<int> d;
  for (int i = 1; i <= n; ++i)
    if (n % i == 0)
      d.push_back(i);
  return d;
}

// Every (sp, v, b, zero) choice for one dp × tp × pp split.
template <typename Fn>
void for_each_layout(const ModelShape &model, const SearchOptions &o, int dp,
                     int tp, int pp, Fn fn) {
  for (bool sp : {false, true}) {
    if (sp && tp == 1)
      continue;
    // Up to 8 model chunks a rank, where they split the layers evenly
    // (Megatron-LM's runs use 2, 3 and 5 layers a chunk).
    for (int v = 1; v <= 8; ++v) {
      if (v > 1 && (pp == 1 || model.layers % (pp * v) != 0))
        continue;
      for (int b : {1, 2, 4, 8, 16}) {
        if (o.global_batch % (dp * b) != 0)
          continue;
        int m = o.global_batch / (dp * b);
        if (v > 1 && m % pp != 0)
          continue; // the interleaved schedule needs m a multiple of p
        for (int zero = 0; zero <= (dp > 1 ? 3 : 0); ++zero) {
          Layout l;
          l.dp = dp, l.tp = tp, l.pp = pp, l.virtual_stages = v;
          l.sequence_parallel = sp, l.zero_stage = zero;
          l.precision = o.precision;
          l.schedule = v > 1 ? Schedule::Interleaved : Schedule::OneFOneB;
          l.micro_batch = b, l.microbatches = m;
          fn(l);
        }
      }
    }
  }
}

} // namespace

const char *dominant_term(const MemoryBreakdown &m) {
  std::pair<double, const char *> terms[] = {{m.params, "params"},
                                             {m.grads, "grads"},
                                             {m.optimizer, "optimizer states"},
                                             {m.activations, "activations"},
                                             {m.temporaries, "temporaries"}};
  return std::max_element(std::begin(terms), std::end(terms))->second;
}

SearchResult search(const ModelShape &model, const ClusterSpec &cluster,
                    const SearchOptions &o) {
  SearchResult out;
  double smallest = -1;
  for (int tp : divisors(o.devices)) {
    if (tp > cluster.devices_per_node || model.heads % tp != 0)
      continue;
    for (int pp : divisors(o.devices / tp)) {
      if (pp > model.layers)
        continue; // uneven stages are costed; empty ones do not exist
      int dp = o.devices / (tp * pp);
      for_each_layout(model, o, dp, tp, pp, [&](Layout l) {
        for (Recompute r :
             {Recompute::None, Recompute::Selective, Recompute::Full}) {
          l.recompute = r;
          // With costs from the compiled graph, a layout llmc cannot compile
          // (e.g. tp not dividing the vocabulary) is not a candidate.
          if (o.compiled && !o.compiled(l))
            return;
          Candidate c{l, {}};
          try {
            c.result = estimate(model, cluster, l, o.compiled);
          } catch (const PlannerError &) {
            return; // a split the model does not allow (e.g. seq % tp)
          }
          ++out.evaluated;
          if (smallest < 0 || c.result.memory.total() < smallest) {
            smallest = c.result.memory.total();
            out.smallest = c;
          }
          if (c.result.memory.total() <=
              (1 - o.memory_headroom) * cluster.device_memory) {
            out.best.push_back(c);
            break;
          }
        }
      });
    }
  }
  // Fastest first; among equally fast layouts, the one that needs less
  // memory (ZeRO-2 before ZeRO-1 when the gradients' sync costs the same).
  std::sort(out.best.begin(), out.best.end(),
            [](const Candidate &a, const Candidate &b) {
              if (a.result.step_time_s != b.result.step_time_s)
                return a.result.step_time_s < b.result.step_time_s;
              return a.result.memory.total() < b.result.memory.total();
            });
  if (int(out.best.size()) > o.top)
    out.best.resize(o.top);
  return out;
}

} // namespace llmc::planner
