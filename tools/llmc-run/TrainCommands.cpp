//===- TrainCommands.cpp - `llmc init`, `llmc train` and `llmc eval` ------===//

#include "runtime/cli/command_line.h"
#include "runtime/init_weights.h"
#include "runtime/io/error.h"
#include "runtime/io/token_file.h"
#include "runtime/plan/plan_file.h"
#include "runtime/serve/perplexity.h"
#include "runtime/train.h"
#include "tools/llmc-run/Commands.h"
#include "tools/llmc-run/Parse.h"
#include "tools/llmc/Errors.h"

#include <cmath>
#include <cstdio>

using namespace llmc;

int llmc::runInitCommand(int argc, char **argv) {
  std::string plan, out;
  uint64_t seed = 1337;
  cli::Command cmd("init",
                   "Write a plan's initial weights (GPT-2 init scheme) as "
                   "safetensors",
                   "[options] <model.plan>");
  cmd.positional("<model.plan>", plan);
  cmd.option("seed", seed, "Random seed (default 1337)");
  cmd.option("o", out, "Output safetensors file").meta("file").required();
  if (std::optional<int> code = parseCommandLine(cmd, argc, argv))
    return *code;
  return runGuarded([&] { init_weights(plan, seed, out); });
}

namespace {

struct TrainFlags {
  std::string plan, data, dataOrder = "sequential", load, save, tokenizer, log,
                          valData, dumpGrads, injectFault, progress = "auto",
                          trace, schedule = "cosine", saveDtype = "fp32";
  int64_t steps = 0, saveEvery = 0, keepLast = 0, evalEvery = 0,
          evalBatches = 20, traceSteps = 3, warmupSteps = 0;
  uint64_t seed = 1337;
  bool weightsOnly = false, profile = false, newSchedule = false;
  float lr = 3e-4f, minLr = -1.0f, weightDecay = 0.1f, beta1 = 0.9f,
        beta2 = 0.95f, eps = 1e-8f, clipGradNorm = 1.0f;
};

void declare(cli::Command &cmd, TrainFlags &f) {
  cmd.positional("<model.plan>", f.plan);
  cmd.option("data", f.data, "Token file (flat little-endian uint16)")
      .required();
  cmd.option("steps", f.steps,
             "Optimizer steps in all (a resumed run continues up to this "
             "step)")
      .required();
  cmd.option("seed", f.seed,
             "Seed of the initial weights and of shuffled data (default "
             "1337)");
  cmd.option("data-order", f.dataOrder, "sequential (default) or shuffled");
  cmd.option("load", f.load,
             "Start from a checkpoint: a run folder (resumes at its "
             "'latest'), a step folder (resumes at that step) or a "
             "safetensors file (initial weights only)")
      .meta("path");
  cmd.option("weights-only", f.weightsOnly,
             "With --load: take the checkpoint's weights only and start a "
             "new run at step 0 (fresh AdamW state, schedule and data order)");
  cmd.option("save", f.save,
             "Run folder to checkpoint into: DIR/step-NNNNNN/ (HF "
             "model.safetensors, optimizer state, manifest) and DIR/latest")
      .meta("folder");
  cmd.option("tokenizer", f.tokenizer,
             "The data's tokenizer (sentencepiece .model, GPT-2's "
             "tokenizer.json or vocab.json + merges.txt), copied into each "
             "checkpoint folder so that generate and serve find it there")
      .meta("tok.model");
  cmd.option("save-every", f.saveEvery,
             "Also checkpoint every K steps (default 0: at the end only)");
  cmd.option("keep-last", f.keepLast,
             "Keep the K newest step folders in --save (default 0: keep all)");
  cmd.option("save-dtype", f.saveDtype,
             "The dtype of each checkpoint's model.safetensors")
      .choices({{"fp32", "float32 (default)"},
                {"bf16", "bfloat16, half the bytes (config.json says "
                         "torch_dtype bfloat16); the fp32 weights go to "
                         "master.safetensors beside it, so a resume stays "
                         "exact"}});
  cmd.option("log", f.log, "JSON-lines log, one per step");
  cmd.option("val-data", f.valData,
             "Validation tokens (llmc tokenize's val.bin): loss and "
             "perplexity in the log, the progress line and the summary")
      .meta("val.bin");
  cmd.option("eval-every", f.evalEvery,
             "Validate every K steps (default 0: after the last step only)");
  cmd.option("eval-batches", f.evalBatches,
             "Global batches of validation rows (default 20)");
  cmd.option("dump-grads", f.dumpGrads, "Write step-0 gradients (safetensors)");
  // For tests of failure handling only: launched through mpirun's MPMD form
  // on one rank, it fails that rank at a chosen moment.
  cmd.option("inject-fault", f.injectFault,
             "Fail this process at startup, load, step:N or save (tests)")
      .hidden();
  cmd.option("progress", f.progress, "Progress bar on the first rank's stderr")
      .choices({{"auto", "when stderr is a terminal (default)"},
                {"always", "also under mpirun, which pipes stderr"},
                {"never", "no bar"}});
  cmd.option("trace", f.trace,
             "Write a Chrome trace (chrome://tracing, Perfetto) of every "
             "kernel and collective of the first --trace-steps steps; one "
             "file per rank (F.rankN.json) under mpirun")
      .meta("trace.json");
  cmd.option("trace-steps", f.traceSteps, "Steps to trace (3)");
  cmd.option("profile", f.profile,
             "Print the time spent per kernel kind (per step)");
  cmd.option("lr", f.lr, "Peak learning rate (default 3e-4)");
  cmd.option("min-lr", f.minLr,
             "Final learning rate of cosine (default: 10% of --lr, as "
             "nanoGPT)");
  cmd.option("warmup-steps", f.warmupSteps, "Linear warmup steps (default 0)");
  cmd.option("new-schedule", f.newSchedule,
             "On resume, switch to this command's learning-rate schedule "
             "(--lr, --min-lr, --warmup-steps, --schedule, --steps) instead "
             "of continuing the checkpoint's");
  cmd.option("schedule", f.schedule, "Learning-rate schedule (default cosine)")
      .choices({{"constant", "constant"},
                {"cosine", "linear warmup, then cosine decay to --min-lr"}});
  cmd.option("weight-decay", f.weightDecay,
             "AdamW weight decay of rank >= 2 tensors (default 0.1)");
  cmd.option("beta1", f.beta1, "AdamW beta1 (default 0.9)");
  cmd.option("beta2", f.beta2, "AdamW beta2 (default 0.95)");
  cmd.option("eps", f.eps, "AdamW epsilon (default 1e-8)");
  cmd.option("clip-grad-norm", f.clipGradNorm,
             "Clip gradients to this global norm (default 1; 0: off)");
}

/// The first training option outside what AdamW and the schedule take, as
/// one line; empty when all are fine. Written as !(ok) so NaN fails too.
std::string checkTrainOptions(const TrainFlags &f, float minLr) {
  auto number = [](const char *name, float value, const char *expected) {
    return std::string("--") + name + " " + std::to_string(value) +
           ": expected " + expected;
  };
  if (!(f.lr >= 0.0f && std::isfinite(f.lr)))
    return number("lr", f.lr, "a finite rate >= 0");
  if (!(minLr >= 0.0f && minLr <= f.lr))
    return number("min-lr", minLr, "a rate in [0, --lr]");
  if (!(f.weightDecay >= 0.0f && std::isfinite(f.weightDecay)))
    return number("weight-decay", f.weightDecay, "a finite value >= 0");
  if (!(f.beta1 >= 0.0f && f.beta1 < 1.0f))
    return number("beta1", f.beta1, "a value in [0, 1)");
  if (!(f.beta2 >= 0.0f && f.beta2 < 1.0f))
    return number("beta2", f.beta2, "a value in [0, 1)");
  if (!(f.eps > 0.0f && std::isfinite(f.eps)))
    return number("eps", f.eps, "a finite value > 0");
  if (!(std::isfinite(f.clipGradNorm)))
    return number("clip-grad-norm", f.clipGradNorm,
                  "a finite norm (<= 0: no clipping)");
  if (f.warmupSteps < 0)
    return "--warmup-steps " + std::to_string(f.warmupSteps) +
           ": expected >= 0";
  return "";
}

} // namespace

