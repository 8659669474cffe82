// `llmc explain`: a plan file as text.
#include "runtime/explain.h"

#include "runtime/comm/communicator.h"
#include "runtime/plan/plan_file.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>

namespace llmc {
namespace {

std::string bytes_text(uint64_t bytes) {
  char text[32];
  if (bytes >= (1ull << 20))
    std::snprintf(text, sizeof(text), "%.2f MiB", double(bytes) / (1 << 20));
  else if (bytes >= 1024)
    std::snprintf(text, sizeof(text), "%.2f KiB", double(bytes) / 1024);
  else
    std::snprintf(text, sizeof(text), "%llu B", (unsigned long long)bytes);
  return text;
}

std::string shape_text(const planfile::Tensor &t) {
  std::string s = "[";
  for (int i = 0; i < t.shape_size(); ++i)
    s += (i ? "x" : "") + std::to_string(t.shape(i));
  return s + "]";
}

const char *category_name(planfile::Category c) {
  switch (c) {
  case planfile::INPUT:
    return "inputs";
  case planfile::PARAM:
    return "params";
  case planfile::GRAD:
    return "grads";
  case planfile::OPTIMIZER_STATE:
    return "optimizer state";
  case planfile::ACTIVATION:
    return "activations";
  case planfile::TEMPORARY:
    return "temporaries";
  case planfile::OUTPUT:
    return "outputs";
  default:
    return "other";
  }
}

// The bytes live at the step's peak, by category, by the liveness rule of
// llmc-plan-memory: inputs, parameters, optimizer state and outputs live
// through the whole program, every other buffer from the first to the last
// kernel that touches it.
void print_peak(const planfile::Plan &plan, std::ostream &os) {
  int n = plan.buffers_size(), kernels = plan.kernels_size();
  std::vector<int> first(size_t(n), kernels), last(size_t(n), -1);
  for (int k = 0; k < kernels; ++k) {
    const planfile::Kernel &kernel = plan.kernels(k);
    for (const auto *list : {&kernel.ins(), &kernel.outs()})
      for (uint32_t t : *list) {
        uint32_t b = plan.tensors(t).buffer();
        first[b] = std::min(first[b], k);
        last[b] = std::max(last[b], k);
      }
  }
  auto whole = [](planfile::Category c) {
    return c == planfile::INPUT || c == planfile::PARAM ||
           c == planfile::OPTIMIZER_STATE || c == planfile::OUTPUT;
  };
  // Sweep the kernel positions with +size at first use, -size after last.
  std::vector<std::vector<int>> starts(size_t(kernels) + 1),
      ends(size_t(kernels) + 1);
  std::map<int, uint64_t> always;
  for (int b = 0; b < n; ++b) {
    const planfile::Buffer &buffer = plan.buffers(b);
    if (whole(buffer.category()))
      always[buffer.category()] += buffer.size_bytes();
    else if (last[b] >= 0) {
      starts[size_t(first[b])].push_back(b);
      ends[size_t(last[b]) + 1].push_back(b);
    }
  }
  std::map<int, uint64_t> live = always, peak = always;
  uint64_t live_total = 0, peak_total = 0;
  for (auto &[c, bytes] : always)
    live_total += bytes;
  peak_total = live_total;
  int peak_at = 0;
  for (int k = 0; k < kernels; ++k) {
    for (int b : ends[size_t(k)]) {
      live[plan.buffers(b).category()] -= plan.buffers(b).size_bytes();
      live_total -= plan.buffers(b).size_bytes();
    }
    for (int b : starts[size_t(k)]) {
      live[plan.buffers(b).category()] += plan.buffers(b).size_bytes();
      live_total += plan.buffers(b).size_bytes();
    }
    if (live_total > peak_total) {
      peak_total = live_total;
      peak = live;
      peak_at = k;
    }
  }
  os << "peak live memory per rank: " << bytes_text(peak_total)
     << " (at kernel " << peak_at << ", "
     << (kernels ? plan.kernels(peak_at).name() : std::string("-")) << ")\n";
  for (auto &[category, bytes] : peak)
    if (bytes) {
      char line[96];
      std::snprintf(line, sizeof(line), "  %-16s %14s\n",
                    category_name(planfile::Category(category)),
                    bytes_text(bytes).c_str());
      os << line;
    }
}

} // namespace

void explain_plan(const planfile::Plan &plan, std::ostream &os) {
  const planfile::ModelInfo &m = plan.model();
  os << "program @" << plan.program() << ": " << m.model_type() << ", "
     << m.n_layer() << " layers, hidden " << m.hidden_size() << ", vocab "
     << m.vocab_size() << ", micro-batch " << m.micro_batch() << " x seq "
     << m.seq_len() << "\n";
  os << "arena: " << bytes_text(plan.arena_bytes())
     << " (one allocation; buffers with disjoint lifetimes share bytes)\n\n";

  std::map<int, std::pair<uint64_t, int>> by_category;
  for (const planfile::Buffer &b : plan.buffers()) {
    auto &entry = by_category[b.category()];
    entry.first += b.size_bytes();
    entry.second += 1;
  }
  os << "memory by category (every buffer, before sharing):\n";
  for (auto &[category, entry] : by_category) {
    char line[96];
    std::snprintf(line, sizeof(line), "  %-16s %14s  %6d buffers\n",
                  category_name(planfile::Category(category)),
                  bytes_text(entry.first).c_str(), entry.second);
    os << line;
  }

  print_peak(plan, os);

  // Collectives of one step, as each rank issues them; `llmc train --log`
  // reports the bytes the runtime measured, which tests compare with this.
  int dp = int(std::max<int64_t>(1, m.dp()));
  int tp = int(std::max<int64_t>(1, m.tp()));
  struct Tally {
    int64_t calls = 0, elements = 0;
    uint64_t bytes = 0;
  };
  // By (axis, collective), in a fixed order: dp first, then tp.
  std::map<std::pair<std::string, std::string>, Tally> tallies;
  auto count = [&](const std::string &axis, const std::string &kind,
                   int64_t n) {
    int p = axis == "dp" ? dp : tp;
    Tally &t = tallies[{axis, kind}];
    t.calls += 1;
    t.elements += n;
    if (kind == "all_reduce")
      t.bytes += comm::ring_bytes::all_reduce(uint64_t(n), p);
    else if (kind == "all_gather")
      t.bytes += comm::ring_bytes::all_gather(uint64_t(n), p);
    else
      t.bytes += comm::ring_bytes::reduce_scatter(uint64_t(n), p);
  };
  auto axis_of = [](const planfile::Kernel &k) {
    auto it = k.params().find("axis");
    return it == k.params().end() ? std::string() : it->second.s();
  };
  auto elements_of = [&](uint32_t tensor) {
    return plan::num_elements(plan.tensors(tensor));
  };
  for (const planfile::Kernel &k : plan.kernels()) {
    const std::string &name = k.name();
    if (name == "all_reduce_mean_start")
      for (uint32_t t : k.outs())
        count(axis_of(k), "all_reduce", elements_of(t));
    else if (name == "all_reduce_sum")
      count(axis_of(k), "all_reduce", elements_of(k.outs(0)));
    else if (name == "all_gather")
      count(axis_of(k), "all_gather", elements_of(k.ins(0)));
    else if (name == "all_gather_inplace") // ZeRO: one slice per rank
      count(axis_of(k), "all_gather",
            elements_of(k.outs(0)) / (axis_of(k) == "dp" ? dp : tp));
    else if (name == "reduce_scatter" || name == "reduce_scatter_start")
      count(axis_of(k), "reduce_scatter", elements_of(k.outs(0)));
    else if (name == "grad_norm") { // the sums of squares of split gradients
      if (!axis_of(k).empty())
        count(axis_of(k), "all_reduce", 1);
      auto zero = k.params().find("zero_axis");
      if (zero != k.params().end())
        count(zero->second.s(), "all_reduce", 1);
    }
  }
  os << "\ncollectives per step (per rank; mesh dp=" << dp << " x tp=" << tp
     << ", " << dp * tp << " ranks):\n";
  if (dp == 1 && tp == 1)
    os << "  none\n";
  uint64_t total = 0;
  for (const char *axis : {"dp", "tp"})
    for (auto &[key, t] : tallies) {
      if (key.first != axis)
        continue;
      os << "  " << key.first << " " << key.second << ": " << t.calls
         << " calls, " << t.elements << " elements, " << t.bytes
         << " bytes sent per rank (ring)\n";
      total += t.bytes;
    }
  os << "  total: " << total << " bytes sent per rank per step\n";

  os << "\nbuffers: " << plan.buffers_size()
     << " (offset in the arena, size, category, name)\n";
  for (int i = 0; i < plan.buffers_size(); ++i) {
    const planfile::Buffer &b = plan.buffers(i);
    char line[160];
    std::snprintf(line, sizeof(line), "  %5d  @%-12llu %12s  %-16s %s\n", i,
                  (unsigned long long)b.offset(),
                  bytes_text(b.size_bytes()).c_str(),
                  category_name(b.category()), b.name().c_str());
    os << line;
  }

  os << "\nkernels: " << plan.kernels_size() << "\n";
  for (int k = 0; k < plan.kernels_size(); ++k) {
    const planfile::Kernel &kernel = plan.kernels(k);
    char head[96];
    std::snprintf(head, sizeof(head), "  %5d  %-22s %5s  %-9s ", k,
                  kernel.name().c_str(),
                  kernel.layer() < 0 ? "-"
                                     : std::to_string(kernel.layer()).c_str(),
                  kernel.role().c_str());
    os << head;
    for (uint32_t t : kernel.ins())
      os << shape_text(plan.tensors(t)) << " ";
    os << "->";
    for (uint32_t t : kernel.outs())
      os << " " << shape_text(plan.tensors(t));
    os << "\n";
  }
}

} // namespace llmc
