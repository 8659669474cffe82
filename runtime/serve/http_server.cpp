// The HTTP server of `llmc serve`; see http_server.h.
#include "runtime/serve/http_server.h"

#include "runtime/io/error.h"
#include "runtime/serve/web_assets.h"

// Connections that arrive while every server thread is busy wait in the
// listen backlog; httplib's default of 5 drops the SYNs of a burst, and
// clients retry them only seconds later.
#define CPPHTTPLIB_LISTEN_BACKLOG 1024
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <sstream>

namespace llmc::serve {
namespace {

std::atomic<bool> stop_requested{false};
extern "C" void on_stop_signal(int) { stop_requested = true; }

void send_error(httplib::Response &res, const ApiError &e) {
  res.status = e.status;
  res.set_content(e.json(), "application/json");
}

/// One request's generation as the client sees it: its text so far, cut at
/// a stop string, and what was already sent.
struct Generation {
  CompletionRequest request;
  CompletionResult result;
  std::shared_ptr<RequestStream> stream;
  std::string sent; // streamed text so far
  bool finished = false;

  // Takes the engine's new events; true once finished.
  bool absorb(const std::vector<TokenEvent> &events, const TextCodec &codec,
              AsyncEngine &engine) {
    for (const TokenEvent &e : events) {
      if (e.token >= 0) {
        result.tokens.push_back(e.token);
        result.logprobs.push_back(e.logprob);
      }
      if (e.finished) {
        finished = true;
        result.finish_reason = e.finish_reason;
      }
    }
    if (codec.decode)
      result.text = codec.decode(result.tokens);
    if (!finished && cut_at_stop(result.text, request.stop)) {
      engine.cancel(stream->id()); // its blocks go back at once
      finished = true;
      result.finish_reason = "stop";
    } else if (finished) {
      cut_at_stop(result.text, request.stop);
    }
    return finished;
  }
};

std::string metrics_text(const ServerMetrics &m) {
  std::ostringstream os;
  auto counter = [&](const char *name, const char *help, int64_t v,
                     const char *type = "counter") {
    os << "# HELP llmc_" << name << " " << help << "\n# TYPE llmc_" << name
       << " " << type << "\nllmc_" << name << " " << v << "\n";
  };
  counter("requests_total", "Requests accepted.", m.requests);
  counter("prompt_tokens_total", "Prompt tokens of accepted requests.",
          m.prompt_tokens);
  counter("generation_tokens_total", "Tokens generated.", m.generated_tokens);
  counter("preemptions_total", "Sequences preempted for KV-cache blocks.",
          m.preemptions);
  counter("requests_waiting", "Requests queued for a batch slot.", m.waiting,
          "gauge");
  counter("requests_running", "Sequences in the running batch.", m.running,
          "gauge");
  counter("kv_blocks_used", "KV-cache blocks in use.", m.kv_blocks_used,
          "gauge");
  counter("kv_blocks_total", "KV-cache blocks in the pool.", m.kv_blocks,
          "gauge");
  auto histogram = [&](const char *name, const char *help, const Histogram &h) {
    os << "# HELP llmc_" << name << " " << help << "\n# TYPE llmc_" << name
       << " histogram\n";
    int64_t cumulative = 0;
    for (size_t i = 0; i <= h.bounds.size(); ++i) {
      cumulative += h.counts[i];
      os << "llmc_" << name << "_bucket{le=\""
         << (i < h.bounds.size() ? std::to_string(h.bounds[i]) : "+Inf")
         << "\"} " << cumulative << "\n";
    }
    os << "llmc_" << name << "_sum " << h.sum << "\nllmc_" << name << "_count "
       << h.count << "\n";
  };
  histogram("time_to_first_token_seconds", "From arrival to the first token.",
            m.ttft);
  histogram("time_per_output_token_seconds", "Between consecutive tokens.",
            m.tpot);
  return os.str();
}

class Server {
public:
  Server(AsyncEngine &engine, const TextCodec &codec, int64_t vocab,
         const ServerOptions &options)
      : engine_(engine), codec_(codec), vocab_(vocab), options_(options) {
    http_.set_payload_max_length(options.max_body_bytes);
    // httplib holds a pool thread for as long as a stream lasts, and its
    // default pool has 8: the ninth concurrent request stayed unread in the
    // backlog, whatever --max-queue said, and the engine ran short of work
    // under load. One thread per request the engine can hold (running, and
    // waiting up to --max-queue; 1,024 when that is unbounded), and four
    // for /health, /metrics and the web page.
    const int64_t waiting = options.max_queue > 0
                                ? std::min<int64_t>(options.max_queue, 1024)
                                : 1024;
    const size_t threads = size_t(options.max_running + waiting + 4);
    http_.new_task_queue = [threads] {
      return new httplib::ThreadPool(threads);
    };
    http_.set_pre_routing_handler(
        [this](const httplib::Request &req, httplib::Response &res) {
          return authorize(req, res);
        });
    // The web page, from memory: no path built from a request reaches the
    // filesystem, and the page loads nothing from elsewhere.
    for (const WebAsset &asset : web_assets())
      http_.Get(asset.path, [&asset](const httplib::Request &,
                                     httplib::Response &res) {
        res.set_header("Cache-Control", "no-cache");
        res.set_header("X-Content-Type-Options", "nosniff");
        res.set_header("Content-Security-Policy", "default-src 'self'");
        res.set_content(asset.body.data(), asset.body.size(),
                        asset.content_type);
      });
    http_.Get("/health", [](const httplib::Request &, httplib::Response &res) {
      res.set_content("{\"status\":\"ok\"}", "application/json");
    });
    http_.Get(
        "/v1/models", [this](const httplib::Request &, httplib::Response &res) {
          nlohmann::json model = {{"id", options_.model_name},
                                  {"object", "model"},
                                  {"created", started_},
                                  {"owned_by", "llmc"}};
          res.set_content(
              nlohmann::json{{"object", "list"}, {"data", {model}}}.dump(),
              "application/json");
        });
    http_.Get("/metrics",
              [this](const httplib::Request &, httplib::Response &res) {
                res.set_content(metrics_text(engine_.metrics()),
                                "text/plain; version=0.0.4");
              });
    for (bool chat : {false, true})
      http_.Post(
          chat ? "/v1/chat/completions" : "/v1/completions",
          [this, chat](const httplib::Request &req, httplib::Response &res) {
            complete(req, res, chat);
          });
  }

