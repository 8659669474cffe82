//===- CommConformanceTest.cpp - One conformance test for every backend ---===//
//
// Runs under mpirun (ctest: comm-conformance-np{1,2,4}). Every test body is
// written against the abstract Communicator and a backend's Memory, so each
// backend instantiates the same suite: MPI always; NCCL when built with CUDA
// and a GPU is visible (never on the build machines, where it is skipped).
// Data are small integers in float, so every sum is exact and every result
// is compared with ==.
//
//===----------------------------------------------------------------------===//
#include "runtime/comm/communicator.h"
#include "runtime/comm/mpi_communicator.h"
#include "runtime/cpu/bf16.h"

#if LLMC_COMM_TEST_NCCL
#include "runtime/comm/nccl_communicator.h"
#include "runtime/cuda/cuda_check.h"
#include <cuda_runtime.h>
#endif

#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

using llmc::comm::Collective;
using llmc::comm::Communicator;
using llmc::comm::DType;
using llmc::comm::P2P;
using llmc::comm::Request;

namespace {

//===----------------------------------------------------------------------===//
// Backends: a world communicator and the memory its buffers live in
//===----------------------------------------------------------------------===//

struct Backend {
  const char *name;
  /// False skips the suite for this backend (e.g. no GPU).
  bool (*available)();
  std::unique_ptr<Communicator> (*make_world)();
  float *(*alloc)(size_t n);
  void (*release)(float *data);
  void (*upload)(float *dst, const float *host, size_t n);
  void (*download)(float *host, const float *src, size_t n);
};

const Backend kMpiBackend = {
    "mpi",
    [] { return true; },
    []() -> std::unique_ptr<Communicator> {
      return llmc::comm::MpiCommunicator::world();
    },
    [](size_t n) { return new float[n == 0 ? 1 : n](); },
    [](float *data) { delete[] data; },
    [](float *dst, const float *host, size_t n) {
      std::memcpy(dst, host, n * sizeof(float));
    },
    [](float *host, const float *src, size_t n) {
      std::memcpy(host, src, n * sizeof(float));
    },
};

#if LLMC_COMM_TEST_NCCL
const Backend kNcclBackend = {
    "nccl",
    [] {
      int devices = 0;
      return cudaGetDeviceCount(&devices) == cudaSuccess && devices > 0;
    },
    []() -> std::unique_ptr<Communicator> {
      return llmc::comm::NcclCommunicator::create(MPI_COMM_WORLD);
    },
    [](size_t n) {
      float *data = nullptr;
      LLMC_CUDA_CHECK(cudaMalloc(&data, (n == 0 ? 1 : n) * sizeof(float)));
      LLMC_CUDA_CHECK(cudaMemset(data, 0, (n == 0 ? 1 : n) * sizeof(float)));
      return data;
    },
    [](float *data) { LLMC_CUDA_CHECK(cudaFree(data)); },
    [](float *dst, const float *host, size_t n) {
      LLMC_CUDA_CHECK(
          cudaMemcpy(dst, host, n * sizeof(float), cudaMemcpyHostToDevice));
    },
    [](float *host, const float *src, size_t n) {
      LLMC_CUDA_CHECK(
          cudaMemcpy(host, src, n * sizeof(float), cudaMemcpyDeviceToHost));
    },
};
#endif

/// n floats in the backend's memory.
class Buffer {
public:
  Buffer(const Backend &backend, size_t n)
      : backend_(backend), data_(backend.alloc(n)), n_(n) {}
  Buffer(const Backend &backend, const std::vector<float> &host)
      : Buffer(backend, host.size()) {
    backend_.upload(data_, host.data(), n_);
  }
  ~Buffer() { backend_.release(data_); }
  Buffer(const Buffer &) = delete;
  Buffer &operator=(const Buffer &) = delete;

  float *data() { return data_; }
  std::vector<float> host() const {
    std::vector<float> out(n_);
    backend_.download(out.data(), data_, n_);
    return out;
  }

private:
  const Backend &backend_;
  float *data_;
  size_t n_;
};

class CommConformance : public ::testing::TestWithParam<const Backend *> {
protected:
  void SetUp() override {
    if (!GetParam()->available())
      GTEST_SKIP() << GetParam()->name << " backend unavailable here";
    comm = GetParam()->make_world();
    p = comm->size();
    r = comm->rank();
  }
  void TearDown() override { comm.reset(); }

