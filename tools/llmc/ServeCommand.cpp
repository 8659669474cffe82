//===- ServeCommand.cpp - `llmc serve` ------------------------------------===//
//
// Loads an inference plan, its weights and tokenizer, and serves OpenAI's
// API over the continuous-batching engine (runtime/serve/http_server.h).
//
//===----------------------------------------------------------------------===//

#include "tools/llmc/ServeCommand.h"

#include "runtime/io/error.h"
#include "runtime/plan/plan_file.h"
#include "runtime/serve/engine_sync.h"
#include "runtime/serve/http_server.h"
#include "runtime/serve/loaded_model.h"
#include "tools/llmc/Errors.h"

#include <csignal>
#include <optional>

#include "llvm/Support/CommandLine.h"

namespace cl = llvm::cl;
using namespace llmc;

namespace {

cl::OptionCategory serveCategory("llmc serve options");
cl::SubCommand serveCmd("serve", "Serve an inference plan over HTTP with "
                                 "OpenAI's completions and chat API");
cl::opt<std::string> planPath(cl::Positional, cl::Required,
                              cl::desc("<model.plan>"), cl::sub(serveCmd),
                              cl::cat(serveCategory));
cl::opt<std::string>
    weightsPath("weights", cl::Required,
                cl::desc("Weights: a checkpoint folder of llmc "
                         "train --save or a safetensors file"),
                cl::sub(serveCmd), cl::cat(serveCategory));
cl::opt<std::string> tokenizerPath(
    "tokenizer",
    cl::desc("A sentencepiece model (default: the checkpoint folder's); "
             "without one, prompts are token ids"),
    cl::sub(serveCmd), cl::cat(serveCategory));
cl::opt<std::string> host("host", cl::desc("Address to bind (127.0.0.1)"),
                          cl::init("127.0.0.1"), cl::sub(serveCmd),
                          cl::cat(serveCategory));
cl::opt<int> port("port", cl::desc("Port (8000; 0: any free one)"),
                  cl::init(8000), cl::sub(serveCmd), cl::cat(serveCategory));
cl::opt<std::string> modelName("model-name",
                               cl::desc("The model's name in the API (llmc)"),
                               cl::init("llmc"), cl::sub(serveCmd),
                               cl::cat(serveCategory));
cl::opt<std::string> apiKey("api-key",
                            cl::desc("Require Authorization: Bearer KEY"),
                            cl::sub(serveCmd), cl::cat(serveCategory));
cl::opt<int64_t> maxQueue("max-queue",
                          cl::desc("Waiting requests before 429 (256)"),
                          cl::init(256), cl::sub(serveCmd),
                          cl::cat(serveCategory));
cl::opt<int64_t> maxBodyBytes("max-body-bytes",
                              cl::desc("Largest request body (1 MiB)"),
                              cl::init(1 << 20), cl::sub(serveCmd),
                              cl::cat(serveCategory));
cl::opt<uint64_t> seed("seed", cl::desc("Seed of requests that give none"),
                       cl::init(0), cl::sub(serveCmd), cl::cat(serveCategory));

} // namespace

bool llmc::isServeCommand() { return static_cast<bool>(serveCmd); }

int llmc::runServeCommand() {
  if (port < 0 || port > 65535)
    return failBadInput("--port " + llvm::Twine(port) + ": expected 0..65535");
  if (maxQueue < 0 || maxBodyBytes <= 0)
    return failBadInput("--max-queue must be >= 0 and --max-body-bytes > 0");
  return runGuarded([] {
    serve::LoadedModel model =
        serve::load_model(planPath, weightsPath, tokenizerPath);
    serve::ModelRunner &runner = *model.runner;
    serve::Engine engine(runner, seed);
    // A tensor-parallel plan (mpirun -np T): rank 0 serves and schedules,
    // the others replay its engine's inputs and run the same steps.
    std::optional<serve::EngineSync> sync;
    if (model.mesh->world())
      sync.emplace(model.mesh->world()->handle());
    if (!model.leader()) {
      // mpirun passes SIGTERM to every rank; rank 0 drains, then stops us.
      std::signal(SIGTERM, SIG_IGN);
      std::signal(SIGINT, SIG_IGN);
      serve::follow(engine, *sync);
      return;
    }
    serve::TextCodec codec = model.codec();
    serve::AsyncEngine async(engine, runner.kv_blocks(), maxQueue,
                             sync ? &*sync : nullptr);
    serve::ServerOptions options{host,   port,     modelName,
                                 apiKey, maxQueue, size_t(maxBodyBytes)};
    serve::serve(async, codec, runner.vocab(), options);
  });
}
