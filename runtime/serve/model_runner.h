// Runs one step of an inference plan (`llmc compile --mode infer`): its
// prefill program (up to seq_len tokens per sequence) or its decode
// program (one token per sequence), on one arena that holds the weights and
// the paged KV cache. It fills the step's token ids, positions and block
// tables and returns each sequence's last-token logits; which sequences
// run, and where their blocks are, is the scheduler's business.
#pragma once

#include "runtime/executor.h"

#include <memory>
#include <string>
#include <vector>

namespace llmc::serve {

// One sequence's part of a step: `tokens` at positions start, start + 1, …,
// with the sequence's block table (padded to the plan's width).
struct StepRow {
  std::vector<int32_t> tokens;
  int64_t start = 0;
  std::vector<int32_t> block_table;
};

class ModelRunner {
public:
  // Throws plan::PlanError naming `plan_path` unless the plan is an
  // inference plan with its two programs and their buffers.
  ModelRunner(planfile::Plan plan, const std::string &plan_path);

  // Loads weights (safetensors with Hugging Face names) into the arena,
  // this rank's shards of a tensor-parallel plan; throws io::InputError for
  // a file of another model.
  void load_weights(const std::string &path);

  // The tensor-parallel group of a plan compiled with --mesh tp=T: every
  // rank of it runs the same steps, and each gets the whole logits.
  void set_tensor_parallel(comm::Communicator *tp) {
    exec_->set_communicator("tp", tp);
  }
  // Time per kernel kind over the runs, while profiling is on.
  void set_profiling(bool on) { exec_->set_profiling(on); }
  const std::map<std::string, double> &kernel_seconds() const {
    return exec_->kernel_seconds();
  }

  // Runs prefill (each row up to prefill_tokens() tokens; at most
  // prefill_rows() rows) or decode (one token per row; at most max_batch()
  // rows). Returns the logits of each row's last token, (rows, vocab), in
  // the arena (on a device, device memory), valid until the next run.
  const float *step(bool prefill, const std::vector<StepRow> &rows);
  // The first `rows` rows of logits step() returned, for the host to read:
  // the arena itself on the CPU, else a copy valid until the next call.
  const float *host_logits(const float *logits, int64_t rows);

  int64_t max_batch() const { return max_batch_; }
  int64_t prefill_tokens() const { return prefill_tokens_; }
  int64_t prefill_rows() const { return prefill_.rows; }
  // The longest sequence, prompt and output (--max-seq).
  int64_t max_seq() const { return max_seq_; }
  int64_t vocab() const { return vocab_; }
  int64_t kv_blocks() const { return kv_blocks_; }
  int64_t kv_block_tokens() const { return kv_block_tokens_; }
  int64_t table_width() const { return table_width_; }
  const planfile::ModelInfo &model() const { return exec_->plan().model(); }
  // Where the logits live and the step ran (nullptr: the CPU).
  const DeviceBackend *device() const { return exec_->device(); }

private:
  // The input and output tensors of one program.
  struct Program {
    std::string name;
    int ids = -1, positions = -1, tables = -1, logits = -1;
    int64_t rows = 0, tokens = 0; // tokens per row
  };
  Program bind(const std::string &name, int64_t rows,
               const std::string &plan_path);

  std::unique_ptr<Executor> exec_;
  std::vector<float> host_logits_; // host_logits' copy, on a device
  Program prefill_, decode_;
  int64_t max_batch_ = 0, prefill_tokens_ = 0, max_seq_ = 0, vocab_ = 0;
  int64_t kv_blocks_ = 0, kv_block_tokens_ = 0, table_width_ = 0;
};

} // namespace llmc::serve
