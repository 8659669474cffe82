// Runs a plan on this process: one arena allocated once, then the plan's
// kernels in order on the CPU (runtime/cpu_dispatch.h maps each to its
// code) or on the device --device selected (runtime/device.h): the arena in
// device memory, which the host reaches only through upload and download,
// and each kernel's device function.
// A pipeline stage's plan runs as three programs (forward and backward per
// microbatch, optimizer per step), and its arena ends in one stash slot per
// microbatch in flight: the stashed buffers resolve into the current slot.
#pragma once

#include "runtime/bf16_reuse.h"
#include "runtime/cpu/matmul.h"
#include "runtime/plan/plan.pb.h"
#include "runtime/trace.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace llmc {

class KernelCall;
struct DeviceBackend;
namespace comm {
class Communicator;
class Request;
} // namespace comm

// Optimizer settings of one step; the plan says only which tensors decay.
struct OptimizerStep {
  int64_t step = 0; // 0-based; bias corrections use step + 1
  float lr = 3e-4f;
  float beta1 = 0.9f;
  float beta2 = 0.95f;
  float eps = 1e-8f;
  float weight_decay = 0.1f;
  float clip_grad_norm = 1.0f; // <= 0: no clipping
};

class Executor {
public:
  // Throws plan::PlanError when the plan calls a kernel this runtime lacks.
  explicit Executor(planfile::Plan plan, int64_t stash_slots = 1);
  ~Executor();
  Executor(const Executor &) = delete;
  Executor &operator=(const Executor &) = delete;

  const planfile::Plan &plan() const { return plan_; }

  // The first tensor of the named buffer of a category, or -1.
  int find_tensor(const std::string &name, planfile::Category category) const;
  // A tensor's address in the arena: for kernels, and for the host only
  // through upload and download (on a device the host cannot touch it).
  float *f32(int tensor);
  int32_t *i32(int tensor);
  int64_t num_elements(int tensor) const;

  // Copies host memory into the arena at `arena` (an address from f32 or
  // i32), and out of it: memcpy on the CPU; on a device, after its work so
  // far, and done when they return.
  void upload(void *arena, const void *host, size_t bytes) const;
  void download(void *host, const void *arena, size_t bytes) const;
  // Copies between two device addresses (the arena's, or a buffer of the
  // device backend's allocate), in the order of the device's work.
  void copy_on_device(void *dst, const void *src, size_t bytes) const;
  // An i32 input for the host to check before a kernel uses it (block
  // tables, positions): the arena on the CPU; on a device a copy, made once
  // per run, since only the host writes inputs, between runs.
  const int32_t *host_ids(int tensor);
  // `n` values at `arena` for the host to read: the arena itself on the
  // CPU, else a copy in `staging`.
  template <typename T>
  const T *readable(const T *arena, size_t n, std::vector<T> &staging) const {
    if (!device_)
      return arena;
    staging.resize(n);
    download(staging.data(), arena, n * sizeof(T));
    return staging.data();
  }

  // Runs every kernel once; `before` (if set) sees each kernel first, e.g.
  // to download gradients before AdamW consumes them.
  using KernelHook = std::function<void(const planfile::Kernel &)>;
  void run(const OptimizerStep &opt, const KernelHook &before = {});
  // Runs a training step's forward pass alone (its loss, no gradients, no
  // update): the kernels before the first backward, recompute or optimizer
  // one. Throws plan::PlanError when forward kernels also come later.
  void run_forward();
  // Runs one program of a pipelined plan: "forward", "backward" or
  // "optimizer".
  void run_program(const std::string &name, const OptimizerStep &opt);
  // The stash slot the stashed buffers resolve into, in [0, stash_slots).
  void set_stash_slot(int64_t slot);
  // Zeroes every buffer of a category (the gradient sums, as a step starts).
  void zero(planfile::Category category);
  // Bytes of the arena, stash slots included.
  size_t arena_bytes() const { return arena_bytes_; }
  // The device this executor runs on (nullptr: the CPU), and its name for
  // reports ("cpu" or the backend's description).
  const DeviceBackend *device() const { return device_; }
  std::string device_description() const;
  // Waits for the device's kernels (nothing on the CPU): the arena is then
  // the host's to read and write.
  void synchronize() const;

