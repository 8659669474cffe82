// A plan's named tensors (parameters, optimizer moments) as checkpoints
// see them: this rank's piece, how it was cut from the full Hugging Face
// tensor, and the loading, initialising and gathering of full tensors that
// training and inference share.
#pragma once

#include "runtime/executor.h"
#include "runtime/io/safetensors.h"
#include "runtime/io/shard.h"
#include "runtime/io/tensor_spec.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace llmc {

/// One way a tensor is split over a mesh axis: `layout` cuts the shape
/// `whole` into one piece per rank of `axis`.
struct ShardLevel {
  std::string axis;
  io::ShardLayout layout;
  std::vector<int64_t> whole;
};

/// A named tensor of the plan (a parameter or a moment): this rank's piece
/// and how it was cut from the full Hugging Face tensor, which checkpoints
/// always hold. Levels go innermost first: a ZeRO slice (over dp) of a
/// tensor-parallel shard (over tp) of the full tensor.
struct PlanTensor {
  std::string name;
  std::vector<int64_t> shape; // this rank's
  float *data;                // in the arena: the host copies in and out
                              // (Executor::upload, download)
  std::vector<ShardLevel> levels;
  /// An int8 weight (matmul_i8w): its buffer and its channels' scales, and
  /// whether it is stored (N, K), a row per output channel. `data` is then
  /// null: loads go through an fp32 copy, quantized when it is complete.
  int8_t *quantized = nullptr;
  float *scale = nullptr;
  bool channel_rows = false;
  /// A bf16 weight (matmul_bf16w), stored (N, K) as an int8 one is, and
  /// loaded the same way: rounded from the complete fp32 copy.
  uint16_t *bf16 = nullptr;
  /// An fp32 weight stored (N, K) where checkpoints hold it (K, N)
  /// (matmul_f32w): loaded the same way, transposed from the fp32 copy.
  float *transposed = nullptr;

  /// A weight whose loads go through an fp32 copy: int8, bf16, transposed.
  bool packed() const { return quantized || bf16 || transposed; }
  bool split() const { return !levels.empty(); }
  std::vector<int64_t> full() const {
    return levels.empty() ? shape : levels.back().whole;
  }
  /// The shape of one piece at `level`: this rank's, then each whole.
  const std::vector<int64_t> &piece(size_t level) const {
    return level == 0 ? shape : levels[level - 1].whole;
  }
};

/// The named tensors of a category in `plan`, with their data in `exec`'s
/// arena (nullptr without one: another stage's tensors, layouts only).
std::vector<PlanTensor> plan_tensors(const planfile::Plan &plan,
                                     planfile::Category category,
                                     Executor *exec);
std::vector<PlanTensor> plan_tensors(Executor &exec,
                                     planfile::Category category);
std::vector<io::TensorSpec> full_specs(const std::vector<PlanTensor> &tensors);
/// The whole model's tensors of a category, as checkpoints hold them: a
/// pipelined plan's stages each hold some (a tied embedding two of them).
std::vector<PlanTensor> model_tensors(const planfile::Plan &file,
                                      planfile::Category category);
/// Fills every tensor from full tensors that `produce` writes, one at a
/// time: split tensors keep this rank's piece.
void fill_from_full(
    std::vector<PlanTensor> &tensors, const Executor &exec,
    const std::function<void(const io::TensorSpec &, float *)> &produce);
/// The full tensors, on the leader only, gathering split ones over their
/// mesh axes (collective: every rank of the plan calls it).
std::vector<std::vector<float>>
gather_full(const std::vector<PlanTensor> &tensors, const Executor &exec,
            bool leader);
/// Writes full tensors as safetensors of `dtype` (atomically).
void write_full(const std::string &path, const std::vector<PlanTensor> &tensors,
                const std::vector<std::vector<float>> &values,
                const std::map<std::string, std::string> &metadata,
                io::DType dtype = io::DType::F32);
/// Reads a Hugging Face checkpoint (full tensors, whatever mesh wrote it)
/// and keeps this rank's pieces. The file must hold exactly `model_params`.
void load_weights(std::vector<PlanTensor> &params, const std::string &path,
                  const Executor &exec,
                  const std::vector<io::TensorSpec> &model_params);
/// Makes the plan's int8 copies of parameters (category WEIGHT_COPY) from
/// the parameters now in `exec`'s arena: call after loading them.
void make_weight_copies(Executor &exec);

/// GPT-2's initialisation of the full tensors, so every mesh starts from
/// the same weights as one device.
void init_from_seed(std::vector<PlanTensor> &params, int64_t n_layer,
                    uint64_t seed, const Executor &exec);

} // namespace llmc
