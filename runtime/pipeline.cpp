// One training step of a pipeline rank (see pipeline.h).
#include "runtime/pipeline.h"

#include "runtime/comm/communicator.h"
#include "runtime/device.h"
#include "runtime/plan/plan_file.h"
#include "runtime/plan/schedule.h"
#include "runtime/trace.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace llmc {
namespace {

// Tags on the pipeline axis: the activations or gradients leaving model
// chunk c. MPI delivers the messages of one source and tag in the order they
// were sent, and the verifier proves each link's sends and receives come in
// the same microbatch order, so the tag need not name the microbatch (which
// would overflow MPI's tag bound, at least 32767, on long schedules).
int tag(int64_t chunk, bool gradient) {
  return int(chunk * 2 + (gradient ? 1 : 0));
}

} // namespace

/// One model chunk: its executor, boundary buffers and stash slots.
struct PipelineRank::Chunk {
  Executor *exec;
  int64_t index;
  int ids = -1, targets = -1, hidden_in = -1, hidden_out = -1, grad_out = -1,
      grad_in = -1, loss = -1, norm = -1;
  // The stash slot of each microbatch in flight (-1: none), and free slots.
  std::vector<int64_t> slot;
  std::vector<int64_t> free_slots;
  int64_t slots = 0;

  // Points the executor's stash at microbatch m's slot (taking a free one
  // for a microbatch that starts its forward).
  void use_slot(int64_t m, bool start) {
    int64_t &s = slot[size_t(m)];
    if (s < 0 && start) {
      if (free_slots.empty())
        throw std::runtime_error(
            "model chunk " + std::to_string(index) +
            ": more microbatches in flight than stash slots");
      s = free_slots.back();
      free_slots.pop_back();
    }
    if (s < 0)
      throw std::runtime_error("model chunk " + std::to_string(index) +
                               ": microbatch " + std::to_string(m) +
                               " runs backward before forward");
    exec->set_stash_slot(s);
  }
  int64_t in_flight() const { return slots - int64_t(free_slots.size()); }
};

PipelineRank::PipelineRank(
    std::vector<Executor *> chunks, comm::Communicator *pp,
    const std::vector<std::vector<planfile::Instruction>> &schedules,
    const std::string &plan_path)
    : pp_(pp) {
  const planfile::ModelInfo &model = chunks.at(0)->plan().model();
  ranks_ = std::max<int64_t>(model.pp(), 1);
  microbatches_ = std::max<int64_t>(model.microbatches(), 1);
  model_chunks_ = ranks_ * std::max<int64_t>(model.virtual_stages(), 1);
  rank_ = plan::rank_of_chunk(model.stage(), ranks_);
  if (ranks_ > 1 && !pp)
    throw std::runtime_error("a pipeline rank needs the pp communicator");
  const auto &schedule = chunks[0]->plan().schedule();
  schedule_.assign(schedule.begin(), schedule.end());
  for (Executor *exec : chunks) {
    auto chunk = std::make_unique<Chunk>();
    chunk->exec = exec;
    chunk->index = exec->plan().model().stage();
    auto need = [&](const char *name, planfile::Category category) {
      int t = exec->find_tensor(name, category);
      if (t < 0)
        throw plan::PlanError(plan_path + ": model chunk " +
                              std::to_string(chunk->index) + " has no '" +
                              name + "' buffer");
      return t;
    };
    // The batch written into a chunk's token buffers must fit them.
    auto need_tokens = [&](const char *name) {
      int t = need(name, planfile::INPUT);
      const planfile::ModelInfo &model = exec->plan().model();
      if (exec->num_elements(t) != model.micro_batch() * model.seq_len())
        throw plan::PlanError(plan_path + ": model chunk " +
                              std::to_string(chunk->index) + "'s '" + name +
                              "' buffer does not hold micro_batch x seq_len "
                              "token ids");
      return t;
    };
    if (chunk->index == 0)
      chunk->ids = need_tokens("input_ids");
    else {
      chunk->hidden_in = need(plan::kHiddenIn, planfile::INPUT);
      chunk->grad_in = need(plan::kGradHiddenIn, planfile::OUTPUT);
    }
    if (chunk->index + 1 == model_chunks_) {
      chunk->targets = need_tokens("targets");
      chunk->loss = need("loss", planfile::OUTPUT);
    } else {
      chunk->hidden_out = need(plan::kHiddenOut, planfile::OUTPUT);
      chunk->grad_out = need(plan::kGradHiddenOut, planfile::INPUT);
    }
    chunk->norm = need("grad_norm", planfile::OUTPUT);
    // As many as train.cpp allocated (plan::stash_slots).
    chunk->slots =
        std::max<int64_t>(1, plan::max_in_flight(schedule_, chunk->index));
    chunks_.push_back(std::move(chunk));
  }
  int64_t tokens = model.micro_batch() * model.seq_len();
  scratch_ids_.resize(size_t(tokens));
  scratch_targets_.resize(size_t(tokens));
  if (ranks_ > 1 && chunks[0]->device()) {
    device_pp_ = &chunks[0]->device_communicator("pp");
    std::vector<std::vector<plan::P2PGroup>> groups =
        plan::p2p_groups(schedules);
    if (size_t(rank_) < groups.size())
      groups_ = std::move(groups[size_t(rank_)]);
  }
}

