// Plan file framing and validation; see plan_file.h.
#include "runtime/plan/plan_file.h"

#include "runtime/kernels/kernel_table.h"
#include "runtime/plan/collectives.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace llmc::plan {
namespace {

constexpr char kMagic[8] = {'L', 'L', 'M', 'C', 'P', 'L', 'A', 'N'};
constexpr size_t kHeaderBytes = 8 + 4 + 8;
// No device has more: larger arenas are crafted or corrupt plans.
constexpr uint64_t kMaxArenaBytes = uint64_t(1) << 48;

uint32_t crc32(const std::string &data) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k)
        c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char byte : data)
    c = table[(c ^ byte) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

template <typename T> void put(std::string &out, T value) {
  for (size_t i = 0; i < sizeof(T); ++i)
    out.push_back(char((uint64_t(value) >> (8 * i)) & 0xFF));
}

template <typename T> T get(const std::string &in, size_t at) {
  uint64_t value = 0;
  for (size_t i = 0; i < sizeof(T); ++i)
    value |= uint64_t(uint8_t(in[at + i])) << (8 * i);
  return T(value);
}

[[noreturn]] void fail(const std::string &path, const std::string &what) {
  throw PlanError(path + ": " + what);
}

/// One level of a buffer's split: its axis has `parts` ranks, and it cuts
/// `shape` (or, for a flat slice, its full_shape) evenly.
void check_shard(const planfile::Plan &plan, const planfile::Shard &s,
                 const std::vector<int64_t> &shape, const std::string &path,
                 const std::string &buffer) {
  std::string what = "buffer '" + buffer + "' has a shard ";
  int64_t ranks = s.axis() == "tp"   ? std::max<int64_t>(1, plan.model().tp())
                  : s.axis() == "dp" ? std::max<int64_t>(1, plan.model().dp())
                                     : 0;
  if (ranks == 0)
    fail(path, what + "over axis '" + s.axis() + "'; expected dp or tp");
  if (s.parts() != ranks)
    fail(path, what + "of " + std::to_string(s.parts()) + " parts on " +
                   s.axis() + "=" + std::to_string(ranks));
  if (s.dim() < 0 || s.dim() >= int64_t(shape.size()) || s.blocks() < 1 ||
      shape[size_t(s.dim())] % s.blocks() != 0)
    fail(path, what + "dim " + std::to_string(s.dim()) + " / blocks " +
                   std::to_string(s.blocks()) + " that do not fit its shape");
  if (s.full_shape_size() > 0) {
    // A ZeRO slice: a flat dp piece, as AdamW and the collectives assume.
    if (s.axis() != "dp" || s.dim() != 0 || s.blocks() != 1 ||
        shape.size() != 1)
      fail(path, what + "with a full_shape that is not a flat slice over dp");
    int64_t full = 1;
    for (int64_t d : s.full_shape()) {
      if (d <= 0 || full > (int64_t(1) << 40) / d)
        fail(path, what + "with a full_shape that is not a positive size");
      full *= d;
    }
    if (full != shape[0] * s.parts())
      fail(path, what + "whose full_shape is not its shape times " +
                     std::to_string(s.parts()));
  }
}

/// A pipeline stage's (model chunk's) programs and schedule: only the first
/// chunk of each of the `ranks` pipeline ranks holds one, of its own chunks.
void check_pipeline(const planfile::Plan &plan, const std::string &path,
                    int64_t chunks, int64_t ranks) {
  const char *names[] = {"forward", "backward", "gradients", "update"};
  if (plan.programs_size() != 4)
    fail(path, "a pipeline stage needs 4 programs (forward, backward, "
               "gradients, update), got " +
                   std::to_string(plan.programs_size()));
  uint32_t next = 0;
  for (int p = 0; p < 4; ++p) {
    const planfile::Program &program = plan.programs(p);
    if (program.name() != names[p] || program.begin() != next ||
        program.end() < program.begin())
      fail(path, "program " + std::to_string(p) + " ('" + program.name() +
                     "') is not the " + names[p] +
                     " program starting at kernel " + std::to_string(next));
    next = program.end();
  }
  if (next != uint32_t(plan.kernels_size()))
    fail(path, "the programs end at kernel " + std::to_string(next) + " of " +
                   std::to_string(plan.kernels_size()));
  int64_t microbatches = std::max<int64_t>(plan.model().microbatches(), 1);
  int64_t rank = plan.model().stage();
  if (rank >= ranks && plan.schedule_size() > 0)
    fail(path, "holds a schedule, but only the first model chunk of a "
               "pipeline rank does");
  for (int k = 0; k < plan.schedule_size(); ++k) {
    const planfile::Instruction &i = plan.schedule(k);
    std::string what = "schedule instruction " + std::to_string(k);
    if (!planfile::Instruction::Op_IsValid(i.op()))
      fail(path, what + " has an unknown op " + std::to_string(int(i.op())));
    if (i.microbatch() < 0 || i.microbatch() >= microbatches)
      fail(path, what + " names microbatch " + std::to_string(i.microbatch()) +
                     " of " + std::to_string(microbatches));
    if (i.chunk() < 0 || i.chunk() >= chunks || i.chunk() % ranks != rank)
      fail(path, what + " runs model chunk " + std::to_string(i.chunk()) +
                     ", which pipeline rank " + std::to_string(rank) +
                     " does not hold");
  }
}

/// A kernel of the plan file as the kernel table sees it.
kernels::CallDesc describe_call(const planfile::Plan &plan,
                                const planfile::Kernel &kernel) {
  kernels::CallDesc call;
  call.name = kernel.name();
  for (auto [list, out] : {std::pair{&kernel.ins(), &call.ins},
                           std::pair{&kernel.outs(), &call.outs}})
    for (uint32_t index : *list) {
      const planfile::Tensor &t = plan.tensors(int(index));
      out->push_back({t.dtype() == planfile::I32    ? kernels::DType::I32
                      : t.dtype() == planfile::I8   ? kernels::DType::I8
                      : t.dtype() == planfile::BF16 ? kernels::DType::BF16
                                                    : kernels::DType::F32,
                      {t.shape().begin(), t.shape().end()}});
    }
  for (const auto &[name, param] : kernel.params()) {
    kernels::ParamValue v;
    switch (param.value_case()) {
    case planfile::Param::kI:
      v.type = kernels::ParamType::Int;
      v.i = param.i();
      break;
    case planfile::Param::kF:
      v.type = kernels::ParamType::Float;
      v.f = param.f();
      break;
    case planfile::Param::kB:
      v.type = kernels::ParamType::Bool;
      v.b = param.b();
      break;
    case planfile::Param::kS:
      v.type = kernels::ParamType::String;
      v.s = param.s();
      break;
    case planfile::Param::kInts:
    case planfile::Param::VALUE_NOT_SET: // older writers left empty lists so
      v.type = kernels::ParamType::Ints;
      v.ints.assign(param.ints().values().begin(), param.ints().values().end());
      break;
    }
    call.params[name] = v;
  }
  return call;
}

/// The ranks of a mesh axis a kernel may name, or 0 for any other name.
int64_t known_axis_size(const planfile::Plan &plan, const std::string &axis) {
  for (const char *known : {"dp", "tp", "pp", "embedding"})
    if (axis == known)
      return axis_size(plan.model(), axis);
  return 0;
}

void check_consistency(const planfile::Plan &plan, const std::string &path) {
  if (plan.stages_size() > 0) {
    int64_t pp = std::max<int64_t>(plan.model().pp(), 1);
    int64_t chunks = pp * std::max<int64_t>(plan.model().virtual_stages(), 1);
    if (plan.stages_size() != chunks)
      fail(path,
           "the plan has " + std::to_string(plan.stages_size()) +
               " pipeline stages, its model says pp=" + std::to_string(pp) +
               " x " + std::to_string(chunks / pp) + " chunks per rank");
    for (int s = 0; s < plan.stages_size(); ++s) {
      std::string where = path + " (stage " + std::to_string(s) + ")";
      if (plan.stages(s).model().stage() != s)
        fail(where, "is marked as stage " +
                        std::to_string(plan.stages(s).model().stage()));
      check_consistency(plan.stages(s), where);
      check_pipeline(plan.stages(s), where, chunks, pp);
    }
    return;
  }
  // Programs (a stage's four, an inference plan's prefill and decode) are
  // runs of the plan's kernels, one after another.
  uint32_t next = 0;
  for (const planfile::Program &p : plan.programs()) {
    if (p.begin() != next || p.end() < p.begin() ||
        p.end() > uint32_t(plan.kernels_size()))
      fail(path, "program '" + p.name() + "' (kernels " +
                     std::to_string(p.begin()) + ".." +
                     std::to_string(p.end()) +
                     ") is not the run of kernels "
                     "after the previous program's");
    next = p.end();
  }
  if (plan.program() == "infer" &&
      (plan.programs_size() != 2 || plan.programs(0).name() != "prefill" ||
       plan.programs(1).name() != "decode"))
    fail(path, "an inference plan needs a prefill and a decode program");
  for (auto [what, bytes] : {std::pair{"arena", plan.arena_bytes()},
                             std::pair{"stash slot", plan.stash_bytes()}})
    if (bytes > kMaxArenaBytes)
      fail(path, std::string("the ") + what + " of " + std::to_string(bytes) +
                     " bytes is larger than any device (" +
                     format_bytes(kMaxArenaBytes) + ")");
  for (int i = 0; i < plan.buffers_size(); ++i) {
    const planfile::Buffer &b = plan.buffers(i);
    uint64_t region = b.stashed() ? plan.stash_bytes() : plan.arena_bytes();
    // Written so that nothing overflows: offset + size may not fit 64 bits.
    if (b.size_bytes() > region || b.offset() > region - b.size_bytes())
      fail(path, "buffer " + std::to_string(i) + " ('" + b.name() +
                     "') ends past the " +
                     (b.stashed() ? "stash slot" : "arena") + " of " +
                     std::to_string(region) + " bytes");
  }
  for (int i = 0; i < plan.tensors_size(); ++i) {
    const planfile::Tensor &t = plan.tensors(i);
    std::string what = "tensor " + std::to_string(i);
    if (t.buffer() >= uint32_t(plan.buffers_size()))
      fail(path, what + " names buffer " + std::to_string(t.buffer()) + " of " +
                     std::to_string(plan.buffers_size()));
    if (!planfile::DType_IsValid(t.dtype()))
      fail(path,
           what + " has an unknown dtype " + std::to_string(int(t.dtype())));
    int64_t elements = 1;
    for (int64_t d : t.shape()) {
      if (d < 0)
        fail(path, what + " has a negative dimension");
      if (d > 0 && elements > kernels::kMaxElements / d)
        fail(path, what + " has more than 2^40 elements");
      elements *= d;
    }
    if (uint64_t(size_in_bytes(t)) > plan.buffers(t.buffer()).size_bytes())
      fail(path, what + " is larger than its buffer");
  }
  // A split tensor's layouts must describe its own shape on the mesh, since
  // checkpoints are cut and reassembled by them: a ZeRO slice (over dp) of
  // the local shape, then a tp shard of what was sliced.
  std::vector<bool> seen(size_t(plan.buffers_size()), false);
  for (int i = 0; i < plan.tensors_size(); ++i) {
    const planfile::Tensor &t = plan.tensors(i);
    const planfile::Buffer &b = plan.buffers(t.buffer());
    // A buffer's first tensor has its own shape; later ones are views.
    if (seen[t.buffer()])
      continue;
    seen[t.buffer()] = true;
    std::vector<int64_t> shape(t.shape().begin(), t.shape().end());
    // A merged weight: parameter rows of named tensors, each with its own
    // layout on the mesh.
    if (b.parts_size() > 0) {
      if (b.category() != planfile::PARAM || shape.size() != 2 ||
          b.has_shard() || b.has_slice())
        fail(path, "buffer '" + b.name() +
                       "' has parts but is not an unsplit 2-D parameter");
      int64_t rows = 0;
      for (const planfile::Part &part : b.parts()) {
        if (part.name().empty() || part.rows() <= 0 ||
            part.rows() > shape[0] - rows)
          fail(path, "buffer '" + b.name() + "': part '" + part.name() +
                         "' of " + std::to_string(part.rows()) +
                         " rows does not fit its " + std::to_string(shape[0]) +
                         " rows");
        rows += part.rows();
        if (part.has_shard())
          check_shard(plan, part.shard(), {part.rows(), shape[1]}, path,
                      part.name());
      }
      if (rows != shape[0])
        fail(path, "buffer '" + b.name() + "': its parts hold " +
                       std::to_string(rows) + " of its " +
                       std::to_string(shape[0]) + " rows");
    }
    for (const planfile::Shard *s : {b.has_slice() ? &b.slice() : nullptr,
                                     b.has_shard() ? &b.shard() : nullptr}) {
      if (!s)
        continue;
      check_shard(plan, *s, shape, path, b.name());
      if (s->full_shape_size() > 0)
        shape.assign(s->full_shape().begin(), s->full_shape().end());
      else
        shape[size_t(s->dim())] *= s->parts();
    }
  }
  for (int k = 0; k < plan.kernels_size(); ++k) {
    const planfile::Kernel &kernel = plan.kernels(k);
    for (const auto *list : {&kernel.ins(), &kernel.outs()})
      for (uint32_t t : *list)
        if (t >= uint32_t(plan.tensors_size()))
          fail(path, "kernel " + std::to_string(k) + " ('" + kernel.name() +
                         "') names tensor " + std::to_string(t) + " of " +
                         std::to_string(plan.tensors_size()));
    std::string error = kernels::check_call(
        describe_call(plan, kernel),
        [&](const std::string &axis) { return known_axis_size(plan, axis); },
        plan.model().vocab_size());
    if (!error.empty())
      fail(path, "kernel " + std::to_string(k) + ": " + error);
  }
}

} // namespace

