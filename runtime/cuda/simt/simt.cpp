// The SIMT emulator's scheduler; see simt.h.
//
// Threads run on worker fibers that outlive launches: a worker is made once
// (makecontext), then runs one thread's body after another, and every
// switch is a _setjmp/_longjmp, which saves no signal mask. Making a
// context per thread and swapcontext's system call per switch made
// emulated runs of whole plans slow. (Fortified longjmp refuses to jump
// between stacks, so this file is built without it.)
#undef _FORTIFY_SOURCE
#include "runtime/cuda/simt/simt.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <memory>
#include <numeric>
#include <random>
#include <setjmp.h>
#include <ucontext.h>
#include <vector>

// Under AddressSanitizer every switch of stacks is announced, or ASan takes
// a fiber's stack for a corrupted one.
#if defined(__SANITIZE_ADDRESS__)
#define LLMC_SIMT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LLMC_SIMT_ASAN 1
#endif
#endif
#ifdef LLMC_SIMT_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

namespace llmc::simt {

const Coordinates *current = nullptr;

namespace {

#ifdef LLMC_SIMT_ASAN
// The scheduler's stack, learnt when the first thread starts.
const void *scheduler_bottom = nullptr;
size_t scheduler_size = 0;
void *scheduler_fake_stack = nullptr;
#endif

// Enough for a kernel's locals and the calls it makes (no recursion).
constexpr size_t kStackBytes = 256 * 1024;

enum class State { Ready, AtBarrier, AtShuffle, Done };

// A fiber that runs threads: thread i of each block of a launch runs on
// worker i, one block after another.
struct Worker {
  std::unique_ptr<char[]> stack{new char[kStackBytes]};
  ucontext_t context;
  jmp_buf idle; // where it waits for its next thread
  bool made = false;
  // Waiting at `idle`. A launch that ends in an error leaves workers inside
  // their thread's body; those are made afresh on their next use.
  bool waiting = false;
};

struct Thread {
  Worker *worker = nullptr;
  jmp_buf jump; // where it waits at a barrier or a shuffle
  bool started = false;
  Coordinates where;
  State state = State::Ready;
  int barrier_line = 0;
  // A shuffle in progress: what the lane gives and asks for.
  unsigned mask = 0;
  uint64_t value = 0, result = 0;
  Shuffle kind = Shuffle::Index;
  int arg = 0, width = kWarpSize;
  std::exception_ptr error;
};

// The block being run: its threads and the scheduler's own context.
struct Block {
  std::vector<Thread> threads;
  ucontext_t scheduler;
  jmp_buf scheduler_jump;
  Thread *running = nullptr;
  const std::function<void()> *body = nullptr;
};
Block *block = nullptr;

std::string hex(unsigned mask) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%x", mask);
  return text;
}

std::string name(const Thread &t) {
  return "thread (" + std::to_string(t.where.thread.x) + ", " +
         std::to_string(t.where.thread.y) + ", " +
         std::to_string(t.where.thread.z) + ") of block (" +
         std::to_string(t.where.block.x) + ", " +
         std::to_string(t.where.block.y) + ", " +
         std::to_string(t.where.block.z) + ")";
}

// A worker's life: run the thread the scheduler started on it, then wait
// for the next one.
void worker_main() {
#ifdef LLMC_SIMT_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &scheduler_bottom, &scheduler_size);
#endif
  for (;;) {
    Thread &self = *block->running;
    try {
      (*block->body)();
    } catch (...) {
      self.error = std::current_exception();
    }
    self.state = State::Done;
#ifdef LLMC_SIMT_ASAN
    void *fake_stack = nullptr;
    __sanitizer_start_switch_fiber(&fake_stack, scheduler_bottom,
                                   scheduler_size);
#endif
    if (!_setjmp(self.worker->idle)) {
      self.worker->waiting = true;
      _longjmp(block->scheduler_jump, 1);
    }
#ifdef LLMC_SIMT_ASAN
    __sanitizer_finish_switch_fiber(fake_stack, &scheduler_bottom,
                                    &scheduler_size);
#endif
  }
}

// Gives control back to the scheduler until it resumes this thread.
void yield() {
  Thread &self = *block->running;
#ifdef LLMC_SIMT_ASAN
  void *fake_stack = nullptr;
  __sanitizer_start_switch_fiber(&fake_stack, scheduler_bottom, scheduler_size);
#endif
  if (!_setjmp(self.jump))
    _longjmp(block->scheduler_jump, 1);
#ifdef LLMC_SIMT_ASAN
  __sanitizer_finish_switch_fiber(fake_stack, &scheduler_bottom,
                                  &scheduler_size);
#endif
}

// Runs thread `t` until it yields or ends.
void resume(Block &b, Thread &t) {
  b.running = &t;
  current = &t.where;
  Worker &w = *t.worker;
#ifdef LLMC_SIMT_ASAN
  __sanitizer_start_switch_fiber(&scheduler_fake_stack, w.stack.get(),
                                 kStackBytes);
#endif
  if (!_setjmp(b.scheduler_jump)) {
    if (t.started)
      _longjmp(t.jump, 1); // back to its barrier or shuffle
    t.started = true;
    if (w.made && w.waiting) {
      w.waiting = false;
      _longjmp(w.idle, 1); // the worker takes its next thread
    }
    w.made = true;
    getcontext(&w.context);
    w.context.uc_stack.ss_sp = w.stack.get();
    w.context.uc_stack.ss_size = kStackBytes;
    w.context.uc_link = nullptr;
    makecontext(&w.context, worker_main, 0);
    swapcontext(&b.scheduler, &w.context);
  }
#ifdef LLMC_SIMT_ASAN
  __sanitizer_finish_switch_fiber(scheduler_fake_stack, nullptr, nullptr);
#endif
  b.running = nullptr;
}

// The lane whose value lane `lane` reads, or -1 for its own (CUDA returns
// the caller's value when the source falls outside its width segment).
int source_lane(const Thread &t, int lane) {
  int width = t.width, base = lane / width * width;
  switch (t.kind) {
  case Shuffle::Index:
    return base + ((t.arg % width) + width) % width;
  case Shuffle::Xor: {
    int source = lane ^ t.arg;
    return source / width == lane / width ? source : -1;
  }
  case Shuffle::Down: {
    int source = lane + t.arg;
    return source / width == lane / width ? source : -1;
  }
  }
  return -1;
}

// Completes the shuffle of warp `first..first+32` if every lane of its mask
// has arrived; returns whether it did.
bool complete_shuffle(std::vector<Thread> &threads, size_t first) {
  size_t end = std::min(threads.size(), first + kWarpSize);
  Thread *leader = nullptr;
  for (size_t i = first; i < end; ++i)
    if (threads[i].state == State::AtShuffle) {
      leader = &threads[i];
      break;
    }
  if (!leader)
    return false;
  for (size_t i = first; i < end; ++i) {
    Thread &t = threads[i];
    bool member = leader->mask >> (i - first) & 1;
    if (!member)
      continue;
    if (t.state == State::Done)
      throw SimtError(name(*leader) + " shuffles with mask " +
                      hex(leader->mask) + ", which names lane " +
                      std::to_string(i - first) + ", an exited thread");
    if (t.state != State::AtShuffle)
      return false; // a lane of the mask is still on its way
    if (t.mask != leader->mask)
      throw SimtError(name(t) + " and " + name(*leader) +
                      " shuffle with different masks");
  }
  for (size_t i = first; i < end; ++i) {
    Thread &t = threads[i];
    if (t.state != State::AtShuffle || !(leader->mask >> (i - first) & 1))
      continue;
    int lane = int(i - first), source = source_lane(t, lane);
    if (source < 0) {
      t.result = t.value;
    } else if (!(leader->mask >> source & 1) || first + source >= end) {
      throw SimtError(name(t) + " reads lane " + std::to_string(source) +
                      ", which is not in its shuffle's mask");
    } else {
      t.result = threads[first + source].value;
    }
  }
  for (size_t i = first; i < end; ++i)
    if (threads[i].state == State::AtShuffle &&
        (leader->mask >> (i - first) & 1))
      threads[i].state = State::Ready;
  return true;
}

void run_block(Block &b, std::mt19937_64 *order) {
  std::vector<size_t> sequence(b.threads.size());
  std::iota(sequence.begin(), sequence.end(), size_t(0));
  for (;;) {
    if (order)
      std::shuffle(sequence.begin(), sequence.end(), *order);
    bool ran = false;
    for (size_t i : sequence) {
      Thread &t = b.threads[i];
      if (t.state != State::Ready)
        continue;
      resume(b, t);
      if (t.error)
        std::rethrow_exception(t.error);
      ran = true;
    }
    if (ran)
      continue;
    // Nobody can run: a shuffle or a barrier completes, or it is over.
    bool shuffled = false;
    for (size_t first = 0; first < b.threads.size(); first += kWarpSize)
      shuffled = complete_shuffle(b.threads, first) || shuffled;
    if (shuffled)
      continue;
    const Thread *waiting = nullptr, *exited = nullptr;
    for (const Thread &t : b.threads) {
      if (t.state == State::AtBarrier) {
        if (waiting && t.barrier_line != waiting->barrier_line)
          throw SimtError(name(*waiting) + " waits at __syncthreads (line " +
                          std::to_string(waiting->barrier_line) + ") and " +
                          name(t) + " at another (line " +
                          std::to_string(t.barrier_line) + ")");
        waiting = waiting ? waiting : &t;
      } else if (t.state == State::Done) {
        exited = exited ? exited : &t;
      } else if (t.state == State::AtShuffle) {
        throw SimtError(name(t) + " waits in a warp shuffle whose lanes "
                                  "never all arrive");
      }
    }
    if (!waiting)
      return; // every thread is done
    if (exited)
      throw SimtError(name(*waiting) + " waits at __syncthreads (line " +
                      std::to_string(waiting->barrier_line) + ") that " +
                      name(*exited) + " never reaches: it exited");
    for (Thread &t : b.threads)
      t.state = State::Ready;
  }
}

} // namespace

