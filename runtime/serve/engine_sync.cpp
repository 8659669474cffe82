// Replaying rank 0's engine inputs on the other ranks; see engine_sync.h.
#include "runtime/serve/engine_sync.h"

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <type_traits>

namespace llmc::serve {
namespace {

class Writer {
public:
  template <typename T> void put(const T &value) {
    static_assert(std::is_trivially_copyable_v<T>);
    const char *p = reinterpret_cast<const char *>(&value);
    bytes.insert(bytes.end(), p, p + sizeof(T));
  }
  template <typename T> void put(const std::vector<T> &values) {
    put(uint64_t(values.size()));
    for (const T &v : values)
      put(v);
  }
  std::vector<char> bytes;
};

class Reader {
public:
  explicit Reader(const std::vector<char> &bytes) : bytes_(bytes) {}
  template <typename T> void get(T &value) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (at_ + sizeof(T) > bytes_.size())
      throw std::runtime_error("engine sync: a truncated message from rank 0");
    std::memcpy(&value, bytes_.data() + at_, sizeof(T));
    at_ += sizeof(T);
  }
  template <typename T> void get(std::vector<T> &values) {
    uint64_t n = 0;
    get(n);
    if (n > bytes_.size())
      throw std::runtime_error("engine sync: a malformed message from rank 0");
    values.resize(size_t(n));
    for (T &v : values)
      get(v);
  }

private:
  const std::vector<char> &bytes_;
  size_t at_ = 0;
};

void put_params(Writer &w, const SamplingParams &p) {
  w.put(p.temperature);
  w.put(p.top_p);
  w.put(p.top_k);
  w.put(uint8_t(p.seed.has_value()));
  w.put(p.seed.value_or(0));
  w.put(p.max_tokens);
  w.put(p.stop_token_ids);
  w.put(uint8_t(p.logprobs));
}

SamplingParams get_params(Reader &r) {
  SamplingParams p;
  uint8_t has_seed = 0, logprobs = 0;
  uint64_t seed = 0;
  r.get(p.temperature);
  r.get(p.top_p);
  r.get(p.top_k);
  r.get(has_seed);
  r.get(seed);
  if (has_seed)
    p.seed = seed;
  r.get(p.max_tokens);
  r.get(p.stop_token_ids);
  r.get(logprobs);
  p.logprobs = logprobs != 0;
  return p;
}

// Waits for a non-blocking request, sleeping between tests: a follower of an
// idle server should not spin a core in MPI's progress loop.
void wait_politely(MPI_Request &request) {
  for (int done = 0;;) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done)
      return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

} // namespace

void EngineSync::broadcast(std::vector<char> &bytes) {
  uint64_t size = bytes.size();
  MPI_Request request;
  MPI_Ibcast(&size, 1, MPI_UINT64_T, 0, world_, &request);
  wait_politely(request);
  bytes.resize(size_t(size));
  MPI_Ibcast(bytes.data(), int(size), MPI_BYTE, 0, world_, &request);
  wait_politely(request);
}

void EngineSync::publish(const EngineOps &ops) {
  Writer w;
  w.put(uint64_t(ops.adds.size()));
  for (const EngineOps::Add &add : ops.adds) {
    w.put(add.prompt);
    put_params(w, add.params);
  }
  w.put(ops.aborts);
  w.put(uint8_t(ops.step));
  w.put(uint8_t(ops.stop));
  broadcast(w.bytes);
}

EngineOps EngineSync::receive() {
  std::vector<char> bytes;
  broadcast(bytes);
  Reader r(bytes);
  EngineOps ops;
  uint64_t adds = 0;
  r.get(adds);
  for (uint64_t i = 0; i < adds; ++i) {
    EngineOps::Add add;
    r.get(add.prompt);
    add.params = get_params(r);
    ops.adds.push_back(std::move(add));
  }
  r.get(ops.aborts);
  uint8_t step = 0, stop = 0;
  r.get(step);
  r.get(stop);
  ops.step = step != 0;
  ops.stop = stop != 0;
  return ops;
}

void follow(Engine &engine, EngineSync &sync) {
  while (true) {
    EngineOps ops = sync.receive();
    for (EngineOps::Add &add : ops.adds)
      engine.add_request(std::move(add.prompt), add.params);
    for (int64_t id : ops.aborts) {
      engine.abort(id);
      engine.release(id);
    }
    if (ops.stop)
      return;
    if (ops.step)
      for (const TokenEvent &event : engine.step())
        if (event.finished)
          engine.release(event.request);
  }
}

} // namespace llmc::serve