std::string format_bytes(uint64_t bytes) {
  char text[32];
  if (bytes >= (1ull << 30))
    std::snprintf(text, sizeof(text), "%.2f GiB", double(bytes) / (1 << 30));
  else if (bytes >= (1ull << 20))
    std::snprintf(text, sizeof(text), "%.2f MiB", double(bytes) / (1 << 20));
  else if (bytes >= 1024)
    std::snprintf(text, sizeof(text), "%.2f KiB", double(bytes) / 1024);
  else
    std::snprintf(text, sizeof(text), "%llu B", (unsigned long long)bytes);
  return text;
}

int64_t num_elements(const planfile::Tensor &tensor) {
  int64_t n = 1;
  for (int64_t d : tensor.shape())
    n *= d;
  return n;
}

int64_t size_in_bytes(const planfile::Tensor &tensor) {
  return num_elements(tensor) * (tensor.dtype() == planfile::I8     ? 1
                                 : tensor.dtype() == planfile::BF16 ? 2
                                                                    : 4);
}

bool has_bf16_math(const planfile::Kernel &kernel) {
  auto math = kernel.params().find("math");
  return math != kernel.params().end() && math->second.s() == "bf16";
}

std::string encode_plan_file(const std::string &payload) {
  std::string bytes(kMagic, sizeof(kMagic));
  put<uint32_t>(bytes, kFormatVersion);
  put<uint64_t>(bytes, payload.size());
  bytes += payload;
  put<uint32_t>(bytes, crc32(payload));
  return bytes;
}