PipelineRank::~PipelineRank() {
  const DeviceBackend *device = chunks_[0]->exec->device();
  if (!device)
    return;
  for (auto &[index, s] : staged_)
    spare_.push_back(s);
  for (Staging &s : spare_)
    device->release(s.data);
}

// A device buffer of n floats for the message of schedule instruction
// `index`: a spare one of that size, else a new one.
float *PipelineRank::staging(size_t index, size_t n) {
  auto spare = std::find_if(spare_.begin(), spare_.end(),
                            [&](const Staging &s) { return s.n == n; });
  Staging s{nullptr, n};
  if (spare != spare_.end()) {
    s = *spare;
    spare_.erase(spare);
  } else {
    s.data = static_cast<float *>(
        chunks_[0]->exec->device()->allocate(n * sizeof(float)));
  }
  staged_[index] = s;
  return s.data;
}

void PipelineRank::release_staging(size_t index) {
  auto it = staged_.find(index);
  spare_.push_back(it->second);
  staged_.erase(it);
}

// Copies a send's tensor out of the arena, in the device's order, for the
// group that sends it: the arena's buffer may be written again before then.
void PipelineRank::stage_send(size_t index, Chunk &chunk, int tensor) {
  size_t n = size_t(chunk.exec->num_elements(tensor));
  chunk.exec->copy_on_device(staging(index, n), chunk.exec->f32(tensor),
                             n * sizeof(float));
}

// Copies a message its group received into the chunk's buffer (in the
// microbatch's stash slot).
void PipelineRank::land_receive(size_t index, Chunk &chunk, int tensor) {
  auto it = staged_.find(index);
  if (it == staged_.end())
    throw std::runtime_error("pipeline rank " + std::to_string(rank_) +
                             ": instruction " + std::to_string(index) +
                             " receives what no group received");
  chunk.exec->copy_on_device(chunk.exec->f32(tensor), it->second.data,
                             it->second.n * sizeof(float));
  release_staging(index);
}

// Issues the groups that go right before schedule instruction `at`: each
// one exchange on the device communicator, which the device's stream then
// waits for (the host goes on).
void PipelineRank::issue_groups(size_t at) {
  using I = planfile::Instruction;
  int prev = int(plan::rank_of_chunk(rank_ + ranks_ - 1, ranks_));
  int next = int(plan::rank_of_chunk(rank_ + 1, ranks_));
  while (next_group_ < groups_.size() && groups_[next_group_].at == at) {
    const plan::P2PGroup &group = groups_[next_group_++];
    double start = trace_clock();
    std::vector<comm::P2P> ops;
    for (size_t index : group.ops) {
      const I &i = schedule_[index];
      Chunk &c = chunk_of(i.chunk());
      switch (i.op()) {
      case I::SEND_ACTIVATION:
        ops.push_back({comm::P2P::Send, staged_.at(index).data,
                       staged_.at(index).n, next, tag(c.index, false)});
        break;
      case I::SEND_GRAD:
        ops.push_back({comm::P2P::Send, staged_.at(index).data,
                       staged_.at(index).n, prev, tag(c.index, true)});
        break;
      case I::RECV_ACTIVATION: {
        size_t n = size_t(c.exec->num_elements(c.hidden_in));
        ops.push_back({comm::P2P::Recv, staging(index, n), n, prev,
                       tag(c.index - 1, false)});
        break;
      }
      case I::RECV_GRAD: {
        size_t n = size_t(c.exec->num_elements(c.grad_out));
        ops.push_back({comm::P2P::Recv, staging(index, n), n, next,
                       tag(c.index + 1, true)});
        break;
      }
      default:
        throw std::runtime_error("pipeline group of rank " +
                                 std::to_string(rank_) + " holds " +
                                 plan::instruction_name(i));
      }
    }
    device_pp_->exchange(ops)->wait();
    for (size_t index : group.ops)
      if (schedule_[index].op() == I::SEND_ACTIVATION ||
          schedule_[index].op() == I::SEND_GRAD)
        release_staging(index);
    chunks_[0]->exec->trace_event("p2p group", start, trace_clock());
  }
}