  Buffer buffer(const std::vector<float> &host) { return {*GetParam(), host}; }
  Buffer zeros(size_t n) { return {*GetParam(), n}; }

  std::unique_ptr<Communicator> comm;
  int p = 1;
  int r = 0;
};

//===----------------------------------------------------------------------===//
// Group shape
//===----------------------------------------------------------------------===//

// Tests that ranks are 0..size-1, each once, and every rank agrees on size.
TEST_P(CommConformance, RanksAreDistinctAndDense) {
  ASSERT_GE(r, 0);
  ASSERT_LT(r, p);
  Buffer ranks = zeros(p);
  Buffer mine = buffer({float(r)});
  comm->all_gather(mine.data(), ranks.data(), 1);
  std::vector<float> got = ranks.host();
  for (int i = 0; i < p; ++i)
    EXPECT_EQ(got[i], float(i));
}

//===----------------------------------------------------------------------===//
// all_reduce
//===----------------------------------------------------------------------===//

// Tests that all_reduce sums in place, on a size no group size divides.
TEST_P(CommConformance, AllReduceSumsInPlace) {
  const size_t n = 1001;
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i)
    x[i] = float(i + 1000 * r);
  Buffer data = buffer(x);
  comm->all_reduce(data.data(), n);
  std::vector<float> got = data.host();
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(got[i], float(p * i + 1000 * p * (p - 1) / 2)) << "at " << i;
}

// Tests a buffer large enough for the backends' rendezvous protocols.
TEST_P(CommConformance, AllReduceLargeBuffer) {
  const size_t n = size_t(1) << 18;
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i)
    x[i] = float(i % 97 + r);
  Buffer data = buffer(x);
  comm->all_reduce(data.data(), n);
  std::vector<float> got = data.host();
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(got[i], float(p * (i % 97) + p * (p - 1) / 2)) << "at " << i;
}

// Tests two overlapping non-blocking all-reduces (DP buckets), one driven to
// completion by test() and both waited out of order, and a third completed
// by its handle's destructor.
TEST_P(CommConformance, AllReduceAsyncOverlapsBuckets) {
  std::vector<float> a(300), b(77), c(5);
  for (size_t i = 0; i < a.size(); ++i)
    a[i] = float(i + r);
  for (size_t i = 0; i < b.size(); ++i)
    b[i] = float(2 * i + 3 * r);
  for (size_t i = 0; i < c.size(); ++i)
    c[i] = float(r + 1);
  Buffer da = buffer(a), db = buffer(b), dc = buffer(c);
  std::unique_ptr<Request> ra = comm->all_reduce_async(da.data(), a.size());
  std::unique_ptr<Request> rb = comm->all_reduce_async(db.data(), b.size());
  // test() lets b progress until it completes, and stays true after.
  while (!rb->test()) {
  }
  EXPECT_TRUE(rb->test());
  rb->wait();
  ra->wait();
  ra->wait(); // idempotent
  EXPECT_TRUE(ra->test());
  comm->all_reduce_async(dc.data(), c.size()).reset();

  std::vector<float> ga = da.host(), gb = db.host(), gc = dc.host();
  const int ranks_sum = p * (p - 1) / 2;
  for (size_t i = 0; i < a.size(); ++i)
    ASSERT_EQ(ga[i], float(p * i + ranks_sum)) << "bucket a at " << i;
  for (size_t i = 0; i < b.size(); ++i)
    ASSERT_EQ(gb[i], float(2 * p * i + 3 * ranks_sum)) << "bucket b at " << i;
  for (size_t i = 0; i < c.size(); ++i)
    ASSERT_EQ(gc[i], float(ranks_sum + p)) << "bucket c at " << i;
}

//===----------------------------------------------------------------------===//
// all_gather and reduce_scatter
//===----------------------------------------------------------------------===//

