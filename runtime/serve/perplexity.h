// Perplexity through an inference plan (`llmc eval` of a plan compiled with
// --mode infer), as llama.cpp's perplexity tool measures it: rows of a
// token file read in order, each token fed to the decode program at its
// position over the paged KV cache (teacher forcing), the next token's
// cross-entropy taken from the logits. With the rows and length a training
// plan evaluates, the loss is `llmc eval`'s on that plan up to float
// rounding; with int8 or bf16 weights it is what quantization costs.
#pragma once

#include <cstdint>
#include <string>

namespace llmc::serve {

struct PerplexityOptions {
  std::string plan_path, weights_path, data_path;
  int64_t batches = 20;
  // Rows per batch (0: the plan's --max-batch) and tokens per row (0: the
  // plan's --max-seq).
  int64_t rows = 0, seq = 0;
};

struct PerplexityResult {
  double loss = 0; // mean over every scored token
  int64_t batches = 0, rows = 0, seq = 0;
  bool leader = true; // this rank prints (rank 0 of a tensor-parallel plan)
};

// Throws plan::PlanError or io::InputError naming the file or option at
// fault (rows past --max-batch, a row longer than --max-seq, a cache too
// small for the rows, too few tokens in the file).
PerplexityResult perplexity(const PerplexityOptions &o);

} // namespace llmc::serve
