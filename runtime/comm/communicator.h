//===- communicator.h - The collectives interface of the runtime ----------===//
//
// One group of ranks and the collectives a parallel plan issues on it:
// the MPI backend (mpi_communicator.h, CPU buffers) and the NCCL backend
// (nccl_communicator.h, GPU buffers) implement it, and one conformance test
// (test/unittests/comm) runs its body against every backend.
//
// Conventions shared by every method:
//  - Buffers are contiguous arrays of one element type, `dtype` (f32, bf16 or
//    i32, a plan buffer's), in the backend's memory (host for MPI, device
//    for NCCL); `n` counts elements, not bytes. Every method also has a
//    float32 form without `dtype`.
//  - Every rank of the group calls the same collectives in the same order with
//    the same `n` (and `root`); the plan verifier proves this before a run.
//  - Blocking methods return when this rank's result is in its buffer.
//  - In-place forms (all_gather, reduce_scatter) are used by all ranks of a
//    call or by none: MPI requires it, and plans are SPMD anyway.
//  - Sums are in the backend's own association order, so results may differ
//    in the last bits across backends, group sizes and buffer sizes; bf16
//    sums add in fp32 and round to bf16 at each step of it (NCCL's, and a
//    user-defined MPI operation's), so they differ more. i8 is not moved.
//  - Bad arguments (a peer or root outside the group) and backend errors print
//    file:line and the backend's message, then abort the whole job: one rank
//    cannot fail alone without hanging the others.
//
// Each method names its MPI and NCCL equivalents and its gradient dual in
// Megatron's vocabulary: the backward of a collective applied in the forward.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_COMM_COMMUNICATOR_H
#define LLMC_RUNTIME_COMM_COMMUNICATOR_H

#include "runtime/kernels/dtype.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace llmc::comm {

using kernels::DType;

//===----------------------------------------------------------------------===//
// Byte accounting
//===----------------------------------------------------------------------===//

/// The kinds of operation a communicator counts.
enum class Collective : int {
  AllReduce, // blocking and non-blocking alike
  AllGather,
  ReduceScatter,
  Broadcast,
  Send,
  Recv,
  Barrier,
};
inline constexpr int kNumCollectives = 7;

/// "all_reduce", "all_gather", ...: the names plans and reports use.
const char *collective_name(Collective kind);

/// Bytes this rank sends in one operation on a group of `p` ranks, counted by
/// the standard bandwidth-optimal (ring) algorithms on elements of `elem`
/// bytes (float32's 4 unless given). These
/// are the formulas the compiler's cost model predicts with; the backends
/// count with them too, so a plan's prediction and a run's stats() meet.
/// Integer division rounds down where p does not divide the product.
namespace ring_bytes {
inline constexpr uint64_t kElem = sizeof(float);
/// all_reduce of n elements: reduce-scatter then all-gather, 2(p-1)/p * n.
constexpr uint64_t all_reduce(uint64_t n, int p, uint64_t elem = kElem) {
  return p <= 1 ? 0 : 2 * uint64_t(p - 1) * n * elem / uint64_t(p);
}
/// all_gather, n elements from each rank: (p-1) * n.
constexpr uint64_t all_gather(uint64_t n, int p, uint64_t elem = kElem) {
  return p <= 1 ? 0 : uint64_t(p - 1) * n * elem;
}
/// reduce_scatter, n elements to each rank (p*n in): (p-1) * n.
constexpr uint64_t reduce_scatter(uint64_t n, int p, uint64_t elem = kElem) {
  return p <= 1 ? 0 : uint64_t(p - 1) * n * elem;
}
/// broadcast of n elements, pipelined along the ring root, root+1, ...: every
/// rank forwards n except the last one, root-1.
constexpr uint64_t broadcast(uint64_t n, int p, int rank, int root,
                             uint64_t elem = kElem) {
  return p <= 1 || rank == (root + p - 1) % p ? 0 : n * elem;
}
/// send of n elements: n. (recv sends nothing; stats() counts what it got.)
constexpr uint64_t send(uint64_t n, uint64_t elem = kElem) { return n * elem; }
} // namespace ring_bytes

