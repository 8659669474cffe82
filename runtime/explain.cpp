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
  os << "memory by category (before sharing):\n";
  for (auto &[category, entry] : by_category) {
    char line[96];
    std::snprintf(line, sizeof(line), "  %-16s %14s  %6d buffers\n",
                  category_name(planfile::Category(category)),
                  bytes_text(entry.first).c_str(), entry.second);
    os << line;
  }

  // Collectives of one step, as each rank issues them; `llmc train --log`
  // reports the bytes the runtime measured, which tests compare with this.
  int dp = int(std::max<int64_t>(1, m.dp()));
  int64_t reduces = 0, elements = 0;
  for (const planfile::Kernel &k : plan.kernels())
    if (k.name() == "all_reduce_mean_start")
      for (uint32_t t : k.outs()) {
        ++reduces;
        elements += plan::num_elements(plan.tensors(t));
      }
  os << "\ncollectives per step (each of " << dp << " data-parallel ranks):\n";
  os << "  dp all_reduce: " << reduces << " calls, " << elements
     << " elements, " << comm::ring_bytes::all_reduce(uint64_t(elements), dp)
     << " bytes sent per rank (ring)\n";

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
