// Pipeline schedules (see schedule.h).
#include "runtime/plan/schedule.h"

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <tuple>

namespace llmc::plan {
namespace {

using Op = planfile::Instruction::Op;

/// A rank's instructions: each forward or backward of a model chunk with
/// the receive before it and the send after it (none at the model's ends).
class Stream {
public:
  explicit Stream(int64_t chunks) : chunks_(chunks) {}

  void forward(int64_t m, int64_t chunk) {
    if (chunk > 0)
      add(planfile::Instruction::RECV_ACTIVATION, m, chunk);
    add(planfile::Instruction::FORWARD, m, chunk);
    if (chunk + 1 < chunks_)
      add(planfile::Instruction::SEND_ACTIVATION, m, chunk);
  }
  void backward(int64_t m, int64_t chunk) {
    if (chunk + 1 < chunks_)
      add(planfile::Instruction::RECV_GRAD, m, chunk);
    add(planfile::Instruction::BACKWARD, m, chunk);
    if (chunk > 0)
      add(planfile::Instruction::SEND_GRAD, m, chunk);
  }
  std::vector<planfile::Instruction> take() { return std::move(out_); }

private:
  void add(Op op, int64_t m, int64_t chunk) {
    planfile::Instruction i;
    i.set_op(op);
    i.set_microbatch(m);
    i.set_chunk(chunk);
    out_.push_back(i);
  }
  int64_t chunks_; // model chunks in all
  std::vector<planfile::Instruction> out_;
};

using I = planfile::Instruction;

bool is_send(const I &i) {
  return i.op() == I::SEND_ACTIVATION || i.op() == I::SEND_GRAD;
}
bool carries_gradient(const I &i) {
  return i.op() == I::SEND_GRAD || i.op() == I::RECV_GRAD;
}

/// The rank at the other end of a send or receive.
int64_t peer_of(const I &i, int64_t ranks) {
  bool next_chunk = i.op() == I::SEND_ACTIVATION || i.op() == I::RECV_GRAD;
  return rank_of_chunk(i.chunk() + (next_chunk ? 1 : ranks - 1), ranks);
}

/// What a send or receive moves: the activations or gradients leaving model
/// chunk `from_chunk`, of one microbatch.
struct Message {
  bool gradient;
  int64_t from_chunk, microbatch;
  bool operator==(const Message &o) const {
    return gradient == o.gradient && from_chunk == o.from_chunk &&
           microbatch == o.microbatch;
  }
};
Message message_of(const I &i) {
  int64_t from = i.chunk() + (i.op() == I::RECV_ACTIVATION ? -1
                              : i.op() == I::RECV_GRAD     ? 1
                                                           : 0);
  return {carries_gradient(i), from, i.microbatch()};
}

} // namespace

bool is_schedule(const std::string &kind) {
  return kind == "gpipe" || kind == "1f1b" || kind == "interleaved";
}

std::vector<planfile::Instruction>
pipeline_schedule(const std::string &kind, int64_t ranks, int64_t rank,
                  int64_t microbatches, int64_t chunks) {
  int64_t P = ranks, M = microbatches, V = std::max<int64_t>(chunks, 1);
  Stream s(P * V);
  if (kind == "gpipe") {
    for (int64_t m = 0; m < M; ++m)
      s.forward(m, rank);
    for (int64_t m = 0; m < M; ++m)
      s.backward(m, rank);
    return s.take();
  }
  // 1F1B over M·V chunk-microbatches k, as Megatron-LM's
  // forward_backward_pipelining_with_interleaving numbers them (with V = 1,
  // its schedule without interleaving): groups of P microbatches go
  // through the rank's chunks in turn, forwards in chunk order, backwards
  // in reverse.
  auto microbatch = [&](int64_t k) { return k / (P * V) * P + k % P; };
  auto chunk = [&](int64_t k, bool forward) {
    int64_t local = k % (P * V) / P;
    return (forward ? local : V - 1 - local) * P + rank;
  };
  int64_t total = M * V;
  int64_t warmup = V == 1 ? P - rank - 1 : (P - rank - 1) * 2 + (V - 1) * P;
  warmup = std::min(warmup, total);
  for (int64_t k = 0; k < warmup; ++k)
    s.forward(microbatch(k), chunk(k, true));
  for (int64_t k = 0; k < total - warmup; ++k) {
    s.forward(microbatch(warmup + k), chunk(warmup + k, true));
    s.backward(microbatch(k), chunk(k, false));
  }
  for (int64_t k = total - warmup; k < total; ++k)
    s.backward(microbatch(k), chunk(k, false));
  return s.take();
}

std::vector<int64_t> rank_chunks(const planfile::Plan &plan, int64_t rank) {
  if (plan.stages_size() == 0)
    return {-1};
  int64_t ranks = std::max<int64_t>(plan.model().pp(), 1);
  std::vector<int64_t> chunks;
  for (int64_t c = rank; c < plan.stages_size(); c += ranks)
    chunks.push_back(c);
  return chunks;
}

std::vector<std::vector<planfile::Instruction>>
rank_schedules(const planfile::Plan &plan) {
  std::vector<std::vector<planfile::Instruction>> schedules;
  int64_t ranks = std::max<int64_t>(plan.model().pp(), 1);
  for (int64_t r = 0; r < ranks && r < plan.stages_size(); ++r)
    schedules.emplace_back(plan.stages(int(r)).schedule().begin(),
                           plan.stages(int(r)).schedule().end());
  return schedules;
}

int64_t stash_slots(const planfile::Plan &plan, int64_t chunk) {
  int64_t ranks = std::max<int64_t>(plan.model().pp(), 1);
  const auto &schedule =
      plan.stages(int(rank_of_chunk(chunk, ranks))).schedule();
  return std::max<int64_t>(
      1, max_in_flight({schedule.begin(), schedule.end()}, chunk));
}

int64_t max_in_flight(const std::vector<planfile::Instruction> &schedule,
                      int64_t chunk) {
  int64_t now = 0, most = 0;
  for (const planfile::Instruction &i : schedule) {
    if (chunk >= 0 && i.chunk() != chunk)
      continue;
    if (i.op() == planfile::Instruction::FORWARD)
      most = std::max(most, ++now);
    else if (i.op() == planfile::Instruction::BACKWARD)
      --now;
  }
  return most;
}

Simulation simulate_pipeline(
    const std::vector<std::vector<planfile::Instruction>> &schedules,
    const std::vector<double> &forward_s,
    const std::vector<double> &backward_s) {
  int64_t stages = int64_t(schedules.size()); // pipeline ranks
  // Messages in flight per link (from, to, is-gradient): their send times.
  std::map<std::tuple<int64_t, int64_t, bool>, std::deque<double>> links;
  std::vector<size_t> next(size_t(stages), 0);
  std::vector<double> clock(size_t(stages), 0.0);
  Simulation sim;
  for (bool progress = true; progress;) {
    progress = false;
    for (int64_t s = 0; s < stages; ++s) {
      const auto &schedule = schedules[size_t(s)];
      double &t = clock[size_t(s)];
      for (size_t &i = next[size_t(s)]; i < schedule.size(); ++i) {
        const I &in = schedule[i];
        bool gradient = carries_gradient(in);
        int64_t peer = peer_of(in, stages);
        if (in.op() == I::FORWARD || in.op() == I::BACKWARD) {
          double cost = in.op() == I::FORWARD ? forward_s[size_t(in.chunk())]
                                              : backward_s[size_t(in.chunk())];
          sim.timeline.push_back({s, i, in, t, t + cost});
          t += cost;
        } else if (in.op() == I::SEND_ACTIVATION || in.op() == I::SEND_GRAD) {
          links[{s, peer, gradient}].push_back(t);
        } else {
          auto &queue = links[{peer, s, gradient}];
          if (queue.empty())
            break; // waits for the peer
          t = std::max(t, queue.front());
          queue.pop_front();
        }
        progress = true;
      }
    }
  }
  for (int64_t s = 0; s < stages; ++s) {
    if (next[size_t(s)] < schedules[size_t(s)].size())
      sim.blocked.push_back({s, next[size_t(s)]});
    sim.makespan = std::max(sim.makespan, clock[size_t(s)]);
  }
  return sim;
}

bool is_p2p(const planfile::Instruction &i) {
  return i.op() != I::FORWARD && i.op() != I::BACKWARD;
}

namespace {

/// A send or receive: its rank and index in the rank's schedule.
using OpRef = std::pair<int64_t, size_t>;

/// The sends and the receives of each directed pair of ranks, in the order
/// they are added.
struct PairOps {
  std::map<std::pair<int64_t, int64_t>, std::vector<OpRef>> sent, received;
  void add(const std::vector<std::vector<I>> &schedules, OpRef op) {
    const I &in = schedules[size_t(op.first)][op.second];
    int64_t peer = peer_of(in, int64_t(schedules.size()));
    if (is_send(in))
      sent[{op.first, peer}].push_back(op);
    else
      received[{peer, op.first}].push_back(op);
  }
};

/// Orders a group's operations: sends, then receives, each by the message.
bool by_message(const I &x, const I &y) {
  Message mx = message_of(x), my = message_of(y);
  return std::make_tuple(!is_send(x), mx.gradient, mx.from_chunk,
                         mx.microbatch) <
         std::make_tuple(!is_send(y), my.gradient, my.from_chunk,
                         my.microbatch);
}

} // namespace

std::vector<std::vector<P2PGroup>>
p2p_groups(const std::vector<std::vector<planfile::Instruction>> &schedules) {
  int64_t ranks = int64_t(schedules.size());
  // Each send meets the receive of its message (the runtime issues both in
  // one round, whatever order the schedules list them in).
  std::map<std::tuple<bool, int64_t, int64_t>, OpRef> receive_with;
  for (int64_t r = 0; r < ranks; ++r)
    for (size_t i = 0; i < schedules[size_t(r)].size(); ++i) {
      const I &in = schedules[size_t(r)][i];
      Message m = message_of(in);
      if (is_p2p(in) && !is_send(in))
        receive_with[{m.gradient, m.from_chunk, m.microbatch}] = {r, i};
    }
  std::map<OpRef, OpRef> receive_of;
  for (int64_t r = 0; r < ranks; ++r)
    for (size_t i = 0; i < schedules[size_t(r)].size(); ++i) {
      const I &in = schedules[size_t(r)][i];
      Message m = message_of(in);
      auto it = receive_with.find({m.gradient, m.from_chunk, m.microbatch});
      if (is_send(in) && it != receive_with.end() &&
          it->second.first == peer_of(in, ranks))
        receive_of[{r, i}] = it->second;
    }

  std::vector<std::vector<P2PGroup>> groups(size_t(ranks),
                                            std::vector<P2PGroup>{});
  std::vector<size_t> next(size_t(ranks), 0);
  std::vector<std::vector<size_t>> unsent(size_t(ranks), std::vector<size_t>{});
  std::set<OpRef> arrived;
  for (;;) {
    // Each rank runs until a receive whose message has not arrived.
    bool finished = true;
    for (int64_t r = 0; r < ranks; ++r) {
      const auto &schedule = schedules[size_t(r)];
      for (size_t &i = next[size_t(r)]; i < schedule.size(); ++i) {
        if (is_p2p(schedule[i]) && !is_send(schedule[i]) &&
            !arrived.count({r, i}))
          break;
        if (is_send(schedule[i]))
          unsent[size_t(r)].push_back(i);
      }
      finished = finished && next[size_t(r)] == schedule.size() &&
                 unsent[size_t(r)].empty();
    }
    if (finished)
      return groups;
    // One group per rank: its sends, and the receives they meet.
    std::vector<P2PGroup> round(size_t(ranks), P2PGroup{});
    bool moved = false;
    for (int64_t r = 0; r < ranks; ++r) {
      round[size_t(r)].at = next[size_t(r)];
      for (size_t i : unsent[size_t(r)]) {
        auto it = receive_of.find({r, i});
        if (it == receive_of.end())
          continue; // never received: run_grouped_p2p names it
        round[size_t(r)].ops.push_back(i);
        round[size_t(it->second.first)].ops.push_back(it->second.second);
        arrived.insert(it->second);
        moved = true;
      }
      unsent[size_t(r)].clear();
    }
    if (!moved) // a receive no send meets, or schedules that wait forever
      return std::vector<std::vector<P2PGroup>>(size_t(ranks),
                                                std::vector<P2PGroup>{});
    for (int64_t r = 0; r < ranks; ++r) {
      P2PGroup &g = round[size_t(r)];
      if (g.ops.empty())
        continue;
      const auto &schedule = schedules[size_t(r)];
      std::sort(g.ops.begin(), g.ops.end(), [&](size_t a, size_t b) {
        return by_message(schedule[a], schedule[b]);
      });
      groups[size_t(r)].push_back(std::move(g));
    }
  }
}

GroupedP2PRun run_grouped_p2p(
    const std::vector<std::vector<planfile::Instruction>> &schedules,
    const std::vector<std::vector<P2PGroup>> &groups) {
  int64_t ranks = int64_t(schedules.size());
  GroupedP2PRun run;
  auto name = [&](OpRef op) {
    return "rank " + std::to_string(op.first) + " instruction " +
           std::to_string(op.second) + " (" +
           instruction_name(schedules[size_t(op.first)][op.second]) + ")";
  };
  // Every send and receive in one group, issued after the compute it
  // sends the result of and before the one that needs what it receives.
  PairOps pairs;
  std::map<OpRef, size_t> group_of;
  for (int64_t r = 0; r < ranks; ++r) {
    const auto &rank_groups = groups.at(size_t(r));
    for (size_t g = 0; g < rank_groups.size(); ++g)
      for (size_t i : rank_groups[g].ops) {
        size_t at = rank_groups[g].at;
        const I &in = schedules[size_t(r)].at(i);
        if (!is_p2p(in) || group_of.count({r, i}) ||
            (is_send(in) ? at <= i : at > i)) {
          run.mismatches.push_back(
              name({r, i}) +
              (!is_p2p(in) ? " is not a send or a receive"
               : group_of.count({r, i})
                   ? " is issued twice"
                   : " is issued at instruction " + std::to_string(at) +
                         (is_send(in) ? ", before its compute"
                                      : ", after its compute")));
          return run;
        }
        group_of[{r, i}] = g;
        pairs.add(schedules, {r, i});
      }
    for (size_t i = 0; i < schedules[size_t(r)].size(); ++i)
      if (is_p2p(schedules[size_t(r)][i]) && !group_of.count({r, i})) {
        run.mismatches.push_back(name({r, i}) + " is in no group");
        return run;
      }
  }

  // The k-th send between two ranks, in issue order, meets the k-th
  // receive: each operation's partner (its rank and group).
  std::map<OpRef, std::pair<int64_t, size_t>> partner;
  std::set<std::pair<int64_t, int64_t>> links;
  for (const auto &[pair, ops] : pairs.sent)
    links.insert(pair);
  for (const auto &[pair, ops] : pairs.received)
    links.insert(pair);
  for (const auto &pair : links) {
    const std::vector<OpRef> &s = pairs.sent[pair], &r = pairs.received[pair];
    for (size_t k = 0; k < std::max(s.size(), r.size()); ++k) {
      if (k >= s.size() || k >= r.size()) {
        bool unsent = k >= s.size();
        run.mismatches.push_back(
            (unsent ? name(r[k]) + " has no matching send: rank " +
                          std::to_string(pair.first) + " sends only "
                    : name(s[k]) + " is never received: rank " +
                          std::to_string(pair.second) + " receives only ") +
            std::to_string(unsent ? s.size() : r.size()) +
            " messages between them");
        break;
      }
      if (!(message_of(schedules[size_t(s[k].first)][s[k].second]) ==
            message_of(schedules[size_t(r[k].first)][r[k].second]))) {
        run.mismatches.push_back(name(r[k]) + " would get the message of " +
                                 name(s[k]) +
                                 ": NCCL matches the messages between two "
                                 "ranks in the order they are issued");
        break;
      }
      partner[s[k]] = {r[k].first, group_of[r[k]]};
      partner[r[k]] = {s[k].first, group_of[s[k]]};
    }
  }
  if (!run.mismatches.empty())
    return run;

  // Each rank's current group completes once the group of every one of its
  // operations' partners is issued (current, or already complete).
  std::vector<size_t> current(size_t(ranks), 0);
  auto waits_at = [&](int64_t r) -> size_t {
    for (size_t i : groups[size_t(r)][current[size_t(r)]].ops) {
      auto [peer, peer_group] = partner[{r, i}];
      if (current[size_t(peer)] < peer_group)
        return i;
    }
    return SIZE_MAX;
  };
  for (bool progress = true; progress;) {
    progress = false;
    for (int64_t r = 0; r < ranks; ++r)
      while (current[size_t(r)] < groups[size_t(r)].size() &&
             waits_at(r) == SIZE_MAX) {
        ++current[size_t(r)];
        progress = true;
      }
  }
  for (int64_t r = 0; r < ranks; ++r)
    if (current[size_t(r)] < groups[size_t(r)].size())
      run.blocked.push_back({r, waits_at(r)});
  return run;
}

std::string instruction_name(const planfile::Instruction &i) {
  std::string m = std::to_string(i.microbatch());
  switch (i.op()) {
  case planfile::Instruction::FORWARD:
    return "F" + m;
  case planfile::Instruction::BACKWARD:
    return "B" + m;
  case planfile::Instruction::RECV_ACTIVATION:
    return "recv-act " + m;
  case planfile::Instruction::SEND_ACTIVATION:
    return "send-act " + m;
  case planfile::Instruction::RECV_GRAD:
    return "recv-grad " + m;
  case planfile::Instruction::SEND_GRAD:
    return "send-grad " + m;
  default:
    return "op " + std::to_string(int(i.op())) + " " + m;
  }
}

} // namespace llmc::plan
