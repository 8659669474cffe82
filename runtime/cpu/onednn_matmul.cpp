// oneDNN matmul primitives, one per shape, with the arena's memory passed in
// as it lies (strides express the transposes; a weight shared by a batch is
// broadcast), and the bias added by the primitive itself.
#include "runtime/cpu/onednn_matmul.h"

#include "runtime/cpu/bf16.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <map>
#include <mutex>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace llmc::cpu {
namespace {

using dnnl::memory;
using Dims = memory::dims;

dnnl::engine &cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

struct Shape {
  int64_t batch, M, N, K;
  bool trans_a, trans_b, b_batched, bias, bf16;
  auto tie() const {
    return std::tie(batch, M, N, K, trans_a, trans_b, b_batched, bias, bf16);
  }
  bool operator<(const Shape &o) const { return tie() < o.tie(); }
};

// The memory descriptions of one call. Rows of a (batch, M, K) input with a
// shared weight are one (batch*M, K) product, which oneDNN blocks better
// than a batch of small ones.
struct Descs {
  memory::desc src, weights, bias, dst;
};

Descs describe(const Shape &s) {
  const auto f32 = memory::data_type::f32;
  const auto in = s.bf16 ? memory::data_type::bf16 : f32;
  Descs d;
  if (!s.trans_a && !s.b_batched) {
    const int64_t rows = s.batch * s.M;
    d.src = memory::desc({rows, s.K}, in, Dims{s.K, 1});
    d.weights =
        memory::desc({s.K, s.N}, in, s.trans_b ? Dims{1, s.K} : Dims{s.N, 1});
    d.dst = memory::desc({rows, s.N}, f32, Dims{s.N, 1});
    if (s.bias)
      d.bias = memory::desc({1, s.N}, f32, Dims{s.N, 1});
    return d;
  }
  const int64_t mk = s.M * s.K, kn = s.K * s.N;
  d.src = memory::desc({s.batch, s.M, s.K}, in,
                       s.trans_a ? Dims{mk, 1, s.M} : Dims{mk, s.K, 1});
  d.weights = memory::desc({s.b_batched ? s.batch : 1, s.K, s.N}, in,
                           s.trans_b ? Dims{kn, 1, s.K} : Dims{kn, s.N, 1});
  d.dst = memory::desc({s.batch, s.M, s.N}, f32, Dims{s.M * s.N, s.N, 1});
  if (s.bias)
    d.bias = memory::desc({1, 1, s.N}, f32, Dims{s.N, s.N, 1});
  return d;
}

struct Primitive {
  Descs descs;
  dnnl::matmul matmul;
  memory::desc scratchpad;
  bool supported = true; // oneDNN has no implementation here (e.g. bf16
                         // on a processor without AVX-512)
};

// Every primitive takes its scratchpad from the thread that runs it: with
// the library's own (Debian builds oneDNN without concurrent execution) a
// primitive may only run on the thread that made it, and the server's
// threads, and attention's, share them.
dnnl::primitive_attr user_scratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

// Runs a primitive on this thread's stream with this thread's scratchpad.
void execute(const dnnl::matmul &matmul, const memory::desc &scratchpad,
             std::unordered_map<int, memory> args) {
  dnnl::engine &engine = cpu_engine();
  thread_local dnnl::stream stream(engine);
  thread_local std::vector<uint8_t> scratch;
  if (scratch.size() < scratchpad.get_size())
    scratch.resize(scratchpad.get_size());
  args.emplace(DNNL_ARG_SCRATCHPAD, memory(scratchpad, engine, scratch.data()));
  matmul.execute(stream, args);
  stream.wait();
}

// Shapes are few (a plan's programs are static), so the map stays small.
const Primitive &primitive_for(const Shape &shape) {
  static std::mutex mutex;
  static std::map<Shape, Primitive> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(shape);
  if (it != cache.end())
    return it->second;
  Descs d = describe(shape);
  Primitive p{d, {}, {}};
  try {
    dnnl::matmul::primitive_desc pd(
        shape.bias ? dnnl::matmul::desc(d.src, d.weights, d.bias, d.dst)
                   : dnnl::matmul::desc(d.src, d.weights, d.dst),
        user_scratchpad(), cpu_engine());
    p.matmul = dnnl::matmul(pd);
    p.scratchpad = pd.scratchpad_desc();
  } catch (const dnnl::error &) {
    p.supported = false;
  }
  return cache.emplace(shape, std::move(p)).first->second;
}

} // namespace

