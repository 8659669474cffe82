// The engine on its own thread; see async_engine.h.
#include "runtime/serve/async_engine.h"

namespace llmc::serve {

std::vector<TokenEvent> RequestStream::next(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return !events_.empty(); });
  std::vector<TokenEvent> out(events_.begin(), events_.end());
  events_.clear();
  return out;
}

void RequestStream::push(const TokenEvent &event) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(event);
  }
  cv_.notify_all();
}

void Histogram::observe(double seconds) {
  size_t i = 0;
  while (i < bounds.size() && seconds > bounds[i])
    ++i;
  ++counts[i];
  sum += seconds;
  ++count;
}

AsyncEngine::AsyncEngine(Engine &engine, int64_t kv_blocks, int64_t max_queue,
                         EngineSync *sync)
    : engine_(engine), max_queue_(max_queue), sync_(sync) {
  metrics_.kv_blocks = kv_blocks;
  thread_ = std::thread([this] { loop(); });
}

AsyncEngine::~AsyncEngine() { drain(); }

std::unique_lock<std::mutex> AsyncEngine::caller_lock() {
  callers_.fetch_add(1);
  std::unique_lock<std::mutex> lock(mu_);
  callers_.fetch_sub(1);
  return lock;
}

std::shared_ptr<RequestStream> AsyncEngine::submit(std::vector<int32_t> prompt,
                                                   SamplingParams params) {
  auto lock = caller_lock();
  if (stopping_)
    throw std::runtime_error("the server is shutting down");
  if (max_queue_ > 0 && engine_.waiting() >= max_queue_)
    throw QueueFull("the queue is full (" + std::to_string(max_queue_) +
                    " requests waiting)");
  int64_t prompt_tokens = int64_t(prompt.size());
  std::vector<int32_t> copy = sync_ ? prompt : std::vector<int32_t>();
  int64_t id = engine_.add_request(std::move(prompt), params);
  if (sync_) // only what the engine took: the followers take it too
    ops_.adds.push_back({std::move(copy), params});
  auto stream = std::make_shared<RequestStream>(id);
  streams_[id] = stream;
  timing_[id] = {std::chrono::steady_clock::now(), {}, 0};
  ++metrics_.requests;
  metrics_.prompt_tokens += prompt_tokens;
  work_.notify_all();
  return stream;
}

void AsyncEngine::cancel(int64_t id) {
  auto lock = caller_lock();
  cancelled_.push_back(id);
  work_.notify_all();
}

void AsyncEngine::drain() {
  {
    auto lock = caller_lock();
    if (stopped_)
      return;
    stopping_ = stopped_ = true;
  }
  work_.notify_all();
  thread_.join();
}

ServerMetrics AsyncEngine::metrics() {
  auto lock = caller_lock();
  ServerMetrics m = metrics_;
  m.waiting = engine_.waiting();
  m.running = engine_.running();
  m.kv_blocks_used = engine_.kv_blocks_used();
  m.preemptions = engine_.stats().preemptions;
  return m;
}

// Under mu_: hands one token to its stream and keeps the timings.
void AsyncEngine::deliver(const TokenEvent &event) {
  auto now = std::chrono::steady_clock::now();
  Timing &t = timing_[event.request];
  auto seconds = [](auto d) {
    return std::chrono::duration<double>(d).count();
  };
  if (event.token >= 0) {
    ++metrics_.generated_tokens;
    if (t.tokens++ == 0)
      metrics_.ttft.observe(seconds(now - t.arrival));
    else
      metrics_.tpot.observe(seconds(now - t.last));
    t.last = now;
  }
  auto it = streams_.find(event.request);
  if (it != streams_.end())
    it->second->push(event);
  if (event.finished) {
    streams_.erase(event.request);
    timing_.erase(event.request);
    engine_.release(event.request);
  }
}

void AsyncEngine::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_.wait(lock, [&] {
      return stopping_ || !engine_.idle() || !cancelled_.empty();
    });
    // Cancelled requests end with an event, so their streams close.
    for (int64_t id : cancelled_)
      if (streams_.count(id)) {
        engine_.abort(id);
        deliver({id, -1, 0.0, true, "abort"});
        if (sync_)
          ops_.aborts.push_back(id);
      }
    cancelled_.clear();
    bool stop = engine_.idle() && stopping_;
    if (sync_) {
      // The step runs on every rank: each applies these first.
      ops_.step = !engine_.idle();
      ops_.stop = stop;
      if (!ops_.empty())
        sync_->publish(ops_);
      ops_ = EngineOps();
    }
    if (engine_.idle()) {
      if (stop)
        return;
      continue;
    }
    // The step runs under the lock: a submit waits at most one step.
    for (const TokenEvent &event : engine_.step())
      deliver(event);
    while (callers_.load() > 0) {
      lock.unlock();
      std::this_thread::yield();
      lock.lock();
    }
  }
}

} // namespace llmc::serve