int llmc::runTrainCommand(int argc, char **argv) {
  TrainFlags f;
  cli::Command cmd("train", "Train a compiled plan on a token file",
                   "[options] <model.plan>");
  declare(cmd, f);
  if (std::optional<int> code = parseCommandLineWithDevice(cmd, argc, argv))
    return *code;
  if (f.steps <= 0)
    return failBadInput("--steps must be positive, got " +
                        std::to_string(f.steps));
  if (f.saveEvery < 0)
    return failBadInput("--save-every must be >= 0");
  if (f.keepLast < 0)
    return failBadInput("--keep-last must be >= 0");
  if (f.evalEvery < 0 || f.evalBatches <= 0)
    return failBadInput("--eval-every must be >= 0 and --eval-batches > 0");
  if (f.weightsOnly && f.load.empty())
    return failBadInput("--weights-only: expected --load with it");
  // --min-lr defaults to 10% of --lr.
  float minLr = cmd.given("min-lr") ? f.minLr : 0.1f * f.lr;
  if (std::string error = checkTrainOptions(f, minLr); !error.empty())
    return failBadInput(error);
  return runGuarded([&] {
    TrainOptions o;
    o.plan_path = f.plan;
    o.data_path = f.data;
    o.steps = f.steps;
    o.seed = f.seed;
    o.seed_given = cmd.given("seed");
    o.order = io::parse_batch_order(f.dataOrder, "--data-order");
    o.order_given = cmd.given("data-order");
    o.load_path = f.load;
    o.weights_only = f.weightsOnly;
    o.save_path = f.save;
    o.save_every = f.saveEvery;
    o.keep_last = f.keepLast;
    o.save_dtype = f.saveDtype == "bf16" ? io::DType::BF16 : io::DType::F32;
    o.tokenizer_path = f.tokenizer;
    o.val_data_path = f.valData;
    o.eval_every = f.evalEvery;
    o.eval_batches = f.evalBatches;
    o.log_path = f.log;
    o.dump_grads_path = f.dumpGrads;
    o.inject_fault = f.injectFault;
    Schedule kind =
        f.schedule == "constant" ? Schedule::Constant : Schedule::Cosine;
    o.lr_schedule = {kind, f.lr, minLr, f.warmupSteps, f.steps};
    o.schedule_given = {cmd.given("schedule"), cmd.given("lr"),
                        cmd.given("min-lr"), cmd.given("warmup-steps")};
    o.new_schedule = f.newSchedule;
    o.weight_decay = f.weightDecay;
    o.beta1 = f.beta1;
    o.beta2 = f.beta2;
    o.eps = f.eps;
    o.clip_grad_norm = f.clipGradNorm;
    o.profile = f.profile;
    o.progress = f.progress == "always"  ? Progress::Always
                 : f.progress == "never" ? Progress::Never
                                         : Progress::Auto;
    o.trace_path = f.trace;
    o.trace_steps = f.traceSteps;
    train(o);
  });
}

