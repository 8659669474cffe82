// The training loop: one plan execution per step, fed from a token file.
// Its parts live beside it: the rank's programs (rank_programs), where the
// run starts (resume), checkpoints (checkpoint_save), the log, bar and
// summary (train_report), --dump-grads (gradient_dump) and --inject-fault
// (fault_injection).
#include "runtime/train.h"
#include "runtime/train_report.h"

#include "runtime/checkpoint_save.h"
#include "runtime/data/tokenizer.h"
#include "runtime/device.h"
#include "runtime/executor.h"
#include "runtime/fault_injection.h"
#include "runtime/gradient_dump.h"
#include "runtime/io/checkpoint_dir.h"
#include "runtime/io/error.h"
#include "runtime/mesh_group.h"
#include "runtime/plan/plan_file.h"
#include "runtime/plan/verify.h"
#include "runtime/rank_programs.h"
#include "runtime/resume.h"
#include "runtime/trace.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
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

} // namespace

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
  // A graph lowered op by op: its forward plan (no vocabulary: llmc run's)
  // does not train, and it has no config to draw weights from.
  if (info.model_type() == "onnx" && info.vocab_size() == 0)
    throw plan::PlanError(o.plan_path +
                          ": the forward plan of an ONNX graph lowered op by "
                          "op, which llmc run executes; compile the graph "
                          "with --mode train to train it");
  if (info.model_type() == "onnx" && o.load_path.empty())
    throw io::InputError(o.plan_path +
                         ": an ONNX graph lowered op by op trains from its "
                         "own weights: pass --load W.safetensors (llmc "
                         "compile --weights-out)");
  bool pipelined = file.stages_size() > 0;
  int64_t tp = std::max<int64_t>(info.tp(), 1);
  int64_t pp = std::max<int64_t>(info.pp(), 1);
  int64_t M = std::max<int64_t>(info.microbatches(), 1);
  if (!o.dump_grads_path.empty() && (tp > 1 || info.zero() >= 1 || pipelined))
    throw io::InputError("--dump-grads: " + o.plan_path +
                         " splits gradients "
                         "over ranks or microbatches (tp, ZeRO, pp or "
                         "--microbatches); dump them from a plan without "
                         "any of them");
  // The group outlives the executor, whose in-flight collectives (if a
  // kernel threw between a start and its wait) complete before MPI ends.
  MeshGroup group(info.dp(), tp, pp, o.plan_path);
  fault.at("startup");
  RankPrograms programs(file, group, o.plan_path);
  Executor &exec = programs.first();
  const planfile::ModelInfo &model = exec.plan().model();
  PipelineRank *stage = programs.stage.get();
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
  // This rank's rows of a batch, read on the host and copied into the arena.
  std::vector<int32_t> batch_ids(size_t(B * T)), batch_targets(size_t(B * T));
  auto feed = [&](const io::TokenFile &file, int64_t step, io::BatchOrder order,
                  uint64_t seed) {
    file.fill_batch(step, global_rows, T, order, seed, batch_ids.data(),
                    batch_targets.data(), group.dp_rank() * B, B);
    size_t bytes = batch_ids.size() * sizeof(int32_t);
    exec.upload(exec.i32(inputs), batch_ids.data(), bytes);
    exec.upload(exec.i32(targets), batch_targets.data(), bytes);
  };

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
      feed(*val, b, io::BatchOrder::Sequential, 0);
      exec.run_forward();
      sum += exec.output("loss");
    }
    return Validation{group.mean(float(sum / double(o.eval_batches)))};
  };

  std::vector<PlanTensor> params = programs.tensors(planfile::PARAM);
  std::vector<PlanTensor> moments = programs.tensors(planfile::OPTIMIZER_STATE);
  int64_t tokens_per_step = global_rows * T;
  RunStart run =
      start_run(o, file, programs, params, data, tokens_per_step, group, fault);
  if (run.finished) {
    if (group.leader())
      std::fprintf(
          stderr, "llmc: %s already holds step %lld of %lld; nothing to do\n",
          o.load_path.c_str(), (long long)run.step, (long long)o.steps);
    return;
  }
  int64_t first_step = run.step;
  const LrSchedule &schedule = run.schedule;
  io::BatchOrder order = run.order;
  uint64_t seed = run.seed;
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
  bool bar = group.leader() &&
             (o.progress == Progress::Always ||
              (o.progress == Progress::Auto && isatty(STDERR_FILENO)));
  CheckpointTarget target;
  target.run_dir = o.save_path;
  // Loaded now: a tokenizer that cannot be read fails before step 0.
  if (!o.tokenizer_path.empty())
    target.tokenizer_files = data::Tokenizer(o.tokenizer_path).files();
  target.keep_last = o.keep_last;
  target.weights_dtype = o.save_dtype;
  target.manifest.data_tokens = data.num_tokens();
  target.manifest.tokens_per_step = tokens_per_step;
  target.manifest.data_order = io::batch_order_name(order);
  target.manifest.seed = seed;
  target.manifest.schedule = schedule.record();
  prepare_checkpoints(target, group);
  auto save = [&](int64_t step) {
    save_checkpoint(step, target, params, moments, file, programs, group,
                    fault);
  };

  programs.set_profiling(o.profile);
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
    auto sent_before = programs.bytes_sent(group);
    bool tracing = !o.trace_path.empty() && step - first_step < o.trace_steps;
    for (size_t i = 0; i < programs.executors.size(); ++i)
      programs.executors[i]->set_trace(tracing ? &trace : nullptr, step,
                                       int(i));
    float loss = 0.0f;
    fault.at("step", step);
    if (pipelined) {
      loss = stage->run_step(opt, [&](int64_t m, int32_t *ids, int32_t *tgt) {
        data.fill_batch(step, global_rows, T, order, seed, ids, tgt,
                        (group.dp_rank() * M + m) * B, B);
      });
    } else {
      feed(data, step, order, seed);
      exec.run(opt, dumping ? dump.hook() : Executor::KernelHook());
      loss = exec.output("loss");
    }
    // What this step sent: in all, and per kind of collective.
    StepRecord record;
    record.step = step;
    auto sent = programs.bytes_sent(group);
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
      throw std::runtime_error("loss is " + std::to_string(loss) + " at step " +
                               std::to_string(step) +
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
        programs.plans, trace, group.rank());
  // Under several ranks, rank 0 also merges every rank's file into --trace
  // itself: one Perfetto file with a track per rank.
  if (!o.trace_path.empty() && group.ranks() > 1) {
    group.world()->barrier();
    if (group.leader())
      merge_rank_traces(o.trace_path, group.ranks());
  }
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
    // The device only when it is not the CPU (existing reports keep their
    // shape).
    std::string device;
    if (const DeviceBackend *d = selected_device())
      device = std::string(" on ") + d->description;
    std::fprintf(stderr,
                 "llmc: trained steps %lld..%lld of %lld%s in %s (%.0f "
                 "tokens/s): final loss %.4f%s; %s\n",
                 (long long)first_step, (long long)(o.steps - 1),
                 (long long)o.steps, device.c_str(),
                 format_duration(seconds).c_str(),
                 double(tokens_per_step * (o.steps - first_step)) / seconds,
                 double(last_loss), validated.c_str(), saved.c_str());
  }
  if (o.profile && group.leader())
    print_profile(programs.kernel_seconds(), o.steps, "step");
}

} // namespace llmc
