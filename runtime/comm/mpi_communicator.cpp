//===- mpi_communicator.cpp - The MPI backend of the collectives ----------===//
#include "runtime/comm/mpi_communicator.h"

#include "runtime/comm/job.h"
#include "runtime/cpu/bf16.h"

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace llmc::comm {

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

namespace {
MPI_Comm job_comm = MPI_COMM_WORLD;
} // namespace

MPI_Comm job_world() { return job_comm; }
void set_job_world(MPI_Comm comm) { job_comm = comm; }

void abort_job(int code) {
  // Unchecked on purpose: we are already failing.
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized)
    MPI_Abort(job_world(), code == 0 ? 1 : code);
  std::exit(EXIT_FAILURE);
}

void mpi_fail(int code, const char *file, int line) {
  char message[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, message, &length) != MPI_SUCCESS)
    std::snprintf(message, sizeof(message), "MPI error code %d", code);
  std::fprintf(stderr, "[MPI ERROR] at %s:%d: %s\n", file, line, message);
  std::fflush(stderr);
  abort_job(code);
}

void comm_fail(const char *message, const char *file, int line) {
  std::fprintf(stderr, "[COMM ERROR] at %s:%d: %s\n", file, line, message);
  std::fflush(stderr);
  abort_job(1);
}

void require_rank(int r, int size, const char *op, const char *what) {
  if (r < 0 || r >= size) {
    std::string message = std::string(op) + ": " + what + " " +
                          std::to_string(r) + " is outside the group of " +
                          std::to_string(size) + " ranks";
    comm_fail(message.c_str(), __FILE__, __LINE__);
  }
}

void require_tag(int tag, const char *op) {
  if (tag < 0) {
    std::string message =
        std::string(op) + ": tag " + std::to_string(tag) + " must be >= 0";
    comm_fail(message.c_str(), __FILE__, __LINE__);
  }
}

//===----------------------------------------------------------------------===//
// Argument checks
//===----------------------------------------------------------------------===//

namespace {

// MPI counts are ints; larger buffers would need a derived datatype.
int mpi_count(size_t n, const char *op) {
  if (n > size_t(INT_MAX)) {
    std::string message = std::string(op) + ": " + std::to_string(n) +
                          " elements exceed MPI's int count (" +
                          std::to_string(INT_MAX) + ")";
    comm_fail(message.c_str(), __FILE__, __LINE__);
  }
  return int(n);
}

// The MPI datatype of a plan dtype. bf16 moves as 16-bit words; its sums
// take bf16_sum.
MPI_Datatype mpi_type(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return MPI_FLOAT;
  case DType::BF16:
    return MPI_UINT16_T;
  case DType::I32:
    return MPI_INT32_T;
  case DType::I8:
    break;
  }
  comm_fail("collectives move f32, bf16 or i32 elements", __FILE__, __LINE__);
}

// inout[i] = bf16(in[i] + inout[i]), the sum in fp32 rounded to nearest
// even, as NCCL's bf16 sums do.
void add_bf16(void *in, void *inout, int *len, MPI_Datatype *) {
  const auto *a = static_cast<const uint16_t *>(in);
  auto *b = static_cast<uint16_t *>(inout);
  for (int i = 0; i < *len; ++i)
    b[i] = cpu::to_bf16(cpu::from_bf16(a[i]) + cpu::from_bf16(b[i]));
}

// MPI_SUM, or for bf16 a user-defined sum (MPI has no bf16 type), made on
// first use and kept for the job.
MPI_Op mpi_sum(DType dtype) {
  if (dtype != DType::BF16)
    return MPI_SUM;
  static MPI_Op bf16_sum = [] {
    MPI_Op op = MPI_OP_NULL;
    LLMC_MPI_CHECK(MPI_Op_create(&add_bf16, /*commute=*/1, &op));
    return op;
  }();
  return bf16_sum;
}

// Block r of n elements of a buffer.
const void *at_block(const void *base, int r, size_t n, DType dtype) {
  return static_cast<const char *>(base) + size_t(r) * n * dtype_bytes(dtype);
}

// An MPI_Iallreduce in flight; waits in its destructor if nobody did,
// unless an error is unwinding the stack (the peers may never complete it).
class MpiRequest final : public Request {
public:
  explicit MpiRequest(MPI_Request request) : request_(request) {}
  ~MpiRequest() override {
    if (!unwinding())
      wait();
  }
  void wait() override {
    if (request_ != MPI_REQUEST_NULL)
      LLMC_MPI_CHECK(MPI_Wait(&request_, MPI_STATUS_IGNORE));
  }
  bool test() override {
    int done = 1;
    if (request_ != MPI_REQUEST_NULL)
      LLMC_MPI_CHECK(MPI_Test(&request_, &done, MPI_STATUS_IGNORE));
    return done != 0;
  }

private:
  MPI_Request request_;
};

} // namespace