  httplib::Server &http() { return http_; }

private:
  httplib::Server::HandlerResponse authorize(const httplib::Request &req,
                                             httplib::Response &res) {
    // The page itself holds no data; it asks for the key and sends it.
    if (options_.api_key.empty() || req.path == "/health" ||
        (req.method == "GET" && find_web_asset(req.path)) ||
        req.get_header_value("Authorization") == "Bearer " + options_.api_key)
      return httplib::Server::HandlerResponse::Unhandled;
    send_error(res, ApiError(401, "invalid_request_error", "",
                             "missing or wrong API key (Authorization: "
                             "Bearer KEY)"));
    return httplib::Server::HandlerResponse::Handled;
  }

  void complete(const httplib::Request &req, httplib::Response &res,
                bool chat) {
    auto gen = std::make_shared<Generation>();
    try {
      gen->request = parse_request(req.body, chat, codec_, vocab_);
      gen->result.prompt_tokens = int64_t(gen->request.prompt.size());
      gen->stream = engine_.submit(gen->request.prompt, gen->request.params);
    } catch (const ApiError &e) {
      return send_error(res, e);
    } catch (const io::InputError &e) {
      return send_error(res,
                        ApiError(400, "invalid_request_error", "", e.what()));
    } catch (const QueueFull &e) {
      res.set_header("Retry-After", "1");
      return send_error(res, ApiError(429, "rate_limit_error", "", e.what()));
    } catch (const std::exception &e) {
      return send_error(res, ApiError(503, "server_error", "", e.what()));
    }
    gen->result.id =
        (chat ? "chatcmpl-" : "cmpl-") + std::to_string(gen->stream->id());
    gen->result.model = options_.model_name;
    gen->result.created = int64_t(std::time(nullptr));
    if (!gen->request.stream) {
      try {
        while (!gen->absorb(gen->stream->next(std::chrono::milliseconds(100)),
                            codec_, engine_)) {
        }
        res.set_content(response_json(gen->request, gen->result, codec_),
                        "application/json");
      } catch (const std::exception &e) {
        engine_.cancel(gen->stream->id());
        send_error(res, ApiError(500, "server_error", "", e.what()));
      }
      return;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, gen](size_t, httplib::DataSink &sink) {
          // An exception must not leave httplib's thread: it would end
          // the server. The request stops; its stream closes unfinished.
          try {
            return send_events(*gen, sink);
          } catch (const std::exception &e) {
            std::fprintf(stderr, "llmc: error: request %lld: %s\n",
                         (long long)gen->stream->id(), e.what());
            engine_.cancel(gen->stream->id());
            return false;
          }
        },
        // The stream ended early (the client went away): stop generating.
        [this, gen](bool) {
          if (!gen->finished)
            engine_.cancel(gen->stream->id());
        });
  }

