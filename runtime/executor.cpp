// The executor: one arena, then each plan kernel's function in order, on
// the CPU or the selected device.
#include "runtime/executor.h"

#include "runtime/comm/communicator.h"
#include "runtime/cpu_dispatch.h"
#include "runtime/device.h"
#include "runtime/plan/plan_file.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace llmc {
namespace {

constexpr size_t kArenaAlignment = 64;

size_t aligned(uint64_t bytes) {
  return (bytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
}

} // namespace

Executor::Executor(planfile::Plan plan, int64_t stash_slots)
    : plan_(std::move(plan)), device_(selected_device()),
      arena_(nullptr, device_ ? device_->release : std::free),
      stash_slots_(std::max<int64_t>(stash_slots, 1)) {
  // read_plan_file bounds both sizes far below overflow; the slots come from
  // the schedule, so their product is checked here.
  main_bytes_ = aligned(plan_.arena_bytes());
  slot_bytes_ = aligned(plan_.stash_bytes());
  size_t stash = 0, bytes = 0;
  if (__builtin_mul_overflow(size_t(stash_slots_), slot_bytes_, &stash) ||
      __builtin_add_overflow(main_bytes_, stash, &bytes))
    throw plan::PlanError("the arena plus " + std::to_string(stash_slots_) +
                          " stash slots of " + std::to_string(slot_bytes_) +
                          " bytes overflows");
  arena_bytes_ = bytes;
  void *memory = device_
                     ? device_->allocate(bytes ? bytes : 64)
                     : std::aligned_alloc(kArenaAlignment, bytes ? bytes : 64);
  if (!memory)
    throw std::runtime_error("cannot allocate the arena of " +
                             std::to_string(bytes) + " bytes on " +
                             device_description());
  if (!device_)
    std::memset(memory, 0, bytes); // a device's comes zeroed
  arena_.reset(static_cast<char *>(memory));
  for (int k = 0; k < plan_.kernels_size(); ++k) {
    const std::string &name = plan_.kernels(k).name();
    KernelFn fn = device_ ? device_->find_kernel(name) : find_cpu_kernel(name);
    if (!fn)
      throw plan::PlanError("the plan calls kernel '" + name + "' (kernel " +
                            std::to_string(k) + ") that this runtime does " +
                            "not have on " + device_description());
    kernel_fns_.push_back(fn);
  }
  if (!device_)
    bf16_reuse_ = find_bf16_reuse(plan_);
}

std::string Executor::device_description() const {
  return device_ ? device_->description : "cpu";
}

void Executor::synchronize() const {
  if (device_)
    device_->synchronize();
}

Executor::~Executor() = default;

void Executor::progress_collectives() {
  for (auto &[id, requests] : buckets_)
    for (auto &request : requests)
      request->test();
}

void Executor::set_communicator(const std::string &axis,
                                comm::Communicator *c) {
  comms_[axis] = c;
  if (c && device_ && device_->communicator)
    device_comms_[axis] = device_->communicator(*c);
}

comm::Communicator &Executor::communicator(const std::string &axis) const {
  auto it = comms_.find(axis);
  if (it == comms_.end() || !it->second)
    throw std::runtime_error("the plan communicates over mesh axis '" + axis +
                             "', but no communicator was set up for it");
  return *it->second;
}

comm::Communicator &
Executor::device_communicator(const std::string &axis) const {
  auto it = device_comms_.find(axis);
  if (it != device_comms_.end() && it->second)
    return *it->second;
  return communicator(axis);
}

std::vector<const comm::Communicator *>
Executor::device_only_communicators() const {
  std::vector<const comm::Communicator *> own;
  for (const auto &[axis, device] : device_comms_)
    if (device && device != comms_.at(axis))
      own.push_back(device);
  return own;
}

std::vector<std::unique_ptr<comm::Request>> &Executor::bucket(int64_t id) {
  return buckets_[id];
}

int Executor::find_tensor(const std::string &name,
                          planfile::Category category) const {
  for (int t = 0; t < plan_.tensors_size(); ++t) {
    const planfile::Buffer &b = plan_.buffers(plan_.tensors(t).buffer());
    if (b.category() == category && b.name() == name)
      return t;
  }
  return -1;
}

float *Executor::f32(int tensor) {
  const planfile::Buffer &b = plan_.buffers(plan_.tensors(tensor).buffer());
  size_t base = b.stashed() ? main_bytes_ + size_t(slot_) * slot_bytes_ : 0;
  return reinterpret_cast<float *>(arena_.get() + base + b.offset());
}

void Executor::set_stash_slot(int64_t slot) {
  if (slot < 0 || slot >= stash_slots_)
    throw std::runtime_error("stash slot " + std::to_string(slot) +
                             " outside the " + std::to_string(stash_slots_) +
                             " allocated");
  slot_ = slot;
}

void Executor::zero(planfile::Category category) {
  // On a device, in stream order: the host never touches those pages.
  for (const planfile::Buffer &b : plan_.buffers())
    if (b.category() == category && !b.stashed()) {
      if (device_)
        device_->zero(arena_.get() + b.offset(), b.size_bytes());
      else
        std::memset(arena_.get() + b.offset(), 0, b.size_bytes());
    }
}

int32_t *Executor::i32(int tensor) {
  return reinterpret_cast<int32_t *>(f32(tensor));
}

int64_t Executor::num_elements(int tensor) const {
  return plan::num_elements(plan_.tensors(tensor));
}

namespace {
// Host to arena or arena to host: the device's copy, or memcpy on the CPU.
void copy_bytes(const DeviceBackend *device, void *dst, const void *src,
                size_t bytes) {
  if (bytes == 0)
    return;
  if (device)
    device->copy(dst, src, bytes);
  else
    std::memcpy(dst, src, bytes);
}
} // namespace

void Executor::upload(void *arena, const void *host, size_t bytes) const {
  copy_bytes(device_, arena, host, bytes);
}

void Executor::download(void *host, const void *arena, size_t bytes) const {
  copy_bytes(device_, host, arena, bytes);
}

void Executor::copy_on_device(void *dst, const void *src, size_t bytes) const {
  copy_bytes(device_, dst, src, bytes);
}

const int32_t *Executor::host_ids(int tensor) {
  if (!device_)
    return i32(tensor);
  auto [it, made] = host_ids_.try_emplace(tensor);
  return made ? readable(i32(tensor), size_t(num_elements(tensor)), it->second)
              : it->second.data();
}

float Executor::output(const std::string &name) const {
  int t = find_tensor(name, planfile::OUTPUT);
  if (t < 0 || num_elements(t) < 1)
    throw plan::PlanError("the plan has no output '" + name + "'");
  float value = 0.0f;
  download(&value, const_cast<Executor *>(this)->f32(t), sizeof value);
  return value;
}

void Executor::run(const OptimizerStep &opt, const KernelHook &before) {
  run_range(0, plan_.kernels_size(), opt, before);
}

void Executor::run_forward() {
  int end = 0;
  auto forward = [&](int k) {
    const std::string &role = plan_.kernels(k).role();
    return role.empty() || role == "forward";
  };
  while (end < plan_.kernels_size() && forward(end))
    ++end;
  for (int k = end; k < plan_.kernels_size(); ++k)
    if (plan_.kernels(k).role() == "forward")
      throw plan::PlanError("kernel " + std::to_string(k) + " (" +
                            plan_.kernels(k).name() +
                            ") runs forward after the backward pass began; "
                            "the forward pass cannot run alone");
  run_range(0, end, OptimizerStep(), {});
}

void Executor::run_program(const std::string &name, const OptimizerStep &opt) {
  for (const planfile::Program &p : plan_.programs())
    if (p.name() == name)
      return run_range(int(p.begin()), int(p.end()), opt, {});
  throw std::runtime_error("the plan has no '" + name + "' program");
}

cpu::Bf16Operands Executor::bf16_operands(int k) {
  cpu::Bf16Operands ops;
  if (bf16_reuse_.from.empty())
    return ops;
  const planfile::Kernel &kernel = plan_.kernels(k);
  for (int s = 0; s < 2; ++s) {
    cpu::Bf16Operand &op = s == 0 ? ops.a : ops.b;
    const OperandRef &from = bf16_reuse_.from[size_t(k)][size_t(s)];
    auto kept = bf16_kept_.find({from.kernel, from.slot});
    // Kept in this run, by a GEMM that did round it (one off oneDNN leaves
    // its vector empty).
    if (from.valid() && kept != bf16_kept_.end() &&
        int64_t(kept->second.size()) == num_elements(kernel.ins(s))) {
      op.ready = kept->second.data();
    } else if (bf16_reuse_.last_use[size_t(k)][size_t(s)] >= 0) {
      std::vector<uint16_t> keep;
      if (!bf16_free_.empty()) {
        keep = std::move(bf16_free_.back());
        bf16_free_.pop_back();
      }
      keep.clear();
      op.keep = &(bf16_kept_[{k, s}] = std::move(keep));
    }
  }
  return ops;
}

void Executor::release_bf16(int k) {
  if (bf16_reuse_.from.empty())
    return;
  for (const OperandRef &from : bf16_reuse_.from[size_t(k)]) {
    if (!from.valid() ||
        bf16_reuse_.last_use[size_t(from.kernel)][size_t(from.slot)] != k)
      continue;
    auto kept = bf16_kept_.find({from.kernel, from.slot});
    if (kept == bf16_kept_.end())
      continue;
    bf16_free_.push_back(std::move(kept->second));
    bf16_kept_.erase(kept);
  }
}

void Executor::run_range(int begin, int end, const OptimizerStep &opt,
                         const KernelHook &before) {
  // A rounding or a host copy of ids kept in an earlier run may be stale:
  // the host writes the arena between runs.
  for (auto &[key, kept] : bf16_kept_)
    bf16_free_.push_back(std::move(kept));
  bf16_kept_.clear();
  host_ids_.clear();
  for (int k = begin; k < end; ++k) {
    const planfile::Kernel &kernel = plan_.kernels(k);
    // Timing a kernel waits for the device's work before it.
    if (profiling_ || trace_)
      synchronize();
    if (before)
      before(kernel);
    KernelCall call(*this, kernel, opt, k);
    progress_collectives();
    if (!profiling_ && !trace_) {
      kernel_fns_[k](call);
      release_bf16(k);
      continue;
    }
    auto start = std::chrono::steady_clock::now();
    kernel_fns_[k](call);
    release_bf16(k);
    synchronize();
    auto end = std::chrono::steady_clock::now();
    double seconds = std::chrono::duration<double>(end - start).count();
    if (trace_)
      trace_->push_back(
          {k,
           trace_step_,
           std::chrono::duration<double>(start.time_since_epoch()).count(),
           std::chrono::duration<double>(end.time_since_epoch()).count(),
           {},
           trace_plan_});
    if (!profiling_)
      continue;
    kernel_seconds_[kernel.name()] += seconds;
    seconds_per_kernel_.resize(size_t(plan_.kernels_size()), 0.0);
    seconds_per_kernel_[size_t(k)] += seconds;
  }
  synchronize();
}

} // namespace llmc