int llmc::runEvalCommand(int argc, char **argv) {
  std::string plan, weights, data;
  int64_t batches = 20, rows = 0, seq = 0;
  cli::Command cmd("eval",
                   "Validation loss and perplexity of weights on a token "
                   "file, through a training plan or an inference plan "
                   "(teacher-forced decode steps, its weights' dtype)",
                   "[options] <model.plan>");
  cmd.positional("<model.plan>", plan);
  cmd.option("weights", weights,
             "A checkpoint folder of llmc train --save or a safetensors file")
      .required();
  cmd.option("data", data, "Token file to evaluate on").required();
  cmd.option("batches", batches,
             "Global batches of rows, from the start (default 20)");
  cmd.option("rows", rows,
             "Inference plans: rows per batch (default its --max-batch)");
  cmd.option("seq", seq,
             "Inference plans: tokens per row (default its --max-seq)");
  if (std::optional<int> code = parseCommandLineWithDevice(cmd, argc, argv))
    return *code;
  if (batches <= 0)
    return failBadInput("--batches " + std::to_string(batches) +
                        " must be positive");
  if (rows < 0 || seq < 0)
    return failBadInput("--rows and --seq must be positive");
  return runGuarded([&] {
    if (plan::read_plan_file(plan).program() == "infer") {
      serve::PerplexityResult r =
          serve::perplexity({plan, weights, data, batches, rows, seq});
      if (r.leader)
        std::printf("llmc: eval: loss %.6f, perplexity %.4f over %lld "
                    "batches of %lld rows x %lld tokens of %s\n",
                    r.loss, std::exp(r.loss), (long long)r.batches,
                    (long long)r.rows, (long long)r.seq, data.c_str());
      return;
    }
    if (rows || seq)
      throw io::InputError("--rows and --seq: " + plan +
                           " is a training plan, whose rows and length "
                           "are its --micro-batch and --seq");
    TrainOptions o;
    o.plan_path = plan;
    o.data_path = data;
    o.val_data_path = data;
    o.eval_batches = batches;
    o.load_path = weights;
    o.weights_only = true;
    o.eval_only = true;
    o.steps = 1;
    train(o);
  });
}
