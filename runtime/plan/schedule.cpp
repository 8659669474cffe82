// Pipeline schedules (see schedule.h).
#include "runtime/plan/schedule.h"

#include <algorithm>
#include <deque>
#include <map>
#include <tuple>

namespace llmc::plan {
namespace {

using Op = planfile::Instruction::Op;

/// A rank's instructions: each forward or backward of a model chunk with
/// the receive before it and the send after it (none at the model's ends).
class Stream {
public:
  explicit Stream(int64_t chunks) : chunks_(chunks) {}

  void forward(int64_t m, int64_t chunk) {
    if (chunk > 0)
      add(planfile::Instruction::RECV_ACTIVATION, m, chunk);
    add(planfile::Instruction::FORWARD, m, chunk);
    if (chunk + 1 < chunks_)
      add(planfile::Instruction::SEND_ACTIVATION, m, chunk);
  }
  void backward(int64_t m, int64_t chunk) {
    if (chunk + 1 < chunks_)
      add(planfile::Instruction::RECV_GRAD, m, chunk);
    add(planfile::Instruction::BACKWARD, m, chunk);
    if (chunk > 0)
      add(planfile::Instruction::SEND_GRAD, m, chunk);
  }
  std::vector<planfile::Instruction> take() { return std::move(out_); }

private:
  void add(Op op, int64_t m, int64_t chunk) {
    planfile::Instruction i;
    i.set_op(op);
    i.set_microbatch(m);
    i.set_chunk(chunk);
    out_.push_back(i);
  }
  int64_t chunks_; // model chunks in all
  std::vector<planfile::Instruction> out_;
};

} // namespace

bool is_schedule(const std::string &kind) {
  return kind == "gpipe" || kind == "1f1b" || kind == "interleaved";
}

std::vector<planfile::Instruction>
pipeline_schedule(const std::string &kind, int64_t ranks, int64_t rank,
                  int64_t microbatches, int64_t chunks) {
  int64_t P = ranks, M = microbatches, V = std::max<int64_t>(chunks, 1);
  Stream s(P * V);
  if (kind == "gpipe") {
    for (int64_t m = 0; m < M; ++m)
      s.forward(m, rank);
    for (int64_t m = 0; m < M; ++m)
      s.backward(m, rank);
    return s.take();
  }
  // 1F1B over M·V chunk-microbatches k, as Megatron-LM's
  // forward_backward_pipelining_with_interleaving numbers them (with V = 1,
  // its schedule without interleaving): groups of P microbatches go
  // through the rank's chunks in turn, forwards in chunk order, backwards
  // in reverse.
  auto microbatch = [&](int64_t k) { return k / (P * V) * P + k % P; };
  auto chunk = [&](int64_t k, bool forward) {
    int64_t local = k % (P * V) / P;
    return (forward ? local : V - 1 - local) * P + rank;
  };
  int64_t total = M * V;
  int64_t warmup = V == 1 ? P - rank - 1 : (P - rank - 1) * 2 + (V - 1) * P;
  warmup = std::min(warmup, total);
  for (int64_t k = 0; k < warmup; ++k)
    s.forward(microbatch(k), chunk(k, true));
  for (int64_t k = 0; k < total - warmup; ++k) {
    s.forward(microbatch(warmup + k), chunk(warmup + k, true));
    s.backward(microbatch(k), chunk(k, false));
  }
  for (int64_t k = total - warmup; k < total; ++k)
    s.backward(microbatch(k), chunk(k, false));
  return s.take();
}

std::vector<int64_t> rank_chunks(const planfile::Plan &plan, int64_t rank) {
  if (plan.stages_size() == 0)
    return {-1};
  int64_t ranks = std::max<int64_t>(plan.model().pp(), 1);
  std::vector<int64_t> chunks;
  for (int64_t c = rank; c < plan.stages_size(); c += ranks)
    chunks.push_back(c);
  return chunks;
}

std::vector<std::vector<planfile::Instruction>>
rank_schedules(const planfile::Plan &plan) {
  std::vector<std::vector<planfile::Instruction>> schedules;
  int64_t ranks = std::max<int64_t>(plan.model().pp(), 1);
  for (int64_t r = 0; r < ranks && r < plan.stages_size(); ++r)
    schedules.emplace_back(plan.stages(int(r)).schedule().begin(),
                           plan.stages(int(r)).schedule().end());
  return schedules;
}

int64_t stash_slots(const planfile::Plan &plan, int64_t chunk) {
  int64_t ranks = std::max<int64_t>(plan.model().pp(), 1);
  const auto &schedule =
      plan.stages(int(rank_of_chunk(chunk, ranks))).schedule();
  return std::max<int64_t>(
      1, max_in_flight({schedule.begin(), schedule.end()}, chunk));
}

int64_t max_in_flight(const std::vector<planfile::Instruction> &schedule,
                      int64_t chunk) {
  int64_t now = 0, most = 0;
  for (const planfile::Instruction &i : schedule) {
    if (chunk >= 0 && i.chunk() != chunk)
      continue;
    if (i.op() == planfile::Instruction::FORWARD)
      most = std::max(most, ++now);
    else if (i.op() == planfile::Instruction::BACKWARD)
      --now;
  }
  return most;
}

Simulation simulate_pipeline(
    const std::vector<std::vector<planfile::Instruction>> &schedules,
    const std::vector<double> &forward_s,
    const std::vector<double> &backward_s) {
  using I = planfile::Instruction;
  int64_t stages = int64_t(schedules.size()); // pipeline ranks
  // Messages in flight per link (from, to, is-gradient): their send times.
  std::map<std::tuple<int64_t, int64_t, bool>, std::deque<double>> links;
  std::vector<size_t> next(size_t(stages), 0);
  std::vector<double> clock(size_t(stages), 0.0);
  Simulation sim;
  for (bool progress = true; progress;) {
    progress = false;
    for (int64_t s = 0; s < stages; ++s) {
      const auto &schedule = schedules[size_t(s)];
      double &t = clock[size_t(s)];
      for (size_t &i = next[size_t(s)]; i < schedule.size(); ++i) {
        const I &in = schedule[i];
        bool gradient = in.op() == I::SEND_GRAD || in.op() == I::RECV_GRAD;
        int64_t next_chunk =
            in.op() == I::SEND_ACTIVATION || in.op() == I::RECV_GRAD;
        int64_t peer =
            rank_of_chunk(in.chunk() + (next_chunk ? 1 : stages - 1), stages);
        if (in.op() == I::FORWARD || in.op() == I::BACKWARD) {
          double cost = in.op() == I::FORWARD ? forward_s[size_t(in.chunk())]
                                              : backward_s[size_t(in.chunk())];
          sim.timeline.push_back({s, i, in, t, t + cost});
          t += cost;
        } else if (in.op() == I::SEND_ACTIVATION || in.op() == I::SEND_GRAD) {
          links[{s, peer, gradient}].push_back(t);
        } else {
          auto &queue = links[{peer, s, gradient}];
          if (queue.empty())
            break; // waits for the peer
          t = std::max(t, queue.front());
          queue.pop_front();
        }
        progress = true;
      }
    }
  }
  for (int64_t s = 0; s < stages; ++s) {
    if (next[size_t(s)] < schedules[size_t(s)].size())
      sim.blocked.push_back({s, next[size_t(s)]});
    sim.makespan = std::max(sim.makespan, clock[size_t(s)]);
  }
  return sim;
}

std::string instruction_name(const planfile::Instruction &i) {
  std::string m = std::to_string(i.microbatch());
  switch (i.op()) {
  case planfile::Instruction::FORWARD:
    return "F" + m;
  case planfile::Instruction::BACKWARD:
    return "B" + m;
  case planfile::Instruction::RECV_ACTIVATION:
    return "recv-act " + m;
  case planfile::Instruction::SEND_ACTIVATION:
    return "send-act " + m;
  case planfile::Instruction::RECV_GRAD:
    return "recv-grad " + m;
  case planfile::Instruction::SEND_GRAD:
    return "send-grad " + m;
  default:
    return "op " + std::to_string(int(i.op())) + " " + m;
  }
}

} // namespace llmc::plan
