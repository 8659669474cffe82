// One step of an inference plan; see model_runner.h.
#include "runtime/serve/model_runner.h"

#include "runtime/io/error.h"
#include "runtime/model_tensors.h"
#include "runtime/plan/plan_file.h"

#include <algorithm>

namespace llmc::serve {

ModelRunner::ModelRunner(planfile::Plan plan, const std::string &plan_path) {
  if (plan.program() != "infer")
    throw plan::PlanError(plan_path + ": a '" + plan.program() +
                          "' plan; generation needs one compiled with "
                          "--mode infer");
  exec_ = std::make_unique<Executor>(std::move(plan));
  const planfile::ModelInfo &model = exec_->plan().model();
  max_batch_ = model.micro_batch();
  vocab_ = model.vocab_size();
  kv_blocks_ = model.kv_blocks();
  kv_block_tokens_ = model.kv_block_tokens();
  int64_t prefill_rows =
      model.prefill_rows() > 0 ? model.prefill_rows() : max_batch_;
  if (prefill_rows > max_batch_)
    throw plan::PlanError(plan_path + ": prefill_rows " +
                          std::to_string(prefill_rows) + " exceeds the " +
                          std::to_string(max_batch_) + " sequences of a step");
  prefill_ = bind("prefill", prefill_rows, plan_path);
  decode_ = bind("decode", max_batch_, plan_path);
  prefill_tokens_ = prefill_.tokens;
  max_seq_ = model.seq_len();
  table_width_ = exec_->num_elements(prefill_.tables) / prefill_rows;
  if (kv_blocks_ <= 0 || kv_block_tokens_ <= 0 || decode_.tokens != 1 ||
      max_seq_ < prefill_tokens_ || table_width_ * kv_block_tokens_ < max_seq_)
    throw plan::PlanError(plan_path + ": the inference plan's KV cache (" +
                          std::to_string(kv_blocks_) + " blocks of " +
                          std::to_string(kv_block_tokens_) +
                          " tokens) does not fit its programs");
}

ModelRunner::Program ModelRunner::bind(const std::string &name, int64_t rows,
                                       const std::string &plan_path) {
  Program p{name};
  p.rows = rows;
  auto need = [&](const char *what, planfile::Category category,
                  int64_t per_row) {
    int t = exec_->find_tensor(name + "." + what, category);
    if (t < 0 || (per_row > 0 && exec_->num_elements(t) != rows * per_row) ||
        exec_->num_elements(t) % rows != 0)
      throw plan::PlanError(plan_path + ": the inference plan has no '" + name +
                            "." + what + "' buffer of " + std::to_string(rows) +
                            " rows");
    return t;
  };
  p.ids = need("input_ids", planfile::INPUT, 0);
  p.tokens = exec_->num_elements(p.ids) / rows;
  p.positions = need("positions", planfile::INPUT, p.tokens);
  p.tables = need("block_tables", planfile::INPUT, 0);
  p.logits = need("logits", planfile::OUTPUT, vocab_);
  return p;
}

void ModelRunner::load_weights(const std::string &path) {
  auto params = plan_tensors(*exec_, planfile::PARAM);
  llmc::load_weights(params, path, *exec_, full_specs(params));
  make_weight_copies(*exec_);
}

const float *ModelRunner::step(bool prefill, const std::vector<StepRow> &rows) {
  const Program &p = prefill ? prefill_ : decode_;
  if (int64_t(rows.size()) > p.rows)
    throw std::runtime_error("a run of " + std::to_string(rows.size()) +
                             " sequences; the " + p.name + " program takes " +
                             std::to_string(p.rows));
  // Rows without a sequence, and tokens past a row's end, are padding.
  std::vector<int32_t> ids(size_t(p.rows * p.tokens), 0);
  std::vector<int32_t> pos(size_t(p.rows * p.tokens), -1);
  std::vector<int32_t> tables(size_t(p.rows * table_width_), 0);
  for (size_t b = 0; b < rows.size(); ++b) {
    const StepRow &row = rows[b];
    if (int64_t(row.tokens.size()) > p.tokens ||
        int64_t(row.block_table.size()) != table_width_)
      throw std::runtime_error(
          "a step row of " + std::to_string(row.tokens.size()) +
          " tokens does not fit the " + p.name + " program");
    for (size_t t = 0; t < row.tokens.size(); ++t) {
      ids[b * p.tokens + t] = row.tokens[t];
      pos[b * p.tokens + t] = int32_t(row.start + int64_t(t));
    }
    std::copy(row.block_table.begin(), row.block_table.end(),
              tables.begin() + int64_t(b) * table_width_);
  }
  for (auto [t, values] : {std::pair{p.ids, &ids}, std::pair{p.positions, &pos},
                           std::pair{p.tables, &tables}})
    exec_->upload(exec_->i32(t), values->data(),
                  values->size() * sizeof(int32_t));
  exec_->run_program(p.name, {});
  return exec_->f32(p.logits);
}

const float *ModelRunner::host_logits(const float *logits, int64_t rows) {
  return exec_->readable(logits, size_t(rows * vocab_), host_logits_);
}

} // namespace llmc::serve
