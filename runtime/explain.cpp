// `llmc explain`: a plan file as text.
#include "runtime/explain.h"

#include "runtime/bf16_reuse.h"
#include "runtime/comm/communicator.h"
#include "runtime/kernels/kernel_table.h"
#include "runtime/plan/collectives.h"
#include "runtime/plan/plan_file.h"
#include "runtime/plan/schedule.h"
#include "runtime/plan/verify.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>

namespace llmc {
namespace {

std::string bytes_text(uint64_t bytes) { return plan::format_bytes(bytes); }

// The compiler's fusions in a plan (llmc compile --fusion): vertical, the
// fused kernels by kind; memory, the elementwise results written over one
// of their inputs.
void print_fusions(const planfile::Plan &plan, std::ostream &os) {
  using kernels::KernelId;
  std::map<std::string, int> vertical;
  int in_place = 0;
  uint64_t in_place_bytes = 0;
  for (const planfile::Kernel &k : plan.kernels()) {
    for (KernelId id :
         {KernelId::add_layernorm_forward, KernelId::add_rmsnorm_forward,
          KernelId::matmul_bias_gelu, KernelId::matmul_swiglu})
      if (kernels::is(k.name(), id))
        ++vertical[k.name()];
    if (!kernels::may_write_over_input(k.name()) || k.outs_size() != 1)
      continue;
    uint32_t out = plan.tensors(k.outs(0)).buffer();
    for (uint32_t in : k.ins())
      if (plan.tensors(in).buffer() == out) {
        ++in_place;
        in_place_bytes +=
            uint64_t(plan::size_in_bytes(plan.tensors(k.outs(0))));
        break;
      }
  }
  int fused = 0;
  std::string kinds;
  for (const auto &[name, count] : vertical) {
    fused += count;
    kinds += (kinds.empty() ? "" : ", ") + name + " " + std::to_string(count);
  }
  int merged = 0, siblings = 0;
  std::string example;
  for (const planfile::Buffer &b : plan.buffers())
    if (b.parts_size() > 0) {
      ++merged;
      siblings += b.parts_size();
      if (example.empty())
        example = ", e.g. " + b.name();
    }
  os << "\nfusions:\n  vertical: " << fused << " kernels"
     << (kinds.empty() ? "" : " (" + kinds + ")")
     << "\n  horizontal: " << merged << " weights merged from " << siblings
     << " whose GEMMs share an input" << example << "\n  memory: " << in_place
     << " elementwise results written over an input that dies there ("
     << bytes_text(in_place_bytes) << " not allocated again)\n";
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
  case planfile::KV_CACHE:
    return "kv cache";
  case planfile::WEIGHT_SCALE:
    return "weight scales";
  case planfile::WEIGHT_COPY:
    return "weight copies"; // int8 or bf16
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
           c == planfile::OPTIMIZER_STATE || c == planfile::OUTPUT ||
           c == planfile::KV_CACHE || c == planfile::WEIGHT_SCALE ||
           c == planfile::WEIGHT_COPY;
  };
  // Sweep the kernel positions with +size at first use, -size after last.
  std::vector<std::vector<int>> starts(size_t(kernels) + 1),
      ends(size_t(kernels) + 1);
  std::map<int, uint64_t> always;
  for (int b = 0; b < n; ++b) {
    const planfile::Buffer &buffer = plan.buffers(b);
    if (buffer.stashed())
      continue; // in the stash slots, not the arena: reported apart
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

/// An inference plan's KV cache: its bytes and the tokens it holds.
void print_kv_cache(const planfile::Plan &plan, std::ostream &os) {
  const planfile::ModelInfo &m = plan.model();
  uint64_t bytes = 0;
  for (const planfile::Buffer &b : plan.buffers())
    if (b.category() == planfile::KV_CACHE)
      bytes += b.size_bytes();
  int64_t tokens = m.kv_blocks() * m.kv_block_tokens();
  os << "kv cache: " << bytes_text(bytes) << ", " << m.kv_blocks()
     << " blocks of " << m.kv_block_tokens() << " tokens = " << tokens
     << " tokens (" << tokens / std::max<int64_t>(m.seq_len(), 1)
     << " sequences of --max-seq " << m.seq_len() << " at once; "
     << m.micro_batch() << " per step)\n";
}

/// One program: a whole plan's, or one pipeline stage's.
/// `in_flight`: the stash slots its rank's schedule needs; `norm_over_pp`:
/// its rank sums the gradient norm over the pipeline ranks (once per rank).
void explain_program(const planfile::Plan &plan, std::ostream &os, bool detail,
                     int64_t in_flight = 0, bool norm_over_pp = false) {
  const planfile::ModelInfo &m = plan.model();
  os << "program @" << plan.program() << ": " << m.model_type() << ", ";
  // A pipeline chunk holds some of the model's layers.
  if (m.end_layer() > 0 && (m.first_layer() > 0 || m.end_layer() < m.n_layer()))
    os << "layers " << m.first_layer() << ".." << m.end_layer() - 1 << " of "
       << m.n_layer();
  else
    os << m.n_layer() << " layers";
  os << ", hidden " << m.hidden_size() << ", vocab " << m.vocab_size()
     << ", micro-batch " << m.micro_batch() << " x seq " << m.seq_len() << "\n";
  if (!m.dp_comm().empty())
    os << "data-parallel gradients: " << m.dp_comm()
       << (m.dp_comm() == "none"
               ? " (a benchmark plan: gradients are not averaged over the dp "
                 "ranks, whose replicas diverge)\n"
               : " (after the backward pass, not overlapped)\n");
  os << "arena: " << bytes_text(plan.arena_bytes())
     << " (one allocation; buffers with disjoint lifetimes share bytes)\n";
  if (plan.stash_bytes() > 0) {
    int64_t slots = std::max<int64_t>(in_flight, 1);
    os << "stash: " << slots << " microbatches in flight x "
       << bytes_text(plan.stash_bytes()) << " = "
       << bytes_text(uint64_t(slots) * plan.stash_bytes())
       << " (activations kept from a microbatch's forward to its "
          "backward)\n";
  }
  bool infer = plan.program() == "infer";
  for (const planfile::Program &p : plan.programs())
    os << "program '" << p.name() << "': kernels " << p.begin() << ".."
       << p.end()
       << (infer ? "\n"
           : p.name() == "forward" || p.name() == "backward"
               ? ", once per microbatch\n"
               : ", once per step\n");
  if (infer)
    print_kv_cache(plan, os);
  os << "\n";

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
  // reports the bytes the runtime accounted (each call's ring formula),
  // which tests compare with this; bench/mpi_bytes measures what MPI sent.
  // A pipeline stage runs its forward and backward once per microbatch.
  struct Tally {
    int64_t calls = 0, elements = 0;
    uint64_t bytes = 0;
  };
  std::map<std::pair<std::string, std::string>, Tally> tallies;
  int64_t microbatches = std::max<int64_t>(1, m.microbatches());
  for (int k = 0; k < plan.kernels_size(); ++k) {
    int64_t repeats = 1;
    for (const planfile::Program &p : plan.programs())
      if (uint32_t(k) >= p.begin() && uint32_t(k) < p.end() &&
          (p.name() == "forward" || p.name() == "backward"))
        repeats = microbatches;
    for (const plan::CollectiveCall &call :
         plan::kernel_collectives(plan, plan.kernels(k))) {
      // Elements: the all-reduced tensor, or each rank's part of a gather
      // or scatter.
      int ranks = plan::axis_size(m, call.axis);
      Tally &t = tallies[{call.axis, plan::collective_kind_name(call.kind)}];
      t.calls += repeats;
      t.elements += repeats * (call.kind == plan::CollectiveKind::AllReduce
                                   ? call.elements
                                   : call.elements / ranks);
      t.bytes += uint64_t(repeats) * plan::ring_bytes_sent(call, ranks);
    }
  }
  if (norm_over_pp) {
    plan::CollectiveCall sum{"pp", plan::CollectiveKind::AllReduce, 1};
    Tally &t = tallies[{"pp", "all_reduce"}];
    t.calls += 1;
    t.elements += 1;
    t.bytes += plan::ring_bytes_sent(sum, plan::axis_size(m, "pp"));
  }
  // Point-to-point: the activations and gradients the rank sends on, each
  // the residual stream of one microbatch (the shape of any boundary
  // buffer of the chunk).
  int64_t stream = 0;
  for (int t = 0; t < plan.tensors_size() && !stream; ++t)
    for (const char *name : {plan::kHiddenOut, plan::kHiddenIn})
      if (plan.buffers(plan.tensors(t).buffer()).name() == name)
        stream = plan::num_elements(plan.tensors(t));
  for (const planfile::Instruction &i : plan.schedule())
    if (i.op() == planfile::Instruction::SEND_ACTIVATION ||
        i.op() == planfile::Instruction::SEND_GRAD) {
      Tally &tally = tallies[{"pp", "send"}];
      tally.calls += 1;
      tally.elements += stream;
      tally.bytes += comm::ring_bytes::send(uint64_t(stream));
    }
  int dp = plan::axis_size(m, "dp"), tp = plan::axis_size(m, "tp"),
      pp = plan::axis_size(m, "pp");
  os << "\ncollectives per step (per rank; mesh ";
  if (pp > 1)
    os << "pp=" << pp << " x ";
  os << "dp=" << dp << " x tp=" << tp << ", " << pp * dp * tp << " ranks):\n";
  if (tallies.empty())
    os << "  none\n";
  uint64_t total = 0;
  for (const char *axis : {"dp", "tp", "pp", "embedding"})
    for (auto &[key, t] : tallies) {
      if (key.first != axis)
        continue;
      os << "  " << key.first << " " << key.second << ": " << t.calls
         << " calls, " << t.elements << " elements, " << t.bytes
         << " bytes sent per rank" << (key.second == "send" ? "" : " (ring)")
         << "\n";
      total += t.bytes;
    }
  os << "  total: " << total << " bytes sent per rank per step\n";
  // Sequence parallelism's rematerialised collectives: a forward
  // activation's shard kept and all-gathered again for the backward pass
  // (Megatron's choice), instead of the gathered tensor kept.
  std::vector<bool> forward_written(size_t(plan.buffers_size()), false);
  // Those started before the GEMM ahead of them (llmc-overlap-regather)
  // overlap it.
  int64_t regathers = 0, overlapped = 0;
  uint64_t regathered = 0;
  for (const planfile::Kernel &k : plan.kernels()) {
    if (k.role() == "forward")
      for (uint32_t out : k.outs())
        forward_written[plan.tensors(out).buffer()] = true;
    bool started = kernels::is(k.name(), kernels::KernelId::all_gather_start);
    if ((k.role() == "backward" || k.role() == "recompute") &&
        (started || kernels::is(k.name(), kernels::KernelId::all_gather)) &&
        forward_written[plan.tensors(k.ins(0)).buffer()]) {
      ++regathers;
      overlapped += started;
      regathered += uint64_t(plan::size_in_bytes(plan.tensors(k.outs(0))));
    }
  }
  if (regathers)
    os << "  re-gathered for the backward pass: " << regathers
       << " forward activations (" << bytes_text(regathered)
       << " not kept between the passes), " << overlapped
       << " started before the input-gradient GEMM they overlap\n";

  print_fusions(plan, os);

  int bf16_gemms = 0, bf16_attention = 0, bf16_weight_gemms = 0, kept = 0,
      weights = 0, gathered = 0;
  uint64_t kept_bytes = 0, weight_bytes = 0;
  for (const planfile::Kernel &k : plan.kernels()) {
    if (kernels::is(k.name(), kernels::KernelId::round_bf16)) {
      bool weight = plan.buffers(plan.tensors(k.ins(0)).buffer()).category() ==
                    planfile::PARAM;
      const planfile::Buffer &out =
          plan.buffers(plan.tensors(k.outs(0)).buffer());
      // A ZeRO-3 slice rounded for its bf16 gather rounds into a temporary.
      if (weight && out.category() == planfile::TEMPORARY) {
        ++gathered;
      } else {
        ++(weight ? weights : kept);
        (weight ? weight_bytes : kept_bytes) += out.size_bytes();
      }
    }
    if (!plan::has_bf16_math(k))
      continue;
    if (kernels::is(k.name(), kernels::KernelId::matmul_bf16w))
      ++bf16_weight_gemms;
    else
      (kernels::is_fp32_gemm(k.name()) ? bf16_gemms : bf16_attention)++;
  }
  if (bf16_weight_gemms)
    os << "\nprecision: bf16-mixed (" << bf16_weight_gemms
       << " GEMMs multiply bf16 weights by activations rounded to bf16, "
          "summing in fp32; attention and norms fp32)\n";
  if (bf16_gemms) {
    int shared = 0;
    for (const auto &operands : find_bf16_reuse(plan).from)
      for (const OperandRef &from : operands)
        shared += from.valid();
    os << "\nprecision: bf16-mixed (" << bf16_gemms << " GEMMs and "
       << bf16_attention
       << " attention kernels multiply bf16-rounded operands, summing in "
          "fp32; weights, gradients and AdamW moments fp32); "
       << shared << " GEMM operands take an earlier GEMM's rounding; " << kept
       << " activations only GEMMs read kept rounded from their writer ("
       << bytes_text(kept_bytes) << " of bf16); " << weights
       << " weights rounded once a step for their GEMMs ("
       << bytes_text(weight_bytes) << " of bf16 copies)";
    if (gathered)
      os << "; " << gathered
         << " ZeRO-3 gathers of weights only GEMMs read move bf16 (each "
            "rank's slice rounded first)";
    os << "\n";
  }

  if (!detail) {
    os << "\nbuffers: " << plan.buffers_size()
       << "\nkernels: " << plan.kernels_size()
       << "\n(llmc explain --detail lists every buffer and kernel)\n";
    return;
  }
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
    std::snprintf(
        head, sizeof(head), "  %5d  %-22s %5s  %-9s ", k, kernel.name().c_str(),
        kernel.layer() < 0 ? "-" : std::to_string(kernel.layer()).c_str(),
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

} // namespace

void explain_schedule(const planfile::Plan &plan, std::ostream &os) {
  std::vector<std::vector<planfile::Instruction>> schedules =
      plan::rank_schedules(plan);
  if (schedules.empty()) {
    os << "no pipeline: one program runs each step\n";
    return;
  }
  size_t P = schedules.size(), chunks = size_t(plan.stages_size());
  int64_t V = int64_t(chunks / P);
  plan::Simulation sim =
      plan::simulate_pipeline(schedules, std::vector<double>(chunks, 1.0),
                              std::vector<double>(chunks, 2.0));
  int64_t M = std::max<int64_t>(plan.model().microbatches(), 1);
  int64_t units = int64_t(sim.makespan + 0.5);
  // "F12" (".1": the rank's second chunk, when interleaved) and a space.
  size_t width = std::to_string(M - 1).size() + 2 +
                 (V > 1 ? 1 + std::to_string(V - 1).size() : 0);
  std::vector<std::string> rows(P, std::string(size_t(units) * width, ' '));
  std::vector<double> busy(P, 0.0);
  for (const plan::TimedInstruction &t : sim.timeline) {
    bool forward = t.instruction.op() == planfile::Instruction::FORWARD;
    std::string label =
        (forward ? "F" : "B") + std::to_string(t.instruction.microbatch());
    if (V > 1)
      label += "." + std::to_string(t.instruction.chunk() / int64_t(P));
    size_t begin = size_t(t.start + 0.5) * width,
           end = size_t(t.end + 0.5) * width;
    std::string cell = label + std::string(end - begin - label.size(), '-');
    cell.back() = ' ';
    rows[size_t(t.stage)].replace(begin, end - begin, cell);
    busy[size_t(t.stage)] += t.end - t.start;
  }
  os << "schedule " << plan.model().schedule() << ": " << P << " stages, " << M
     << " microbatches";
  if (V > 1)
    os << ", " << V << " model chunks per stage (F3.1: microbatch 3 on the "
       << "stage's chunk 1)";
  os << " (forward 1 unit, backward 2; '.' idle)\n";
  double idle = 0;
  for (size_t s = 0; s < P; ++s) {
    for (size_t c = 0; c + 1 < rows[s].size(); c += width)
      if (rows[s][c] == ' ')
        rows[s][c] = '.';
    os << "  stage " << s << " | " << rows[s] << "\n";
    idle += double(units) - busy[s];
  }
  char line[192];
  double ideal = 3.0 * double(M * V);
  std::snprintf(line, sizeof(line),
                "bubble: %.1f idle units per stage over %.0f of work = %.3f "
                "(the formula (p-1)/%s = %.3f)\n",
                idle / double(P), ideal, idle / double(P) / ideal,
                V > 1 ? "(v*m)" : "m", double(P - 1) / double(M * V));
  os << line;
}

void explain_plan(const planfile::Plan &plan, std::ostream &os, bool detail) {
  if (plan.stages_size() == 0)
    return explain_program(plan, os, detail);
  const planfile::ModelInfo &m = plan.model();
  int64_t pp = std::max<int64_t>(m.pp(), 1),
          M = std::max<int64_t>(m.microbatches(), 1);
  int64_t V = plan.stages_size() / pp;
  int64_t ranks_per_stage =
      std::max<int64_t>(m.dp(), 1) * std::max<int64_t>(m.tp(), 1);
  os << "pipeline: " << pp << " stages, " << m.schedule() << " schedule, " << M
     << " microbatches of " << m.micro_batch()
     << " sequences per step and data-parallel rank";
  if (V > 1)
    os << ", " << V << " model chunks per stage";
  os << "\n";
  auto in_flight = [&](int64_t c) { return plan::stash_slots(plan, c); };
  for (const planfile::Plan &chunk : plan.stages()) {
    int64_t c = chunk.model().stage(), s = c % pp;
    os << "  " << (V > 1 ? "chunk " : "stage ") << c;
    if (V > 1)
      os << " (stage " << s << ")";
    os << ": layers " << chunk.model().first_layer() << ".."
       << chunk.model().end_layer() - 1 << ", ranks " << s * ranks_per_stage
       << "-" << (s + 1) * ranks_per_stage - 1 << ", " << in_flight(c)
       << " microbatches in flight, memory per rank "
       << bytes_text(plan::rank_memory_bytes(plan, s)) << "\n";
  }
  char bubble[160];
  std::snprintf(bubble, sizeof(bubble),
                "bubble: (p-1)/%s = %lld/%lld = %.3f of the ideal step time "
                "(Narayanan et al. 2021)\n",
                V > 1 ? "(v*m)" : "m", (long long)(pp - 1), (long long)(M * V),
                double(pp - 1) / double(M * V));
  os << bubble;
  for (const planfile::Plan &chunk : plan.stages()) {
    int64_t c = chunk.model().stage();
    os << "\n=== " << (V > 1 ? "chunk " : "stage ") << c << " ===\n";
    explain_program(chunk, os, detail, in_flight(c), pp > 1 && c < pp);
  }
}

} // namespace llmc
