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

/// The pipeline of a plan: its ranks, each one's model chunks and
/// schedule (a plan without stages: one rank running the plan once).
struct Pipeline {
  const planfile::Plan &plan;
  int64_t ranks = 1;
  int64_t ranks_per_stage = 1; // dp x tp ranks run each pipeline rank's part

  explicit Pipeline(const planfile::Plan &p) : plan(p) {
    if (p.stages_size() > 0)
      ranks = std::max<int64_t>(p.model().pp(), 1);
    ranks_per_stage =
        int64_t(axis_size(p.model(), "dp")) * axis_size(p.model(), "tp");
  }
  const planfile::Plan &chunk(int64_t c) const {
    return plan.stages_size() ? plan.stages(int(c)) : plan;
  }
  std::vector<int64_t> chunks_of(int64_t rank) const {
    std::vector<int64_t> chunks = rank_chunks(plan, rank);
    if (chunks == std::vector<int64_t>{-1})
      chunks = {0}; // pipe.chunk(0) is the plan itself
    return chunks;
  }
  std::vector<planfile::Instruction> schedule(int64_t rank) const {
    const auto &s = chunk(rank).schedule();
    return {s.begin(), s.end()};
  }
  /// How diagnostics name a pipeline rank: by its first rank (every dp/tp
  /// rank of a stage runs the same programs, so what holds for one holds
  /// for all).
  std::string name(int64_t rank) const {
    return "rank " + std::to_string(rank * ranks_per_stage) + " (stage " +
           std::to_string(rank) + ")";
  }
};

std::string at(const std::vector<planfile::Instruction> &schedule,
               size_t index) {
  return "instruction " + std::to_string(index) + " (" +
         instruction_name(schedule[index]) + ")";
}

/// The tensor a send or receive moves: the chunk's boundary buffer.
const planfile::Tensor *moved_tensor(const planfile::Plan &chunk, I::Op op) {
  const char *name = op == I::SEND_ACTIVATION   ? kHiddenOut
                     : op == I::RECV_ACTIVATION ? kHiddenIn
                     : op == I::SEND_GRAD       ? kGradHiddenIn
                                                : kGradHiddenOut;
  for (const planfile::Tensor &t : chunk.tensors())
    if (chunk.buffers(int(t.buffer())).name() == name)
      return &t;
  return nullptr;
}

std::string tensor_text(const planfile::Tensor *t) {
  if (!t)
    return "no buffer";
  return std::to_string(num_elements(*t)) +
         (t->dtype() == planfile::I32 ? " i32" : " f32") + " elements";
}