// Tests that all_gather concatenates the ranks' blocks in rank order.
TEST_P(CommConformance, AllGatherInRankOrder) {
  const size_t n = 5;
  std::vector<float> mine(n);
  for (size_t i = 0; i < n; ++i)
    mine[i] = float(100 * r + i);
  Buffer send = buffer(mine);
  Buffer recv = zeros(p * n);
  comm->all_gather(send.data(), recv.data(), n);
  std::vector<float> got = recv.host();
  for (int q = 0; q < p; ++q)
    for (size_t i = 0; i < n; ++i)
      EXPECT_EQ(got[q * n + i], float(100 * q + i));
}

// Tests two non-blocking all-gathers in flight at once (sequence
// parallelism's re-gathers), waited out of order, giving what the blocking
// form gives.
TEST_P(CommConformance, AllGatherAsyncMatchesBlocking) {
  const size_t na = 7, nb = 2;
  std::vector<float> a(na), b(nb);
  for (size_t i = 0; i < na; ++i)
    a[i] = float(100 * r + i);
  for (size_t i = 0; i < nb; ++i)
    b[i] = float(-7 * r - i);
  Buffer da = buffer(a), db = buffer(b);
  Buffer ga = zeros(p * na), gb = zeros(p * nb);
  Buffer want_a = zeros(p * na), want_b = zeros(p * nb);
  std::unique_ptr<Request> ra =
      comm->all_gather_async(da.data(), ga.data(), na);
  std::unique_ptr<Request> rb =
      comm->all_gather_async(db.data(), gb.data(), nb);
  rb->wait();
  while (!ra->test()) {
  }
  ra->wait();
  comm->all_gather(da.data(), want_a.data(), na);
  comm->all_gather(db.data(), want_b.data(), nb);
  EXPECT_EQ(ga.host(), want_a.host());
  EXPECT_EQ(gb.host(), want_b.host());
}

// Tests the in-place form: this rank's block already at recv + rank*n.
TEST_P(CommConformance, AllGatherInPlace) {
  const size_t n = 3;
  std::vector<float> x(p * n, -1.0f);
  for (size_t i = 0; i < n; ++i)
    x[r * n + i] = float(10 * r + i);
  Buffer data = buffer(x);
  comm->all_gather(data.data() + r * n, data.data(), n);
  std::vector<float> got = data.host();
  for (int q = 0; q < p; ++q)
    for (size_t i = 0; i < n; ++i)
      EXPECT_EQ(got[q * n + i], float(10 * q + i));
}

// Tests that reduce_scatter gives rank r the sums of slice r.
TEST_P(CommConformance, ReduceScatterSumsEachSlice) {
  const size_t n = 7;
  std::vector<float> x(p * n);
  for (size_t j = 0; j < x.size(); ++j)
    x[j] = float(j + 10 * r);
  Buffer send = buffer(x);
  Buffer recv = zeros(n);
  comm->reduce_scatter(send.data(), recv.data(), n);
  std::vector<float> got = recv.host();
  for (size_t i = 0; i < n; ++i)
    EXPECT_EQ(got[i], float(p * (r * n + i) + 10 * p * (p - 1) / 2));
}

// Tests two non-blocking reduce-scatters in flight at once (ZeRO's gradient
// slices), waited out of order, giving what the blocking form gives.
TEST_P(CommConformance, ReduceScatterAsyncMatchesBlocking) {
  const size_t na = 9, nb = 3;
  std::vector<float> a(p * na), b(p * nb);
  for (size_t j = 0; j < a.size(); ++j)
    a[j] = float(j + 3 * r);
  for (size_t j = 0; j < b.size(); ++j)
    b[j] = float(2 * j * (r + 1));
  Buffer da = buffer(a), db = buffer(b);
  Buffer sa = zeros(na), sb = zeros(nb), want_a = zeros(na), want_b = zeros(nb);
  std::unique_ptr<Request> ra =
      comm->reduce_scatter_async(da.data(), sa.data(), na);
  std::unique_ptr<Request> rb =
      comm->reduce_scatter_async(db.data(), sb.data(), nb);
  rb->wait();
  while (!ra->test()) {
  }
  ra->wait();
  comm->reduce_scatter(da.data(), want_a.data(), na);
  comm->reduce_scatter(db.data(), want_b.data(), nb);
  EXPECT_EQ(sa.host(), want_a.host());
  EXPECT_EQ(sb.host(), want_b.host());
}