  // Writes what came since the last call; false stops the stream.
  bool send_events(Generation &gen, httplib::DataSink &sink) {
    bool first = gen.sent.empty() && gen.result.tokens.empty();
    bool done = gen.absorb(gen.stream->next(std::chrono::milliseconds(100)),
                           codec_, engine_);
    // Until the end, text that the next tokens may still change (a
    // character whose bytes are not all generated yet) is held back.
    std::string stable = done ? gen.result.text : settled_text(gen.result.text);
    std::string delta;
    if (stable.size() > gen.sent.size() &&
        stable.compare(0, gen.sent.size(), gen.sent) == 0) {
      delta = stable.substr(gen.sent.size());
      gen.sent = stable;
    }
    std::string out;
    if (!delta.empty() || (first && !gen.result.tokens.empty()))
      out += stream_chunk(gen.request, gen.result, delta, first, "");
    if (done)
      out += stream_chunk(gen.request, gen.result, "", false,
                          gen.result.finish_reason) +
             (gen.request.include_usage ? usage_chunk(gen.request, gen.result)
                                        : "") +
             "data: [DONE]\n\n";
    if (!out.empty() && !sink.write(out.data(), out.size()))
      return false;
    if (done)
      sink.done();
    return true;
  }

  AsyncEngine &engine_;
  const TextCodec &codec_;
  int64_t vocab_;
  ServerOptions options_;
  int64_t started_ = int64_t(std::time(nullptr));
  httplib::Server http_;
};

} // namespace

void serve(AsyncEngine &engine, const TextCodec &codec, int64_t vocab,
           const ServerOptions &options) {
  Server server(engine, codec, vocab, options);
  int port = options.port;
  if (port == 0)
    port = server.http().bind_to_any_port(options.host);
  else if (!server.http().bind_to_port(options.host, port))
    port = -1;
  if (port <= 0)
    throw io::InputError("--host " + options.host + " --port " +
                         std::to_string(options.port) +
                         ": cannot listen there (in use, or not this "
                         "machine's address)");
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGINT, on_stop_signal);
  std::thread listener([&] { server.http().listen_after_bind(); });
  std::printf("llmc: serving %s on http://%s:%d\n", options.model_name.c_str(),
              options.host.c_str(), port);
  std::fflush(stdout);
  while (!stop_requested)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // Stop taking requests, finish the running ones, let their streams end.
  engine.drain();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  server.http().stop();
  listener.join();
  std::printf("llmc: stopped after %lld requests\n",
              (long long)engine.metrics().requests);
  std::fflush(stdout);
}

} // namespace llmc::serve