/// What one communicator has done since construction or reset_stats().
struct CommStats {
  /// Bytes sent by this rank per kind (ring_bytes formulas); for Recv, the
  /// bytes received.
  std::array<uint64_t, kNumCollectives> bytes{};
  /// Operations issued per kind.
  std::array<uint64_t, kNumCollectives> calls{};

  uint64_t bytes_of(Collective kind) const { return bytes[int(kind)]; }
  uint64_t calls_of(Collective kind) const { return calls[int(kind)]; }
  /// Every kind but Recv: the bytes this rank put on the wire.
  uint64_t total_bytes_sent() const;
  /// Adds the bytes sent per kind (every kind but Recv) into `sum`.
  void add_sent_to(std::array<uint64_t, kNumCollectives> &sum) const {
    for (int k = 0; k < kNumCollectives; ++k)
      if (Collective(k) != Collective::Recv)
        sum[size_t(k)] += bytes[size_t(k)];
  }
};

//===----------------------------------------------------------------------===//
// Non-blocking handles
//===----------------------------------------------------------------------===//

/// An operation in flight. The buffer it was given must stay alive and
/// untouched until wait() returns. Destroying a handle waits for it.
class Request {
public:
  virtual ~Request() = default;
  /// Orders what comes after behind the operation: MPI blocks until the
  /// result is in its buffer; NCCL makes the device's default stream wait
  /// for it, so every kernel and copy issued after sees it, and returns.
  /// Idempotent.
  virtual void wait() = 0;
  /// Lets the operation progress without blocking (MPI advances messages
  /// only inside MPI calls, so the executor calls this between kernels);
  /// true once it is complete.
  ///   MPI: MPI_Test.  NCCL: cudaEventQuery.
  virtual bool test() = 0;
};

/// One operation of an exchange(): `n` elements of `data` sent to `peer`,
/// or received from it, matched by tag as send and recv are.
struct P2P {
  enum Kind { Send, Recv } kind;
  void *data;
  size_t n;
  int peer;
  int tag;
  DType dtype = DType::F32;
};

//===----------------------------------------------------------------------===//
// Communicator
//===----------------------------------------------------------------------===//

/// The float32 forms, for a backend class that overrides the typed ones
/// (which would hide them).
#define LLMC_COMMUNICATOR_FLOAT_FORMS                                          \
  using Communicator::all_reduce;                                              \
  using Communicator::all_reduce_async;                                        \
  using Communicator::all_gather;                                              \
  using Communicator::all_gather_async;                                        \
  using Communicator::reduce_scatter;                                          \
  using Communicator::reduce_scatter_async;                                    \
  using Communicator::broadcast;                                               \
  using Communicator::send;                                                    \
  using Communicator::isend;                                                   \
  using Communicator::recv;                                                    \
  using Communicator::irecv

class Communicator {
public:
  virtual ~Communicator() = default;
  Communicator(const Communicator &) = delete;
  Communicator &operator=(const Communicator &) = delete;

  /// This rank's index in the group, in [0, size()).
  virtual int rank() const = 0;
  /// The number of ranks in the group.
  virtual int size() const = 0;
  /// "mpi", "nccl": for messages and test names.
  virtual const char *backend() const = 0;

  /// Sum over the group, in place: every rank ends with the same n sums.
  ///   MPI: MPI_Allreduce(MPI_IN_PLACE, ..., MPI_SUM).  NCCL: ncclAllReduce.
  ///   Dual: forward all-reduce <-> backward identity (Megatron's `g` after a
  ///   row-parallel linear), and forward identity <-> backward all-reduce
  ///   (`f` before a column-parallel linear); DP gradient all-reduce.
  virtual void all_reduce(void *data, size_t n, DType dtype) = 0;
  void all_reduce(float *data, size_t n) { all_reduce(data, n, DType::F32); }