// Tests the in-place form: the result lands in send + rank*n.
TEST_P(CommConformance, ReduceScatterInPlace) {
  const size_t n = 4;
  std::vector<float> x(p * n);
  for (size_t j = 0; j < x.size(); ++j)
    x[j] = float(j * (r + 1));
  Buffer data = buffer(x);
  comm->reduce_scatter(data.data(), data.data() + r * n, n);
  std::vector<float> got = data.host();
  for (size_t i = 0; i < n; ++i)
    EXPECT_EQ(got[r * n + i], float((r * n + i) * p * (p + 1) / 2));
}

// Tests the duality the sharding passes rely on: reduce-scatter followed by
// all-gather along dim 0 is an all-reduce.
TEST_P(CommConformance, ReduceScatterThenAllGatherIsAllReduce) {
  const size_t n = 6;
  std::vector<float> x(p * n);
  for (size_t j = 0; j < x.size(); ++j)
    x[j] = float((j * 7 + r * 13) % 50);
  Buffer reduced = buffer(x), full = buffer(x), shard = zeros(n);
  comm->all_reduce(reduced.data(), p * n);
  comm->reduce_scatter(full.data(), shard.data(), n);
  comm->all_gather(shard.data(), full.data(), n);
  EXPECT_EQ(full.host(), reduced.host());
}

//===----------------------------------------------------------------------===//
// broadcast, send/recv, barrier
//===----------------------------------------------------------------------===//

// Tests broadcast from every root in turn.
TEST_P(CommConformance, BroadcastFromEveryRoot) {
  const size_t n = 9;
  for (int root = 0; root < p; ++root) {
    std::vector<float> x(n, -1.0f);
    if (r == root)
      for (size_t i = 0; i < n; ++i)
        x[i] = float(7 * root + i);
    Buffer data = buffer(x);
    comm->broadcast(data.data(), n, root);
    std::vector<float> got = data.host();
    for (size_t i = 0; i < n; ++i)
      EXPECT_EQ(got[i], float(7 * root + i)) << "root " << root;
  }
}

// Tests pairwise exchange (2k <-> 2k+1): the lower rank sends first, two
// messages with different tags arrive in issue order.
TEST_P(CommConformance, SendRecvPairsExchange) {
  if (p < 2)
    GTEST_SKIP() << "needs 2 ranks";
  const int peer = r ^ 1;
  if (peer >= p)
    return;               // the odd one out of an odd group sits this out
  const size_t n = 40000; // past the eager limit: needs the ordering
  std::vector<float> mine(n), second(3, float(r));
  for (size_t i = 0; i < n; ++i)
    mine[i] = float(r * 1000 + i % 1000);
  Buffer out = buffer(mine), out2 = buffer(second);
  Buffer in = zeros(n), in2 = zeros(3);
  auto send_both = [&] {
    comm->send(out.data(), n, peer, 1);
    comm->send(out2.data(), 3, peer, 2);
  };
  auto recv_both = [&] {
    comm->recv(in.data(), n, peer, 1);
    comm->recv(in2.data(), 3, peer, 2);
  };
  if (r < peer) {
    send_both();
    recv_both();
  } else {
    recv_both();
    send_both();
  }
  std::vector<float> got = in.host();
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(got[i], float(peer * 1000 + i % 1000)) << "at " << i;
  EXPECT_EQ(in2.host(), std::vector<float>(3, float(peer)));
}

// Tests that isend and irecv return at once: both ranks of a pair post a
// large receive and a large send before waiting for either (blocking calls
// past the eager limit would deadlock), and the data arrives once waited
// for.
TEST_P(CommConformance, IsendAndIrecvDoNotBlock) {
  if (p < 2)
    GTEST_SKIP() << "needs 2 ranks";
  const int peer = r ^ 1;
  if (peer >= p)
    return;
  const size_t n = 40000;
  std::vector<float> mine(n);
  for (size_t i = 0; i < n; ++i)
    mine[i] = float(r * 1000 + i % 1000);
  Buffer out = buffer(mine), in = zeros(n);
  // The receive is posted first and waited for last: neither blocks.
  auto received = comm->irecv(in.data(), n, peer, 5);
  auto request = comm->isend(out.data(), n, peer, 5);
  received->wait();
  request->wait();
  std::vector<float> got = in.host();
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(got[i], float(peer * 1000 + i % 1000)) << "at " << i;
  EXPECT_EQ(comm->stats().calls_of(Collective::Send), 1u);
  EXPECT_EQ(comm->stats().calls_of(Collective::Recv), 1u);
}

