//===- ServeCommand.cpp - `llmc serve` ------------------------------------===//
//
// Loads an inference plan, its weights and tokenizer, and serves OpenAI's
// API over the continuous-batching engine (runtime/serve/http_server.h).
//
//===----------------------------------------------------------------------===//

#include "runtime/cli/command_line.h"
#include "runtime/io/error.h"
#include "runtime/plan/plan_file.h"
#include "runtime/serve/engine_sync.h"
#include "runtime/serve/http_server.h"
#include "runtime/serve/loaded_model.h"
#include "tools/llmc-run/Commands.h"
#include "tools/llmc-run/Parse.h"
#include "tools/llmc/Errors.h"

#include <csignal>
#include <optional>

using namespace llmc;

int llmc::runServeCommand(int argc, char **argv) {
  std::string planPath, weightsPath, tokenizerPath, host = "127.0.0.1",
                                                    modelName = "llmc", apiKey;
  int port = 8000;
  int64_t maxQueue = 256, maxBodyBytes = 1 << 20, prefillBudget = 0;
  uint64_t seed = 0;
  cli::Command cmd("serve",
                   "Serve an inference plan over HTTP with OpenAI's "
                   "completions and chat API",
                   "[options] <model.plan>");
  cmd.positional("<model.plan>", planPath);
  cmd.option("weights", weightsPath,
             "Weights: a checkpoint folder of llmc train --save or a "
             "safetensors file")
      .required();
  cmd.option("tokenizer", tokenizerPath,
             "A sentencepiece model (default: the checkpoint folder's); "
             "without one, prompts are token ids");
  cmd.option("host", host, "Address to bind (127.0.0.1)");
  cmd.option("port", port, "Port (8000; 0: any free one)");
  cmd.option("model-name", modelName, "The model's name in the API (llmc)");
  cmd.option("api-key", apiKey, "Require Authorization: Bearer KEY");
  cmd.option("max-queue", maxQueue, "Waiting requests before 429 (256)");
  cmd.option("max-body-bytes", maxBodyBytes, "Largest request body (1 MiB)");
  cmd.option("seed", seed, "Seed of requests that give none");
  cmd.option("prefill-budget", prefillBudget, kPrefillBudgetHelp);
  if (std::optional<int> code = parseCommandLineWithDevice(cmd, argc, argv))
    return *code;
  if (port < 0 || port > 65535)
    return failBadInput("--port " + std::to_string(port) +
                        ": expected 0..65535");
  if (maxQueue < 0 || maxBodyBytes <= 0)
    return failBadInput("--max-queue must be >= 0 and --max-body-bytes > 0");
  if (prefillBudget < 0)
    return failBadInput("--prefill-budget " + std::to_string(prefillBudget) +
                        ": expected 0 (no bound) or more");
  return runGuarded([&] {
    serve::LoadedModel model =
        serve::load_model(planPath, weightsPath, tokenizerPath);
    serve::ModelRunner &runner = *model.runner;
    serve::Engine engine(runner, seed);
    engine.set_prefill_budget(prefillBudget);
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
    serve::ServerOptions options{host,
                                 port,
                                 modelName,
                                 apiKey,
                                 maxQueue,
                                 runner.max_batch(),
                                 size_t(maxBodyBytes)};
    serve::serve(async, codec, runner.vocab(), options);
  });
}
