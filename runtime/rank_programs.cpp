//===- rank_programs.cpp - The programs this rank runs of a training plan
//--===//
#include "runtime/rank_programs.h"

#include "runtime/plan/schedule.h"

#include <set>

namespace llmc {

RankPrograms::RankPrograms(const planfile::Plan &file, const MeshGroup &group,
                           const std::string &plan_path) {
  for (int64_t c : plan::rank_chunks(file, group.stage())) {
    if (c < 0)
      executors.push_back(std::make_unique<Executor>(file));
    else
      executors.push_back(std::make_unique<Executor>(
          file.stages(int(c)), plan::stash_slots(file, c)));
    plans.push_back(&executors.back()->plan());
  }
  for (auto &e : executors) {
    e->set_communicator("dp", group.dp());
    e->set_communicator("tp", group.tp());
    e->set_communicator("pp", group.pp());
    e->set_communicator("embedding", group.embedding());
  }
  if (file.stages_size() > 0) {
    std::vector<Executor *> chunks;
    for (auto &e : executors)
      chunks.push_back(e.get());
    stage = std::make_unique<PipelineRank>(
        chunks, group.pp(), plan::rank_schedules(file), plan_path);
  }
}

std::array<uint64_t, comm::kNumCollectives>
RankPrograms::bytes_sent(const MeshGroup &group) const {
  std::array<uint64_t, comm::kNumCollectives> bytes = group.bytes_sent();
  std::set<const comm::Communicator *> counted;
  for (const auto &e : executors)
    for (const comm::Communicator *c : e->device_only_communicators())
      if (counted.insert(c).second)
        c->stats().add_sent_to(bytes);
  return bytes;
}

std::vector<PlanTensor>
RankPrograms::tensors(planfile::Category category) const {
  std::vector<PlanTensor> all;
  for (auto &e : executors)
    for (PlanTensor &t : plan_tensors(*e, category))
      all.push_back(std::move(t));
  return all;
}

void RankPrograms::set_profiling(bool on) const {
  for (auto &e : executors)
    e->set_profiling(on);
}

std::map<std::string, double> RankPrograms::kernel_seconds() const {
  std::map<std::string, double> seconds;
  for (auto &e : executors)
    for (auto &[name, s] : e->kernel_seconds())
      seconds[name] += s;
  return seconds;
}

} // namespace llmc