// Tests exchange(): every rank sends a large message to the next rank of a
// ring and receives one from the previous, listing its send first (with
// blocking sends, or NCCL calls outside a group, that order deadlocks),
// and on two ranks a second pair of messages the other way round in the
// same batch.
TEST_P(CommConformance, ExchangeAroundARingDoesNotDeadlock) {
  if (p < 2)
    GTEST_SKIP() << "needs 2 ranks";
  const size_t n = 40000;
  const int next = (r + 1) % p, prev = (r + p - 1) % p;
  std::vector<float> mine(n);
  for (size_t i = 0; i < n; ++i)
    mine[i] = float(r * 1000 + i % 1000);
  Buffer out = buffer(mine), in = zeros(n), back = zeros(n);
  std::vector<P2P> ops = {{P2P::Send, out.data(), n, next, 3},
                          {P2P::Recv, in.data(), n, prev, 3}};
  if (p == 2) // both ways with the one neighbour, receive listed first
    ops.insert(ops.begin(), {P2P::Recv, back.data(), n, next, 4});
  if (p == 2)
    ops.push_back({P2P::Send, out.data(), n, prev, 4});
  comm->exchange(ops)->wait();
  std::vector<float> got = in.host();
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(got[i], float(prev * 1000 + i % 1000)) << "at " << i;
  if (p == 2) {
    got = back.host();
    for (size_t i = 0; i < n; ++i)
      ASSERT_EQ(got[i], float(next * 1000 + i % 1000)) << "at " << i;
  }
  EXPECT_EQ(comm->stats().calls_of(Collective::Send), p == 2 ? 2u : 1u);
  EXPECT_EQ(comm->stats().calls_of(Collective::Recv), p == 2 ? 2u : 1u);
}

// Tests a pipeline chain 0 -> 1 -> ... -> p-1: each stage adds its rank.
TEST_P(CommConformance, SendRecvPipelineChain) {
  if (p < 2)
    GTEST_SKIP() << "needs 2 ranks";
  const size_t n = 16;
  Buffer act = zeros(n);
  if (r > 0)
    comm->recv(act.data(), n, r - 1, 7);
  std::vector<float> x = act.host();
  for (size_t i = 0; i < n; ++i)
    x[i] += float(r + (r == 0 ? i : 0));
  Buffer next = buffer(x);
  if (r + 1 < p)
    comm->send(next.data(), n, r + 1, 7);
  if (r == p - 1)
    for (size_t i = 0; i < n; ++i)
      EXPECT_EQ(x[i], float(i + p * (p - 1) / 2));
}

// Tests that barrier returns on every rank (a hang fails by ctest timeout).
TEST_P(CommConformance, BarrierReturns) {
  comm->barrier();
  comm->barrier();
  EXPECT_EQ(comm->stats().calls_of(Collective::Barrier), 2u);
}

//===----------------------------------------------------------------------===//
// split: communicators per mesh axis
//===----------------------------------------------------------------------===//

