#include "runtime/kernel_operands.h"

#include <stdexcept>
#include <string>

namespace llmc {

int64_t product(const std::vector<int64_t> &shape, size_t begin, size_t end) {
  int64_t n = 1;
  for (size_t i = begin; i < end; ++i)
    n *= shape[i];
  return n;
}

kernels::GemmShape gemm_of(const KernelCall &c) {
  return kernels::gemm_shape(c.in_shape(0), c.in_shape(1), c.out_shape(0),
                             c.param("transpose_lhs").b(),
                             c.param("transpose_rhs").b());
}

AttentionSizes attention_sizes(const KernelCall &c, int first) {
  auto q = c.in_shape(first), k = c.in_shape(first + 1),
       v = c.in_shape(first + 2);
  return {q[0], q[1], k[1], q[2], k[2], q[3], v[3]};
}

cpu::PagedSizes paged_sizes(const KernelCall &c, int x, int key_cache,
                            int value_cache, int table, int positions) {
  auto q = c.in_shape(x), t = c.in_shape(table);
  auto k = key_cache < 0 ? c.out_shape(0) : c.in_shape(key_cache);
  int64_t dv = value_cache < 0 ? k[3] : c.in_shape(value_cache)[3];
  cpu::PagedSizes s{q[0], q[2], q[1], k[1], q[3], dv, k[0], k[2], t[1]};
  std::string error =
      cpu::check_paged_positions(c.ids(table), c.ids(positions), s);
  if (!error.empty())
    throw std::runtime_error("paged KV cache: " + error);
  return s;
}

AxisParts axis_parts(const KernelCall &c, bool split) {
  auto whole = split ? c.in_shape(0) : c.out_shape(0);
  int64_t rank = int64_t(whole.size()), axis = c.param("axis").i();
  if (axis < 0)
    axis += rank;
  AxisParts p;
  int n = split ? c.num_outs() : c.num_ins();
  for (int i = 0; i < n; ++i) {
    p.sizes.push_back((split ? c.out_shape(i) : c.in_shape(i))[size_t(axis)]);
    p.parts.push_back(split ? c.out(i) : c.in(i));
  }
  p.outer = product(whole, 0, size_t(axis));
  p.inner = product(whole, size_t(axis) + 1, size_t(rank));
  return p;
}

SliceBox slice_box(const KernelCall &c) {
  const auto &values = c.param("offsets").ints().values();
  SliceBox box;
  box.offsets.assign(values.begin(), values.end());
  box.steps.assign(box.offsets.size(), 1);
  if (c.has_param("strides")) {
    const auto &s = c.param("strides").ints().values();
    box.steps.assign(s.begin(), s.end());
  }
  return box;
}

Blocks blocks_of(const std::vector<int64_t> &block_shape, int64_t dim,
                 int64_t ranks) {
  return {product(block_shape, 0, size_t(dim)), ranks,
          product(block_shape, size_t(dim), block_shape.size())};
}

} // namespace llmc
