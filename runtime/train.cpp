// The training loop: one plan execution per step, fed from a token file.
#include "runtime/train.h"

#include "runtime/comm/mpi_communicator.h"
#include "runtime/executor.h"
#include "runtime/io/error.h"
#include "runtime/io/hf_checkpoint.h"
#include "runtime/io/init.h"
#include "runtime/io/safetensors.h"
#include "runtime/plan/plan_file.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <unistd.h>

namespace llmc {
namespace {

/// The named tensors of one buffer category (parameters, optimizer state).
std::vector<io::TensorSpec> tensor_specs(const planfile::Plan &plan,
                                         planfile::Category category) {
  std::vector<io::TensorSpec> specs;
  for (const planfile::Tensor &t : plan.tensors()) {
    const planfile::Buffer &b = plan.buffers(t.buffer());
    if (b.category() == category)
      specs.push_back({b.name(), {t.shape().begin(), t.shape().end()}});
  }
  return specs;
}

std::vector<io::TensorSpec> parameter_specs(const planfile::Plan &plan) {
  return tensor_specs(plan, planfile::PARAM);
}

std::vector<io::TensorView> tensor_views(Executor &exec,
                                         const std::vector<io::TensorSpec> &specs,
                                         planfile::Category category) {
  std::vector<io::TensorView> views;
  for (const io::TensorSpec &spec : specs)
    views.push_back(
        {spec.name, spec.shape, exec.f32(exec.find_tensor(spec.name, category))});
  return views;
}

std::vector<io::TensorView> parameter_views(Executor &exec,
                                            const std::vector<io::TensorSpec> &specs) {
  return tensor_views(exec, specs, planfile::PARAM);
}

/// AdamW's moments and step count live next to a checkpoint in
/// "<checkpoint>.optimizer", so a run resumes exactly where it stopped; the
/// checkpoint itself stays a plain Hugging Face weights file.
std::string optimizer_path(const std::string &checkpoint) {
  return checkpoint + ".optimizer";
}

void save_optimizer(Executor &exec, const std::string &checkpoint,
                    int64_t step) {
  auto specs = tensor_specs(exec.plan(), planfile::OPTIMIZER_STATE);
  io::write_safetensors(optimizer_path(checkpoint),
                        tensor_views(exec, specs, planfile::OPTIMIZER_STATE),
                        {{"llmc.step", std::to_string(step)}});
}

/// Loads the moments saved with `checkpoint`, if any; returns the step to
/// resume at (0 without them).
int64_t load_optimizer(Executor &exec, const std::string &checkpoint) {
  std::string path = optimizer_path(checkpoint);
  if (access(path.c_str(), F_OK) != 0)
    return 0;
  auto specs = tensor_specs(exec.plan(), planfile::OPTIMIZER_STATE);
  io::SafetensorsReader reader(path);
  reader.check_against(specs);
  for (const io::TensorSpec &spec : specs)
    reader.read(spec.name,
                exec.f32(exec.find_tensor(spec.name, planfile::OPTIMIZER_STATE)));
  auto step = reader.metadata().find("llmc.step");
  char *end = nullptr;
  long long value =
      step == reader.metadata().end() ? -1 : std::strtoll(step->second.c_str(), &end, 10);
  if (value < 0 || !end || *end != '\0')
    throw io::InputError(path + ": metadata 'llmc.step' is missing or not a "
                         "step number");
  return value;
}

void load_weights(Executor &exec, const std::vector<io::TensorSpec> &specs,
                  const std::string &path) {
  io::load_hf_checkpoint(path, specs, [&](const std::string &name) {
    return exec.f32(exec.find_tensor(name, planfile::PARAM));
  });
}

void init_from_seed(Executor &exec, const std::vector<io::TensorSpec> &specs,
                    int64_t n_layer, uint64_t seed) {
  for (const io::TensorSpec &spec : specs)
    io::init_parameter(spec, n_layer, seed,
                       exec.f32(exec.find_tensor(spec.name, planfile::PARAM)));
}

std::string format_duration(double seconds) {
  int64_t s = int64_t(seconds + 0.5);
  char text[32];
  if (s >= 3600)
    std::snprintf(text, sizeof(text), "%lldh%02lldm", (long long)(s / 3600),
                  (long long)(s / 60 % 60));
  else
    std::snprintf(text, sizeof(text), "%lldm%02llds", (long long)(s / 60),
                  (long long)(s % 60));
  return text;
}

void draw_progress(int64_t step, int64_t steps, float loss, double tokens_per_s,
                   double eta_s) {
  const int width = 24;
  int filled = int(width * (step + 1) / steps);
  std::string bar(filled, '#');
  bar += std::string(width - filled, '.');
  std::fprintf(stderr, "\rstep %lld/%lld [%s] loss %.4f | %.0f tok/s | ETA %s   ",
               (long long)(step + 1), (long long)steps, bar.c_str(), loss,
               tokens_per_s, format_duration(eta_s).c_str());
  if (step + 1 == steps)
    std::fprintf(stderr, "\n");
  std::fflush(stderr);
}

int required_tensor(const Executor &exec, const char *name,
                    planfile::Category category, const std::string &plan) {
  int t = exec.find_tensor(name, category);
  if (t < 0)
    throw plan::PlanError(plan + ": the plan has no '" + name +
                          "' buffer; compile it with --mode train");
  return t;
}

void print_profile(const std::map<std::string, double> &seconds,
                   int64_t steps) {
  std::vector<std::pair<double, std::string>> rows;
  double total = 0.0;
  for (const auto &[name, s] : seconds) {
    rows.push_back({s, name});
    total += s;
  }
  std::sort(rows.rbegin(), rows.rend());
  std::fprintf(stderr, "%-24s %12s %7s\n", "kernel", "ms/step", "share");
  for (const auto &[s, name] : rows)
    std::fprintf(stderr, "%-24s %12.2f %6.1f%%\n", name.c_str(),
                 1e3 * s / double(steps), 100.0 * s / total);
}

OptimizerStep optimizer_step(const TrainOptions &o, int64_t step) {
  OptimizerStep opt;
  opt.step = step;
  opt.lr = learning_rate(o.schedule, step, o.steps, o.lr, o.min_lr,
                         o.warmup_steps);
  opt.beta1 = o.beta1;
  opt.beta2 = o.beta2;
  opt.eps = o.eps;
  opt.weight_decay = o.weight_decay;
  opt.clip_grad_norm = o.clip_grad_norm;
  return opt;
}

// Copies each gradient as AdamW is about to consume it (after any
// data-parallel averaging, before clipping), for parity tests.
class GradientDump {
public:
  explicit GradientDump(Executor &exec) : exec_(exec) {}

