// The block manager and the continuous-batching scheduler without a model:
// blocks are handed out and returned, decodes go before prefills, the batch
// and the pool bound what runs, and a full pool preempts the youngest
// running sequence, which later resumes with every token it had.

#include "runtime/serve/scheduler.h"
#include "runtime/serve/block_manager.h"

#include <gtest/gtest.h>

#include <memory>

using namespace llmc::serve;

namespace {

TEST(BlockManager, ReservesGrowsAndReleases) {
  BlockManager blocks(/*blocks=*/4, /*block_tokens=*/4, /*table_width=*/3);
  EXPECT_TRUE(blocks.reserve(7, 5)); // 2 blocks
  EXPECT_EQ(blocks.used_blocks(), 2);
  EXPECT_EQ(blocks.padded_table(7), (std::vector<int32_t>{0, 1, 0}));
  EXPECT_TRUE(blocks.reserve(7, 8));  // still 2
  EXPECT_TRUE(blocks.reserve(9, 8));  // 2 more
  EXPECT_FALSE(blocks.reserve(7, 9)); // a third block: none left
  EXPECT_EQ(blocks.used_blocks(), 4);
  blocks.release(7);
  EXPECT_EQ(blocks.free_blocks(), 2);
  EXPECT_TRUE(blocks.reserve(11, 8)); // reuses the freed blocks, lowest first
  EXPECT_EQ(blocks.padded_table(11), (std::vector<int32_t>{0, 1, 0}));
  EXPECT_THROW(blocks.reserve(11, 13), std::runtime_error); // past the table
}

std::unique_ptr<Sequence> sequence(int64_t id, int64_t prompt) {
  return std::make_unique<Sequence>(id, std::vector<int32_t>(size_t(prompt), 1),
                                    Sampler(SamplingParams{}, 0));
}

TEST(Scheduler, BatchesDecodesFirstThenPrefills) {
  BlockManager blocks(16, 4, 4);
  Scheduler scheduler(blocks, /*max_batch=*/2);
  auto a = sequence(0, 3), b = sequence(1, 5), c = sequence(2, 2);
  scheduler.add(a.get());
  scheduler.add(b.get());
  scheduler.add(c.get());
  ScheduledStep s1 = scheduler.schedule();
  EXPECT_EQ(s1.prefills, (std::vector<Sequence *>{a.get(), b.get()}));
  EXPECT_TRUE(s1.decodes.empty());
  a->cached = a->length(), b->cached = b->length();
  a->output.push_back(2), b->output.push_back(2);
  // The batch is full: c waits while a and b decode.
  ScheduledStep s2 = scheduler.schedule();
  EXPECT_EQ(s2.decodes, (std::vector<Sequence *>{a.get(), b.get()}));
  EXPECT_TRUE(s2.prefills.empty());
  // a finishes: c joins the running batch at once.
  scheduler.finish(a.get());
  ScheduledStep s3 = scheduler.schedule();
  EXPECT_EQ(s3.decodes, (std::vector<Sequence *>{b.get()}));
  EXPECT_EQ(s3.prefills, (std::vector<Sequence *>{c.get()}));
}

TEST(Scheduler, StaticBatchesRunToTheirEnd) {
  BlockManager blocks(16, 4, 4);
  Scheduler scheduler(blocks, 2, Batching::Static);
  auto a = sequence(0, 3), b = sequence(1, 3), c = sequence(2, 3);
  for (Sequence *s : {a.get(), b.get(), c.get()})
    scheduler.add(s);
  EXPECT_EQ(scheduler.schedule().prefills,
            (std::vector<Sequence *>{a.get(), b.get()}));
  for (Sequence *s : {a.get(), b.get()}) {
    s->cached = s->length();
    s->output.push_back(2);
  }
  // a finishes, but c waits for the whole batch.
  scheduler.finish(a.get());
  ScheduledStep s2 = scheduler.schedule();
  EXPECT_EQ(s2.decodes, (std::vector<Sequence *>{b.get()}));
  EXPECT_TRUE(s2.prefills.empty());
  scheduler.finish(b.get());
  EXPECT_EQ(scheduler.schedule().prefills, (std::vector<Sequence *>{c.get()}));
}

TEST(Scheduler, BucketsBatchPromptsOfSimilarLength) {
  BlockManager blocks(16, 4, 4);
  Scheduler scheduler(blocks, 2, Batching::Bucket);
  auto a = sequence(0, 9), b = sequence(1, 2), c = sequence(2, 3);
  for (Sequence *s : {a.get(), b.get(), c.get()})
    scheduler.add(s);
  EXPECT_EQ(scheduler.schedule().prefills,
            (std::vector<Sequence *>{b.get(), c.get()}));
}

TEST(Scheduler, LongPromptsArePrefilledChunkByChunk) {
  BlockManager blocks(16, 4, 8);
  Scheduler scheduler(blocks, 2);
  auto a = sequence(0, 20);
  scheduler.add(a.get());
  EXPECT_EQ(scheduler.schedule().prefills, (std::vector<Sequence *>{a.get()}));
  a->cached = 8; // one chunk of 8 of its 20 tokens
  ScheduledStep s2 = scheduler.schedule();
  EXPECT_EQ(s2.prefills, (std::vector<Sequence *>{a.get()}));
  EXPECT_TRUE(s2.decodes.empty());
}

TEST(Scheduler, PreemptsTheYoungestWhenThePoolIsFull) {
  // 3 blocks of 4 tokens: two sequences of 4 tokens fit, a fifth token of
  // either does not.
  BlockManager blocks(3, 4, 3);
  Scheduler scheduler(blocks, 4);
  auto a = sequence(0, 4), b = sequence(1, 4);
  scheduler.add(a.get());
  scheduler.add(b.get());
  ScheduledStep s1 = scheduler.schedule();
  ASSERT_EQ(s1.prefills.size(), 2u);
  for (Sequence *s : s1.prefills) {
    s->cached = s->length();
    s->output.push_back(7);
  }
  // a needs a second block (its 5th token): the last free one. b needs one
  // too and none is left, so b, the youngest, is preempted.
  ScheduledStep s2 = scheduler.schedule();
  EXPECT_EQ(s2.decodes, (std::vector<Sequence *>{a.get()}));
  EXPECT_TRUE(s2.prefills.empty());
  EXPECT_EQ(b->state, SequenceState::Waiting);
  EXPECT_EQ(b->cached, 0);
  EXPECT_EQ(b->preemptions, 1);
  EXPECT_EQ(b->output, (std::vector<int32_t>{7})); // kept for the recompute
  // When a finishes, b is prefilled again with its prompt and output.
  scheduler.finish(a.get());
  ScheduledStep s3 = scheduler.schedule();
  EXPECT_EQ(s3.prefills, (std::vector<Sequence *>{b.get()}));
  EXPECT_EQ(blocks.used_blocks(), 2);
}

TEST(Scheduler, PrefillBudgetBoundsChunksWhileOthersDecode) {
  BlockManager blocks(32, 4, 4);
  Scheduler scheduler(blocks, /*max_batch=*/4);
  scheduler.set_prefill_budget(1);
  auto a = sequence(0, 3), b = sequence(1, 5), c = sequence(2, 1),
       d = sequence(3, 6);
  // Nothing decodes yet: the budget does not hold back the first prefills.
  scheduler.add(a.get());
  scheduler.add(b.get());
  ScheduledStep s1 = scheduler.schedule();
  EXPECT_EQ(s1.prefills, (std::vector<Sequence *>{a.get(), b.get()}));
  for (Sequence *s : {a.get(), b.get()}) {
    s->cached = s->length();
    s->output.push_back(2);
  }
  // a and b decode: of the two arrivals, only the older prefills; both
  // hold their slots and blocks.
  scheduler.add(c.get());
  scheduler.add(d.get());
  ScheduledStep s2 = scheduler.schedule();
  EXPECT_EQ(s2.decodes, (std::vector<Sequence *>{a.get(), b.get()}));
  EXPECT_EQ(s2.prefills, (std::vector<Sequence *>{c.get()}));
  EXPECT_EQ(scheduler.running(), 4);
  EXPECT_EQ(scheduler.waiting(), 0);
  c->cached = c->length();
  c->output.push_back(2);
  // Then d, beside three decodes.
  ScheduledStep s3 = scheduler.schedule();
  EXPECT_EQ(s3.decodes, (std::vector<Sequence *>{a.get(), b.get(), c.get()}));
  EXPECT_EQ(s3.prefills, (std::vector<Sequence *>{d.get()}));
}

} // namespace
