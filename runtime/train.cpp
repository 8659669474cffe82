// The training loop: one plan execution per step, fed from a token file.
#include "runtime/train.h"
#include "runtime/train_report.h"

#include "runtime/comm/job.h"
#include "runtime/comm/mpi_communicator.h"
#include "runtime/executor.h"
#include "runtime/io/checkpoint_dir.h"
#include "runtime/io/error.h"
#include "runtime/io/hf_checkpoint.h"
#include "runtime/io/init.h"
#include "runtime/io/posix_file.h"
#include "runtime/io/safetensors.h"
#include "runtime/io/shard.h"
#include "runtime/kernels/kernel_table.h"
#include "runtime/mesh_group.h"
#include "runtime/model_tensors.h"
#include "runtime/pipeline.h"
#include "runtime/plan/plan_file.h"
#include "runtime/plan/schedule.h"
#include "runtime/plan/verify.h"
#include "runtime/resume.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <unistd.h>

namespace llmc {

double Validation::perplexity() const { return std::exp(double(loss)); }

namespace {

// The tensor of a buffer the loop reads or writes, holding `elements`
// values (the batch's token ids, the loss).
int required_tensor(const Executor &exec, const char *name,
                    planfile::Category category, const std::string &plan,
                    int64_t elements) {
  int t = exec.find_tensor(name, category);
  if (t < 0)
    throw plan::PlanError(plan + ": the plan has no '" + name +
                          "' buffer; compile it with --mode train");
  if (exec.num_elements(t) != elements)
    throw plan::PlanError(plan + ": buffer '" + name + "' holds " +
                          std::to_string(exec.num_elements(t)) +
                          " values; the plan's model needs " +
                          std::to_string(elements));
  return t;
}

OptimizerStep optimizer_step(const TrainOptions &o, const LrSchedule &schedule,
                             int64_t step) {
  OptimizerStep opt;
  opt.step = step;
  opt.lr = schedule.at(step);
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
      if (!kernels::is(k.name(), kernels::KernelId::adamw))
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

} // namespace

void init_weights(const std::string &plan_path, uint64_t seed,
                  const std::string &out_path) {
  // The full tensors, whatever the plan's mesh: a checkpoint is always the
  // whole model in Hugging Face layout.
  planfile::Plan plan = plan::read_plan_file(plan_path);
  auto params = model_tensors(plan, planfile::PARAM);
  std::vector<std::vector<float>> values;
  for (const io::TensorSpec &spec : full_specs(params)) {
    values.emplace_back(size_t(io::checked_numel(spec.shape, spec.name)));
    io::init_parameter(spec, plan.model().n_layer(), seed,
                       values.back().data());
  }
  write_full(out_path, params, values, {{"llmc.seed", std::to_string(seed)}});
}

/// The full tensors of every stage on the leader (collective over the whole
/// mesh): each stage's leader gathers its stage's over tp and dp, then sends
/// them to the leader over the pipeline axis. A tied embedding is kept once.
struct FullTensors {
  std::vector<PlanTensor> tensors;
  std::vector<std::vector<float>> values;
};
FullTensors gather_model(const std::vector<PlanTensor> &mine,
                         const planfile::Plan &file,
                         planfile::Category category, const Executor &exec,
                         const MeshGroup &group) {
  FullTensors out{mine, gather_full(mine, exec, group.stage_leader())};
  if (group.stages() <= 1)
    return out;
  if (group.stage() > 0) {
    if (group.stage_leader())
      for (size_t i = 0; i < out.values.size(); ++i)
        group.pp()->send(out.values[i].data(), out.values[i].size(), 0,
                         int(i));
    return {};
  }
  if (!group.leader())
    return {};
  std::set<std::string> seen;
  for (const PlanTensor &t : mine)
    seen.insert(t.name);
  for (int s = 1; s < group.stages(); ++s) {
    std::vector<PlanTensor> theirs;
    for (int64_t c : plan::rank_chunks(file, s))
      for (PlanTensor &t : plan_tensors(file.stages(int(c)), category, nullptr))
        theirs.push_back(std::move(t));
    for (size_t i = 0; i < theirs.size(); ++i) {
      std::vector<float> value(
          size_t(io::checked_numel(theirs[i].full(), theirs[i].name)));
      group.pp()->recv(value.data(), value.size(), s, int(i));
      if (!seen.insert(theirs[i].name).second)
        continue; // the tied embedding, already held by stage 0
      out.tensors.push_back(theirs[i]);
      out.values.push_back(std::move(value));
    }
  }
  return out;
}

/// `llmc train --inject-fault`: where this process fails, for the tests
/// that check one failing rank ends the whole job.
class FaultInjection {
public:
  explicit FaultInjection(const std::string &spec) : spec_(spec) {
    // "PHASE:N": a phase of a given step.
    for (const char *phase : {"step", "kill-in-save"}) {
      std::string prefix = std::string(phase) + ":";
      if (spec.rfind(prefix, 0) != 0)
        continue;
      const char *digits = spec.c_str() + prefix.size();
      char *end = nullptr;
      step_ = std::strtoll(digits, &end, 10);
      if (*end == '\0' && end != digits && step_ >= 0) {
        phase_ = phase;
        return;
      }
    }
    if (spec.empty() || spec == "startup" || spec == "load" || spec == "save") {
      phase_ = spec;
      return;
    }
    throw io::InputError("--inject-fault " + spec +
                         ": expected startup, load, step:N, save or "
                         "kill-in-save:N");
  }
  // kill -9 of this process halfway through writing the checkpoint of
  // `step`, as a node lost mid-save would leave it.
  void kill_in_save(int64_t step) const {
    if (phase_ == "kill-in-save" && step == step_)
      ::raise(SIGKILL);
  }
  void at(const char *phase, int64_t step = 0) const {
    if (phase_ == phase && step == step_)
      throw std::runtime_error("injected fault (--inject-fault " + spec_ + ")");
  }

private:
  std::string spec_, phase_;
  int64_t step_ = 0;
};

void train(const TrainOptions &o) {
  FaultInjection fault(o.inject_fault);
  planfile::Plan file = plan::read_plan_file(o.plan_path);
  // Every plan is proved safe before any rank runs it: a mismatched send or
  // collective would otherwise hang the job.
  plan::VerifyReport report = plan::verify_plan(file, 0);
  if (!report.problems.empty())
    throw plan::PlanError(o.plan_path + ": " + report.problems[0] +
                          " (see llmc verify)");
  const planfile::ModelInfo &info = file.model();
  bool pipelined = file.stages_size() > 0;
  int64_t tp = std::max<int64_t>(info.tp(), 1);
  int64_t pp = std::max<int64_t>(info.pp(), 1);
  int64_t M = std::max<int64_t>(info.microbatches(), 1);
  if (!o.dump_grads_path.empty() &&
      (tp > 1 || info.zero() >= 1 || pipelined))
    throw io::InputError("--dump-grads: " + o.plan_path + " splits gradients "
                         "over ranks or microbatches (tp, ZeRO, pp or "
                         "--microbatches); dump them from a plan without "
                         "any of them");
  // The group outlives the executor, whose in-flight collectives (if a
  // kernel threw between a start and its wait) complete before MPI ends.
  MeshGroup group(info.dp(), tp, pp, o.plan_path);
  fault.at("startup");
  // This rank's programs: the plan, or its pipeline rank's model chunks,
  // each with a stash slot per microbatch the rank's schedule keeps in
  // flight on it.
  std::vector<std::unique_ptr<Executor>> executors;
  std::vector<const planfile::Plan *> plans; // by executor, for traces
  for (int64_t c : plan::rank_chunks(file, group.stage())) {
    if (c < 0)
      executors.push_back(std::make_unique<Executor>(file));
    else
      executors.push_back(std::make_unique<Executor>(
          file.stages(int(c)), plan::stash_slots(file, c)));
    plans.push_back(&executors.back()->plan());
  }
  Executor &exec = *executors[0];
  const planfile::ModelInfo &model = exec.plan().model();
  for (auto &e : executors) {
    e->set_communicator("dp", group.dp());
    e->set_communicator("tp", group.tp());
    e->set_communicator("pp", group.pp());
    e->set_communicator("embedding", group.embedding());
  }
  std::unique_ptr<PipelineRank> stage;
  if (pipelined) {
    std::vector<Executor *> chunks;
    for (auto &e : executors)
      chunks.push_back(e.get());
    stage = std::make_unique<PipelineRank>(chunks, group.pp(), o.plan_path);
  }
  // --micro-batch is per data-parallel rank and microbatch: rank r reads
  // rows r·M·B .. (r+1)·M·B-1 of the global batch one device would read,
  // microbatch m the m-th B of them; the tensor-parallel ranks of one
  // data-parallel rank read the same rows.
  int64_t B = model.micro_batch(), T = model.seq_len();
  int64_t global_rows = B * M * group.dp_size();

  int inputs = -1, targets = -1;
  if (!pipelined) {
    int64_t tokens = model.micro_batch() * model.seq_len();
    inputs = required_tensor(exec, "input_ids", planfile::INPUT, o.plan_path,
                             tokens);
    targets =
        required_tensor(exec, "targets", planfile::INPUT, o.plan_path, tokens);
    required_tensor(exec, "loss", planfile::OUTPUT, o.plan_path, 1);
  }

  io::TokenFile data(o.data_path, model.vocab_size());
  data.check_sequence_length(T);
  // Validation runs the step's forward kernels alone on each batch of
  // validation rows: the same global rows on every mesh.
  std::optional<io::TokenFile> val;
  if (!o.val_data_path.empty()) {
    if (pipelined)
      throw io::InputError(o.plan_path +
                           ": pipelined (pp or --microbatches); validation "
                           "and llmc eval run plans without them for now");
    val.emplace(o.val_data_path, model.vocab_size());
    val->check_sequence_length(T);
  }
  auto validate = [&]() {
    double sum = 0.0;
    for (int64_t b = 0; b < o.eval_batches; ++b) {
      val->fill_batch(b, global_rows, T, io::BatchOrder::Sequential, 0,
                      exec.i32(inputs), exec.i32(targets), group.dp_rank() * B,
                      B);
      exec.run_forward();
      sum += exec.output("loss");
    }
    return Validation{group.mean(float(sum / double(o.eval_batches)))};
  };

  std::vector<PlanTensor> params, moments;
  for (auto &e : executors) {
    for (PlanTensor &t : plan_tensors(*e, planfile::PARAM))
      params.push_back(std::move(t));
    for (PlanTensor &t : plan_tensors(*e, planfile::OPTIMIZER_STATE))
      moments.push_back(std::move(t));
  }
  // Where the run starts: from the seed, from weights, or where a
  // checkpoint left off. The same folder given to --load and --save starts
  // from the seed until it holds a checkpoint, and resumes after.
  int64_t first_step = 0;
  LrSchedule schedule = o.lr_schedule;
  io::BatchOrder order = o.order;
  uint64_t seed = o.seed;
  int64_t tokens_per_step = global_rows * T;
  auto folder = [](std::string path) {
    while (path.size() > 1 && path.back() == '/')
      path.pop_back();
    return path;
  };
  bool resuming_own_folder =
      !o.load_path.empty() && folder(o.load_path) == folder(o.save_path);
  bool fresh = o.load_path.empty() ||
               (resuming_own_folder && !io::has_checkpoint(o.load_path));
  if (fresh) {
    init_from_seed(params, model.n_layer(), o.seed, exec);
  } else {
    fault.at("load");
    // The leader proves the files whole (their checksums); the others
    // check sizes only, so the files are read once more, not once per rank.
    io::CheckpointRef ref =
        io::open_checkpoint(o.load_path, o.weights_only, group.leader());
    load_weights(params, ref.weights, exec,
                 full_specs(model_tensors(file, planfile::PARAM)));
    if (ref.manifest && !o.weights_only) {
      std::tie(order, seed) = resumed_data_order(o, ref, data, tokens_per_step);
      int64_t step = ref.manifest->step;
      auto check_step = [&](const std::string &path, int64_t recorded) {
        if (recorded != step)
          throw io::InputError(
              path + ": saved at step " + std::to_string(recorded) +
              "; the manifest "
              "says step " +
              std::to_string(step) + " (the checkpoint's parts disagree)");
      };
      check_step(ref.weights, recorded_step(io::SafetensorsReader(ref.weights),
                                            ref.weights));
      auto model_moments =
          full_specs(model_tensors(file, planfile::OPTIMIZER_STATE));
      for (auto &e : executors)
        check_step(ref.optimizer(),
                   load_optimizer(*e, ref.optimizer(), model_moments));
      first_step = step;
      schedule = resumed_schedule(o, ref, step);
    }
    // A run relaunched on its own folder after it finished (a requeued
    // job) has nothing left to do; elsewhere, --steps asks for no steps.
    if (first_step >= o.steps && resuming_own_folder) {
      if (group.leader())
        std::fprintf(stderr,
                     "llmc: %s already holds step %lld of %lld; "
                     "nothing to do\n",
                     o.load_path.c_str(), (long long)first_step,
                     (long long)o.steps);
      return;
    }
    if (first_step >= o.steps && !o.eval_only)
      throw io::InputError(o.load_path + ": already trained " +
                           std::to_string(first_step) + " steps; --steps " +
                           std::to_string(o.steps) + " asks for no more");
  }
  if (o.eval_only) {
    Validation v = validate();
    if (group.leader())
      std::printf("llmc: eval: loss %.6f, perplexity %.4f over %lld "
                  "batches of %lld rows x %lld tokens of %s\n",
                  double(v.loss), v.perplexity(), (long long)o.eval_batches,
                  (long long)global_rows, (long long)T,
                  o.val_data_path.c_str());
    return;
  }

  StepLog log;
  std::string log_error;
  if (group.leader())
    log_error = log.open(o.log_path);
  group.agree(log_error, "could not open the log " + o.log_path);
  // A checkpoint that cannot be written fails now, not after the last step;
  // temporary folders of a killed run go.
  std::string save_error;
  if (!o.save_path.empty() && group.leader()) {
    save_error = io::unwritable_run_dir_reason(o.save_path);
    if (save_error.empty())
      io::remove_stale_checkpoints(o.save_path);
  }
  group.agree(save_error, "cannot save to " + o.save_path);
  if (!o.tokenizer_path.empty()) // copied at each save: readable now
    io::PosixFile(o.tokenizer_path, O_RDONLY).size();
  bool bar = group.leader() &&
             (o.progress == Progress::Always ||
              (o.progress == Progress::Auto && isatty(STDERR_FILENO)));
  // Every rank takes part in gathering split tensors; the leader writes,
  // and every rank learns whether it could, so a failed write stops the
  // whole job instead of leaving the others waiting in the next step.
  auto save = [&](int64_t step) {
    std::map<std::string, std::string> metadata = {
        {"llmc.step", std::to_string(step)}};
    fault.at("save");
    auto weights = gather_model(params, file, planfile::PARAM, exec, group);
    auto state =
        gather_model(moments, file, planfile::OPTIMIZER_STATE, exec, group);
    std::string error;
    if (group.leader()) {
      try {
        io::CheckpointManifest manifest;
        manifest.step = step;
        manifest.data_tokens = data.num_tokens();
        manifest.tokens_per_step = tokens_per_step;
        manifest.data_order = io::batch_order_name(order);
        manifest.seed = seed;
        manifest.schedule = schedule.record();
        std::string tmp = io::begin_checkpoint(o.save_path, step);
        std::vector<std::string> files = {io::kWeightsFile, io::kOptimizerFile};
        write_full(tmp + "/" + io::kWeightsFile, weights.tensors,
                   weights.values, metadata);
        fault.kill_in_save(step);
        write_full(tmp + "/" + io::kOptimizerFile, state.tensors, state.values,
                   metadata);
        // With the config and the tokenizer the folder is a model folder:
        // Hugging Face, llmc generate and llmc serve load it alone.
        if (!file.model().hf_config().empty()) {
          io::write_file_atomically(tmp + "/" + io::kConfigFile,
                                    file.model().hf_config());
          files.push_back(io::kConfigFile);
        }
        if (!o.tokenizer_path.empty()) {
          io::copy_file(o.tokenizer_path, tmp + "/" + io::kTokenizerFile);
          files.push_back(io::kTokenizerFile);
        }
        io::publish_checkpoint(o.save_path, tmp, manifest, files, o.keep_last);
      } catch (const std::exception &e) {
        error = e.what();
      }
    }
    group.agree(error, "could not write the checkpoint in " + o.save_path);
  };

  for (auto &e : executors)
    e->set_profiling(o.profile);
  std::vector<TraceEvent> trace;
  auto start = std::chrono::steady_clock::now();
  float last_loss = 0.0f;
  std::optional<Validation> last_val;
  std::optional<std::pair<Validation, int64_t>> best_val; // and its step
  for (int64_t step = first_step; step < o.steps; ++step) {
    auto step_start = std::chrono::steady_clock::now();
    OptimizerStep opt = optimizer_step(o, schedule, step);
    GradientDump dump(exec);
    bool dumping = step == 0 && !o.dump_grads_path.empty() && group.leader();
    auto sent_before = group.bytes_sent();
    bool tracing = !o.trace_path.empty() && step - first_step < o.trace_steps;
    for (size_t i = 0; i < executors.size(); ++i)
      executors[i]->set_trace(tracing ? &trace : nullptr, step, int(i));
    float loss = 0.0f;
    fault.at("step", step);
    if (pipelined) {
      loss = stage->run_step(opt, [&](int64_t m, int32_t *ids, int32_t *tgt) {
        data.fill_batch(step, global_rows, T, order, seed, ids, tgt,
                        (group.dp_rank() * M + m) * B, B);
      });
    } else {
      data.fill_batch(step, global_rows, T, order, seed, exec.i32(inputs),
                      exec.i32(targets), group.dp_rank() * B, B);
      exec.run(opt, dumping ? dump.hook() : Executor::KernelHook());
      loss = exec.output("loss");
    }
    // What this step sent: in all, and per kind of collective.
    StepRecord record;
    record.step = step;
    auto sent = group.bytes_sent();
    for (int k = 0; k < comm::kNumCollectives; ++k) {
      uint64_t bytes = sent[k] - sent_before[k];
      record.comm_bytes_sent += bytes;
      if (bytes)
        record.comm_bytes_by_kind[comm::collective_name(comm::Collective(k))] =
            bytes;
    }
    if (!o.dump_grads_path.empty() && step == 0) {
      std::string error;
      if (dumping) {
        try {
          dump.write(o.dump_grads_path);
        } catch (const std::exception &e) {
          error = e.what();
        }
      }
      group.agree(error, "could not write " + o.dump_grads_path);
    }

    // What this rank's stash held at most: measured as the schedule ran.
    if (stage) {
      record.microbatches_in_flight = stage->peak_in_flight();
      record.stash_bytes = int64_t(stage->peak_stash_bytes());
    }
    // The last stage computed the loss; every rank logs the same value.
    loss = group.mean(loss);
    if (group.pp())
      group.pp()->broadcast(&loss, 1, int(pp - 1));
    float norm = stage ? stage->grad_norm() : exec.output("grad_norm");
    if (!std::isfinite(loss))
      throw std::runtime_error("loss is " + std::to_string(loss) +
                               " at step " + std::to_string(step) +
                               "; stopping (try a lower --lr)");
    last_loss = loss;
    auto now = std::chrono::steady_clock::now();
    double step_s = std::chrono::duration<double>(now - step_start).count();
    double elapsed = std::chrono::duration<double>(now - start).count();
    double tokens_per_s = double(global_rows * T) / step_s;
    // Validation after this step's update: every --eval-every steps and
    // after the last.
    std::optional<Validation> validated;
    if (val && ((o.eval_every > 0 && (step + 1) % o.eval_every == 0) ||
                step + 1 == o.steps)) {
      validated = validate();
      last_val = validated;
      if (!best_val || validated->loss < best_val->first.loss)
        best_val = {{*validated, step + 1}};
    }
    record.loss = loss;
    record.lr = opt.lr;
    record.grad_norm = norm;
    record.tokens_per_s = tokens_per_s;
    record.validation = validated;
    record.elapsed_s = elapsed;
    log.write(record);
    if (bar)
      draw_progress(step, o.steps, loss, tokens_per_s,
                    elapsed / double(step + 1 - first_step) *
                        double(o.steps - step - 1),
                    last_val);
    if (!o.save_path.empty() && o.save_every > 0 &&
        (step + 1) % o.save_every == 0 && step + 1 < o.steps)
      save(step + 1);
  }
  if (!o.save_path.empty())
    save(o.steps);
  if (!o.trace_path.empty())
    write_chrome_trace(
        trace_path_of_rank(o.trace_path, group.rank(), group.ranks()),
        plans, trace, group.rank());
  // One line in every mode (with or without a terminal): what ran, how
  // fast, and where it went.
  if (group.leader()) {
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    std::string saved = o.save_path.empty() ? "not saved (no --save)"
                                            : "saved " + o.save_path + "/" +
                                                  io::step_folder_name(o.steps);
    std::string validated;
    if (last_val) {
      char text[128];
      std::snprintf(text, sizeof(text),
                    ", validation loss %.4f (best %.4f after step %lld)",
                    double(last_val->loss), double(best_val->first.loss),
                    (long long)best_val->second);
      validated = text;
    }
    std::fprintf(stderr,
                 "llmc: trained steps %lld..%lld of %lld in %s (%.0f "
                 "tokens/s): final loss %.4f%s; %s\n",
                 (long long)first_step, (long long)(o.steps - 1),
                 (long long)o.steps, format_duration(seconds).c_str(),
                 double(tokens_per_step * (o.steps - first_step)) / seconds,
                 double(last_loss), validated.c_str(), saved.c_str());
  }
  if (o.profile && group.leader()) {
    std::map<std::string, double> seconds;
    for (auto &e : executors)
      for (auto &[name, s] : e->kernel_seconds())
        seconds[name] += s;
    print_profile(seconds, o.steps, "step");
  }
}

} // namespace llmc
