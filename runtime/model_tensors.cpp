// A plan's named tensors and their full-tensor I/O; see model_tensors.h.
#include "runtime/model_tensors.h"

#include "runtime/comm/communicator.h"
#include "runtime/cpu/layout.h"
#include "runtime/cpu/quantized.h"
#include "runtime/cpu/weights_bf16.h"
#include "runtime/io/hf_checkpoint.h"
#include "runtime/io/init.h"
#include "runtime/io/safetensors.h"
#include "runtime/kernels/kernel_table.h"
#include "runtime/plan/plan_file.h"

#include <algorithm>
#include <set>

namespace llmc {
namespace {

/// A level of `piece` shape from the plan file's description of it.
ShardLevel shard_level(const planfile::Shard &s,
                       const std::vector<int64_t> &piece) {
  ShardLevel level{s.axis(), {s.dim(), s.parts(), s.blocks()}, {}};
  level.whole =
      s.full_shape_size() > 0
          ? std::vector<int64_t>(s.full_shape().begin(), s.full_shape().end())
          : io::full_shape(piece, level.layout);
  return level;
}

/// This rank's piece of `full` (the whole tensor), cut level by level from
/// the outermost.
std::vector<float> piece_of(const PlanTensor &t, std::vector<float> full,
                            const Executor &exec) {
  for (size_t i = t.levels.size(); i-- > 0;) {
    const ShardLevel &level = t.levels[i];
    std::vector<float> piece(size_t(io::checked_numel(t.piece(i), t.name)));
    io::copy_shard(full.data(), piece.data(), t.piece(i), level.layout,
                   exec.communicator(level.axis).rank(), true);
    full = std::move(piece);
  }
  return full;
}

} // namespace

/// The weight-only GEMMs, whose weight (ins 1) is stored (N, K).
static bool reads_packed_weight(const planfile::Kernel &k) {
  using kernels::KernelId;
  return kernels::is(k.name(), KernelId::matmul_i8w) ||
         kernels::is(k.name(), KernelId::matmul_bf16w) ||
         kernels::is(k.name(), KernelId::matmul_f32w);
}

/// Points `tensor`, the int8, bf16 or (N, K)-stored fp32 weight of plan
/// tensor `t`, at its buffer (and an int8 one's scales), with the layout
/// `gemm`, a kernel that reads it, reads it in (its GEMMs agree on it and on
/// the scales: llmc-quantize-weights makes them so).
static void packed_weight(const planfile::Plan &plan, int t,
                          const planfile::Kernel &gemm, Executor *exec,
                          PlanTensor &tensor) {
  const planfile::DType dtype = plan.tensors(t).dtype();
  tensor.channel_rows = gemm.params().at("transpose_rhs").b();
  if (exec && dtype == planfile::I8) {
    tensor.scale = exec->f32(int(gemm.ins(2)));
    tensor.quantized = reinterpret_cast<int8_t *>(tensor.data);
  } else if (exec && dtype == planfile::BF16)
    tensor.bf16 = reinterpret_cast<uint16_t *>(tensor.data);
  else if (exec)
    tensor.transposed = tensor.data;
  tensor.data = nullptr;
}

/// Points `tensor` (its data, or its packed weight and scales), the whole
/// of a merged weight's buffer, at its rows from `row` on: a row per output
/// channel, K values each.
static void at_rows(PlanTensor &tensor, int64_t row, int64_t K) {
  size_t values = size_t(row * K);
  if (tensor.data)
    tensor.data += values;
  if (tensor.quantized)
    tensor.quantized += values;
  if (tensor.scale)
    tensor.scale += row;
  if (tensor.bf16)
    tensor.bf16 += values;
  if (tensor.transposed)
    tensor.transposed += values;
}

/// Quantizes (rounds, transposes) `w`, an fp32 weight of `t`'s shape in
/// host memory, into `t`'s buffers in the arena: int8 values and scales,
/// bf16 values, or fp32 stored (N, K).
static void quantize_into(const PlanTensor &t, const float *w,
                          const Executor &exec) {
  int64_t rows = t.shape[0], cols = t.shape[1];
  int64_t N = t.channel_rows ? rows : cols, K = t.channel_rows ? cols : rows;
  size_t n = size_t(N * K);
  if (t.transposed) {
    std::vector<float> nk(n);
    const int64_t kn[2] = {K, N};
    const int swap[2] = {1, 0};
    cpu::permute(nk.data(), w, kn, swap, 2);
    exec.upload(t.transposed, nk.data(), n * sizeof(float));
  } else if (t.bf16) {
    std::vector<uint16_t> bf16(n);
    cpu::pack_weights_bf16(bf16.data(), w, N, K, t.channel_rows);
    exec.upload(t.bf16, bf16.data(), n * sizeof(uint16_t));
  } else {
    std::vector<int8_t> q(n);
    std::vector<float> scale(static_cast<size_t>(N));
    cpu::quantize_weights_i8(q.data(), scale.data(), w, N, K, t.channel_rows);
    exec.upload(t.quantized, q.data(), n);
    exec.upload(t.scale, scale.data(), scale.size() * sizeof(float));
  }
}

/// Whether `t` loads through an fp32 host copy of it: a split tensor (cut
/// from the whole), an int8, bf16 or (N, K) weight (quantized, rounded,
/// transposed from it) or any tensor on a device (uploaded from it). On the
/// CPU, an fp32 tensor stored as checkpoints hold it is filled in the arena
/// itself.
static bool through_host(const PlanTensor &t, const Executor &exec) {
  return t.split() || t.packed() || exec.device();
}

/// Puts `full`, the whole of `t` in host memory, in place: this rank's
/// piece of it, quantized (rounded, transposed) when `t` is packed.
static void place(const PlanTensor &t, std::vector<float> full,
                  const Executor &exec) {
  std::vector<float> piece = piece_of(t, std::move(full), exec);
  if (t.packed())
    quantize_into(t, piece.data(), exec);
  else
    exec.upload(t.data, piece.data(), piece.size() * sizeof(float));
}

/// The named tensors of a category in `plan`, with their data in `exec`'s
/// arena (nullptr without one: another stage's tensors, layouts only).
std::vector<PlanTensor> plan_tensors(const planfile::Plan &plan,
                                     planfile::Category category,
                                     Executor *exec) {
  std::vector<PlanTensor> tensors;
  std::vector<bool> seen(size_t(plan.buffers_size()), false);
  // A weight-only GEMM reading each buffer, if one does.
  std::vector<const planfile::Kernel *> packed_reader(
      size_t(plan.buffers_size()), nullptr);
  for (const planfile::Kernel &k : plan.kernels())
    if (reads_packed_weight(k))
      packed_reader[plan.tensors(k.ins(1)).buffer()] = &k;
  for (int t = 0; t < plan.tensors_size(); ++t) {
    uint32_t buffer = plan.tensors(t).buffer();
    const planfile::Buffer &b = plan.buffers(buffer);
    // A buffer's first tensor has its own shape; later ones are views.
    if (b.category() != category || seen[buffer])
      continue;
    seen[buffer] = true;
    const auto &shape = plan.tensors(t).shape();
    if (b.parts_size() > 0) { // a merged weight: its tensors' rows in turn
      int64_t row = 0, K = shape[1];
      for (const planfile::Part &part : b.parts()) {
        PlanTensor tensor{
            part.name(), {part.rows(), K}, exec ? exec->f32(t) : nullptr, {}};
        if (const planfile::Kernel *gemm = packed_reader[buffer])
          packed_weight(plan, t, *gemm, exec, tensor);
        at_rows(tensor, row, K);
        if (part.has_shard())
          tensor.levels.push_back(shard_level(part.shard(), tensor.shape));
        tensors.push_back(std::move(tensor));
        row += part.rows();
      }
      continue;
    }
    PlanTensor tensor{b.name(),
                      {shape.begin(), shape.end()},
                      exec ? exec->f32(t) : nullptr,
                      {}};
    if (const planfile::Kernel *gemm = packed_reader[buffer])
      packed_weight(plan, t, *gemm, exec, tensor);
    if (b.has_slice())
      tensor.levels.push_back(shard_level(b.slice(), tensor.shape));
    if (b.has_shard())
      tensor.levels.push_back(shard_level(b.shard(), tensor.full()));
    tensors.push_back(std::move(tensor));
  }
  return tensors;
}

std::vector<PlanTensor> plan_tensors(Executor &exec,
                                     planfile::Category category) {
  return plan_tensors(exec.plan(), category, &exec);
}

std::vector<io::TensorSpec> full_specs(const std::vector<PlanTensor> &tensors) {
  std::vector<io::TensorSpec> specs;
  for (const PlanTensor &t : tensors)
    specs.push_back({t.name, t.full()});
  return specs;
}

/// The whole model's tensors of a category, as checkpoints hold them: a
/// pipelined plan's stages each hold some (a tied embedding two of them).
std::vector<PlanTensor> model_tensors(const planfile::Plan &file,
                                      planfile::Category category) {
  if (file.stages_size() == 0)
    return plan_tensors(file, category, nullptr);
  std::vector<PlanTensor> all;
  std::set<std::string> seen;
  for (const planfile::Plan &stage : file.stages())
    for (PlanTensor &t : plan_tensors(stage, category, nullptr))
      if (seen.insert(t.name).second)
        all.push_back(std::move(t));
  return all;
}

/// Fills every tensor from full tensors that `produce` writes, one at a time:
/// split tensors keep this rank's piece.
void fill_from_full(
    std::vector<PlanTensor> &tensors, const Executor &exec,
    const std::function<void(const io::TensorSpec &, float *)> &produce) {
  for (PlanTensor &t : tensors) {
    io::TensorSpec spec{t.name, t.full()};
    if (!through_host(t, exec)) {
      produce(spec, t.data);
      continue;
    }
    std::vector<float> full(size_t(io::checked_numel(spec.shape, t.name)));
    produce(spec, full.data());
    place(t, std::move(full), exec);
  }
}

/// The full tensors, on the leader only, gathering split ones level by level
/// over their mesh axes, one tensor at a time (collective: every rank of the
/// plan calls it; the others keep nothing).
std::vector<std::vector<float>>
gather_full(const std::vector<PlanTensor> &tensors, const Executor &exec,
            bool leader) {
  std::vector<std::vector<float>> out;
  for (const PlanTensor &t : tensors) {
    std::vector<float> cur(size_t(io::checked_numel(t.shape, t.name)));
    exec.download(cur.data(), t.data, cur.size() * sizeof(float));
    for (size_t i = 0; i < t.levels.size(); ++i) {
      const ShardLevel &level = t.levels[i];
      size_t n = cur.size();
      std::vector<float> pieces(n * size_t(level.layout.parts));
      exec.communicator(level.axis).all_gather(cur.data(), pieces.data(), n);
      bool last = i + 1 == t.levels.size();
      if (last && !leader) { // only the leader needs the whole tensor
        cur.clear();
        break;
      }
      std::vector<float> whole(pieces.size());
      for (int64_t r = 0; r < level.layout.parts; ++r)
        io::copy_shard(whole.data(), pieces.data() + r * n, t.piece(i),
                       level.layout, r, false);
      cur = std::move(whole);
    }
    out.push_back(leader ? std::move(cur) : std::vector<float>());
  }
  return out;
}

/// Writes full tensors as safetensors of `dtype` (atomically).
void write_full(const std::string &path, const std::vector<PlanTensor> &tensors,
                const std::vector<std::vector<float>> &values,
                const std::map<std::string, std::string> &metadata,
                io::DType dtype) {
  std::vector<io::TensorView> views;
  for (size_t i = 0; i < tensors.size(); ++i)
    views.push_back({tensors[i].name, tensors[i].full(), values[i].data()});
  io::write_safetensors(path, views, metadata, dtype);
}

/// Reads a Hugging Face checkpoint (full tensors, whatever mesh wrote it) and
/// keeps this rank's pieces: resharding on load. The file must hold exactly
/// `model_params` (all stages'); this rank reads only its own. One tensor at
/// a time: a whole tensor goes straight into the arena where it can, else
/// through one host copy (cut, quantized, uploaded) freed before the next,
/// so loading never holds more than the largest tensor beside the arena.
void load_weights(std::vector<PlanTensor> &params, const std::string &path,
                  const Executor &exec,
                  const std::vector<io::TensorSpec> &model_params) {
  std::map<std::string, PlanTensor *> by_name;
  for (PlanTensor &t : params)
    by_name[t.name] = &t;
  std::vector<float> full;
  io::load_hf_checkpoint(
      path, model_params,
      [&](const std::string &name) -> float * {
        auto it = by_name.find(name);
        if (it == by_name.end())
          return nullptr;
        const PlanTensor &t = *it->second;
        if (!through_host(t, exec))
          return t.data;
        full.assign(size_t(io::checked_numel(t.full(), t.name)), 0.0f);
        return full.data();
      },
      [&](const std::string &name) {
        const PlanTensor &t = *by_name.at(name);
        if (through_host(t, exec)) {
          place(t, std::move(full), exec);
          full = {};
        }
      });
}

/// Makes each int8 (bf16) copy of a parameter (`<name>.int8`, `.bf16`: the
/// GEMMs' weight where the parameter stays fp32 for its other users) from
/// this rank's loaded parameter.
void make_weight_copies(Executor &exec) {
  std::vector<PlanTensor> params = plan_tensors(exec, planfile::PARAM);
  for (PlanTensor &copy : plan_tensors(exec, planfile::WEIGHT_COPY)) {
    // Without its suffix, ".int8" or ".bf16".
    std::string name = copy.name.substr(0, copy.name.rfind('.'));
    auto source =
        std::find_if(params.begin(), params.end(), [&](const PlanTensor &p) {
          return p.name == name && p.shape == copy.shape && p.data;
        });
    if (!copy.packed() || source == params.end())
      throw plan::PlanError("the weight copy '" + copy.name +
                            "' has no fp32 parameter '" + name +
                            "' of its shape to be made from");
    std::vector<float> weight;
    quantize_into(
        copy,
        exec.readable(source->data,
                      size_t(io::checked_numel(copy.shape, copy.name)), weight),
        exec);
  }
}

/// GPT-2's initialisation of the full tensors, so every mesh starts from the
/// same weights as one device.
void init_from_seed(std::vector<PlanTensor> &params, int64_t n_layer,
                    uint64_t seed, const Executor &exec) {
  fill_from_full(params, exec, [&](const io::TensorSpec &spec, float *dst) {
    io::init_parameter(spec, n_layer, seed, dst);
  });
}

} // namespace llmc
