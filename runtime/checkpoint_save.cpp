//===- checkpoint_save.cpp - Writing a training checkpoint from every rank
//-===//
#include "runtime/checkpoint_save.h"

#include "runtime/io/posix_file.h"
#include "runtime/io/shard.h"
#include "runtime/plan/schedule.h"

#include <map>
#include <set>

namespace llmc {
namespace {

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
        group.pp()->send(out.values[i].data(), out.values[i].size(), 0, int(i));
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

} // namespace

void prepare_checkpoints(const CheckpointTarget &target,
                         const MeshGroup &group) {
  std::string error;
  if (!target.run_dir.empty() && group.leader()) {
    error = io::unwritable_run_dir_reason(target.run_dir);
    if (error.empty())
      io::remove_stale_checkpoints(target.run_dir);
  }
  group.agree(error, "cannot save to " + target.run_dir);
}

void save_checkpoint(int64_t step, const CheckpointTarget &target,
                     const std::vector<PlanTensor> &params,
                     const std::vector<PlanTensor> &moments,
                     const planfile::Plan &file, const RankPrograms &programs,
                     const MeshGroup &group, const FaultInjection &fault) {
  std::map<std::string, std::string> metadata = {
      {"llmc.step", std::to_string(step)}};
  fault.at("save");
  const Executor &exec = programs.first();
  auto weights = gather_model(params, file, planfile::PARAM, exec, group);
  auto state =
      gather_model(moments, file, planfile::OPTIMIZER_STATE, exec, group);
  std::string error;
  if (group.leader()) {
    try {
      io::CheckpointManifest manifest = target.manifest;
      manifest.step = step;
      std::string tmp = io::begin_checkpoint(target.run_dir, step);
      std::vector<std::string> files = {io::kWeightsFile, io::kOptimizerFile};
      bool bf16 = target.weights_dtype == io::DType::BF16;
      write_full(tmp + "/" + io::kWeightsFile, weights.tensors, weights.values,
                 metadata, target.weights_dtype);
      if (bf16) { // the fp32 master weights, for an exact resume
        write_full(tmp + "/" + io::kMasterWeightsFile, weights.tensors,
                   weights.values, metadata);
        files.push_back(io::kMasterWeightsFile);
      }
      fault.kill_in_save(step);
      write_full(tmp + "/" + io::kOptimizerFile, state.tensors, state.values,
                 metadata);
      // With the config and the tokenizer the folder is a model folder:
      // Hugging Face, llmc generate and llmc serve load it alone.
      if (!file.model().hf_config().empty()) {
        io::write_file_atomically(
            tmp + "/" + io::kConfigFile,
            bf16 ? io::with_torch_dtype(file.model().hf_config(), "bfloat16")
                 : file.model().hf_config());
        files.push_back(io::kConfigFile);
      }
      for (const auto &[source, name] : target.tokenizer_files) {
        io::copy_file(source, tmp + "/" + name);
        files.push_back(name);
      }
      io::publish_checkpoint(target.run_dir, tmp, manifest, files,
                             target.keep_last);
    } catch (const std::exception &e) {
      error = e.what();
    }
  }
  group.agree(error, "could not write the checkpoint in " + target.run_dir);
}

} // namespace llmc