PipelineRank::Chunk &PipelineRank::chunk_of(int64_t index) {
  for (auto &chunk : chunks_)
    if (chunk->index == index)
      return *chunk;
  throw std::runtime_error("pipeline rank " + std::to_string(rank_) +
                           " does not hold model chunk " +
                           std::to_string(index));
}

void PipelineRank::send(Chunk &chunk, int tensor, int peer, int tag) {
  std::vector<float> copy(size_t(chunk.exec->num_elements(tensor)));
  chunk.exec->download(copy.data(), chunk.exec->f32(tensor),
                       copy.size() * sizeof(float));
  auto request = pp_->isend(copy.data(), copy.size(), peer, tag);
  sends_.emplace_back(std::move(copy), std::move(request));
}

// Posts the receive of the first instruction at or after `from` that
// receives an activation (or a gradient), so its message moves while the
// rank computes until then.
void PipelineRank::post_receive(size_t from, bool gradient) {
  Posted &p = posted_[gradient];
  p.index = SIZE_MAX;
  auto op = gradient ? planfile::Instruction::RECV_GRAD
                     : planfile::Instruction::RECV_ACTIVATION;
  for (size_t i = from; i < schedule_.size(); ++i) {
    if (schedule_[i].op() != op)
      continue;
    Chunk &c = chunk_of(schedule_[i].chunk());
    int tensor = gradient ? c.grad_out : c.hidden_in;
    p.index = i;
    p.data.resize(size_t(c.exec->num_elements(tensor)));
    int64_t from_chunk = c.index + (gradient ? 1 : -1);
    int peer = int(plan::rank_of_chunk(from_chunk, ranks_));
    p.request = pp_->irecv(p.data.data(), p.data.size(), peer,
                           tag(from_chunk, gradient));
    return;
  }
}

// Completes the receive posted for schedule instruction `index` into the
// chunk's buffer (in the microbatch's stash slot), and posts the next.
void PipelineRank::receive(size_t index, Chunk &chunk, int tensor,
                           bool gradient) {
  Posted &p = posted_[gradient];
  if (p.index != index)
    throw std::runtime_error("pipeline rank " + std::to_string(rank_) +
                             ": instruction " + std::to_string(index) +
                             " receives what was not posted");
  p.request->wait();
  chunk.exec->upload(chunk.exec->f32(tensor), p.data.data(),
                     p.data.size() * sizeof(float));
  post_receive(index + 1, gradient);
}

void PipelineRank::wait_sends() {
  for (auto &[data, request] : sends_)
    request->wait();
  sends_.clear();
}

// Frees the copies of the sends that have completed, so they do not pile up
// over a step (a send completes once its receiver has posted the receive,
// which the neighbour does one message ahead).
void PipelineRank::reap_sends() {
  sends_.erase(std::remove_if(sends_.begin(), sends_.end(),
                              [](auto &send) { return send.second->test(); }),
               sends_.end());
}

float PipelineRank::grad_norm() const {
  return chunks_[0]->exec->output("grad_norm");
}

// Each chunk's norm kernel left its sum of squares (with more than one
// model chunk in all): the sum over the rank's chunks and then over the
// ranks is the square of the whole model's norm.
void PipelineRank::join_grad_norms() {
  if (model_chunks_ == 1)
    return;
  float total = 0.0f;
  for (auto &chunk : chunks_) {
    float sum = 0.0f;
    chunk->exec->download(&sum, chunk->exec->f32(chunk->norm), sizeof sum);
    total += sum;
  }
  if (pp_)
    pp_->all_reduce(&total, 1);
  float norm = std::sqrt(total);
  for (auto &chunk : chunks_)
    chunk->exec->upload(chunk->exec->f32(chunk->norm), &norm, sizeof norm);
}

