// Continuous batching over the paged KV cache; see scheduler.h.
#include "runtime/serve/scheduler.h"

#include <algorithm>

namespace llmc::serve {

void Scheduler::preempt(Sequence *seq) {
  blocks_.release(seq->id);
  seq->cached = 0;
  seq->state = SequenceState::Waiting;
  ++seq->preemptions;
  ++preemptions_;
  running_.erase(std::find(running_.begin(), running_.end(), seq));
  // First in line again: it was admitted before anything still waiting.
  waiting_.push_front(seq);
}

ScheduledStep Scheduler::schedule() {
  ScheduledStep step;
  // Decodes first: each running sequence needs a slot for one more token.
  for (size_t i = 0; i < running_.size();) {
    Sequence *seq = running_[i];
    if (blocks_.reserve(seq->id, seq->length())) {
      ++i;
      continue;
    }
    // The youngest gives way (it may be this one).
    preempt(running_.back());
  }
  // A sequence whose prompt is prefilled in chunks runs its next chunk.
  for (Sequence *seq : running_)
    (seq->length() - seq->cached > 1 ? step.prefills : step.decodes)
        .push_back(seq);
  // A static batch admits no one until all of it has finished; a bucketed
  // one first orders what waits by its bucket.
  if (batching_ != Batching::Continuous && !running_.empty())
    return step;
  if (batching_ == Batching::Bucket)
    std::stable_sort(waiting_.begin(), waiting_.end(),
                     [](const Sequence *a, const Sequence *b) {
                       return std::pair(a->length(), a->max_tokens()) <
                              std::pair(b->length(), b->max_tokens());
                     });
  // Then prefills, oldest first, while slots and blocks last (all of a
  // sequence's tokens so far: its prompt, and its output after preemption).
  while (!waiting_.empty() && int64_t(running_.size()) < max_batch_) {
    Sequence *seq = waiting_.front();
    if (!blocks_.reserve(seq->id, seq->length()))
      break;
    waiting_.pop_front();
    seq->state = SequenceState::Running;
    running_.push_back(seq);
    step.prefills.push_back(seq);
  }
  if (prefill_budget_ > 0 && !step.decodes.empty() &&
      int64_t(step.prefills.size()) > prefill_budget_)
    step.prefills.resize(size_t(prefill_budget_));
  return step;
}

void Scheduler::abort(Sequence *seq) {
  if (auto it = std::find(waiting_.begin(), waiting_.end(), seq);
      it != waiting_.end()) {
    waiting_.erase(it);
    blocks_.release(seq->id);
    seq->state = SequenceState::Finished;
    return;
  }
  if (seq->state == SequenceState::Running)
    finish(seq);
}

void Scheduler::finish(Sequence *seq) {
  blocks_.release(seq->id);
  seq->state = SequenceState::Finished;
  running_.erase(std::find(running_.begin(), running_.end(), seq));
}

} // namespace llmc::serve
