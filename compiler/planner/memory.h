// Per-device memory of a training step: model states under ZeRO (Rajbhandari
// et al. 2020) and activations under tensor/sequence/pipeline parallelism and
// recomputation (Korthikanti et al. 2022). All results are bytes on the most
// loaded device, pipeline stage 0.
#pragma once

#include <cstdint>
#include <vector>

#include "compiler/planner/compiled.h"
#include "passes/Choices.h"

namespace llmc::planner {

// The transformer, in the paper's letters: L layers, hidden h, a heads,
// sequence s, vocabulary v; params is Ψ, the whole model's parameter count.
struct ModelShape {
  double params = 0;
  int layers = 0;
  int hidden = 0;
  int heads = 0;
  int seq = 0;
  int vocab = 0;
  // The embedding and the LM head share one weight (GPT-2): under pipeline
  // parallelism the first and last stage sum its gradient every step.
  bool tied_embeddings = false;
};

// fp32: everything fp32. bf16_mixed: the planner's model of it is the ZeRO
// paper's setting, bf16 params, grads and activations, fp32 master weights
// and Adam moments.
using llmc::Precision;
using llmc::Recompute;
using llmc::Schedule;

// How a step is laid out on dp × tp × pp devices (Megatron's names).
struct Layout {
  int dp = 1, tp = 1, pp = 1;
  int virtual_stages = 1; // model chunks per pipeline rank (interleaved)
  bool sequence_parallel = false;
  int zero_stage = 0; // 0-3, sharding over the dp group
  Precision precision = Precision::BF16Mixed;
  Recompute recompute = Recompute::None;
  Schedule schedule = Schedule::OneFOneB;
  int micro_batch = 1;  // b
  int microbatches = 1; // m, per step and dp replica
};

struct MemoryBreakdown {
  double params = 0, grads = 0, optimizer = 0;
  double activations = 0, temporaries = 0;
  double total() const {
    return params + grads + optimizer + activations + temporaries;
  }
};

// Throws PlannerError naming the option and the constraint it breaks
// ("tp=3 does not divide heads=8").
void validate_layout(const ModelShape &model, const Layout &layout);

// Bytes per parameter of each model state.
struct StateBytes {
  double params, grads, optimizer;
};

// What a plan of llmc's holds per parameter: fp32 parameters (the master
// weights AdamW updates), fp32 gradients and the two fp32 Adam moments,
// 4, 4, 8, in both precisions. (The ZeRO paper's mixed precision keeps
// fp16 parameters and gradients instead: 2, 2, K = 12.)
constexpr StateBytes kLlmcStateBytes{4, 4, 8};

// Bytes per parameter ZeRO-3 gathers: bf16 under bf16-mixed, whose GEMMs
// read the weights gathered (llmc-mixed-precision rounds each rank's slice
// first), else the fp32 master.
inline double zero3_gathered_bytes(Precision precision) {
  return precision == Precision::BF16Mixed ? 2 : kLlmcStateBytes.params;
}

// Model states per device for Ψ = `params` parameters on that device's
// pipeline stage and tensor shard, sharded over nd = dp ranks by ZeRO:
// stage 1 divides the optimizer's by nd, stage 2 also the gradients',
// stage 3 also the parameters' (ZeRO paper, Figure 1).
MemoryBreakdown model_state_bytes(double params, int nd, int zero_stage,
                                  StateBytes per_param);

// Activation bytes of one transformer layer for one microbatch, 2-byte
// activations (Korthikanti et al. 2022, Table 2), ×2 for fp32.
double layer_activation_bytes(const ModelShape &model, const Layout &layout);

// Microbatches whose activations `stage` holds at its peak, as a multiple of
// one microbatch of all its layers: GPipe m; 1F1B min(p - stage, m);
// interleaved p + (p-1)/v on stage 0 (Korthikanti §4.2.3, from Narayanan et
// al. 2021's schedule).
double microbatches_in_flight(const Layout &layout, int stage = 0);

// Layers of each pipeline chunk (pp x virtual_stages of them, in order):
// equal where they divide the layers, else balanced by cost as `llmc
// compile` splits them (stage_split.h), the LM head weighing on the last.
std::vector<int64_t> stage_layers(const ModelShape &model,
                                  const Layout &layout);
// Layers each pipeline rank holds: its chunks' (rank r runs chunks r,
// r + pp, ... when interleaved).
std::vector<int64_t> rank_layers(const ModelShape &model, const Layout &layout);

// With `compiled`, the activations a layer keeps come from the compiled
// graph, built with the layout's recomputation: what its backward pass reads
// of the forward pass (under full recomputation, only the layer's inputs).
MemoryBreakdown estimate_memory(const ModelShape &model, const Layout &layout,
                                const CompiledCompute *compiled = nullptr);

} // namespace llmc::planner
