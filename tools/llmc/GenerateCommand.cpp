//===- GenerateCommand.cpp - `llmc generate` ------------------------------===//
//
// Reads the prompts, queues them all on one engine (continuous batching),
// steps it until every request is done, and prints each request's text or
// token ids (or, with --json, one object per prompt in input order).
//
//===----------------------------------------------------------------------===//

#include "tools/llmc/GenerateCommand.h"

#include "runtime/io/error.h"
#include "runtime/plan/plan_file.h"
#include "runtime/serve/engine.h"
#include "runtime/serve/loaded_model.h"
#include "runtime/trace.h"
#include "tools/llmc/Errors.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <optional>
#include <unistd.h>

namespace cl = llvm::cl;
using namespace llmc;

namespace {

cl::OptionCategory generateCategory("llmc generate options");
cl::SubCommand generateCmd("generate", "Generate text from an inference plan "
                                       "(llmc compile --mode infer)");
cl::opt<std::string> planPath(cl::Positional, cl::Required,
                              cl::desc("<model.plan>"), cl::sub(generateCmd),
                              cl::cat(generateCategory));
cl::opt<std::string> weightsPath(
    "weights", cl::Required,
    cl::desc("Weights: a checkpoint folder of llmc train --save (its "
             "latest step) or a safetensors file with Hugging Face names"),
    cl::sub(generateCmd), cl::cat(generateCategory));
cl::list<int> promptIds("prompt-ids", cl::CommaSeparated,
                        cl::desc("One prompt as token ids, e.g. 1,2,3"),
                        cl::sub(generateCmd), cl::cat(generateCategory));
cl::opt<std::string> promptText("prompt",
                                cl::desc("One prompt as text (needs "
                                         "--tokenizer)"),
                                cl::sub(generateCmd),
                                cl::cat(generateCategory));
cl::opt<std::string>
    tokenizerPath("tokenizer",
                  cl::desc("A sentencepiece model (llmc tokenize writes one; "
                           "default: the checkpoint folder's, if any)"),
                  cl::sub(generateCmd), cl::cat(generateCategory));
cl::opt<bool>
    profile("profile",
            cl::desc("Print the time per kernel kind, per generated token"),
            cl::sub(generateCmd), cl::cat(generateCategory));
cl::opt<std::string> promptsPath(
    "prompts",
    cl::desc("JSON lines: {\"prompt_ids\": [...]} or {\"prompt\": \"...\"}, "
             "each optionally with max_new_tokens, temperature, top_k, "
             "top_p, seed"),
    cl::sub(generateCmd), cl::cat(generateCategory));
cl::opt<int64_t> maxNewTokens("max-new-tokens",
                              cl::desc("Tokens to generate per prompt (16)"),
                              cl::init(16), cl::sub(generateCmd),
                              cl::cat(generateCategory));
cl::opt<double> temperature("temperature",
                            cl::desc("Sampling temperature; 0 (the default) "
                                     "is greedy, as Hugging Face's generate"),
                            cl::init(0.0), cl::sub(generateCmd),
                            cl::cat(generateCategory));
cl::opt<int64_t> topK("top-k", cl::desc("Keep the k likeliest tokens (0: all)"),
                      cl::init(0), cl::sub(generateCmd),
                      cl::cat(generateCategory));
cl::opt<double> topP("top-p", cl::desc("Nucleus mass kept (1: all)"),
                     cl::init(1.0), cl::sub(generateCmd),
                     cl::cat(generateCategory));
cl::opt<uint64_t> seed("seed", cl::desc("Seed of the sampling (0)"),
                       cl::init(0), cl::sub(generateCmd),
                       cl::cat(generateCategory));
cl::list<int> stopIds("stop-ids", cl::CommaSeparated,
                      cl::desc("Token ids that end a sequence"),
                      cl::sub(generateCmd), cl::cat(generateCategory));
cl::opt<std::string> dumpLogits(
    "dump-logits",
    cl::desc("Write every row of logits sampled from, float32, per request "
             "in order (tests)"),
    cl::Hidden, cl::sub(generateCmd), cl::cat(generateCategory));
cl::opt<serve::Batching> batching(
    "batching", cl::desc("How prompts are batched"),
    cl::values(clEnumValN(serve::Batching::Continuous, "continuous",
                          "join and leave the running batch at any step "
                          "(default)"),
               clEnumValN(serve::Batching::Static, "static",
                          "batches in arrival order, each run to its end"),
               clEnumValN(serve::Batching::Bucket, "bucket",
                          "static batches of prompts sorted by length, "
                          "then by output length")),
    cl::init(serve::Batching::Continuous), cl::sub(generateCmd),
    cl::cat(generateCategory));
cl::opt<bool> jsonOutput("json",
                         cl::desc("One JSON object per prompt: prompt_ids, "
                                  "output_ids, text, logprobs, "
                                  "finish_reason, ttft_ms, tokens_per_s"),
                         cl::sub(generateCmd), cl::cat(generateCategory));

struct Prompt {
  std::vector<int32_t> ids;
  serve::SamplingParams params;
};

serve::SamplingParams defaultParams() {
  serve::SamplingParams p;
  p.temperature = temperature;
  p.top_k = topK;
  p.top_p = topP;
  p.seed = seed;
  p.max_tokens = maxNewTokens;
  p.stop_token_ids.assign(stopIds.begin(), stopIds.end());
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
Prompt parsePromptLine(const llvm::json::Object &o,
                       const serve::TextCodec &codec,
                       const std::string &where) {
  Prompt p{{}, defaultParams()};
  if (const llvm::json::Array *ids = o.getArray("prompt_ids")) {
    for (const llvm::json::Value &v : *ids) {
      std::optional<int64_t> id = v.getAsInteger();
      if (!id || *id < INT32_MIN || *id > INT32_MAX)
        throw io::InputError(where + ": prompt_ids must be integers");
      p.ids.push_back(int32_t(*id));
    }
  } else if (std::optional<llvm::StringRef> text = o.getString("prompt")) {
    p.ids = encode(codec, text->str(), where);
  } else {
    throw io::InputError(where + ": expected \"prompt_ids\" or \"prompt\"");
  }
  if (auto n = o.getInteger("max_new_tokens"))
    p.params.max_tokens = *n;
  if (auto t = o.getNumber("temperature"))
    p.params.temperature = *t;
  if (auto k = o.getInteger("top_k"))
    p.params.top_k = *k;
  if (auto q = o.getNumber("top_p"))
    p.params.top_p = *q;
  if (auto s = o.getInteger("seed"))
    p.params.seed = uint64_t(*s);
  return p;
}

std::vector<Prompt> readPrompts(const serve::TextCodec &codec) {
  int sources = !promptIds.empty() + !promptText.empty() + !promptsPath.empty();
  if (sources != 1)
    throw io::InputError("give exactly one of --prompt-ids, --prompt and "
                         "--prompts");
  if (!promptIds.empty())
    return {{{promptIds.begin(), promptIds.end()}, defaultParams()}};
  if (!promptText.empty())
    return {{encode(codec, promptText, "--prompt"), defaultParams()}};
  auto file = llvm::MemoryBuffer::getFile(promptsPath);
  if (!file)
    throw io::InputError(promptsPath +
                         ": cannot read: " + file.getError().message());
  std::vector<Prompt> prompts;
  llvm::SmallVector<llvm::StringRef> lines;
  (*file)->getBuffer().split(lines, '\n', -1, /*KeepEmpty=*/false);
  for (auto [i, line] : llvm::enumerate(lines)) {
    std::string where = promptsPath + ":" + std::to_string(i + 1);
    llvm::Expected<llvm::json::Value> value = llvm::json::parse(line);
    if (!value)
      throw io::InputError(where + ": " + llvm::toString(value.takeError()));
    const llvm::json::Object *o = value->getAsObject();
    if (!o)
      throw io::InputError(where + ": expected a JSON object");
    prompts.push_back(parsePromptLine(*o, codec, where));
  }
  if (prompts.empty())
    throw io::InputError(promptsPath + ": no prompts");
  return prompts;
}

/// When each request's first and last token came.
struct Timing {
  double first = -1, last = -1;
};

void printResults(const serve::Engine &engine,
                  const std::vector<Prompt> &prompts,
                  const std::vector<Timing> &timing,
                  const serve::TextCodec &codec) {
  for (size_t i = 0; i < prompts.size(); ++i) {
    const serve::Sequence &seq = engine.sequence(int64_t(i));
    std::string text;
    if (codec.decode)
      text = codec.decode(seq.output);
    if (!jsonOutput) {
      // The prompt then what followed it, one blank line between requests.
      if (codec.decode) {
        llvm::outs() << (i ? "\n" : "") << codec.decode(seq.prompt) << text
                     << "\n";
        continue;
      }
      llvm::interleave(seq.output, llvm::outs(), " ");
      llvm::outs() << "\n";
      continue;
    }
    double span = timing[i].last - timing[i].first;
    llvm::json::Object o{
        {"prompt_ids", llvm::json::Array(seq.prompt)},
        {"output_ids", llvm::json::Array(seq.output)},
        {"logprobs", llvm::json::Array(seq.logprobs)},
        {"finish_reason", seq.finish_reason},
        {"preemptions", seq.preemptions},
        {"ttft_ms", timing[i].first * 1000.0},
        {"tokens_per_s",
         span > 0 ? double(seq.output.size() - 1) / span : 0.0}};
    if (codec.decode)
      o["text"] = text;
    llvm::outs() << llvm::json::Value(std::move(o)) << "\n";
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
    llvm::outs() << now.substr(shown.size());
    shown = now;
  }
  llvm::outs().flush();
}

} // namespace

bool llmc::isGenerateCommand() { return static_cast<bool>(generateCmd); }

int llmc::runGenerateCommand() {
  if (maxNewTokens <= 0)
    return failBadInput("--max-new-tokens " + llvm::Twine(maxNewTokens) +
                        " must be positive");
  // Under mpirun (a tensor-parallel plan) every rank runs the same engine
  // in lockstep: the same prompts, seeds and logits give the same steps, so
  // their collectives match; rank 0 prints.
  return runGuarded([&] {
    serve::LoadedModel model =
        serve::load_model(planPath, weightsPath, tokenizerPath);
    serve::TextCodec codec = model.codec();
    std::vector<Prompt> prompts = readPrompts(codec);
    serve::Engine engine(*model.runner, seed, batching);
    model.runner->set_profiling(profile);
    // Rows by request, written in request order at the end.
    std::vector<std::vector<float>> logits(prompts.size());
    if (!dumpLogits.empty())
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
    bool stream = prompts.size() == 1 && !jsonOutput && model.leader() &&
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
    if (profile) {
      int64_t generated = 0;
      for (size_t i = 0; i < prompts.size(); ++i)
        generated += int64_t(engine.sequence(int64_t(i)).output.size());
      print_profile(model.runner->kernel_seconds(), generated, "token");
    }
    if (stream) {
      showProgress(engine.sequence(0), codec, shown, /*last=*/true);
      llvm::outs() << "\n";
    } else
      printResults(engine, prompts, timing, codec);
    if (!dumpLogits.empty()) {
      std::error_code ec;
      llvm::raw_fd_ostream out(dumpLogits, ec);
      if (ec)
        throw io::InputError(dumpLogits + ": " + ec.message());
      for (const std::vector<float> &rows : logits)
        out.write(reinterpret_cast<const char *>(rows.data()),
                  rows.size() * sizeof(float));
    }
  });
}
