// The engine on a thread of its own, for a server: HTTP threads submit
// requests and read each one's tokens from its stream as the engine thread
// generates them; a client that goes away cancels its request, whose blocks
// are freed at the next step. Also keeps the counters /metrics reports.
#pragma once

#include "runtime/serve/engine.h"
#include "runtime/serve/engine_sync.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace llmc::serve {

// The queue of waiting requests is full: HTTP 429.
class QueueFull : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// One request's tokens as they are generated.
class RequestStream {
public:
  explicit RequestStream(int64_t id) : id_(id) {}
  int64_t id() const { return id_; }
  // The events that came since the last call, waiting up to `timeout` for
  // one; empty on timeout. The last event has finished set.
  std::vector<TokenEvent> next(std::chrono::milliseconds timeout);

private:
  friend class AsyncEngine;
  void push(const TokenEvent &event);

  int64_t id_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<TokenEvent> events_;
};

// Prometheus histogram of seconds with fixed buckets.
struct Histogram {
  std::vector<double> bounds;
  std::vector<int64_t> counts; // per bound, then +Inf
  double sum = 0;
  int64_t count = 0;
  explicit Histogram(std::vector<double> b)
      : bounds(std::move(b)), counts(bounds.size() + 1, 0) {}
  void observe(double seconds);
};

// What /metrics reports.
struct ServerMetrics {
  int64_t requests = 0, prompt_tokens = 0, generated_tokens = 0;
  int64_t waiting = 0, running = 0, kv_blocks_used = 0, kv_blocks = 0;
  int64_t preemptions = 0;
  Histogram ttft{{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}};
  Histogram tpot{{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}};
};

class AsyncEngine {
public:
  // `max_queue`: requests waiting for a batch slot beyond which submit()
  // refuses (0: no bound).
  // With `sync` (a tensor-parallel plan), each step is first published to
  // the other ranks' engines.
  AsyncEngine(Engine &engine, int64_t kv_blocks, int64_t max_queue,
              EngineSync *sync = nullptr);
  ~AsyncEngine();

  // Queues a request; throws io::InputError for a prompt or parameters the
  // engine refuses, QueueFull when the queue is full, and std::runtime_error
  // once the server is stopping.
  std::shared_ptr<RequestStream> submit(std::vector<int32_t> prompt,
                                        SamplingParams params);
  // The client is gone: the request stops at the next step.
  void cancel(int64_t id);
  // Refuses new requests, lets the running ones finish, then returns.
  void drain();
  ServerMetrics metrics();

private:
  struct Timing {
    std::chrono::steady_clock::time_point arrival, last;
    int64_t tokens = 0;
  };
  void loop();
  void deliver(const TokenEvent &event);
  // mu_ for a call from another thread; see callers_.
  std::unique_lock<std::mutex> caller_lock();

  Engine &engine_;
  int64_t max_queue_;
  EngineSync *sync_;
  EngineOps ops_; // what the followers have not seen yet
  std::mutex mu_; // the engine, the streams and the metrics
  // Threads waiting for mu_ in caller_lock. The loop keeps mu_ from one
  // step to the next and hands it over between steps while this is not
  // zero: std::mutex is not fair, and a loop that simply retook it kept
  // every new request out until the engine went idle.
  std::atomic<int> callers_{0};
  std::condition_variable work_;
  std::map<int64_t, std::shared_ptr<RequestStream>> streams_;
  std::map<int64_t, Timing> timing_;
  std::vector<int64_t> cancelled_;
  ServerMetrics metrics_;
  bool stopping_ = false, stopped_ = false;
  std::thread thread_;
};

} // namespace llmc::serve
