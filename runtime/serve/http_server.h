// `llmc serve`'s HTTP side: OpenAI's completions and chat completions (with
// server-sent-event streaming), /v1/models, /health and Prometheus
// /metrics, over the engine thread (async_engine.h). HTTP parsing is
// cpp-httplib's; this file holds no model logic.
#pragma once

#include "runtime/serve/async_engine.h"
#include "runtime/serve/openai_api.h"

#include <cstddef>
#include <string>

namespace llmc::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000; // 0: any free port (printed when listening)
  std::string model_name = "llmc";
  std::string api_key;             // set: every endpoint but /health needs it
  int64_t max_queue = 256;         // waiting requests before 429
  int64_t max_running = 8;         // sequences a step runs (--max-batch)
  size_t max_body_bytes = 1 << 20; // larger bodies get 413
};

// Serves until SIGTERM or SIGINT, then stops accepting, lets running
// requests finish and returns; throws io::InputError when it cannot
// listen. Prints "llmc: serving MODEL on http://HOST:PORT" once it listens.
void serve(AsyncEngine &engine, const TextCodec &codec, int64_t vocab,
           const ServerOptions &options);

} // namespace llmc::serve