// Tests a 2 x (p/2) mesh (2 x 2 from 4 ranks), rank = row*cols + col: the
// row group (split(row, col)) holds the row's ranks in column order and the
// column group (split(col, row)) the column's ranks in row order.
TEST_P(CommConformance, SplitGivesMeshRowsAndColumns) {
  if (p % 2 != 0)
    GTEST_SKIP() << "needs an even number of ranks";
  const int rows = 2, cols = p / 2;
  const int row = r / cols, col = r % cols;

  std::unique_ptr<Communicator> row_comm = comm->split(row, col);
  std::unique_ptr<Communicator> col_comm = comm->split(col, row);
  ASSERT_NE(row_comm, nullptr);
  ASSERT_NE(col_comm, nullptr);
  EXPECT_EQ(row_comm->size(), cols);
  EXPECT_EQ(row_comm->rank(), col);
  EXPECT_EQ(col_comm->size(), rows);
  EXPECT_EQ(col_comm->rank(), row);

  Buffer me = buffer({float(r)});
  Buffer row_members = zeros(cols), col_members = zeros(rows);
  row_comm->all_gather(me.data(), row_members.data(), 1);
  col_comm->all_gather(me.data(), col_members.data(), 1);
  std::vector<float> got_row = row_members.host();
  std::vector<float> got_col = col_members.host();
  for (int c = 0; c < cols; ++c)
    EXPECT_EQ(got_row[c], float(row * cols + c)) << "row " << row;
  for (int q = 0; q < rows; ++q)
    EXPECT_EQ(got_col[q], float(q * cols + col)) << "column " << col;

  // A collective on one axis only sums over that axis.
  Buffer sum = buffer({float(r)});
  col_comm->all_reduce(sum.data(), 1);
  EXPECT_EQ(sum.host()[0], float(col + (cols + col)));
  // Each sub-communicator counts its own traffic.
  EXPECT_EQ(row_comm->stats().calls_of(Collective::AllReduce), 0u);
  EXPECT_EQ(col_comm->stats().calls_of(Collective::AllReduce), 1u);
}

// Tests that key orders the new group and a negative color leaves it.
TEST_P(CommConformance, SplitOrdersByKeyAndExcludesNegativeColor) {
  std::unique_ptr<Communicator> reversed = comm->split(0, -r);
  ASSERT_NE(reversed, nullptr);
  EXPECT_EQ(reversed->size(), p);
  EXPECT_EQ(reversed->rank(), p - 1 - r);

  std::unique_ptr<Communicator> without_0 = comm->split(r == 0 ? -1 : 0, r);
  if (r == 0) {
    EXPECT_EQ(without_0, nullptr);
    return;
  }
  ASSERT_NE(without_0, nullptr);
  EXPECT_EQ(without_0->size(), p - 1);
  EXPECT_EQ(without_0->rank(), r - 1);
  Buffer one = buffer({1.0f});
  without_0->all_reduce(one.data(), 1);
  EXPECT_EQ(one.host()[0], float(p - 1));
}

//===----------------------------------------------------------------------===//
// Byte accounting
//===----------------------------------------------------------------------===//

// Tests stats() against the ring formulas, written out by hand here so the
// test does not check ring_bytes against itself.
//===----------------------------------------------------------------------===//
// Element types other than f32
//===----------------------------------------------------------------------===//

// n elements of T (uint16_t holding bf16, int32_t) in the backend's memory,
// in a float buffer of as many bytes or a little more.
template <typename T> class Typed {
public:
  Typed(const Backend &backend, const std::vector<T> &host)
      : n_(host.size()), words_(backend, words_of(host)) {}
  void *data() { return words_.data(); }
  std::vector<T> host() const {
    std::vector<float> words = words_.host();
    std::vector<T> out(n_);
    std::memcpy(out.data(), words.data(), n_ * sizeof(T));
    return out;
  }

private:
  static std::vector<float> words_of(const std::vector<T> &host) {
    std::vector<float> words((host.size() * sizeof(T) + 3) / 4);
    std::memcpy(words.data(), host.data(), host.size() * sizeof(T));
    return words;
  }
  size_t n_;
  Buffer words_;
};

uint16_t bf16(float x) { return llmc::cpu::to_bf16(x); }

// Tests i32 sums beyond float's exact integers, and bf16 sums in bf16
// buffers (small integers, exact at every step of any order), with each
// element's bytes counted.
TEST_P(CommConformance, AllReduceSumsI32AndBf16) {
  const size_t n = 77;
  const int32_t big = (1 << 24) + 1; // float would round it to 2^24
  std::vector<int32_t> ints(n);
  std::vector<uint16_t> halves(n);
  for (size_t i = 0; i < n; ++i) {
    ints[i] = big + int32_t(i) * (r + 1);
    halves[i] = bf16(float(i % 8 + r));
  }
  Typed<int32_t> a(*GetParam(), ints);
  Typed<uint16_t> b(*GetParam(), halves);
  comm->reset_stats();
  comm->all_reduce(a.data(), n, DType::I32);
  comm->all_reduce_async(b.data(), n, DType::BF16)->wait();
  std::vector<int32_t> sums = a.host();
  std::vector<uint16_t> bf16_sums = b.host();
  for (size_t i = 0; i < n; ++i) {
    ASSERT_EQ(sums[i], p * big + int32_t(i) * p * (p + 1) / 2) << "at " << i;
    ASSERT_EQ(bf16_sums[i], bf16(float(p * int(i % 8) + p * (p - 1) / 2)))
        << "at " << i;
  }
  EXPECT_EQ(comm->stats().bytes_of(Collective::AllReduce),
            llmc::comm::ring_bytes::all_reduce(n, p, 4) +
                llmc::comm::ring_bytes::all_reduce(n, p, 2));
}