  /// all_reduce that returns at once; the sums are in `data` after wait().
  /// For overlapping bucketed DP gradient all-reduce with the backward pass.
  ///   MPI: MPI_Iallreduce + MPI_Wait.  NCCL: ncclAllReduce on the
  ///   communicator's stream + an event. Dual: as all_reduce.
  virtual std::unique_ptr<Request> all_reduce_async(void *data, size_t n,
                                                    DType dtype) = 0;
  std::unique_ptr<Request> all_reduce_async(float *data, size_t n) {
    return all_reduce_async(data, n, DType::F32);
  }

  /// Each rank gives n elements; every rank gets all size()*n of them in rank
  /// order: recv[r*n, (r+1)*n) = rank r's send. In place when
  /// send == recv + rank()*n; otherwise send and recv must not overlap.
  ///   MPI: MPI_Allgather.  NCCL: ncclAllGather.
  ///   Dual: forward all-gather <-> backward reduce-scatter along dim 0
  ///   (sequence parallelism before a column-parallel linear; ZeRO-3
  ///   parameter gather).
  virtual void all_gather(const void *send, void *recv, size_t n,
                          DType dtype) = 0;
  void all_gather(const float *send, float *recv, size_t n) {
    all_gather(send, recv, n, DType::F32);
  }

  /// all_gather that returns at once; send must stay untouched and recv
  /// holds the blocks after wait(). send and recv must not overlap. For
  /// sequence parallelism's re-gather, started before the input-gradient
  /// GEMM that it overlaps.
  ///   MPI: MPI_Iallgather + MPI_Wait.  NCCL: ncclAllGather on the
  ///   communicator's stream + an event. Dual: as all_gather.
  virtual std::unique_ptr<Request>
  all_gather_async(const void *send, void *recv, size_t n, DType dtype) = 0;
  std::unique_ptr<Request> all_gather_async(const float *send, float *recv,
                                            size_t n) {
    return all_gather_async(send, recv, n, DType::F32);
  }

  /// Sum over the group of size()*n elements, scattered: rank r gets the sums
  /// of slice [r*n, (r+1)*n) in recv. In place when recv == send + rank()*n
  /// (the other slices of send are then unspecified); otherwise send and
  /// recv must not overlap.
  ///   MPI: MPI_Reduce_scatter_block.  NCCL: ncclReduceScatter.
  ///   Dual: forward reduce-scatter <-> backward all-gather along dim 0
  ///   (sequence parallelism after a row-parallel linear; ZeRO-2 gradients).
  virtual void reduce_scatter(const void *send, void *recv, size_t n,
                              DType dtype) = 0;
  void reduce_scatter(const float *send, float *recv, size_t n) {
    reduce_scatter(send, recv, n, DType::F32);
  }

  /// reduce_scatter that returns at once; send must stay untouched and recv
  /// holds the sums after wait(). send and recv must not overlap. For ZeRO's
  /// gradient slices, started as the backward pass finishes each gradient.
  ///   MPI: MPI_Ireduce_scatter_block + MPI_Wait.  NCCL: ncclReduceScatter
  ///   on the communicator's stream + an event. Dual: as reduce_scatter.
  virtual std::unique_ptr<Request>
  reduce_scatter_async(const void *send, void *recv, size_t n, DType dtype) = 0;
  std::unique_ptr<Request> reduce_scatter_async(const float *send, float *recv,
                                                size_t n) {
    return reduce_scatter_async(send, recv, n, DType::F32);
  }

  /// Root's n elements copied to every rank, in place.
  ///   MPI: MPI_Bcast.  NCCL: ncclBroadcast (in place).
  ///   Dual: forward broadcast <-> backward reduce to root (sum); used for
  ///   initial parameters, where there is no backward.
  virtual void broadcast(void *data, size_t n, DType dtype, int root) = 0;
  void broadcast(float *data, size_t n, int root) {
    broadcast(data, n, DType::F32, root);
  }

  /// Point-to-point: n elements to `peer`, matched by the peer's recv with the
  /// same tag (tag >= 0). Blocking: with large messages the receiver must be
  /// in recv, so pairs order their calls (lower rank sends first).
  ///   MPI: MPI_Send.  NCCL: ncclSend (NCCL has no tags: messages between a
  ///   pair match in issue order, and the tag is only checked to be >= 0).
  ///   Dual: send activations forward <-> recv their gradients backward
  ///   (pipeline stage boundary).
  virtual void send(const void *data, size_t n, DType dtype, int peer,
                    int tag) = 0;
  void send(const float *data, size_t n, int peer, int tag) {
    send(data, n, DType::F32, peer, tag);
  }

