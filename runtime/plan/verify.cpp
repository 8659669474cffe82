// The static plan verifier (see verify.h).
#include "runtime/plan/verify.h"

#include "runtime/plan/collectives.h"
#include "runtime/plan/plan_file.h"
#include "runtime/plan/schedule.h"

#include <algorithm>
#include <map>
#include <set>

namespace llmc::plan {
namespace {

using I = planfile::Instruction;

/// The programs one rank runs: the plan's, or one per pipeline stage.
std::vector<const planfile::Plan *> stages_of(const planfile::Plan &plan) {
  std::vector<const planfile::Plan *> stages;
  for (const planfile::Plan &s : plan.stages())
    stages.push_back(&s);
  if (stages.empty())
    stages.push_back(&plan);
  return stages;
}

/// How diagnostics name a stage: by its first rank (every dp/tp rank of a
/// stage runs the same program, so what holds for one holds for all).
struct Mesh {
  int64_t ranks_per_stage;
  std::string rank(int64_t stage) const {
    return "rank " + std::to_string(stage * ranks_per_stage) + " (stage " +
           std::to_string(stage) + ")";
  }
};

std::string at(const std::vector<planfile::Instruction> &schedule,
               size_t index) {
  return "instruction " + std::to_string(index) + " (" +
         instruction_name(schedule[index]) + ")";
}

/// The tensor a send or receive moves: the stage's boundary buffer.
const planfile::Tensor *moved_tensor(const planfile::Plan &stage, I::Op op) {
  const char *name = op == I::SEND_ACTIVATION   ? kHiddenOut
                     : op == I::RECV_ACTIVATION ? kHiddenIn
                     : op == I::SEND_GRAD       ? kGradHiddenIn
                                                : kGradHiddenOut;
  for (const planfile::Tensor &t : stage.tensors())
    if (stage.buffers(int(t.buffer())).name() == name)
      return &t;
  return nullptr;
}

std::string tensor_text(const planfile::Tensor *t) {
  if (!t)
    return "no buffer";
  return std::to_string(num_elements(*t)) +
         (t->dtype() == planfile::I32 ? " i32" : " f32") + " elements";
}

/// Sends of `from` against receives of `to` on one link, in order.
void check_link(const std::vector<const planfile::Plan *> &stages,
                const Mesh &mesh, int64_t from, int64_t to, I::Op send,
                I::Op recv, VerifyReport &report, int64_t &messages) {
  const auto &out = stages[size_t(from)]->schedule();
  const auto &in = stages[size_t(to)]->schedule();
  std::vector<planfile::Instruction> out_v(out.begin(), out.end()),
      in_v(in.begin(), in.end());
  std::vector<size_t> sends, recvs;
  for (size_t i = 0; i < out_v.size(); ++i)
    if (out_v[i].op() == send)
      sends.push_back(i);
  for (size_t i = 0; i < in_v.size(); ++i)
    if (in_v[i].op() == recv)
      recvs.push_back(i);
  const planfile::Tensor *sent = moved_tensor(*stages[size_t(from)], send);
  const planfile::Tensor *expected = moved_tensor(*stages[size_t(to)], recv);
  for (size_t k = 0; k < std::max(sends.size(), recvs.size()); ++k) {
    if (k >= sends.size()) {
      report.problems.push_back(
          mesh.rank(to) + " " + at(in_v, recvs[k]) +
          " has no matching send: " + mesh.rank(from) + " sends only " +
          std::to_string(sends.size()) + " on this link");
      return;
    }
    if (k >= recvs.size()) {
      report.problems.push_back(
          mesh.rank(from) + " " + at(out_v, sends[k]) + " is never received: " +
          mesh.rank(to) + " receives only " + std::to_string(recvs.size()) +
          " on this link");
      return;
    }
    const I &s = out_v[sends[k]], &r = in_v[recvs[k]];
    std::string pair = "message " + std::to_string(k) + " from " +
                       mesh.rank(from) + " " + at(out_v, sends[k]) + " to " +
                       mesh.rank(to) + " " + at(in_v, recvs[k]);
    if (s.microbatch() != r.microbatch()) {
      report.problems.push_back(pair + ": microbatch " +
                                std::to_string(s.microbatch()) +
                                " arrives where " +
                                std::to_string(r.microbatch()) +
                                " is expected");
      return;
    }
    if (!sent || !expected || num_elements(*sent) != num_elements(*expected) ||
        sent->dtype() != expected->dtype()) {
      report.problems.push_back(pair + ": sends " + tensor_text(sent) +
                                ", the receive expects " +
                                tensor_text(expected));
      return;
    }
    ++messages;
  }
}

/// One collective call of a rank's step, and where it comes from.
struct Issued {
  CollectiveCall call;
  int kernel;
  std::string program;
};

/// The collectives a stage issues on `axis` in one step, in order: its
/// forward and backward programs per microbatch as its schedule runs them,
/// then the optimizer (or a whole plan's kernels once).
std::vector<Issued> issued_on(const planfile::Plan &stage,
                              const std::string &axis) {
  std::vector<Issued> out;
  auto run = [&](uint32_t begin, uint32_t end, const std::string &program) {
    for (uint32_t k = begin; k < end; ++k)
      for (const CollectiveCall &c :
           kernel_collectives(stage, stage.kernels(int(k))))
        if (c.axis == axis)
          out.push_back({c, int(k), program});
  };
  if (stage.programs_size() == 0) {
    run(0, uint32_t(stage.kernels_size()), "train_step");
    return out;
  }
  auto program = [&](const std::string &name) -> const planfile::Program & {
    for (const planfile::Program &p : stage.programs())
      if (p.name() == name)
        return p;
    return stage.programs(0);
  };
  for (const planfile::Instruction &i : stage.schedule())
    if (i.op() == I::FORWARD || i.op() == I::BACKWARD) {
      const planfile::Program &p =
          program(i.op() == I::FORWARD ? "forward" : "backward");
      run(p.begin(), p.end(), p.name() + " of microbatch " +
                                  std::to_string(i.microbatch()));
    }
  const planfile::Program &opt = program("optimizer");
  run(opt.begin(), opt.end(), "optimizer");
  return out;
}

std::string issued_text(const Issued &i) {
  return std::string(collective_kind_name(i.call.kind)) + " of " +
         std::to_string(i.call.elements) + " elements (kernel " +
         std::to_string(i.kernel) + ", " + i.program + ")";
}

} // namespace

bool parse_byte_size(const std::string &text, uint64_t &bytes) {
  size_t end = 0;
  double value = 0;
  try {
    value = std::stod(text, &end);
  } catch (const std::exception &) {
    return false;
  }
  std::string unit = text.substr(end);
  static const std::pair<const char *, double> units[] = {
      {"", 1.0},         {"B", 1.0},
      {"K", 1024.0},     {"KB", 1024.0},     {"KiB", 1024.0},
      {"M", 1048576.0},  {"MB", 1048576.0},  {"MiB", 1048576.0},
      {"G", 1073741824.0}, {"GB", 1073741824.0}, {"GiB", 1073741824.0},
      {"T", 1099511627776.0}, {"TB", 1099511627776.0},
      {"TiB", 1099511627776.0}};
  for (auto [name, scale] : units)
    if (unit == name && value > 0) {
      bytes = uint64_t(value * scale);
      return true;
    }
  return false;
}

VerifyReport verify_plan(const planfile::Plan &plan, uint64_t device_memory) {
  VerifyReport report;
  std::vector<const planfile::Plan *> stages = stages_of(plan);
  const planfile::ModelInfo &model = plan.model();
  int64_t P = int64_t(stages.size());
  Mesh mesh{int64_t(axis_size(model, "dp")) * axis_size(model, "tp")};

  // Point to point, then the schedules against each other.
  if (P > 1) {
    int64_t messages = 0;
    size_t before = report.problems.size();
    for (int64_t s = 0; s + 1 < P; ++s) {
      check_link(stages, mesh, s, s + 1, I::SEND_ACTIVATION,
                 I::RECV_ACTIVATION, report, messages);
      check_link(stages, mesh, s + 1, s, I::SEND_GRAD, I::RECV_GRAD, report,
                 messages);
    }
    if (report.problems.size() == before) {
      std::vector<std::vector<planfile::Instruction>> schedules;
      for (const planfile::Plan *s : stages)
        schedules.emplace_back(s->schedule().begin(), s->schedule().end());
      Simulation sim = simulate_pipeline(
          schedules, std::vector<double>(size_t(P), 1.0),
          std::vector<double>(size_t(P), 2.0));
      if (!sim.blocked.empty()) {
        std::string waits;
        for (auto [s, index] : sim.blocked)
          waits += (waits.empty() ? "" : "; ") + mesh.rank(s) + " waits at " +
                   at(schedules[size_t(s)], index);
        report.problems.push_back("deadlock: " + waits);
      } else {
        report.proved.push_back(
            "p2p: " + std::to_string(messages) + " messages per step on " +
            std::to_string(2 * (P - 1)) +
            " stage links match in order, size and dtype; the schedules run "
            "to the end without deadlock");
      }
    }
  }

  // Collectives: groups whose members run different programs.
  std::map<std::string, std::vector<int64_t>> groups;
  if (P > 1) {
    for (int64_t s = 0; s < P; ++s)
      groups["pp"].push_back(s);
    groups["embedding"] = {0, P - 1};
  }
  std::string same;
  for (auto &[axis, members] : groups) {
    std::vector<Issued> first = issued_on(*stages[size_t(members[0])], axis);
    bool ok = true;
    for (size_t k = 1; k < members.size() && ok; ++k) {
      std::vector<Issued> other =
          issued_on(*stages[size_t(members[k])], axis);
      for (size_t i = 0; i < std::max(first.size(), other.size()); ++i) {
        auto text = [&](const std::vector<Issued> &v, int64_t s) {
          return mesh.rank(s) + " issues " +
                 (i < v.size() ? issued_text(v[i])
                               : "none (it issues " +
                                     std::to_string(v.size()) + ")");
        };
        if (i < first.size() && i < other.size() &&
            first[i].call.kind == other[i].call.kind &&
            first[i].call.elements == other[i].call.elements)
          continue;
        report.problems.push_back(
            "collective " + std::to_string(i) + " on axis '" + axis + "': " +
            text(first, members[0]) + "; " + text(other, members[k]));
        ok = false;
        break;
      }
    }
    if (ok)
      same += (same.empty() ? "" : ", ") + axis + " (" +
              std::to_string(members.size()) + " stages, " +
              std::to_string(first.size()) + " calls per step)";
  }
  report.proved.push_back(
      "collectives: " + (same.empty() ? std::string() : same + " in the same "
                                                              "order and "
                                                              "sizes; ") +
      "dp and tp groups run one program per stage");

  // Memory per rank.
  uint64_t most = 0;
  int64_t worst = 0;
  for (int64_t s = 0; s < P; ++s) {
    const planfile::Plan &stage = *stages[size_t(s)];
    int64_t slots = std::max<int64_t>(
        1, max_in_flight({stage.schedule().begin(), stage.schedule().end()}));
    uint64_t bytes = stage.arena_bytes() + uint64_t(slots) * stage.stash_bytes();
    if (bytes > most) {
      most = bytes;
      worst = s;
    }
    if (device_memory && bytes > device_memory)
      report.problems.push_back(
          mesh.rank(s) + " needs " + format_bytes(bytes) + " (arena " +
          format_bytes(stage.arena_bytes()) + " + " + std::to_string(slots) +
          " stash slots of " + format_bytes(stage.stash_bytes()) +
          "), more than --device-memory " + format_bytes(device_memory));
  }
  report.proved.push_back(
      "memory: at most " + format_bytes(most) + " per rank" +
      (P > 1 ? ", on " + mesh.rank(worst) : std::string()) +
      (device_memory ? ", within --device-memory " + format_bytes(device_memory)
                     : std::string(" (no --device-memory to check)")));
  return report;
}

} // namespace llmc::plan