// A rank that fails mid-step throws; the command's handler reports it and
// aborts the whole job (runtime/comm/job.h), so no neighbour waits for its
// messages.
float PipelineRank::run_step(const OptimizerStep &opt, const Feed &feed) {
  for (auto &chunk : chunks_) {
    chunk->free_slots.clear();
    for (int64_t s = chunk->slots; s-- > 0;)
      chunk->free_slots.push_back(s);
    chunk->slot.assign(size_t(microbatches_), -1);
    // The gradient sums start from zero each step.
    chunk->exec->zero(planfile::GRAD);
  }
  peak_in_flight_ = 0;
  peak_stash_bytes_ = 0;
  int prev = int(plan::rank_of_chunk(rank_ + ranks_ - 1, ranks_));
  int next = int(plan::rank_of_chunk(rank_ + 1, ranks_));
  bool on_device = device_pp_ != nullptr;
  next_group_ = 0;
  if (!on_device) {
    post_receive(0, false);
    post_receive(0, true);
  }
  double loss = 0.0;
  for (size_t index = 0; index < schedule_.size(); ++index) {
    if (on_device)
      issue_groups(index);
    const planfile::Instruction &i = schedule_[index];
    int64_t m = i.microbatch();
    Chunk &c = chunk_of(i.chunk());
    Executor &exec = *c.exec;
    double start = trace_clock();
    switch (i.op()) {
    case planfile::Instruction::RECV_ACTIVATION:
      c.use_slot(m, true);
      if (on_device)
        land_receive(index, c, c.hidden_in);
      else
        receive(index, c, c.hidden_in, false);
      break;
    case planfile::Instruction::FORWARD: {
      c.use_slot(m, true);
      feed(m, scratch_ids_.data(), scratch_targets_.data());
      size_t id_bytes = scratch_ids_.size() * sizeof(int32_t);
      if (c.ids >= 0)
        exec.upload(exec.i32(c.ids), scratch_ids_.data(), id_bytes);
      if (c.targets >= 0)
        exec.upload(exec.i32(c.targets), scratch_targets_.data(), id_bytes);
      exec.run_program("forward", opt);
      if (c.loss >= 0)
        loss += exec.output("loss");
      int64_t in_flight = 0;
      uint64_t bytes = 0;
      for (auto &chunk : chunks_) {
        in_flight += chunk->in_flight();
        bytes +=
            uint64_t(chunk->in_flight()) * chunk->exec->plan().stash_bytes();
      }
      peak_in_flight_ = std::max(peak_in_flight_, in_flight);
      peak_stash_bytes_ = std::max(peak_stash_bytes_, bytes);
      break;
    }
    case planfile::Instruction::SEND_ACTIVATION:
      if (on_device)
        stage_send(index, c, c.hidden_out);
      else
        send(c, c.hidden_out, next, tag(c.index, false));
      break;
    case planfile::Instruction::RECV_GRAD:
      c.use_slot(m, false);
      if (on_device)
        land_receive(index, c, c.grad_out);
      else
        receive(index, c, c.grad_out, true);
      break;
    case planfile::Instruction::BACKWARD:
      c.use_slot(m, false);
      exec.run_program("backward", opt);
      c.free_slots.push_back(c.slot[size_t(m)]);
      c.slot[size_t(m)] = -1;
      break;
    case planfile::Instruction::SEND_GRAD:
      if (on_device)
        stage_send(index, c, c.grad_in);
      else
        send(c, c.grad_in, prev, tag(c.index, true));
      break;
    default:
      throw std::runtime_error("unknown pipeline instruction " +
                               plan::instruction_name(i));
    }
    exec.trace_event(plan::instruction_name(i), start, trace_clock());
    reap_sends();
  }
  if (on_device)
    issue_groups(schedule_.size());
  wait_sends();
  for (auto &chunk : chunks_)
    chunk->exec->run_program("gradients", opt);
  join_grad_norms();
  for (auto &chunk : chunks_)
    chunk->exec->run_program("update", opt);
  bool last = chunks_.back()->index + 1 == model_chunks_;
  return last ? float(loss / double(microbatches_)) : 0.0f;
}

} // namespace llmc
