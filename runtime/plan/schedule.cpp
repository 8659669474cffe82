// Pipeline schedules (see schedule.h).
#include "runtime/plan/schedule.h"

#include <algorithm>

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