// Tests bf16 blocks gathered in rank order (odd n: blocks at 2-byte
// offsets), and bf16 scattered sums, broadcast and messages.
TEST_P(CommConformance, Bf16GatherScatterBroadcastAndMessages) {
  const size_t n = 5;
  std::vector<uint16_t> mine(n), full(p * n);
  for (size_t i = 0; i < n; ++i)
    mine[i] = bf16(float(10 * r + int(i)));
  for (size_t i = 0; i < full.size(); ++i)
    full[i] = bf16(float(i));
  Typed<uint16_t> send(*GetParam(), mine), gathered(*GetParam(), full),
      scattered(*GetParam(), mine), whole(*GetParam(), full);
  comm->reset_stats();
  comm->all_gather(send.data(), gathered.data(), n, DType::BF16);
  comm->reduce_scatter(whole.data(), scattered.data(), n, DType::BF16);
  std::vector<uint16_t> got = gathered.host(), sums = scattered.host();
  for (int q = 0; q < p; ++q)
    for (size_t i = 0; i < n; ++i)
      ASSERT_EQ(got[q * n + i], bf16(float(10 * q + int(i))));
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(sums[i], bf16(float(p * int(r * n + i))));
  EXPECT_EQ(comm->stats().bytes_of(Collective::AllGather),
            uint64_t(p - 1) * n * 2);

  Typed<uint16_t> root_data(*GetParam(),
                            r == p - 1 ? mine : std::vector<uint16_t>(n));
  comm->broadcast(root_data.data(), n, DType::BF16, p - 1);
  got = root_data.host();
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(got[i], bf16(float(10 * (p - 1) + int(i))));

  if (p < 2)
    return;
  const int next = (r + 1) % p, prev = (r + p - 1) % p;
  Typed<uint16_t> in(*GetParam(), std::vector<uint16_t>(n));
  comm->exchange({{P2P::Send, send.data(), n, next, 7, DType::BF16},
                  {P2P::Recv, in.data(), n, prev, 7, DType::BF16}})
      ->wait();
  got = in.host();
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(got[i], bf16(float(10 * prev + int(i))));
}

TEST_P(CommConformance, ByteCountersFollowRingFormulas) {
  const uint64_t P = p, F = sizeof(float);
  Buffer a = zeros(1000), b = zeros(24), gathered = zeros(p * 10);
  Buffer shard = zeros(10), full = zeros(p * 10), bcast = zeros(100);
  comm->barrier();
  comm->reset_stats();

  comm->all_reduce(a.data(), 1000);
  comm->all_reduce_async(b.data(), 24)->wait();
  comm->all_gather(shard.data(), gathered.data(), 10);
  comm->all_gather_async(shard.data(), gathered.data(), 10)->wait();
  comm->reduce_scatter(full.data(), shard.data(), 10);
  comm->reduce_scatter_async(full.data(), shard.data(), 10)->wait();
  comm->broadcast(bcast.data(), 100, 0);
  comm->barrier();
  const int peer = r ^ 1;
  const bool paired = peer < p;
  if (paired) {
    if (r < peer)
      comm->send(a.data(), 50, peer, 3);
    else
      comm->recv(a.data(), 50, peer, 3);
  }

  const llmc::comm::CommStats &s = comm->stats();
  // all_reduce: 2(p-1)/p * n * 4 per call (integer division).
  const uint64_t all_reduce =
      2 * (P - 1) * 1000 * F / P + 2 * (P - 1) * 24 * F / P;
  EXPECT_EQ(s.bytes_of(Collective::AllReduce), all_reduce);
  EXPECT_EQ(s.calls_of(Collective::AllReduce), 2u);
  // all_gather and reduce_scatter: (p-1) * n * 4.
  EXPECT_EQ(s.bytes_of(Collective::AllGather), 2 * (P - 1) * 10 * F);
  EXPECT_EQ(s.bytes_of(Collective::ReduceScatter), 2 * (P - 1) * 10 * F);
  EXPECT_EQ(s.calls_of(Collective::ReduceScatter), 2u);
  // broadcast from 0 along the ring: everyone forwards n*4 but rank p-1.
  const uint64_t bcast_bytes = (p == 1 || r == p - 1) ? 0 : 100 * F;
  EXPECT_EQ(s.bytes_of(Collective::Broadcast), bcast_bytes);
  EXPECT_EQ(s.bytes_of(Collective::Barrier), 0u);
  EXPECT_EQ(s.calls_of(Collective::Barrier), 1u);
  const uint64_t sent = paired && r < peer ? 50 * F : 0;
  const uint64_t received = paired && r > peer ? 50 * F : 0;
  EXPECT_EQ(s.bytes_of(Collective::Send), sent);
  EXPECT_EQ(s.bytes_of(Collective::Recv), received);
  EXPECT_EQ(s.total_bytes_sent(),
            all_reduce + 4 * (P - 1) * 10 * F + bcast_bytes + sent);
  EXPECT_STREQ(llmc::comm::collective_name(Collective::ReduceScatter),
               "reduce_scatter");
}

