//===- mpi_communicator.h - The MPI backend of the collectives ------------===//
//
// Communicator over an MPI communicator, for host (CPU) buffers. Runs
// anywhere OpenMPI runs, launched by mpirun or srun. The caller owns
// MPI_Init/MPI_Finalize and destroys every MpiCommunicator before finalizing.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_COMM_MPI_COMMUNICATOR_H
#define LLMC_RUNTIME_COMM_MPI_COMMUNICATOR_H

#include "runtime/comm/communicator.h"
#include "runtime/comm/mpi_check.h"

#include <mpi.h>

namespace llmc::comm {

/// The communicator of the whole job: MPI_COMM_WORLD, unless processes that
/// started as separate MPI jobs were joined into one (torchrun_world.h).
MPI_Comm job_world();
void set_job_world(MPI_Comm comm);

class MpiCommunicator final : public Communicator {
public:
  /// Duplicates `comm` (so our traffic never matches the caller's) and sets
  /// MPI_ERRORS_RETURN on the copy so LLMC_MPI_CHECK reports every error.
  /// Collective over `comm`.
  explicit MpiCommunicator(MPI_Comm comm);
  ~MpiCommunicator() override;

  /// The whole job: MpiCommunicator(job_world()).
  static std::unique_ptr<MpiCommunicator> world();

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const char *backend() const override { return "mpi"; }
  /// The duplicated communicator, for code that needs raw MPI (bootstrap).
  MPI_Comm handle() const { return comm_; }

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
  void barrier() override;
  std::unique_ptr<Communicator> split(int color, int key) override;

private:
  struct Adopt {};
  /// Takes ownership of an already private communicator (from a split).
  MpiCommunicator(MPI_Comm comm, Adopt);
  void init();

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
};

} // namespace llmc::comm

#endif // LLMC_RUNTIME_COMM_MPI_COMMUNICATOR_H
