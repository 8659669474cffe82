//===- nccl_communicator.h - The NCCL backend of the collectives ----------===//
//
// Communicator over an NCCL communicator, for device (GPU) buffers, one GPU
// per rank. Bootstrapped over MPI: rank 0 makes the unique id and broadcasts
// it. Every operation is issued on the communicator's own stream, and first
// waits for the work queued on the default stream (the executor's
// kernels), so a collective never reads a buffer a kernel is still
// writing. A blocking collective (all-reduce, all-gather, reduce-scatter,
// broadcast) returns once the default stream waits for it in turn: every
// kernel and copy issued after it (cudaMemcpy included, so the conformance
// test of the MPI backend holds unchanged) sees its result, while the host
// goes on issuing work instead of waiting for the network. Blocking
// point-to-point calls and barrier() synchronize the stream: pairs order
// their calls on the host (see Communicator::send).
//
// Compiled and linked in CI when LLMC_ENABLE_CUDA is ON; no GPU runs it here.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_COMM_NCCL_COMMUNICATOR_H
#define LLMC_RUNTIME_COMM_NCCL_COMMUNICATOR_H

#include "runtime/comm/communicator.h"
#include "runtime/comm/nccl_check.h"

#include <cuda_runtime.h>
#include <mpi.h>
#include <nccl.h>

namespace llmc::comm {

class NcclCommunicator final : public Communicator {
public:
  /// Joins one NCCL communicator over the ranks of `bootstrap` on CUDA device
  /// `device`. Collective over `bootstrap`.
  NcclCommunicator(MPI_Comm bootstrap, int device);
  ~NcclCommunicator() override;

  /// Picks the device of this rank's index on its node: the launcher's
  /// local rank (OMPI_COMM_WORLD_LOCAL_RANK, SLURM_LOCALID, LOCAL_RANK),
  /// else its index among the ranks sharing its memory
  /// (MPI_COMM_TYPE_SHARED); one GPU per rank, never two ranks on one
  /// (device_of_local_rank). Collective over `bootstrap`.
  static std::unique_ptr<NcclCommunicator> create(MPI_Comm bootstrap);

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const char *backend() const override { return "nccl"; }
  int device() const { return device_; }
  cudaStream_t stream() const { return stream_; }
  ncclComm_t handle() const { return comm_; }

  void all_reduce(void *data, size_t n, DType dtype) override;
  std::unique_ptr<Request> all_reduce_async(void *data, size_t n,
                                            DType dtype) override;
  void all_gather(const void *send, void *recv, size_t n, DType dtype) override;
  std::unique_ptr<Request> all_gather_async(const void *send, void *recv,
                                            size_t n, DType dtype) override;
  void reduce_scatter(const void *send, void *recv, size_t n,
                      DType dtype) override;
  std::unique_ptr<Request> reduce_scatter_async(const void *send, void *recv,
                                                size_t n, DType dtype) override;
  void broadcast(void *data, size_t n, DType dtype, int root) override;
  void send(const void *data, size_t n, DType dtype, int peer,
            int tag) override;
  std::unique_ptr<Request> isend(const void *data, size_t n, DType dtype,
                                 int peer, int tag) override;
  std::unique_ptr<Request> irecv(void *data, size_t n, DType dtype, int peer,
                                 int tag) override;
  void recv(void *data, size_t n, DType dtype, int peer, int tag) override;
  LLMC_COMMUNICATOR_FLOAT_FORMS;
  std::unique_ptr<Request> exchange(const std::vector<P2P> &ops) override;
  void barrier() override;
  std::unique_ptr<Communicator> split(int color, int key) override;

private:
  struct Adopt {};
  /// Takes ownership of a communicator made by ncclCommSplit.
  NcclCommunicator(ncclComm_t comm, int device, Adopt);
  void init_resources();
  void synchronize();
  /// Makes the default stream wait for the work enqueued on this one.
  void then_default_stream();
  /// Makes the stream wait for the work queued so far on the default
  /// (legacy) stream, where the executor's kernels run: each operation
  /// starts after the kernels that wrote its buffers.
  void after_compute();
  /// A request that completes with the work enqueued on the stream so far.
  std::unique_ptr<Request> stream_request();

  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  float *scratch_ = nullptr; // one float on the device, for barrier()
  cudaEvent_t computed_ = nullptr;
  int device_ = 0;
  int rank_ = 0;
  int size_ = 1;
};

} // namespace llmc::comm

#endif // LLMC_RUNTIME_COMM_NCCL_COMMUNICATOR_H