std::vector<const Backend *> all_backends() {
  std::vector<const Backend *> backends = {&kMpiBackend};
#if LLMC_COMM_TEST_NCCL
  backends.push_back(&kNcclBackend);
#endif
  return backends;
}

INSTANTIATE_TEST_SUITE_P(
    Backends, CommConformance, ::testing::ValuesIn(all_backends()),
    [](const ::testing::TestParamInfo<const Backend *> &info) {
      return std::string(info.param->name);
    });

//===----------------------------------------------------------------------===//
// main: one gtest run per rank
//===----------------------------------------------------------------------===//

// On ranks other than 0, replaces gtest's printer: only failures, prefixed
// with the rank, so the mpirun log stays readable.
class RankFailurePrinter : public ::testing::EmptyTestEventListener {
public:
  explicit RankFailurePrinter(int rank) : rank_(rank) {}
  void OnTestPartResult(const ::testing::TestPartResult &result) override {
    if (!result.failed())
      return;
    std::fprintf(stderr, "[rank %d] %s:%d: Failure\n%s\n", rank_,
                 result.file_name() ? result.file_name() : "?",
                 result.line_number(), result.summary());
  }

private:
  int rank_;
};

// After each test, tells rank 0 which ranks failed it. Every rank runs the
// same tests in the same order, so the gather always matches.
class FailedRanksReporter : public ::testing::EmptyTestEventListener {
public:
  FailedRanksReporter(int rank, int size) : rank_(rank), size_(size) {}
  void OnTestEnd(const ::testing::TestInfo &info) override {
    int failed = info.result()->Failed() ? 1 : 0;
    std::vector<int> all(size_);
    LLMC_MPI_CHECK(MPI_Gather(&failed, 1, MPI_INT, all.data(), 1, MPI_INT, 0,
                              MPI_COMM_WORLD));
    if (rank_ != 0)
      return;
    std::string ranks;
    for (int q = 0; q < size_; ++q)
      if (all[q])
        ranks += " " + std::to_string(q);
    if (!ranks.empty())
      std::printf("[ FAILED ON RANKS ]%s: %s.%s\n", ranks.c_str(),
                  info.test_suite_name(), info.name());
  }

private:
  int rank_;
  int size_;
};

} // namespace

int main(int argc, char **argv) {
  LLMC_MPI_CHECK(MPI_Init(&argc, &argv));
  ::testing::InitGoogleTest(&argc, argv);
  int rank = 0, size = 1;
  LLMC_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
  LLMC_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size));

  ::testing::TestEventListeners &listeners =
      ::testing::UnitTest::GetInstance()->listeners();
  if (rank != 0) {
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new RankFailurePrinter(rank));
  }
  listeners.Append(new FailedRanksReporter(rank, size));

  int result = RUN_ALL_TESTS();
  LLMC_MPI_CHECK(MPI_Finalize());
  return result;
}
