// One training step of a pipeline stage (see pipeline.h).
#include "runtime/pipeline.h"

#include "runtime/comm/communicator.h"
#include "runtime/plan/plan_file.h"
#include "runtime/plan/schedule.h"
#include "runtime/trace.h"

#include <algorithm>
#include <stdexcept>

namespace llmc {
namespace {

// Tags on the pipeline axis: a microbatch's activation and its gradient.
int activation_tag(int64_t m) { return int(2 * m); }
int gradient_tag(int64_t m) { return int(2 * m + 1); }

} // namespace

PipelineStage::PipelineStage(Executor &exec, comm::Communicator *pp,
                             const std::string &plan_path)
    : exec_(exec), pp_(pp) {
  const planfile::ModelInfo &model = exec.plan().model();
  stage_ = model.stage();
  stages_ = std::max<int64_t>(model.pp(), 1);
  microbatches_ = std::max<int64_t>(model.microbatches(), 1);
  if (stages_ > 1 && !pp)
    throw std::runtime_error("a pipeline stage needs the pp communicator");
  auto need = [&](const char *name, planfile::Category category) {
    int t = exec.find_tensor(name, category);
    if (t < 0)
      throw plan::PlanError(plan_path + ": pipeline stage " +
                            std::to_string(stage_) + " has no '" + name +
                            "' buffer");
    return t;
  };
  if (first())
    ids_ = need("input_ids", planfile::INPUT);
  else {
    hidden_in_ = need(plan::kHiddenIn, planfile::INPUT);
    grad_in_ = need(plan::kGradHiddenIn, planfile::OUTPUT);
  }
  if (last()) {
    targets_ = need("targets", planfile::INPUT);
    loss_ = need("loss", planfile::OUTPUT);
  } else {
    hidden_out_ = need(plan::kHiddenOut, planfile::OUTPUT);
    grad_out_ = need(plan::kGradHiddenOut, planfile::INPUT);
  }
  int64_t tokens = model.micro_batch() * model.seq_len();
  scratch_ids_.resize(size_t(tokens));
  scratch_targets_.resize(size_t(tokens));
  slot_.assign(size_t(microbatches_), -1);
}

PipelineStage::~PipelineStage() = default;

int64_t PipelineStage::slot_of(int64_t m, bool acquire) {
  int64_t &slot = slot_[size_t(m)];
  if (slot < 0 && acquire) {
    if (free_slots_.empty())
      throw std::runtime_error("pipeline stage " + std::to_string(stage_) +
                               ": more microbatches in flight than stash "
                               "slots");
    slot = free_slots_.back();
    free_slots_.pop_back();
    peak_in_flight_ = std::max(peak_in_flight_,
                               slots_ - int64_t(free_slots_.size()));
  }
  if (slot < 0)
    throw std::runtime_error("pipeline stage " + std::to_string(stage_) +
                             ": microbatch " + std::to_string(m) +
                             " runs backward before forward");
  exec_.set_stash_slot(slot);
  return slot;
}

void PipelineStage::send(int tensor, int peer, int tag) {
  const float *data = exec_.f32(tensor);
  std::vector<float> copy(data, data + exec_.num_elements(tensor));
  auto request = pp_->isend(copy.data(), copy.size(), peer, tag);
  sends_.emplace_back(std::move(copy), std::move(request));
}

void PipelineStage::wait_sends() {
  for (auto &[data, request] : sends_)
    request->wait();
  sends_.clear();
}

float PipelineStage::run_step(const OptimizerStep &opt, const Feed &feed) {
  const auto &schedule = exec_.plan().schedule();
  free_slots_.clear();
  slots_ = plan::max_in_flight({schedule.begin(), schedule.end()});
  for (int64_t s = slots_; s-- > 0;)
    free_slots_.push_back(s);
  peak_in_flight_ = 0;
  slot_.assign(size_t(microbatches_), -1);
  // The gradient sums start from zero each step.
  exec_.zero(planfile::GRAD);
  double loss = 0.0;
  for (const planfile::Instruction &i : schedule) {
    int64_t m = i.microbatch();
    double start = trace_clock();
    switch (i.op()) {
    case planfile::Instruction::RECV_ACTIVATION:
      slot_of(m, true);
      pp_->recv(exec_.f32(hidden_in_), size_t(exec_.num_elements(hidden_in_)),
                int(stage_ - 1), activation_tag(m));
      break;
    case planfile::Instruction::FORWARD:
      slot_of(m, true);
      feed(m, ids_ >= 0 ? exec_.i32(ids_) : scratch_ids_.data(),
           targets_ >= 0 ? exec_.i32(targets_) : scratch_targets_.data());
      exec_.run_program("forward", opt);
      if (loss_ >= 0)
        loss += exec_.output("loss");
      break;
    case planfile::Instruction::SEND_ACTIVATION:
      send(hidden_out_, int(stage_ + 1), activation_tag(m));
      break;
    case planfile::Instruction::RECV_GRAD:
      slot_of(m, false);
      pp_->recv(exec_.f32(grad_out_), size_t(exec_.num_elements(grad_out_)),
                int(stage_ + 1), gradient_tag(m));
      break;
    case planfile::Instruction::BACKWARD:
      slot_of(m, false);
      exec_.run_program("backward", opt);
      free_slots_.push_back(slot_[size_t(m)]);
      slot_[size_t(m)] = -1;
      break;
    case planfile::Instruction::SEND_GRAD:
      send(grad_in_, int(stage_ - 1), gradient_tag(m));
      break;
    default:
      throw std::runtime_error("unknown pipeline instruction " +
                               plan::instruction_name(i));
    }
    exec_.trace_event(plan::instruction_name(i), start, trace_clock());
  }
  wait_sends();
  exec_.run_program("optimizer", opt);
  return last() ? float(loss / double(microbatches_)) : 0.0f;
}

} // namespace llmc