  Executor::KernelHook hook() {
    return [this](const planfile::Kernel &k) {
      if (k.name() != "adamw")
        return;
      const planfile::Tensor &param = exec_.plan().tensors(k.outs(0));
      const float *g = exec_.f32(k.ins(0));
      values_.emplace_back(g, g + exec_.num_elements(k.ins(0)));
      views_.push_back({exec_.plan().buffers(param.buffer()).name(),
                        {param.shape().begin(), param.shape().end()},
                        nullptr});
    };
  }

  void write(const std::string &path) {
    for (size_t i = 0; i < views_.size(); ++i)
      views_[i].data = values_[i].data();
    io::write_safetensors(path, views_);
  }

private:
  Executor &exec_;
  std::vector<io::TensorView> views_;
  std::vector<std::vector<float>> values_;
};

// This process's place in a data-parallel run: MPI is started only for plans
// compiled with --mesh dp=N, and a launch of the wrong size is refused on
// every rank before any collective, so nothing hangs.
class DataParallelGroup {
public:
  DataParallelGroup(int64_t dp, const std::string &plan_path) {
    if (dp <= 1) {
      const char *launched = std::getenv("OMPI_COMM_WORLD_SIZE");
      if (launched && std::atoi(launched) > 1)
        throw io::InputError(plan_path + ": compiled for one device, but " +
                             launched + " ranks were launched; compile with "
                             "--mesh dp=" + launched);
      return;
    }
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
      MPI_Init(nullptr, nullptr);
      owns_mpi_ = true;
    }
    comm_ = comm::MpiCommunicator::world();
    if (comm_->size() != dp)
      throw io::InputError(plan_path + ": compiled for dp=" +
                           std::to_string(dp) + " ranks, but " +
                           std::to_string(comm_->size()) +
                           " were launched; run it with mpirun -np " +
                           std::to_string(dp));
  }
  ~DataParallelGroup() {
    comm_.reset();
    if (owns_mpi_)
      MPI_Finalize();
  }

  comm::Communicator *comm() const { return comm_.get(); }
  int rank() const { return comm_ ? comm_->rank() : 0; }
  int size() const { return comm_ ? comm_->size() : 1; }
  bool leader() const { return rank() == 0; }
  // Bytes this rank has sent in collectives so far.
  uint64_t bytes_sent() const {
    return comm_ ? comm_->stats().total_bytes_sent() : 0;
  }
  // The mean over the ranks of a per-rank scalar (the loss).
  float mean(float value) const {
    if (comm_)
      comm_->all_reduce(&value, 1);
    return value / float(size());
  }

private:
  std::unique_ptr<comm::MpiCommunicator> comm_;
  bool owns_mpi_ = false;
};

} // namespace