void syncthreads(int line) {
  Thread &self = *block->running;
  self.state = State::AtBarrier;
  self.barrier_line = line;
  yield();
}

uint64_t shuffle(unsigned mask, uint64_t value, Shuffle kind, int arg,
                 int width) {
  Thread &self = *block->running;
  if (width < 1 || width > kWarpSize || (width & (width - 1)))
    throw SimtError(name(self) +
                    ": a shuffle's width must be a power of 2 "
                    "up to 32, not " +
                    std::to_string(width));
  self.state = State::AtShuffle;
  self.mask = mask;
  self.value = value;
  self.kind = kind;
  self.arg = arg;
  self.width = width;
  yield();
  return self.result;
}

void launch(dim3 grid, dim3 blockShape, const std::function<void()> &body,
            uint64_t seed) {
  size_t threads = size_t(blockShape.x) * blockShape.y * blockShape.z;
  if (threads == 0 || threads > 1024)
    throw SimtError("a block of " + std::to_string(threads) +
                    " threads (CUDA allows 1 to 1024)");
  std::mt19937_64 rng(seed);
  Block b;
  b.body = &body;
  b.threads.resize(threads);
  // Workers outlive launches; a launch from inside a kernel makes its own.
  static thread_local std::vector<std::unique_ptr<Worker>> pool;
  std::vector<std::unique_ptr<Worker>> nested;
  auto &workers = block ? nested : pool;
  while (workers.size() < threads)
    workers.push_back(std::make_unique<Worker>());
  for (size_t i = 0; i < threads; ++i)
    b.threads[i].worker = workers[i].get();
  Block *outer = block;
  const Coordinates *outer_current = current;
  block = &b;
  struct Restore {
    Block *outer;
    const Coordinates *outer_current;
    ~Restore() {
      block = outer;
      current = outer_current;
    }
  } restore{outer, outer_current};
  for (unsigned bz = 0; bz < grid.z; ++bz)
    for (unsigned by = 0; by < grid.y; ++by)
      for (unsigned bx = 0; bx < grid.x; ++bx) {
        size_t i = 0;
        for (unsigned z = 0; z < blockShape.z; ++z)
          for (unsigned y = 0; y < blockShape.y; ++y)
            for (unsigned x = 0; x < blockShape.x; ++x, ++i) {
              Thread &t = b.threads[i];
              t.where = {dim3(x, y, z), dim3(bx, by, bz), blockShape, grid};
              t.state = State::Ready;
              t.started = false;
              t.error = nullptr;
            }
        run_block(b, seed ? &rng : nullptr);
      }
}

} // namespace llmc::simt
