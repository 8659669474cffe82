// Resuming a training run from a checkpoint folder; see resume.h.
#include "runtime/resume.h"

#include "runtime/io/error.h"
#include "runtime/model_tensors.h"

#include <cstdio>
#include <cstdlib>

namespace llmc {

/// The `llmc.step` a checkpoint file records in its metadata.
int64_t recorded_step(const io::SafetensorsReader &reader,
                      const std::string &path) {
  auto step = reader.metadata().find("llmc.step");
  char *end = nullptr;
  long long value = step == reader.metadata().end()
                        ? -1
                        : std::strtoll(step->second.c_str(), &end, 10);
  if (value < 0 || !end || *end != '\0')
    throw io::InputError(path + ": metadata 'llmc.step' is missing or not a "
                                "step number");
  return value;
}

/// Loads AdamW's moments of a checkpoint into `exec`'s arena; returns the
/// step they were saved at.
int64_t load_optimizer(Executor &exec, const std::string &path,
                       const std::vector<io::TensorSpec> &model_moments) {
  auto moments = plan_tensors(exec, planfile::OPTIMIZER_STATE);
  io::SafetensorsReader reader(path);
  reader.check_against(model_moments);
  fill_from_full(moments, exec, [&](const io::TensorSpec &spec, float *dst) {
    reader.read(spec.name, dst);
  });
  return recorded_step(reader, path);
}

/// Refuses to resume on data that would not continue the checkpoint's
/// batches: the next batch depends on the token file, the global batch, the
/// order and its seed. Returns the order and seed to continue with.
std::pair<io::BatchOrder, uint64_t>
resumed_data_order(const TrainOptions &o, const io::CheckpointRef &ref,
                   const io::TokenFile &data, int64_t tokens_per_step) {
  const io::CheckpointManifest &m = *ref.manifest;
  std::string fresh = "; pass --weights-only to start a new run from its "
                      "weights";
  if (m.data_tokens != data.num_tokens())
    throw io::InputError(o.data_path + ": holds " +
                         std::to_string(data.num_tokens()) + " tokens; " +
                         ref.folder + " was trained on a file of " +
                         std::to_string(m.data_tokens) + fresh);
  if (m.tokens_per_step != tokens_per_step)
    throw io::InputError(o.plan_path + ": a step takes " +
                         std::to_string(tokens_per_step) + " tokens; " +
                         ref.folder + " took " +
                         std::to_string(m.tokens_per_step) + fresh);
  io::BatchOrder order =
      io::parse_batch_order(m.data_order, ref.folder + "/manifest.json");
  if (o.order_given && o.order != order)
    throw io::InputError(std::string("--data-order ") +
                         io::batch_order_name(o.order) + ": " + ref.folder +
                         " was trained with " + m.data_order + fresh);
  if (o.seed_given && o.seed != m.seed)
    throw io::InputError("--seed " + std::to_string(o.seed) + ": " +
                         ref.folder + " was trained with seed " +
                         std::to_string(m.seed) + fresh);
  return {order, m.seed};
}

/// The schedule a resumed run continues: its checkpoint's, with what the
/// command line sets. A change of rate (a field given that differs, or
/// another total for a cosine) is refused unless --new-schedule asks for
/// this command's schedule: resuming must not make the rate jump unasked.
LrSchedule resumed_schedule(const TrainOptions &o, const io::CheckpointRef &ref,
                            int64_t step) {
  LrSchedule saved;
  if (!LrSchedule::from_record(ref.manifest->schedule, saved))
    throw io::InputError(ref.folder + "/manifest.json: field 'schedule' is "
                                      "missing or malformed");
  const LrSchedule &asked = o.lr_schedule;
  if (o.new_schedule) {
    if (saved.at(step) != asked.at(step))
      std::fprintf(stderr,
                   "llmc: --new-schedule: the learning rate at step %lld "
                   "becomes %g (it was %g)\n",
                   (long long)step, double(asked.at(step)),
                   double(saved.at(step)));
    return asked;
  }
  const TrainOptions::Given &given = o.schedule_given;
  LrSchedule wanted = saved;
  wanted.kind = given.kind ? asked.kind : saved.kind;
  wanted.lr = given.lr ? asked.lr : saved.lr;
  wanted.min_lr = given.min_lr ? asked.min_lr : saved.min_lr;
  wanted.warmup_steps = given.warmup ? asked.warmup_steps : saved.warmup_steps;
  wanted.steps = asked.steps;
  bool same = wanted.kind == saved.kind && wanted.lr == saved.lr &&
              (wanted.kind == Schedule::Constant ||
               (wanted.min_lr == saved.min_lr &&
                wanted.warmup_steps == saved.warmup_steps &&
                wanted.steps == saved.steps));
  if (!same)
    throw io::InputError(ref.folder + " was trained with " + saved.describe() +
                         "; a resume continues it, and this command asks for " +
                         wanted.describe() +
                         "; pass --new-schedule to switch (the rate at "
                         "step " +
                         std::to_string(step) + " would go from " +
                         LrSchedule::format(saved.at(step)) + " to " +
                         LrSchedule::format(wanted.at(step)) + ")");
  return wanted;
}

RunStart start_run(const TrainOptions &o, const planfile::Plan &file,
                   const RankPrograms &programs,
                   std::vector<PlanTensor> &params, const io::TokenFile &data,
                   int64_t tokens_per_step, const MeshGroup &group,
                   const FaultInjection &fault) {
  RunStart start{0, o.lr_schedule, o.order, o.seed};
  const Executor &exec = programs.first();
  const planfile::ModelInfo &model = exec.plan().model();
  auto folder = [](std::string path) {
    while (path.size() > 1 && path.back() == '/')
      path.pop_back();
    return path;
  };
  bool resuming_own_folder =
      !o.load_path.empty() && folder(o.load_path) == folder(o.save_path);
  if (o.load_path.empty() ||
      (resuming_own_folder && !io::has_checkpoint(o.load_path))) {
    init_from_seed(params, model.n_layer(), o.seed, exec);
    return start;
  }
  fault.at("load");
  io::CheckpointRef ref =
      io::open_checkpoint(o.load_path, o.weights_only, group.leader());
  // Saved with --save-dtype bf16: the fp32 weights are the master copy.
  std::string weights = ref.part(io::kMasterWeightsFile);
  if (weights.empty())
    weights = ref.weights;
  load_weights(params, weights, exec,
               full_specs(model_tensors(file, planfile::PARAM)));
  if (ref.manifest && !o.weights_only) {
    std::tie(start.order, start.seed) =
        resumed_data_order(o, ref, data, tokens_per_step);
    int64_t step = ref.manifest->step;
    auto check_step = [&](const std::string &path, int64_t recorded) {
      if (recorded != step)
        throw io::InputError(
            path + ": saved at step " + std::to_string(recorded) +
            "; the manifest says "
            "step " +
            std::to_string(step) + " (the checkpoint's parts disagree)");
    };
    check_step(weights, recorded_step(io::SafetensorsReader(weights), weights));
    auto model_moments =
        full_specs(model_tensors(file, planfile::OPTIMIZER_STATE));
    for (auto &e : programs.executors)
      check_step(ref.optimizer(),
                 load_optimizer(*e, ref.optimizer(), model_moments));
    start.step = step;
    start.schedule = resumed_schedule(o, ref, step);
  }
  // Elsewhere than its own folder, --steps asking for no more steps is a
  // mistake.
  start.finished = start.step >= o.steps && resuming_own_folder;
  if (start.step >= o.steps && !resuming_own_folder && !o.eval_only)
    throw io::InputError(o.load_path + ": already trained " +
                         std::to_string(start.step) + " steps; --steps " +
                         std::to_string(o.steps) + " asks for no more");
  return start;
}

} // namespace llmc
