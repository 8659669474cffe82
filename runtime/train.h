// `llmc init` and `llmc train`: weights in, steps run, weights out.
#pragma once

#include "runtime/io/safetensors.h"
#include "runtime/io/token_file.h"
#include "runtime/lr_schedule.h"

#include <cstdint>
#include <string>

namespace llmc {

enum class Progress { Auto, Always, Never };

struct TrainOptions {
  std::string plan_path;
  std::string data_path;
  int64_t steps = 0; // in all: a resumed run continues up to it
  uint64_t seed = 1337;
  io::BatchOrder order = io::BatchOrder::Sequential;
  // Where to start: a run folder (its `latest`), a step folder, or a bare
  // safetensors file of weights; empty: initialise from `seed`. A run or
  // step folder resumes at its step unless `weights_only`.
  std::string load_path;
  bool weights_only = false;
  // Whether --seed and --data-order were given: a resumed run takes them
  // from its checkpoint unless given, and refuses ones that differ.
  bool seed_given = false, order_given = false;
  std::string save_path;      // run folder: save_path/step-NNNNNN/, latest
  std::string tokenizer_path; // copied into each checkpoint, when given
  int64_t save_every = 0;     // 0: only at the end
  int64_t keep_last = 0;      // step folders kept; 0: all
  // model.safetensors' dtype: F32, or BF16 (the fp32 master weights then
  // go beside it, in master.safetensors, so a resume stays exact).
  io::DType save_dtype = io::DType::F32;
  std::string log_path; // JSON lines, one per step
  // Validation: the mean loss over the first eval_batches global batches
  // of this token file (sequential rows, so every mesh sees the same),
  // after every eval_every steps (0: at the end only) and at the end.
  std::string val_data_path;
  int64_t eval_every = 0, eval_batches = 20;
  // `llmc eval`: load the weights, validate once, train nothing.
  bool eval_only = false;
  std::string dump_grads_path; // step-0 gradients, for parity tests
  // Tests only: "startup", "load", "step:N" or "save" makes this process
  // throw there, as a failed read, allocation or write would.
  std::string inject_fault;
  // The learning rate over the steps (its `steps`: what cosine decays
  // over, --steps). A resumed run continues its checkpoint's schedule:
  // options given that differ from it are refused, unless new_schedule.
  LrSchedule lr_schedule;
  struct Given {
    bool kind = false, lr = false, min_lr = false, warmup = false;
  } schedule_given; // which of lr_schedule's fields the command line set
  bool new_schedule = false;
  float weight_decay = 0.1f, beta1 = 0.9f, beta2 = 0.95f, eps = 1e-8f;
  float clip_grad_norm = 1.0f;
  Progress progress = Progress::Auto; // Auto: when stderr is a terminal
  bool profile = false;               // print time per kernel kind at the end
  std::string trace_path; // Chrome trace of the first trace_steps steps
  int64_t trace_steps = 3;
};

/// A validation result: mean loss over the rows, and its perplexity.
struct Validation {
  float loss = 0.0f;
  double perplexity() const;
};

// Trains; throws io::InputError / plan::PlanError for bad input, and
// std::runtime_error naming the step when the loss stops being finite.
void train(const TrainOptions &options);

} // namespace llmc
