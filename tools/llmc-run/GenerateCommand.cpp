//===- GenerateCommand.cpp - `llmc generate` ------------------------------===//
//
// Reads the prompts, queues them all on one engine (continuous batching),
// steps it until every request is done, and prints each request's text or
// token ids (or, with --json, one object per prompt in input order).
//
//===----------------------------------------------------------------------===//

#include "runtime/cli/command_line.h"
#include "runtime/io/error.h"
#include "runtime/plan/plan_file.h"
#include "runtime/serve/engine.h"
#include "runtime/serve/loaded_model.h"
#include "runtime/trace.h"
#include "tools/llmc-run/Commands.h"
#include "tools/llmc-run/Parse.h"
#include "tools/llmc/Errors.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <unistd.h>

using namespace llmc;
using nlohmann::json;

namespace {

struct GenerateFlags {
  std::string plan, weights, prompt, tokenizer, prompts, dumpLogits,
      batching = "continuous";
  std::vector<int> promptIds, stopIds;
  bool profile = false, json = false;
  int64_t maxNewTokens = 16, topK = 0, prefillBudget = 0;
  double temperature = 0.0, topP = 1.0;
  uint64_t seed = 0;
};

void declare(cli::Command &cmd, GenerateFlags &f) {
  cmd.positional("<model.plan>", f.plan);
  cmd.option("weights", f.weights,
             "Weights: a checkpoint folder of llmc train --save (its "
             "tokenizer is used too) or a safetensors file")
      .required();
  cmd.option("prompt-ids", f.promptIds, "One prompt as token ids, e.g. 1,2,3");
  cmd.option("prompt", f.prompt,
             "One prompt as text (needs a tokenizer: --tokenizer or the "
             "checkpoint folder's)");
  cmd.option("tokenizer", f.tokenizer,
             "A sentencepiece model (llmc tokenize writes one; default: the "
             "checkpoint folder's)");
  cmd.option("profile", f.profile,
             "Print the time per kernel kind, per generated token");
  cmd.option("prompts", f.prompts,
             "JSON lines: {\"prompt_ids\": [...]} or {\"prompt\": \"...\"}, "
             "each with optional max_new_tokens, temperature, top_k, top_p, "
             "seed")
      .meta("file.jsonl");
  cmd.option("max-new-tokens", f.maxNewTokens,
             "Tokens to generate per prompt (16)");
  cmd.option("temperature", f.temperature,
             "Sampling temperature; 0 (the default) is greedy");
  cmd.option("top-k", f.topK, "Keep the k likeliest tokens (0: all)");
  cmd.option("top-p", f.topP, "Nucleus mass kept (1: all)");
  cmd.option("seed", f.seed, "Seed of the sampling (0)");
  cmd.option("stop-ids", f.stopIds, "Token ids that end a sequence");
  cmd.option("dump-logits", f.dumpLogits,
             "Write every row of logits sampled from, float32, per request "
             "in order (tests)")
      .hidden();
  cmd.option("batching", f.batching, "How prompts are batched")
      .choices({{"continuous",
                 "join and leave the running batch at any step (default)"},
                {"static", "batches in arrival order, each run to its end"},
                {"bucket", "static batches of prompts sorted by length, then "
                           "by output length"}});
  cmd.option("prefill-budget", f.prefillBudget, kPrefillBudgetHelp);
  cmd.option("json", f.json,
             "One JSON object per prompt: prompt_ids, output_ids, text, "
             "logprobs, finish_reason, ttft_ms, tokens_per_s");
}

struct Prompt {
  std::vector<int32_t> ids;
  serve::SamplingParams params;
};

serve::SamplingParams defaultParams(const GenerateFlags &f) {
  serve::SamplingParams p;
  p.temperature = f.temperature;
  p.top_k = f.topK;
  p.top_p = f.topP;
  p.seed = f.seed;
  p.max_tokens = f.maxNewTokens;
  p.stop_token_ids.assign(f.stopIds.begin(), f.stopIds.end());
  p.logprobs = true;
  return p;
}

std::vector<int32_t> encode(const serve::TextCodec &codec,
                            const std::string &text, const std::string &where) {
  if (!codec.encode)
    throw io::InputError(where + ": a text prompt needs --tokenizer");
  return codec.encode(text);
}

/// One line of --prompts: its ids and its own sampling parameters.
Prompt parsePromptLine(const json &o, const GenerateFlags &f,
                       const serve::TextCodec &codec,
                       const std::string &where) {
  Prompt p{{}, defaultParams(f)};
  auto integer = [&](const char *key) -> const json * {
    auto it = o.find(key);
    return it != o.end() && it->is_number_integer() ? &*it : nullptr;
  };
  auto number = [&](const char *key) -> const json * {
    auto it = o.find(key);
    return it != o.end() && it->is_number() ? &*it : nullptr;
  };
  if (auto ids = o.find("prompt_ids"); ids != o.end() && ids->is_array()) {
    for (const json &v : *ids) {
      if (!v.is_number_integer() || v.get<int64_t>() < INT32_MIN ||
          v.get<int64_t>() > INT32_MAX)
        throw io::InputError(where + ": prompt_ids must be integers");
      p.ids.push_back(v.get<int32_t>());
    }
  } else if (auto text = o.find("prompt");
             text != o.end() && text->is_string()) {
    p.ids = encode(codec, text->get<std::string>(), where);
  } else {
    throw io::InputError(where + ": expected \"prompt_ids\" or \"prompt\"");
  }
  if (const json *n = integer("max_new_tokens"))
    p.params.max_tokens = n->get<int64_t>();
  if (const json *t = number("temperature"))
    p.params.temperature = t->get<double>();
  if (const json *k = integer("top_k"))
    p.params.top_k = k->get<int64_t>();
  if (const json *q = number("top_p"))
    p.params.top_p = q->get<double>();
  if (const json *s = integer("seed"))
    p.params.seed = s->get<uint64_t>();
  return p;
}

std::vector<Prompt> readPrompts(const GenerateFlags &f,
                                const serve::TextCodec &codec) {
  int sources = !f.promptIds.empty() + !f.prompt.empty() + !f.prompts.empty();
  if (sources != 1)
    throw io::InputError("give exactly one of --prompt-ids, --prompt and "
                         "--prompts");
  if (!f.promptIds.empty())
    return {{{f.promptIds.begin(), f.promptIds.end()}, defaultParams(f)}};
  if (!f.prompt.empty())
    return {{encode(codec, f.prompt, "--prompt"), defaultParams(f)}};
  std::ifstream file(f.prompts);
  if (!file)
    throw io::InputError(f.prompts + ": cannot read: " + std::strerror(errno));
  std::vector<Prompt> prompts;
  std::string line;
  for (int64_t number = 1; std::getline(file, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    std::string where = f.prompts + ":" + std::to_string(number);
    json value = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded())
      throw io::InputError(where + ": not valid JSON");
    if (!value.is_object())
      throw io::InputError(where + ": expected a JSON object");
    prompts.push_back(parsePromptLine(value, f, codec, where));
  }
  if (prompts.empty())
    throw io::InputError(f.prompts + ": no prompts");
  return prompts;
}

/// When each request's first and last token came.
struct Timing {
  double first = -1, last = -1;
};

void printResults(const serve::Engine &engine,
                  const std::vector<Prompt> &prompts,
                  const std::vector<Timing> &timing,
                  const serve::TextCodec &codec, bool asJson) {
  for (size_t i = 0; i < prompts.size(); ++i) {
    const serve::Sequence &seq = engine.sequence(int64_t(i));
    std::string text;
    if (codec.decode)
      text = codec.decode(seq.output);
    if (!asJson) {
      // The prompt then what followed it, one blank line between requests.
      if (codec.decode) {
        std::cout << (i ? "\n" : "") << codec.decode(seq.prompt) << text
                  << "\n";
        continue;
      }
      for (size_t t = 0; t < seq.output.size(); ++t)
        std::cout << (t ? " " : "") << seq.output[t];
      std::cout << "\n";
      continue;
    }
    double span = timing[i].last - timing[i].first;
    json o{{"prompt_ids", seq.prompt},
           {"output_ids", seq.output},
           {"logprobs", seq.logprobs},
           {"finish_reason", seq.finish_reason},
           {"preemptions", seq.preemptions},
           {"ttft_ms", timing[i].first * 1000.0},
           {"tokens_per_s",
            span > 0 ? double(seq.output.size() - 1) / span : 0.0}};
    if (codec.decode)
      o["text"] = text;
    std::cout << o.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  }
}

/// Prints what `seq` has generated since `shown` (the text or ids printed
/// so far): a token's text can depend on the next ones, so the whole output
/// is decoded again and only the new end printed.
void showProgress(const serve::Sequence &seq, const serve::TextCodec &codec,
                  std::string &shown, bool last = false) {
  std::string now;
  if (codec.decode) {
    now = codec.decode(seq.output);
  } else {
    for (int32_t t : seq.output)
      now += (now.empty() ? "" : " ") + std::to_string(t);
  }
  if (!last)
    now = serve::settled_text(now);
  if (now.size() > shown.size() && now.compare(0, shown.size(), shown) == 0) {
    std::cout << now.substr(shown.size());
    shown = now;
  }
  std::cout.flush();
}

} // namespace

