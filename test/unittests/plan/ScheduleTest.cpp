// Pipeline schedules run as a device pipeline runs them over NCCL: every
// schedule llmc generates matches its messages in issue order and runs to
// the end as groups of rendezvous sends and receives; crafted ones that
// would not are named.
#include "runtime/plan/schedule.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace llmc::plan {
namespace {

using I = planfile::Instruction;

std::vector<std::vector<I>> schedules(const std::string &kind, int64_t ranks,
                                      int64_t microbatches, int64_t chunks) {
  std::vector<std::vector<I>> out;
  for (int64_t r = 0; r < ranks; ++r)
    out.push_back(pipeline_schedule(kind, ranks, r, microbatches, chunks));
  return out;
}

TEST(Schedule, GeneratedSchedulesRunAsNcclGroups) {
  for (std::string kind : {"gpipe", "1f1b", "interleaved"})
    for (int64_t P = 2; P <= 5; ++P)
      for (int64_t M = 1; M <= 12; ++M)
        for (int64_t V = 1; V <= 3; ++V) {
          if ((kind == "interleaved") != (V > 1) ||
              (kind == "interleaved" && M % P != 0))
            continue;
          auto all = schedules(kind, P, M, V);
          GroupedP2PRun run = run_grouped_p2p(all, p2p_groups(all));
          std::string where = kind + " P=" + std::to_string(P) +
                              " M=" + std::to_string(M) +
                              " V=" + std::to_string(V);
          EXPECT_TRUE(run.mismatches.empty())
              << where << ": " << run.mismatches.front();
          EXPECT_TRUE(run.blocked.empty())
              << where << ": rank " << run.blocked.front().first
              << " blocked at " << run.blocked.front().second;
        }
}

// Each run of sends and receives between two computes as one group, in
// schedule order: what a runtime issuing them where the schedule lists them
// would do. Fine with buffered sends (simulate_pipeline), not as NCCL runs.
std::vector<std::vector<P2PGroup>>
adjacent_groups(const std::vector<std::vector<I>> &all) {
  std::vector<std::vector<P2PGroup>> groups(all.size());
  for (size_t r = 0; r < all.size(); ++r)
    for (size_t i = 0; i < all[r].size(); ++i) {
      if (!is_p2p(all[r][i]))
        continue;
      P2PGroup g{i, {}};
      for (; i < all[r].size() && is_p2p(all[r][i]); ++i)
        g.ops.push_back(i);
      // Sends are issued after their compute: the group goes at its last
      // receive, or after its sends.
      g.at = g.ops.front();
      for (size_t op : g.ops)
        if (all[r][op].op() == I::SEND_ACTIVATION ||
            all[r][op].op() == I::SEND_GRAD)
          g.at = op + 1;
      groups[r].push_back(g);
    }
  return groups;
}

TEST(Schedule, NamesRendezvousDeadlocksBufferedSendsSurvive) {
  auto all = schedules("interleaved", 3, 6, 2);
  ASSERT_TRUE(simulate_pipeline(all, std::vector<double>(6, 1.0),
                                std::vector<double>(6, 2.0))
                  .blocked.empty());
  GroupedP2PRun run = run_grouped_p2p(all, adjacent_groups(all));
  EXPECT_TRUE(run.mismatches.empty());
  ASSERT_FALSE(run.blocked.empty());
  EXPECT_EQ(run.blocked.front().first, 0);
}

TEST(Schedule, NamesMessagesMatchedOutOfOrder) {
  // With two ranks, rank 0 sends rank 1 both activations and gradients;
  // NCCL matches them in issue order, so a group that lists its two sends
  // the other way round from the receiving group swaps the messages.
  auto all = schedules("interleaved", 2, 4, 2);
  auto groups = p2p_groups(all);
  auto two_sends =
      std::find_if(groups[0].begin(), groups[0].end(), [&](const P2PGroup &g) {
        return g.ops.size() >= 2 && all[0][g.ops[1]].op() == I::SEND_GRAD;
      });
  ASSERT_NE(two_sends, groups[0].end());
  std::swap(two_sends->ops[0], two_sends->ops[1]);
  GroupedP2PRun run = run_grouped_p2p(all, groups);
  ASSERT_FALSE(run.mismatches.empty());
  EXPECT_NE(run.mismatches.front().find("would get the message of"),
            std::string::npos)
      << run.mismatches.front();
}

TEST(Schedule, NamesSendsIssuedBeforeTheirCompute) {
  auto all = schedules("1f1b", 2, 2, 1);
  auto groups = p2p_groups(all);
  ASSERT_TRUE(run_grouped_p2p(all, groups).mismatches.empty());
  // Rank 0's first group sends forward 0's output; issue it before F0.
  groups[0][0].at = 0;
  GroupedP2PRun run = run_grouped_p2p(all, groups);
  ASSERT_EQ(run.mismatches.size(), 1u);
  EXPECT_EQ(run.mismatches[0], "rank 0 instruction 1 (send-act 0) is issued "
                               "at instruction 0, before its compute");
}

} // namespace
} // namespace llmc::plan