void init_weights(const std::string &plan_path, uint64_t seed,
                  const std::string &out_path) {
  Executor exec(plan::read_plan_file(plan_path));
  auto specs = parameter_specs(exec.plan());
  init_from_seed(exec, specs, exec.plan().model().n_layer(), seed);
  io::write_safetensors(out_path, parameter_views(exec, specs),
                        {{"llmc.seed", std::to_string(seed)}});
}

void train(const TrainOptions &o) {
  Executor exec(plan::read_plan_file(o.plan_path));
  const planfile::ModelInfo &model = exec.plan().model();
  DataParallelGroup group(model.dp(), o.plan_path);
  exec.set_data_parallel(group.comm());
  // --micro-batch is per data-parallel rank: rank r reads rows
  // r·B .. (r+1)·B-1 of the global batch one device would read.
  int64_t B = model.micro_batch(), T = model.seq_len();
  int64_t global_rows = B * group.size();
  int inputs = required_tensor(exec, "input_ids", planfile::INPUT, o.plan_path);
  int targets = required_tensor(exec, "targets", planfile::INPUT, o.plan_path);
  required_tensor(exec, "loss", planfile::OUTPUT, o.plan_path);

  io::TokenFile data(o.data_path, model.vocab_size());
  data.check_sequence_length(T);

  auto specs = parameter_specs(exec.plan());
  int64_t first_step = 0;
  if (o.load_path.empty()) {
    init_from_seed(exec, specs, model.n_layer(), o.seed);
  } else {
    load_weights(exec, specs, o.load_path);
    first_step = load_optimizer(exec, o.load_path);
    if (first_step >= o.steps)
      throw io::InputError(o.load_path + ": already trained " +
                           std::to_string(first_step) + " steps; --steps " +
                           std::to_string(o.steps) + " asks for no more");
  }

  std::ofstream log;
  if (!o.log_path.empty() && group.leader()) {
    log.open(o.log_path, std::ios::trunc);
    log.precision(9);
    if (!log)
      throw io::InputError(o.log_path + ": cannot open the log for writing");
  }
  bool bar = o.progress && group.leader() && isatty(STDERR_FILENO);
  auto save = [&](const std::string &path, int64_t step) {
    if (!group.leader())
      return;
    io::write_safetensors(path, parameter_views(exec, specs),
                          {{"llmc.step", std::to_string(step)}});
    save_optimizer(exec, path, step);
  };

  exec.set_profiling(o.profile);
  auto start = std::chrono::steady_clock::now();
  for (int64_t step = first_step; step < o.steps; ++step) {
    auto step_start = std::chrono::steady_clock::now();
    data.fill_batch(step, global_rows, T, o.order, o.seed, exec.i32(inputs),
                    exec.i32(targets), group.rank() * B, B);
    OptimizerStep opt = optimizer_step(o, step);
    GradientDump dump(exec);
    bool dumping = step == 0 && !o.dump_grads_path.empty() && group.leader();
    uint64_t sent_before = group.bytes_sent();
    exec.run(opt, dumping ? dump.hook() : Executor::KernelHook());
    uint64_t comm_bytes = group.bytes_sent() - sent_before;
    if (dumping)
      dump.write(o.dump_grads_path);

    float loss = group.mean(exec.output("loss"));
    float norm = exec.output("grad_norm");
    if (!std::isfinite(loss))
      throw std::runtime_error("loss is " + std::to_string(loss) +
                               " at step " + std::to_string(step) +
                               "; stopping (try a lower --lr)");
    auto now = std::chrono::steady_clock::now();
    double step_s = std::chrono::duration<double>(now - step_start).count();
    double elapsed = std::chrono::duration<double>(now - start).count();
    double tokens_per_s = double(global_rows * T) / step_s;
    if (log.is_open())
      log << "{\"step\": " << step << ", \"loss\": " << loss
          << ", \"lr\": " << opt.lr << ", \"grad_norm\": " << norm
          << ", \"tokens_per_s\": " << tokens_per_s
          << ", \"comm_bytes_sent\": " << comm_bytes
          << ", \"elapsed_s\": " << elapsed << "}" << std::endl;
    if (bar)
      draw_progress(step, o.steps, loss, tokens_per_s,
                    elapsed / double(step + 1 - first_step) *
                        double(o.steps - step - 1));
    if (!o.save_path.empty() && o.save_every > 0 &&
        (step + 1) % o.save_every == 0 && step + 1 < o.steps)
      save(o.save_path, step + 1);
  }
  if (!o.save_path.empty())
    save(o.save_path, o.steps);
  if (o.profile && group.leader())
    print_profile(exec.kernel_seconds(), o.steps);
}

} // namespace llmc
