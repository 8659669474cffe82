// Perplexity through an inference plan; see perplexity.h.
#include "runtime/serve/perplexity.h"

#include "runtime/io/error.h"
#include "runtime/io/token_file.h"
#include "runtime/serve/loaded_model.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace llmc::serve {

PerplexityResult perplexity(const PerplexityOptions &o) {
  LoadedModel model = load_model(o.plan_path, o.weights_path, "");
  ModelRunner &runner = *model.runner;
  PerplexityResult r;
  r.leader = model.leader();
  r.batches = o.batches;
  r.rows = o.rows ? o.rows : runner.max_batch();
  r.seq = o.seq ? o.seq : runner.max_seq();
  if (r.rows < 1 || r.rows > runner.max_batch())
    throw io::InputError("--rows " + std::to_string(r.rows) + ": " +
                         o.plan_path + " decodes 1 to " +
                         std::to_string(runner.max_batch()) +
                         " rows a step (its --max-batch)");
  if (r.seq < 1 || r.seq > runner.max_seq())
    throw io::InputError("--seq " + std::to_string(r.seq) + ": " + o.plan_path +
                         " holds sequences of 1 to " +
                         std::to_string(runner.max_seq()) +
                         " tokens (its --max-seq)");
  // Each row owns the blocks of its positions for the whole batch.
  int64_t per_row =
      (r.seq + runner.kv_block_tokens() - 1) / runner.kv_block_tokens();
  if (r.rows * per_row > runner.kv_blocks())
    throw io::InputError(
        o.plan_path + ": its KV cache holds " +
        std::to_string(runner.kv_blocks()) + " blocks; --rows " +
        std::to_string(r.rows) + " of --seq " + std::to_string(r.seq) +
        " tokens need " + std::to_string(r.rows * per_row) +
        " (ask for fewer rows or compile with more --kv-blocks)");
  std::vector<StepRow> step(size_t(r.rows));
  for (int64_t row = 0; row < r.rows; ++row) {
    step[row].block_table.assign(size_t(runner.table_width()), 0);
    for (int64_t b = 0; b < per_row; ++b)
      step[row].block_table[b] = int32_t(row * per_row + b);
  }
  io::TokenFile data(o.data_path, runner.vocab());
  data.check_sequence_length(r.seq);
  std::vector<int32_t> inputs(r.rows * r.seq), targets(r.rows * r.seq);
  int64_t V = runner.vocab();
  double sum = 0;
  for (int64_t batch = 0; batch < r.batches; ++batch) {
    data.fill_batch(batch, r.rows, r.seq, io::BatchOrder::Sequential, 0,
                    inputs.data(), targets.data(), 0, r.rows);
    for (int64_t t = 0; t < r.seq; ++t) {
      for (int64_t row = 0; row < r.rows; ++row) {
        step[row].tokens = {inputs[row * r.seq + t]};
        step[row].start = t;
      }
      const float *logits =
          runner.host_logits(runner.step(/*prefill=*/false, step), r.rows);
      for (int64_t row = 0; row < r.rows; ++row) {
        // -log softmax(logits)[target], in double.
        const float *l = logits + row * V;
        double max = *std::max_element(l, l + V), z = 0;
        for (int64_t v = 0; v < V; ++v)
          z += std::exp(double(l[v]) - max);
        sum += max + std::log(z) - double(l[targets[row * r.seq + t]]);
      }
    }
  }
  r.loss = sum / double(r.batches * r.rows * r.seq);
  return r;
}

} // namespace llmc::serve
