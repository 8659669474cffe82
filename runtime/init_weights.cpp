//===- init_weights.cpp - `llmc init`: a plan's initial weights
//------------===//
#include "runtime/init_weights.h"

#include "runtime/io/init.h"
#include "runtime/io/shard.h"
#include "runtime/model_tensors.h"
#include "runtime/plan/plan_file.h"

namespace llmc {

void init_weights(const std::string &plan_path, uint64_t seed,
                  const std::string &out_path) {
  planfile::Plan plan = plan::read_plan_file(plan_path);
  auto params = model_tensors(plan, planfile::PARAM);
  std::vector<std::vector<float>> values;
  for (const io::TensorSpec &spec : full_specs(params)) {
    values.emplace_back(size_t(io::checked_numel(spec.shape, spec.name)));
    io::init_parameter(spec, plan.model().n_layer(), seed,
                       values.back().data());
  }
  write_full(out_path, params, values, {{"llmc.seed", std::to_string(seed)}});
}

} // namespace llmc
