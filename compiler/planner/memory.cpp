// Per-device memory estimate; formulas and sources in memory.h and below.
//
// Convention: Korthikanti et al. count activations as 2-byte tensors with
// 1-byte dropout masks. For fp32 training we double the whole count, which
// over-counts the masks by 2sbh + as²b per layer (under 2%).

#include "compiler/planner/memory.h"

#include "compiler/planner/stage_split.h"

#include "compiler/planner/cluster_spec.h"

#include <algorithm>
#include <string>

namespace llmc::planner {

namespace {

[[noreturn]] void fail(const std::string &message) {
  throw PlannerError("layout: " + message);
}

std::string name(const char *option, long long value) {
  return std::string(option) + "=" + std::to_string(value);
}

double precision_scale(Precision precision) {
  return precision == Precision::FP32 ? 2 : 1;
}

} // namespace

//===----------------------------------------------------------------------===//
// Validation
//===----------------------------------------------------------------------===//

void validate_layout(const ModelShape &model, const Layout &layout) {
  const Layout &l = layout;
  if (model.params <= 0 || model.layers <= 0 || model.hidden <= 0 ||
      model.heads <= 0 || model.seq <= 0 || model.vocab <= 0)
    fail("model params, layers, hidden, heads, seq and vocab must be positive");
  for (auto [option, value] : {std::pair{"dp", l.dp},
                               {"tp", l.tp},
                               {"pp", l.pp},
                               {"virtual_stages", l.virtual_stages},
                               {"micro_batch", l.micro_batch},
                               {"microbatches", l.microbatches}})
    if (value < 1)
      fail(name(option, value) + " must be at least 1");
  if (l.zero_stage < 0 || l.zero_stage > 3)
    fail(name("zero_stage", l.zero_stage) + " must be 0, 1, 2 or 3");
  if (model.heads % l.tp != 0)
    fail(name("tp", l.tp) + " does not divide " + name("heads", model.heads));
  if (l.sequence_parallel && model.seq % l.tp != 0)
    fail("sequence_parallel: " + name("tp", l.tp) + " does not divide " +
         name("seq", model.seq));
  int chunks = l.pp * l.virtual_stages;
  if (chunks > model.layers)
    fail("pp*virtual_stages=" + std::to_string(chunks) +
         " is more stages than " + name("layers", model.layers) +
         " (each holds at least one)");
  // Interleaved chunks are costed as equal; plain stages may be uneven.
  if (l.virtual_stages > 1 && model.layers % chunks != 0)
    fail("pp*virtual_stages=" + std::to_string(chunks) + " does not divide " +
         name("layers", model.layers));
  if (l.schedule == Schedule::Interleaved) {
    if (l.pp < 2 || l.virtual_stages < 2)
      fail("the interleaved schedule needs pp >= 2 and virtual_stages >= 2");
    if (l.microbatches % l.pp != 0)
      fail("interleaved: " + name("pp", l.pp) + " does not divide " +
           name("microbatches", l.microbatches));
  } else if (l.virtual_stages != 1) {
    fail(name("virtual_stages", l.virtual_stages) +
         " needs the interleaved schedule");
  }
}

//===----------------------------------------------------------------------===//
// Model states (Rajbhandari et al. 2020, §3 and Figure 1)
//===----------------------------------------------------------------------===//

MemoryBreakdown model_state_bytes(double params, int nd, int zero_stage,
                                  StateBytes per_param) {
  MemoryBreakdown m;
  m.params = per_param.params * params;
  m.grads = per_param.grads * params;
  m.optimizer = per_param.optimizer * params;
  if (zero_stage >= 1)
    m.optimizer /= nd;
  if (zero_stage >= 2)
    m.grads /= nd;
  if (zero_stage >= 3)
    m.params /= nd;
  return m;
}

//===----------------------------------------------------------------------===//
// Activations (Korthikanti et al. 2022)
//===----------------------------------------------------------------------===//

double layer_activation_bytes(const ModelShape &model, const Layout &layout) {
  double s = model.seq, b = layout.micro_batch, h = model.hidden,
         a = model.heads, t = layout.tp;
  double sbh = s * b * h;
  // Table 2, per layer; t = 1 gives Eq. 1, sbh·(34 + 5as/h).
  //   none, no SP        sbh·(10 + 24/t + 5as/(ht))
  //   none, SP           sbh·(34/t + 5as/(ht))
  //   selective, no SP   sbh·(10 + 24/t)
  //   selective, SP      sbh·34/t
  //   full               sbh·2 (the layer input; /t when it is kept
  //                      sequence-sharded, as Megatron does with SP)
  double bytes = 0;
  bool sp = layout.sequence_parallel;
  double attention = 5 * a * s / (h * t);
  switch (layout.recompute) {
  case Recompute::None:
    bytes = sbh * ((sp ? 34 / t : 10 + 24 / t) + attention);
    break;
  case Recompute::Selective:
    bytes = sbh * (sp ? 34 / t : 10 + 24 / t);
    break;
  case Recompute::Full:
    bytes = sbh * 2 / (sp ? t : 1);
    break;
  }
  return bytes * precision_scale(layout.precision);
}

std::vector<int64_t> stage_layers(const ModelShape &model,
                                  const Layout &layout) {
  int64_t chunks = int64_t(layout.pp) * layout.virtual_stages;
  if (model.layers % chunks == 0)
    return std::vector<int64_t>(size_t(chunks), model.layers / chunks);
  // The compiler's costs per token (frontends/hf/PipelineSplit), with a
  // layer's weights taken as 12h²: a layer 2·12h² + 2sh, the LM head 2hv,
  // the embedding lookup h (small, but it breaks ties the same way).
  double h = model.hidden, s = model.seq;
  return balanced_stage_layers(model.layers, chunks, 24 * h * h + 2 * s * h, h,
                               2 * h * model.vocab);
}

std::vector<int64_t> rank_layers(const ModelShape &model,
                                 const Layout &layout) {
  std::vector<int64_t> chunks = stage_layers(model, layout);
  std::vector<int64_t> ranks(size_t(layout.pp), 0);
  for (size_t c = 0; c < chunks.size(); ++c)
    ranks[c % size_t(layout.pp)] += chunks[c];
  return ranks;
}

double microbatches_in_flight(const Layout &layout, int stage) {
  double p = layout.pp, m = layout.microbatches, v = layout.virtual_stages;
  switch (layout.schedule) {
  case Schedule::GPipe:
    return m;
  case Schedule::OneFOneB:
    return std::min(p - stage, m);
  case Schedule::Interleaved:
    // Korthikanti §4.2.3: L·(1 + (p-1)/(p·v)) layers' worth on stage 0, i.e.
    // p·(1 + (p-1)/(p·v)) microbatches of its L/p layers.
    return p + (p - 1) / v;
  }
  return m;
}

namespace {

// Korthikanti §4.3: the input embedding's dropout mask, sbh bytes per
// microbatch in flight (/t with SP), and, where stage 0 is also the last
// stage, the output layer: final layernorm and projection input (2sbh each,
// /t with SP) and fp32 logits for the cross entropy, 4sbv/t.
double embedding_and_output_bytes(const ModelShape &model,
                                  const Layout &layout) {
  double s = model.seq, b = layout.micro_batch, h = model.hidden,
         v = model.vocab, t = layout.tp;
  double sp_div = layout.sequence_parallel ? t : 1;
  double bytes = s * b * h * microbatches_in_flight(layout) / sp_div;
  if (layout.pp == 1)
    bytes += 4 * s * b * h / sp_div * precision_scale(layout.precision) +
             4 * s * b * v / t;
  return bytes;
}

// Working memory that is not kept across the step: the activations of the
// one layer being recomputed (full), its attention core (selective), and
// under ZeRO-3 one layer's gathered parameters.
double temporary_bytes(const ModelShape &model, const Layout &layout) {
  Layout none = layout, selective = layout;
  none.recompute = Recompute::None;
  selective.recompute = Recompute::Selective;
  double bytes = 0;
  if (layout.recompute == Recompute::Full)
    bytes += layer_activation_bytes(model, none);
  else if (layout.recompute == Recompute::Selective)
    bytes += layer_activation_bytes(model, none) -
             layer_activation_bytes(model, selective);
  if (layout.zero_stage == 3)
    bytes += model.params / model.layers / layout.tp *
             zero3_gathered_bytes(layout.precision);
  return bytes;
}

} // namespace

MemoryBreakdown estimate_memory(const ModelShape &model, const Layout &layout,
                                const CompiledCompute *compiled) {
  validate_layout(model, layout);
  // Ψ on one device: the stage's share of the model by its layers, split
  // over tp; the embedding's extra share on the first and last stage is
  // ignored. Uneven stages: the most layers, and the most activations any
  // stage keeps (layers x microbatches in flight), which may be different
  // stages: an upper bound.
  std::vector<int64_t> layers = rank_layers(model, layout);
  double most = double(*std::max_element(layers.begin(), layers.end()));
  double device_params = model.params * most / model.layers / layout.tp;
  MemoryBreakdown m = model_state_bytes(device_params, layout.dp,
                                        layout.zero_stage, kLlmcStateBytes);
  // bf16-mixed: each weight's bf16 copy, rounded once a step and held from
  // its forward GEMM to its input-gradient GEMM (llmc-mixed-precision).
  // Pipeline stages round per GEMM instead, and under ZeRO-3 the GEMMs
  // read the bf16 weights gathered for them (temporary_bytes).
  if (layout.precision == Precision::BF16Mixed && layout.pp == 1 &&
      layout.microbatches == 1 && layout.zero_stage < 3)
    m.params += 2 * device_params;
  double kept = 0; // layer-microbatches
  for (int s = 0; s < layout.pp; ++s)
    kept = std::max(kept, double(layers[size_t(s)]) *
                              microbatches_in_flight(layout, s));
  double layer = compiled ? compiled->layer_activation_bytes
                          : layer_activation_bytes(model, layout);
  m.activations =
      layer * kept + (compiled && layout.pp == 1
                          ? compiled->outside_activation_bytes
                          : embedding_and_output_bytes(model, layout));
  m.temporaries = temporary_bytes(model, layout);
  return m;
}

} // namespace llmc::planner