void write_plan_file(const planfile::Plan &plan, const std::string &path) {
  std::string payload;
  if (!plan.SerializeToString(&payload))
    throw PlanError(path + ": cannot serialize the plan");
  std::string bytes = encode_plan_file(payload);

  std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), std::streamsize(bytes.size()));
    out.flush();
    if (!out)
      throw PlanError(path + ": cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw PlanError(path + ": cannot rename " + tmp + " into place");
  }
}

planfile::Plan read_plan_file(const std::string &path) {
  // A FIFO would block the read until something writes to it.
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    fail(path, "not a regular file (a folder, FIFO or device); expected a "
               "plan file");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    fail(path, "cannot open the plan file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return decode_plan_file(buffer.str(), path);
}

planfile::Plan decode_plan_file(const std::string &bytes,
                                const std::string &path) {
  if (bytes.size() < kHeaderBytes + 4 ||
      std::memcmp(bytes.data(), kMagic, 8) != 0)
    fail(path, "not an llmc plan file (bad magic)");
  uint32_t version = get<uint32_t>(bytes, 8);
  if (version != kFormatVersion)
    fail(path, "plan format version " + std::to_string(version) +
                   ", this llmc reads version " +
                   std::to_string(kFormatVersion) + "; recompile the plan");
  uint64_t length = get<uint64_t>(bytes, 12);
  // Compared this way round, a length near 2^64 cannot wrap to a match.
  if (length != bytes.size() - kHeaderBytes - 4)
    fail(path, "truncated or padded plan: header says " +
                   std::to_string(length) + " payload bytes, file has " +
                   std::to_string(bytes.size()) + " bytes in all");
  std::string payload = bytes.substr(kHeaderBytes, length);
  if (crc32(payload) != get<uint32_t>(bytes, kHeaderBytes + length))
    fail(path, "corrupt plan: checksum mismatch");
  planfile::Plan plan;
  if (!plan.ParseFromString(payload))
    fail(path, "corrupt plan: payload does not parse");
  check_consistency(plan, path);
  return plan;
}

} // namespace llmc::plan
