#include "runtime/kernel_operands.h"

#include "runtime/comm/communicator.h"
#include "runtime/executor.h"
#include "runtime/plan/plan_file.h"

#include <cmath>
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
      cpu::check_paged_positions(c.host_ids(table), c.host_ids(positions), s);
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

int64_t vocab_first(const KernelCall &c, int64_t rows) {
  if (!c.has_param("vocab_parallel_axis"))
    return 0;
  return c.executor().communicator(c.param("vocab_parallel_axis").s()).rank() *
         rows;
}

AdamWOperands adamw_operands(const KernelCall &c) {
  const OptimizerStep &opt = c.opt();
  AdamWOperands a;
  a.hyper.lr = opt.lr;
  a.hyper.beta1 = opt.beta1;
  a.hyper.beta2 = opt.beta2;
  a.hyper.eps = opt.eps;
  a.hyper.weight_decay = c.param("decay").b() ? opt.weight_decay : 0.0f;
  // In double, as torch.optim.AdamW computes them.
  a.hyper.beta1_correction =
      float(1.0 - std::pow(double(opt.beta1), double(opt.step + 1)));
  a.hyper.beta2_correction =
      float(1.0 - std::pow(double(opt.beta2), double(opt.step + 1)));
  a.param = c.out(0);
  a.grad = c.in(0);
  a.n = c.n_out(1);
  if (c.has_param("zero_axis")) {
    int64_t first =
        c.executor().communicator(c.param("zero_axis").s()).rank() * a.n;
    if (c.n_out(0) != a.n)
      a.param += first;
    if (c.n_in(0) != a.n)
      a.grad += first;
  }
  return a;
}

// ins (a whole flat gradient), outs (this rank's slice).
void start_reduce_scatter(const KernelCall &c, comm::Communicator &comm) {
  if (c.n_in(0) != c.n_out(0) * comm.size())
    throw plan::PlanError("reduce_scatter_start: input of " +
                          std::to_string(c.n_in(0)) + " elements is not " +
                          std::to_string(comm.size()) + " slices of " +
                          std::to_string(c.n_out(0)));
  c.executor()
      .bucket(c.param("bucket").i())
      .push_back(
          comm.reduce_scatter_async(c.in(0), c.out(0), size_t(c.n_out(0))));
}

void start_all_gather(const KernelCall &c, comm::Communicator &comm) {
  if (c.n_out(0) != c.n_in(0) * comm.size())
    throw plan::PlanError("all_gather_start: output of " +
                          std::to_string(c.n_out(0)) + " elements is not " +
                          std::to_string(comm.size()) + " blocks of " +
                          std::to_string(c.n_in(0)));
  c.executor()
      .bucket(c.param("bucket").i())
      .push_back(comm.all_gather_async(c.in(0), c.out(0), size_t(c.n_in(0))));
}

Blocks wait_all_gather(const KernelCall &c, comm::Communicator &comm) {
  wait_bucket(c);
  return blocks_of(c.in_shape(0), c.param("dim").i(), comm.size());
}

// outs (a bucket of gradients).
void start_all_reduces(const KernelCall &c, comm::Communicator &comm) {
  auto &requests = c.executor().bucket(c.param("bucket").i());
  for (int i = 0; i < c.num_outs(); ++i)
    requests.push_back(comm.all_reduce_async(c.out(i), size_t(c.n_out(i))));
}

void wait_bucket(const KernelCall &c) {
  auto &requests = c.executor().bucket(c.param("bucket").i());
  for (auto &request : requests)
    request->wait();
  requests.clear();
}

// outs (a flat tensor): every rank's slice r gathered into place.
void all_gather_slices(const KernelCall &c, comm::Communicator &comm) {
  size_t slice = size_t(c.n_out(0) / comm.size());
  comm.all_gather(c.out(0) + comm.rank() * slice, c.out(0), slice);
}

} // namespace llmc
