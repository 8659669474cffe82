// Pipeline schedules (see schedule.h).
#include "runtime/plan/schedule.h"

#include <algorithm>
#include <deque>
#include <map>
#include <tuple>

namespace llmc::plan {
namespace {

using Op = planfile::Instruction::Op;

class Stream {
public:
  Stream(int64_t stages, int64_t stage) : stages_(stages), stage_(stage) {}

  void forward(int64_t m) {
    if (stage_ > 0)
      add(planfile::Instruction::RECV_ACTIVATION, m);
    add(planfile::Instruction::FORWARD, m);
    if (stage_ + 1 < stages_)
      add(planfile::Instruction::SEND_ACTIVATION, m);
  }
  void backward(int64_t m) {
    if (stage_ + 1 < stages_)
      add(planfile::Instruction::RECV_GRAD, m);
    add(planfile::Instruction::BACKWARD, m);
    if (stage_ > 0)
      add(planfile::Instruction::SEND_GRAD, m);
  }
  std::vector<planfile::Instruction> take() { return std::move(out_); }

private:
  void add(Op op, int64_t m) {
    planfile::Instruction i;
    i.set_op(op);
    i.set_microbatch(m);
    out_.push_back(i);
  }
  int64_t stages_, stage_;
  std::vector<planfile::Instruction> out_;
};

} // namespace

bool is_schedule(const std::string &kind) {
  return kind == "gpipe" || kind == "1f1b";
}

std::vector<planfile::Instruction> pipeline_schedule(const std::string &kind,
                                                     int64_t stages,
                                                     int64_t stage,
                                                     int64_t microbatches) {
  Stream s(stages, stage);
  int64_t M = microbatches;
  if (kind == "gpipe") {
    for (int64_t m = 0; m < M; ++m)
      s.forward(m);
    for (int64_t m = 0; m < M; ++m)
      s.backward(m);
    return s.take();
  }
  // 1F1B, as in Megatron's forward_backward_pipelining_without_interleaving.
  int64_t warmup = std::min(stages - stage - 1, M);
  for (int64_t m = 0; m < warmup; ++m)
    s.forward(m);
  for (int64_t i = 0; i < M - warmup; ++i) {
    s.forward(warmup + i);
    s.backward(i);
  }
  for (int64_t m = M - warmup; m < M; ++m)
    s.backward(m);
  return s.take();
}

int64_t max_in_flight(const std::vector<planfile::Instruction> &schedule) {
  int64_t now = 0, most = 0;
  for (const planfile::Instruction &i : schedule) {
    if (i.op() == planfile::Instruction::FORWARD)
      most = std::max(most, ++now);
    else if (i.op() == planfile::Instruction::BACKWARD)
      --now;
  }
  return most;
}

Simulation
simulate_pipeline(const std::vector<std::vector<planfile::Instruction>> &schedules,
                  const std::vector<double> &forward_s,
                  const std::vector<double> &backward_s) {
  using I = planfile::Instruction;
  int64_t stages = int64_t(schedules.size());
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
        int64_t peer =
            in.op() == I::SEND_ACTIVATION || in.op() == I::RECV_GRAD ? s + 1
                                                                     : s - 1;
        if (in.op() == I::FORWARD || in.op() == I::BACKWARD) {
          double cost = in.op() == I::FORWARD ? forward_s[size_t(s)]
                                              : backward_s[size_t(s)];
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