bool onednn_matmul(float *out, const float *a, const float *b,
                   const float *bias, int64_t batch, int64_t M, int64_t N,
                   int64_t K, bool trans_a, bool trans_b, bool b_batched,
                   bool bf16, const Bf16Operands &shared) {
  const Primitive &p = primitive_for(
      {batch, M, N, K, trans_a, trans_b, b_batched, bias != nullptr, bf16});
  if (!p.supported)
    return false;
  dnnl::engine &engine = cpu_engine();
  void *src = const_cast<float *>(a), *weights = const_cast<float *>(b);
  if (bf16) {
    // Dense operands: the bf16 copy keeps the fp32 one's strides.
    thread_local std::vector<uint16_t> a16, b16;
    auto rounded = [](const float *x, int64_t n, const Bf16Operand &op,
                      std::vector<uint16_t> &scratch) -> void * {
      if (op.ready)
        return const_cast<uint16_t *>(op.ready);
      std::vector<uint16_t> &into = op.keep ? *op.keep : scratch;
      into.resize(size_t(n));
      round_to_bf16(into.data(), x, n);
      return into.data();
    };
    src = rounded(a, batch * M * K, shared.a, a16);
    weights = rounded(b, (b_batched ? batch : 1) * K * N, shared.b, b16);
  }
  std::unordered_map<int, memory> args = {
      {DNNL_ARG_SRC, memory(p.descs.src, engine, src)},
      {DNNL_ARG_WEIGHTS, memory(p.descs.weights, engine, weights)},
      {DNNL_ARG_DST, memory(p.descs.dst, engine, out)}};
  if (bias)
    args.emplace(DNNL_ARG_BIAS,
                 memory(p.descs.bias, engine, const_cast<float *>(bias)));
  execute(p.matmul, p.scratchpad, std::move(args));
  return true;
}

namespace {

memory::desc describe(const StridedMatrix &m, int64_t batch) {
  return memory::desc({batch, m.rows, m.cols},
                      m.bf16 ? memory::data_type::bf16 : memory::data_type::f32,
                      Dims{m.batch_stride, m.row_stride, m.col_stride});
}

struct BatchedPrimitive {
  memory::desc dst, src, weights, scratchpad;
  dnnl::matmul matmul;
  bool supported = true;
};

} // namespace

bool onednn_batched_product(const StridedMatrix &dst, const StridedMatrix &src,
                            const StridedMatrix &weights, int64_t batch,
                            bool accumulate) {
  // Every number of the description is the key: a plan's attention has a
  // few (one per query block's key count), made once each.
  std::vector<int64_t> key = {batch, int64_t(accumulate)};
  for (const StridedMatrix *m : {&dst, &src, &weights})
    key.insert(key.end(), {m->rows, m->cols, m->batch_stride, m->row_stride,
                           m->col_stride, int64_t(m->bf16)});
  static std::mutex mutex;
  static std::map<std::vector<int64_t>, BatchedPrimitive> cache;
  const BatchedPrimitive *p;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = cache.find(key);
    if (it == cache.end()) {
      BatchedPrimitive made;
      made.dst = describe(dst, batch);
      made.src = describe(src, batch);
      made.weights = describe(weights, batch);
      try {
        dnnl::primitive_attr attr = user_scratchpad();
        if (accumulate) {
          dnnl::post_ops ops;
          ops.append_sum(1.0f);
          attr.set_post_ops(ops);
        }
        dnnl::matmul::primitive_desc pd(
            dnnl::matmul::desc(made.src, made.weights, made.dst), attr,
            cpu_engine());
        made.matmul = dnnl::matmul(pd);
        made.scratchpad = pd.scratchpad_desc();
      } catch (const dnnl::error &) {
        made.supported = false;
      }
      it = cache.emplace(std::move(key), std::move(made)).first;
    }
    p = &it->second;
  }
  if (!p->supported)
    return false;
  dnnl::engine &engine = cpu_engine();
  execute(
      p->matmul, p->scratchpad,
      {{DNNL_ARG_SRC, memory(p->src, engine, const_cast<void *>(src.data))},
       {DNNL_ARG_WEIGHTS,
        memory(p->weights, engine, const_cast<void *>(weights.data))},
       {DNNL_ARG_DST, memory(p->dst, engine, const_cast<void *>(dst.data))}});
  return true;
}

bool onednn_has_bf16() {
  const auto isa = dnnl::get_effective_cpu_isa();
  return isa == dnnl::cpu_isa::avx512_core ||
         isa == dnnl::cpu_isa::avx512_core_vnni ||
         isa == dnnl::cpu_isa::avx512_core_bf16 ||
         isa == dnnl::cpu_isa::avx512_core_amx;
}

const char *onednn_isa() {
  switch (dnnl::get_effective_cpu_isa()) {
  case dnnl::cpu_isa::avx512_core_amx:
    return "avx512_core_amx";
  case dnnl::cpu_isa::avx512_core_bf16:
    return "avx512_core_bf16";
  case dnnl::cpu_isa::avx512_core_vnni:
    return "avx512_core_vnni";
  case dnnl::cpu_isa::avx512_core:
    return "avx512_core";
  case dnnl::cpu_isa::avx2_vnni:
    return "avx2_vnni";
  case dnnl::cpu_isa::avx2:
    return "avx2";
  case dnnl::cpu_isa::avx:
    return "avx";
  case dnnl::cpu_isa::sse41:
    return "sse41";
  default:
    return "other";
  }
}

} // namespace llmc::cpu