int llmc::runGenerateCommand(int argc, char **argv) {
  GenerateFlags f;
  cli::Command cmd("generate", "Generate text from an inference plan",
                   "[options] <model.plan>");
  declare(cmd, f);
  if (std::optional<int> code = parseCommandLineWithDevice(cmd, argc, argv))
    return *code;
  if (f.maxNewTokens <= 0)
    return failBadInput("--max-new-tokens " + std::to_string(f.maxNewTokens) +
                        " must be positive");
  if (f.prefillBudget < 0)
    return failBadInput("--prefill-budget " + std::to_string(f.prefillBudget) +
                        ": expected 0 (no bound) or more");
  serve::Batching batching = f.batching == "static" ? serve::Batching::Static
                             : f.batching == "bucket"
                                 ? serve::Batching::Bucket
                                 : serve::Batching::Continuous;
  // Under mpirun (a tensor-parallel plan) every rank runs the same engine
  // in lockstep: the same prompts, seeds and logits give the same steps, so
  // their collectives match; rank 0 prints.
  return runGuarded([&] {
    serve::LoadedModel model =
        serve::load_model(f.plan, f.weights, f.tokenizer);
    serve::TextCodec codec = model.codec();
    std::vector<Prompt> prompts = readPrompts(f, codec);
    serve::Engine engine(*model.runner, f.seed, batching);
    engine.set_prefill_budget(f.prefillBudget);
    model.runner->set_profiling(f.profile);
    // Rows by request, written in request order at the end.
    std::vector<std::vector<float>> logits(prompts.size());
    if (!f.dumpLogits.empty())
      engine.observe_logits(
          [&](int64_t request, const float *row, int64_t vocab) {
            logits[size_t(request)].insert(logits[size_t(request)].end(), row,
                                           row + vocab);
          });
    for (Prompt &p : prompts)
      engine.add_request(std::move(p.ids), p.params);
    auto start = std::chrono::steady_clock::now();
    std::vector<Timing> timing(prompts.size());
    // One prompt to a terminal: its text appears as it is generated.
    bool stream = prompts.size() == 1 && !f.json && model.leader() &&
                  isatty(STDOUT_FILENO);
    std::string shown;
    while (!engine.idle())
      for (const serve::TokenEvent &e : engine.step()) {
        if (stream)
          showProgress(engine.sequence(e.request), codec, shown);
        double now = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - start)
                         .count();
        Timing &t = timing[size_t(e.request)];
        if (t.first < 0)
          t.first = now;
        t.last = now;
      }
    if (!model.leader())
      return;
    if (f.profile) {
      int64_t generated = 0;
      for (size_t i = 0; i < prompts.size(); ++i)
        generated += int64_t(engine.sequence(int64_t(i)).output.size());
      print_profile(model.runner->kernel_seconds(), generated, "token");
    }
    if (stream) {
      showProgress(engine.sequence(0), codec, shown, /*last=*/true);
      std::cout << "\n";
    } else
      printResults(engine, prompts, timing, codec, f.json);
    if (!f.dumpLogits.empty()) {
      std::ofstream out(f.dumpLogits, std::ios::binary);
      for (const std::vector<float> &rows : logits)
        out.write(reinterpret_cast<const char *>(rows.data()),
                  std::streamsize(rows.size() * sizeof(float)));
      if (!out)
        throw io::InputError(f.dumpLogits + ": cannot write");
    }
  });
}