  /// send that returns at once: `data` must stay untouched until wait().
  /// Pipeline stages send activations and gradients with it, so a stage
  /// never blocks on its neighbour's progress to hand a microbatch on.
  ///   MPI: MPI_Isend + MPI_Wait.  NCCL: ncclSend on the communicator's
  ///   stream + an event. Dual: as send.
  virtual std::unique_ptr<Request> isend(const void *data, size_t n,
                                         DType dtype, int peer, int tag) = 0;
  std::unique_ptr<Request> isend(const float *data, size_t n, int peer,
                                 int tag) {
    return isend(data, n, DType::F32, peer, tag);
  }

  /// Receives exactly n elements from `peer` with `tag` into data.
  ///   MPI: MPI_Recv.  NCCL: ncclRecv. Dual: send (see send).
  virtual void recv(void *data, size_t n, DType dtype, int peer, int tag) = 0;
  void recv(float *data, size_t n, int peer, int tag) {
    recv(data, n, DType::F32, peer, tag);
  }

  /// recv that returns at once: the n elements from `peer` with `tag` are
  /// in data after wait(), and data must stay untouched until then.
  /// Pipeline stages post the receive of their next activation or gradient
  /// ahead, so the message moves while they compute.
  ///   MPI: MPI_Irecv + MPI_Wait.  NCCL: ncclRecv on the communicator's
  ///   stream + an event; a receive posted ahead of a send on the same
  ///   stream blocks that send, so p2p calls that must progress together
  ///   go through exchange().
  ///   Dual: as recv.
  virtual std::unique_ptr<Request> irecv(void *data, size_t n, DType dtype,
                                         int peer, int tag) = 0;
  std::unique_ptr<Request> irecv(float *data, size_t n, int peer, int tag) {
    return irecv(data, n, DType::F32, peer, tag);
  }

  /// Sends and receives issued as one batch: they complete together
  /// whatever order each rank lists them in, so a pipeline step that sends
  /// to one neighbour and receives from another (or both ways with one)
  /// cannot deadlock. The buffers must stay untouched until wait().
  ///   MPI: MPI_Isend / MPI_Irecv of each, then wait for all (the default
  ///   below).  NCCL: ncclSend / ncclRecv inside ncclGroupStart /
  ///   ncclGroupEnd on the communicator's stream + an event (ungrouped, a
  ///   send queued behind a receive on one stream waits for it forever).
  ///   Dual: each send's dual is its peer's receive.
  virtual std::unique_ptr<Request> exchange(const std::vector<P2P> &ops);

  /// Returns once every rank of the group has entered it.
  ///   MPI: MPI_Barrier.  NCCL: none; a one-element ncclAllReduce + stream
  ///   synchronize. Dual: none (no data).
  virtual void barrier() = 0;

  /// A sub-group, one per mesh-axis slice: ranks passing the same color form
  /// one group, ordered by key (then by rank here). Collective over this
  /// group. A negative color means "in no group" and returns nullptr.
  /// E.g. on a dp x tp mesh with rank = d*tp + t: split(d, t) gives the
  /// tensor-parallel group of rank's row, split(t, d) its data-parallel one.
  ///   MPI: MPI_Comm_split.  NCCL: ncclCommSplit.
  virtual std::unique_ptr<Communicator> split(int color, int key) = 0;

  /// Bytes and calls counted since construction or the last reset_stats().
  const CommStats &stats() const { return stats_; }
  void reset_stats() { stats_ = CommStats{}; }

protected:
  Communicator() = default;
  /// Backends call this once per operation they issue.
  void record(Collective kind, uint64_t bytes) {
    stats_.bytes[int(kind)] += bytes;
    stats_.calls[int(kind)] += 1;
  }

private:
  CommStats stats_;
};

} // namespace llmc::comm

#endif // LLMC_RUNTIME_COMM_COMMUNICATOR_H