/// The sends of rank `from` against the receives of rank `to` of one kind,
/// in order: the runtime's tags name the sending chunk, not the microbatch,
/// so MPI matches them in the order they were sent.
void check_link(const Pipeline &pipe, int64_t from, int64_t to, I::Op send,
                I::Op recv, VerifyReport &report, int64_t &messages) {
  std::vector<planfile::Instruction> out = pipe.schedule(from),
                                     in = pipe.schedule(to);
  std::vector<size_t> sends, recvs;
  for (size_t i = 0; i < out.size(); ++i)
    if (out[i].op() == send)
      sends.push_back(i);
  for (size_t i = 0; i < in.size(); ++i)
    if (in[i].op() == recv)
      recvs.push_back(i);
  int64_t step = send == I::SEND_ACTIVATION ? 1 : -1; // next chunk or previous
  for (size_t k = 0; k < std::max(sends.size(), recvs.size()); ++k) {
    if (k >= sends.size()) {
      report.problems.push_back(pipe.name(to) + " " + at(in, recvs[k]) +
                                " has no matching send: " + pipe.name(from) +
                                " sends only " + std::to_string(sends.size()) +
                                " on this link");
      return;
    }
    if (k >= recvs.size()) {
      report.problems.push_back(pipe.name(from) + " " + at(out, sends[k]) +
                                " is never received: " + pipe.name(to) +
                                " receives only " +
                                std::to_string(recvs.size()) + " on this link");
      return;
    }
    const I &s = out[sends[k]], &r = in[recvs[k]];
    std::string pair = "message " + std::to_string(k) + " from " +
                       pipe.name(from) + " " + at(out, sends[k]) + " to " +
                       pipe.name(to) + " " + at(in, recvs[k]);
    if (s.microbatch() != r.microbatch()) {
      report.problems.push_back(
          pair + ": microbatch " + std::to_string(s.microbatch()) +
          " arrives where " + std::to_string(r.microbatch()) + " is expected");
      return;
    }
    if (s.chunk() + step != r.chunk()) {
      report.problems.push_back(
          pair + ": model chunk " + std::to_string(s.chunk()) + " sends to " +
          std::to_string(s.chunk() + step) + ", the receive is for chunk " +
          std::to_string(r.chunk()));
      return;
    }
    const planfile::Tensor *sent = moved_tensor(pipe.chunk(s.chunk()), send);
    const planfile::Tensor *expected =
        moved_tensor(pipe.chunk(r.chunk()), recv);
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

/// Each microbatch runs one forward and then one backward on each of the
/// rank's chunks, with its receive right before and its send right after
/// (none at the model's ends); otherwise gradients would go missing.
void check_schedule(const Pipeline &pipe, int64_t rank, VerifyReport &report) {
  std::vector<planfile::Instruction> s = pipe.schedule(rank);
  int64_t chunks = pipe.plan.stages_size();
  int64_t M = std::max<int64_t>(pipe.plan.model().microbatches(), 1);
  std::map<std::pair<int64_t, int64_t>, std::pair<int, int>> runs;
  auto has = [&](size_t at, I::Op op, const I &of) {
    return at < s.size() && s[at].op() == op &&
           s[at].microbatch() == of.microbatch() && s[at].chunk() == of.chunk();
  };
  for (size_t k = 0; k < s.size(); ++k) {
    const I &i = s[k];
    bool forward = i.op() == I::FORWARD;
    if (!forward && i.op() != I::BACKWARD)
      continue;
    auto &[fwd, bwd] = runs[{i.chunk(), i.microbatch()}];
    if (!forward && fwd == 0) {
      report.problems.push_back(pipe.name(rank) + " " + at(s, k) +
                                " runs before its forward");
      return;
    }
    (forward ? fwd : bwd) += 1;
    bool from_before = forward ? i.chunk() > 0 : i.chunk() + 1 < chunks;
    bool to_after = forward ? i.chunk() + 1 < chunks : i.chunk() > 0;
    I::Op recv = forward ? I::RECV_ACTIVATION : I::RECV_GRAD;
    I::Op send = forward ? I::SEND_ACTIVATION : I::SEND_GRAD;
    if (from_before && (k == 0 || !has(k - 1, recv, i))) {
      report.problems.push_back(pipe.name(rank) + " " + at(s, k) +
                                " is not right after its receive");
      return;
    }
    if (to_after && !has(k + 1, send, i)) {
      report.problems.push_back(pipe.name(rank) + " " + at(s, k) +
                                " is not right before its send");
      return;
    }
  }
  for (int64_t c : pipe.chunks_of(rank))
    for (int64_t m = 0; m < M; ++m) {
      auto [fwd, bwd] = runs[{c, m}];
      if (fwd != 1 || bwd != 1) {
        report.problems.push_back(
            pipe.name(rank) + " runs microbatch " + std::to_string(m) +
            " of model chunk " + std::to_string(c) + " forward " +
            std::to_string(fwd) + " and backward " + std::to_string(bwd) +
            " times; each must run once");
        return;
      }
    }
}

/// One collective call of a rank's step, and where it comes from.
struct Issued {
  CollectiveCall call;
  int64_t chunk;
  int kernel;
  std::string program;
};

/// The collectives pipeline rank `rank` issues on `axis` in one step, in
/// order: its chunks' forward and backward programs per microbatch as its
/// schedule runs them, then each chunk's gradients and update programs (or
/// a whole plan's kernels once).
std::vector<Issued> issued_on(const Pipeline &pipe, int64_t rank,
                              const std::string &axis) {
  std::vector<Issued> out;
  auto run = [&](int64_t c, const std::string &name, const std::string &why) {
    const planfile::Plan &chunk = pipe.chunk(c);
    uint32_t begin = 0, end = uint32_t(chunk.kernels_size());
    for (const planfile::Program &p : chunk.programs())
      if (p.name() == name) {
        begin = p.begin();
        end = p.end();
      }
    for (uint32_t k = begin; k < end; ++k)
      for (const CollectiveCall &call :
           kernel_collectives(chunk, chunk.kernels(int(k))))
        if (call.axis == axis)
          out.push_back({call, c, int(k), why});
  };
  if (pipe.plan.stages_size() == 0) {
    run(0, "", "train_step");
    return out;
  }
  for (const planfile::Instruction &i : pipe.schedule(rank))
    if (i.op() == I::FORWARD || i.op() == I::BACKWARD) {
      std::string name = i.op() == I::FORWARD ? "forward" : "backward";
      run(i.chunk(), name,
          name + " of microbatch " + std::to_string(i.microbatch()));
    }
  for (const char *name : {"gradients", "update"})
    for (int64_t c : pipe.chunks_of(rank))
      run(c, name, name);
  return out;
}

std::string issued_text(const Issued &i) {
  return std::string(collective_kind_name(i.call.kind)) + " of " +
         std::to_string(i.call.elements) +
         (i.call.element_bytes == 2 ? " bf16" : "") + " elements (kernel " +
         std::to_string(i.kernel) + " of chunk " + std::to_string(i.chunk) +
         ", " + i.program + ")";
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
      {"", 1.0},
      {"B", 1.0},
      {"K", 1024.0},
      {"KB", 1024.0},
      {"KiB", 1024.0},
      {"M", 1048576.0},
      {"MB", 1048576.0},
      {"MiB", 1048576.0},
      {"G", 1073741824.0},
      {"GB", 1073741824.0},
      {"GiB", 1073741824.0},
      {"T", 1099511627776.0},
      {"TB", 1099511627776.0},
      {"TiB", 1099511627776.0}};
  for (auto [name, scale] : units)
    if (unit == name && value > 0) {
      bytes = uint64_t(value * scale);
      return true;
    }
  return false;
}

uint64_t rank_memory_bytes(const planfile::Plan &plan, int64_t rank) {
  if (plan.stages_size() == 0)
    return plan.arena_bytes();
  uint64_t bytes = 0;
  for (int64_t c : rank_chunks(plan, rank)) {
    const planfile::Plan &chunk = plan.stages(int(c));
    bytes += chunk.arena_bytes() +
             uint64_t(stash_slots(plan, c)) * chunk.stash_bytes();
  }
  return bytes;
}

VerifyReport verify_plan(const planfile::Plan &plan, uint64_t device_memory) {
  VerifyReport report;
  Pipeline pipe(plan);
  int64_t P = pipe.ranks;

  // Each rank's schedule, the point-to-point links, then the schedules
  // against each other.
  if (plan.stages_size() > 0)
    for (int64_t r = 0; r < P; ++r)
      check_schedule(pipe, r, report);
  if (plan.stages_size() > 0 && P > 1 && report.problems.empty()) {
    int64_t messages = 0;
    for (int64_t r = 0; r < P; ++r) {
      check_link(pipe, r, (r + 1) % P, I::SEND_ACTIVATION, I::RECV_ACTIVATION,
                 report, messages);
      check_link(pipe, r, (r + P - 1) % P, I::SEND_GRAD, I::RECV_GRAD, report,
                 messages);
    }
    if (report.problems.empty()) {
      std::vector<std::vector<planfile::Instruction>> schedules =
          rank_schedules(plan);
      size_t chunks = size_t(plan.stages_size());
      Simulation sim =
          simulate_pipeline(schedules, std::vector<double>(chunks, 1.0),
                            std::vector<double>(chunks, 2.0));
      auto deadlock =
          [&](const char *how,
              const std::vector<std::pair<int64_t, size_t>> &blocked) {
            std::string waits;
            for (auto [r, index] : blocked)
              waits += (waits.empty() ? "" : "; ") + pipe.name(r) +
                       " waits at " + at(schedules[size_t(r)], index);
            report.problems.push_back(std::string("deadlock ") + how + ": " +
                                      waits);
          };
      if (!sim.blocked.empty()) {
        deadlock("with buffered sends (MPI)", sim.blocked);
      } else {
        // What a device pipeline issues (runtime/pipeline.h).
        GroupedP2PRun grouped =
            run_grouped_p2p(schedules, p2p_groups(schedules));
        for (const std::string &mismatch : grouped.mismatches)
          report.problems.push_back("p2p as NCCL groups: " + mismatch);
        if (!grouped.blocked.empty())
          deadlock("as NCCL groups", grouped.blocked);
      }
      if (report.problems.empty())
        report.proved.push_back(
            "p2p: " + std::to_string(messages) + " messages per step between " +
            std::to_string(P) +
            " pipeline ranks match in order, size and dtype; the schedules "
            "run to the end without deadlock, with buffered sends (MPI) and "
            "as NCCL groups");
    }
  }

  // Collectives: groups whose members run different programs.
  std::map<std::string, std::vector<int64_t>> groups;
  if (P > 1) {
    for (int64_t r = 0; r < P; ++r)
      groups["pp"].push_back(r);
    groups["embedding"] = {0, P - 1};
  }
  std::string same;
  for (auto &[axis, members] : groups) {
    std::vector<Issued> first = issued_on(pipe, members[0], axis);
    bool ok = true;
    for (size_t k = 1; k < members.size() && ok; ++k) {
      std::vector<Issued> other = issued_on(pipe, members[k], axis);
      for (size_t i = 0; i < std::max(first.size(), other.size()); ++i) {
        auto text = [&](const std::vector<Issued> &v, int64_t r) {
          return pipe.name(r) + " issues " +
                 (i < v.size()
                      ? issued_text(v[i])
                      : "none (it issues " + std::to_string(v.size()) + ")");
        };
        if (i < first.size() && i < other.size() &&
            first[i].call.kind == other[i].call.kind &&
            first[i].call.elements == other[i].call.elements &&
            first[i].call.element_bytes == other[i].call.element_bytes)
          continue;
        report.problems.push_back(
            "collective " + std::to_string(i) + " on axis '" + axis +
            "': " + text(first, members[0]) + "; " + text(other, members[k]));
        ok = false;
        break;
      }
    }
    if (ok)
      same += (same.empty() ? "" : ", ") + axis + " (" +
              std::to_string(members.size()) + " ranks, " +
              std::to_string(first.size()) + " calls per step)";
  }
  // dp and tp groups: their members, by the runtime's own rank layout, and
  // what each member's stage issues on the axis. Members of a group share a
  // stage by that layout, so a mismatch here means the layout and the
  // stage plans disagree.
  const planfile::ModelInfo &model = plan.model();
  int64_t D = axis_size(model, "dp"), T = axis_size(model, "tp");
  for (const char *axis : {"dp", "tp"}) {
    int64_t size = std::string(axis) == "dp" ? D : T;
    if (size <= 1)
      continue;
    std::map<int64_t, std::vector<int64_t>> members; // by group key
    for (int64_t w = 0; w < P * D * T; ++w) {
      MeshCoords c = mesh_coords(w, D, T);
      int64_t key =
          std::string(axis) == "dp" ? c.stage * T + c.tp : c.stage * D + c.dp;
      members[key].push_back(w);
    }
    int64_t fewest = INT64_MAX, most = 0; // calls per step, over groups
    bool ok = true;
    for (auto &[key, ranks] : members) {
      std::vector<Issued> first =
          issued_on(pipe, mesh_coords(ranks[0], D, T).stage, axis);
      for (int64_t w : ranks) {
        std::vector<Issued> other =
            issued_on(pipe, mesh_coords(w, D, T).stage, axis);
        bool same_calls =
            other.size() == first.size() &&
            std::equal(first.begin(), first.end(), other.begin(),
                       [](const Issued &a, const Issued &b) {
                         return a.call.kind == b.call.kind &&
                                a.call.elements == b.call.elements &&
                                a.call.element_bytes == b.call.element_bytes;
                       });
        if (!same_calls && ok) {
          report.problems.push_back(
              std::string("collectives on axis '") + axis + "': rank " +
              std::to_string(ranks[0]) + " issues " +
              std::to_string(first.size()) + " calls and rank " +
              std::to_string(w) + " of its group issues " +
              std::to_string(other.size()) + ", or others");
          ok = false;
        }
      }
      fewest = std::min(fewest, int64_t(first.size()));
      most = std::max(most, int64_t(first.size()));
    }
    if (ok)
      same += (same.empty() ? "" : ", ") + std::string(axis) + " (" +
              std::to_string(members.size()) + " groups of " +
              std::to_string(size) + " ranks, " + std::to_string(fewest) +
              (most > fewest ? "-" + std::to_string(most) : "") +
              " calls per step)";
  }
  report.proved.push_back("collectives: " +
                          (same.empty() ? std::string("no groups")
                                        : same + " in the same order and "
                                                 "sizes on every member"));

  // Memory per rank: each of its chunks' arena and stash slots.
  uint64_t most = 0;
  int64_t worst = 0;
  for (int64_t r = 0; r < P; ++r) {
    uint64_t bytes = rank_memory_bytes(plan, r);
    std::string parts;
    for (int64_t c : pipe.chunks_of(r)) {
      const planfile::Plan &chunk = pipe.chunk(c);
      int64_t slots = plan.stages_size() ? stash_slots(plan, c) : 1;
      parts += (parts.empty() ? "" : " + ") + std::string("arena ") +
               format_bytes(chunk.arena_bytes()) + " + " +
               std::to_string(slots) + " stash slots of " +
               format_bytes(chunk.stash_bytes());
    }
    if (bytes > most) {
      most = bytes;
      worst = r;
    }
    if (device_memory && bytes > device_memory)
      report.problems.push_back(pipe.name(r) + " needs " + format_bytes(bytes) +
                                " (" + parts + "), more than --device-memory " +
                                format_bytes(device_memory));
  }
  report.proved.push_back(
      "memory: at most " + format_bytes(most) + " per rank" +
      (P > 1 ? ", on " + pipe.name(worst) : std::string()) +
      (device_memory ? ", within --device-memory " + format_bytes(device_memory)
                     : std::string(" (no --device-memory to check)")));
  return report;
}

} // namespace llmc::plan