//===----------------------------------------------------------------------===//
// Construction
//===----------------------------------------------------------------------===//

MpiCommunicator::MpiCommunicator(MPI_Comm comm) {
  LLMC_MPI_CHECK(MPI_Comm_dup(comm, &comm_));
  init();
}

MpiCommunicator::MpiCommunicator(MPI_Comm comm, Adopt) : comm_(comm) { init(); }

void MpiCommunicator::init() {
  LLMC_MPI_CHECK(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN));
  LLMC_MPI_CHECK(MPI_Comm_rank(comm_, &rank_));
  LLMC_MPI_CHECK(MPI_Comm_size(comm_, &size_));
}

MpiCommunicator::~MpiCommunicator() {
  int finalized = 0;
  LLMC_MPI_CHECK(MPI_Finalized(&finalized));
  // Freeing after MPI_Finalize is an error, and while an error unwinds the
  // job is about to be aborted: the OS reclaims it then.
  if (comm_ != MPI_COMM_NULL && !finalized && !unwinding())
    LLMC_MPI_CHECK(MPI_Comm_free(&comm_));
}

std::unique_ptr<MpiCommunicator> MpiCommunicator::world() {
  return std::make_unique<MpiCommunicator>(job_world());
}

std::unique_ptr<Communicator> MpiCommunicator::split(int color, int key) {
  MPI_Comm sub = MPI_COMM_NULL;
  LLMC_MPI_CHECK(
      MPI_Comm_split(comm_, color < 0 ? MPI_UNDEFINED : color, key, &sub));
  if (sub == MPI_COMM_NULL)
    return nullptr;
  return std::unique_ptr<Communicator>(new MpiCommunicator(sub, Adopt{}));
}

//===----------------------------------------------------------------------===//
// Collectives
//===----------------------------------------------------------------------===//

void MpiCommunicator::all_reduce(void *data, size_t n, DType dtype) {
  int count = mpi_count(n, "all_reduce");
  record(Collective::AllReduce,
         ring_bytes::all_reduce(n, size_, dtype_bytes(dtype)));
  LLMC_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, data, count, mpi_type(dtype),
                               mpi_sum(dtype), comm_));
}

std::unique_ptr<Request> MpiCommunicator::all_reduce_async(void *data, size_t n,
                                                           DType dtype) {
  int count = mpi_count(n, "all_reduce_async");
  record(Collective::AllReduce,
         ring_bytes::all_reduce(n, size_, dtype_bytes(dtype)));
  MPI_Request request = MPI_REQUEST_NULL;
  LLMC_MPI_CHECK(MPI_Iallreduce(MPI_IN_PLACE, data, count, mpi_type(dtype),
                                mpi_sum(dtype), comm_, &request));
  return std::make_unique<MpiRequest>(request);
}

std::unique_ptr<Request> MpiCommunicator::reduce_scatter_async(const void *send,
                                                               void *recv,
                                                               size_t n,
                                                               DType dtype) {
  int count = mpi_count(n, "reduce_scatter_async");
  record(Collective::ReduceScatter,
         ring_bytes::reduce_scatter(n, size_, dtype_bytes(dtype)));
  MPI_Request request = MPI_REQUEST_NULL;
  LLMC_MPI_CHECK(MPI_Ireduce_scatter_block(send, recv, count, mpi_type(dtype),
                                           mpi_sum(dtype), comm_, &request));
  return std::make_unique<MpiRequest>(request);
}

void MpiCommunicator::all_gather(const void *send, void *recv, size_t n,
                                 DType dtype) {
  int count = mpi_count(n, "all_gather");
  record(Collective::AllGather,
         ring_bytes::all_gather(n, size_, dtype_bytes(dtype)));
  // NCCL's in-place form: this rank's block already sits in recv.
  const void *source =
      send == at_block(recv, rank_, n, dtype) ? MPI_IN_PLACE : send;
  LLMC_MPI_CHECK(MPI_Allgather(source, count, mpi_type(dtype), recv, count,
                               mpi_type(dtype), comm_));
}