  // The value of the scalar output buffer `name` ("loss", "grad_norm").
  float output(const std::string &name) const;

  // The communicator of a mesh axis ("dp", "tp") that kernels name; the
  // caller owns it.
  // On a device with its own communicators (NCCL), the device's one over
  // the same ranks is made here, so every rank makes them in the order it
  // sets the axes (each is collective over its group).
  void set_communicator(const std::string &axis, comm::Communicator *c);
  // Throws when the plan names an axis no communicator was set up for.
  comm::Communicator &communicator(const std::string &axis) const;
  // The communicator of an axis for device buffers: the device's own when
  // it has one, else the host's (whose buffers the device's memory is).
  comm::Communicator &device_communicator(const std::string &axis) const;
  // The device's own communicators (NCCL), which count what they send apart
  // from the host's; none on the CPU.
  std::vector<const comm::Communicator *> device_only_communicators() const;
  // The in-flight requests of a gradient bucket, between its start and wait.
  std::vector<std::unique_ptr<comm::Request>> &bucket(int64_t id);

  // Where kernel k's bf16 operands come from and go (runtime/bf16_reuse.h):
  // roundings an earlier GEMM of this run kept, and vectors to keep its own
  // in for a later one. Empty on a device and for other kernels.
  cpu::Bf16Operands bf16_operands(int k);

  // With profiling on, run() adds each kernel's wall time to its name.
  void set_profiling(bool on) { profiling_ = on; }
  // While set, run() also appends each kernel's start and end to `events`,
  // tagged with `step`.
  // `plan` tags the events: which of the rank's plans this executor runs.
  void set_trace(std::vector<TraceEvent> *events, int64_t step, int plan = 0) {
    trace_ = events;
    trace_step_ = step;
    trace_plan_ = plan;
  }
  // While tracing, appends an event that is not a kernel (kernel -1).
  void trace_event(std::string name, double start, double end) {
    if (trace_)
      trace_->push_back(
          {-1, trace_step_, start, end, std::move(name), trace_plan_});
  }
  const std::map<std::string, double> &kernel_seconds() const {
    return kernel_seconds_;
  }
  // The same, per kernel of the plan (by index), summed over runs.
  const std::vector<double> &seconds_per_kernel() const {
    return seconds_per_kernel_;
  }

private:
  // Lets in-flight non-blocking collectives advance between kernels.
  void progress_collectives();
  void run_range(int begin, int end, const OptimizerStep &opt,
                 const KernelHook &before);
  // Returns the roundings whose last taker is kernel k to the free list.
  void release_bf16(int k);

  planfile::Plan plan_;
  // The device backend (nullptr: the CPU), and each kernel's function on
  // it, resolved once when the plan is loaded.
  const DeviceBackend *device_ = nullptr;
  std::vector<void (*)(const KernelCall &)> kernel_fns_;
  // The CPU's shared bf16 roundings: the pairs, the roundings kept in this
  // run by (kernel, slot), and vectors free for the next (their capacity
  // stays, so a step allocates nothing).
  Bf16Reuse bf16_reuse_;
  std::map<std::pair<int, int>, std::vector<uint16_t>> bf16_kept_;
  std::vector<std::vector<uint16_t>> bf16_free_;
  std::unique_ptr<char, void (*)(void *)> arena_;
  std::map<int, std::vector<int32_t>> host_ids_; // this run's, on a device
  size_t arena_bytes_ = 0;
  size_t main_bytes_ = 0; // the arena before the stash slots
  size_t slot_bytes_ = 0; // one stash slot
  int64_t stash_slots_ = 1;
  int64_t slot_ = 0;
  std::map<std::string, comm::Communicator *> comms_, device_comms_;
  std::map<int64_t, std::vector<std::unique_ptr<comm::Request>>> buckets_;
  bool profiling_ = false;
  std::vector<TraceEvent> *trace_ = nullptr;
  int64_t trace_step_ = 0;
  int trace_plan_ = 0;
  std::map<std::string, double> kernel_seconds_;
  std::vector<double> seconds_per_kernel_;
};

} // namespace llmc