std::unique_ptr<Request> MpiCommunicator::all_gather_async(const void *send,
                                                           void *recv, size_t n,
                                                           DType dtype) {
  int count = mpi_count(n, "all_gather_async");
  record(Collective::AllGather,
         ring_bytes::all_gather(n, size_, dtype_bytes(dtype)));
  MPI_Request request = MPI_REQUEST_NULL;
  LLMC_MPI_CHECK(MPI_Iallgather(send, count, mpi_type(dtype), recv, count,
                                mpi_type(dtype), comm_, &request));
  return std::make_unique<MpiRequest>(request);
}

void MpiCommunicator::reduce_scatter(const void *send, void *recv, size_t n,
                                     DType dtype) {
  int count = mpi_count(n, "reduce_scatter");
  record(Collective::ReduceScatter,
         ring_bytes::reduce_scatter(n, size_, dtype_bytes(dtype)));
  if (recv != at_block(send, rank_, n, dtype)) {
    LLMC_MPI_CHECK(MPI_Reduce_scatter_block(send, recv, count, mpi_type(dtype),
                                            mpi_sum(dtype), comm_));
    return;
  }
  // NCCL's in-place form. MPI's in-place form leaves the result at the start
  // of the buffer instead, so move it to this rank's slice afterwards.
  void *buffer = const_cast<void *>(send);
  LLMC_MPI_CHECK(MPI_Reduce_scatter_block(
      MPI_IN_PLACE, buffer, count, mpi_type(dtype), mpi_sum(dtype), comm_));
  if (rank_ != 0)
    std::memmove(recv, buffer, n * dtype_bytes(dtype));
}

void MpiCommunicator::broadcast(void *data, size_t n, DType dtype, int root) {
  int count = mpi_count(n, "broadcast");
  require_rank(root, size_, "broadcast", "root");
  record(Collective::Broadcast,
         ring_bytes::broadcast(n, size_, rank_, root, dtype_bytes(dtype)));
  LLMC_MPI_CHECK(MPI_Bcast(data, count, mpi_type(dtype), root, comm_));
}

void MpiCommunicator::send(const void *data, size_t n, DType dtype, int peer,
                           int tag) {
  int count = mpi_count(n, "send");
  require_rank(peer, size_, "send", "peer");
  require_tag(tag, "send");
  record(Collective::Send, ring_bytes::send(n, dtype_bytes(dtype)));
  LLMC_MPI_CHECK(MPI_Send(data, count, mpi_type(dtype), peer, tag, comm_));
}

std::unique_ptr<Request> MpiCommunicator::isend(const void *data, size_t n,
                                                DType dtype, int peer,
                                                int tag) {
  int count = mpi_count(n, "isend");
  require_rank(peer, size_, "isend", "peer");
  require_tag(tag, "isend");
  record(Collective::Send, ring_bytes::send(n, dtype_bytes(dtype)));
  MPI_Request request;
  LLMC_MPI_CHECK(
      MPI_Isend(data, count, mpi_type(dtype), peer, tag, comm_, &request));
  return std::make_unique<MpiRequest>(request);
}

std::unique_ptr<Request>
MpiCommunicator::irecv(void *data, size_t n, DType dtype, int peer, int tag) {
  int count = mpi_count(n, "irecv");
  require_rank(peer, size_, "irecv", "peer");
  require_tag(tag, "irecv");
  record(Collective::Recv, ring_bytes::send(n, dtype_bytes(dtype)));
  MPI_Request request;
  LLMC_MPI_CHECK(
      MPI_Irecv(data, count, mpi_type(dtype), peer, tag, comm_, &request));
  return std::make_unique<MpiRequest>(request);
}

void MpiCommunicator::recv(void *data, size_t n, DType dtype, int peer,
                           int tag) {
  int count = mpi_count(n, "recv");
  require_rank(peer, size_, "recv", "peer");
  require_tag(tag, "recv");
  record(Collective::Recv, ring_bytes::send(n, dtype_bytes(dtype)));
  MPI_Status status;
  // A longer message fails here with MPI_ERR_TRUNCATE; a shorter one below.
  LLMC_MPI_CHECK(
      MPI_Recv(data, count, mpi_type(dtype), peer, tag, comm_, &status));
  int received = 0;
  LLMC_MPI_CHECK(MPI_Get_count(&status, mpi_type(dtype), &received));
  if (received != count) {
    std::string message = "recv: expected " + std::to_string(count) +
                          " elements from rank " + std::to_string(peer) +
                          " (tag " + std::to_string(tag) + "), got " +
                          std::to_string(received);
    comm_fail(message.c_str(), __FILE__, __LINE__);
  }
}

void MpiCommunicator::barrier() {
  record(Collective::Barrier, 0);
  LLMC_MPI_CHECK(MPI_Barrier(comm_));
}

} // namespace llmc::comm
