//===- nccl_communicator.cpp - The NCCL backend of the collectives --------===//
#include "runtime/comm/nccl_communicator.h"

#include "runtime/comm/launch.h"
#include "runtime/comm/mpi_check.h"
#include "runtime/cuda/cuda_check.h"

#include <cstdio>
#include <string>

namespace llmc::comm {

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

void nccl_fail(ncclResult_t result, const char *file, int line) {
  const char *last = ncclGetLastError(nullptr);
  bool has_last = last != nullptr && last[0] != '\0';
  std::fprintf(stderr, "[NCCL ERROR] at %s:%d: %s%s%s%s\n", file, line,
               ncclGetErrorString(result), has_last ? " (" : "",
               has_last ? last : "", has_last ? ")" : "");
  std::fflush(stderr);
  abort_job(int(result));
}

namespace {

ncclDataType_t nccl_type(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return ncclFloat;
  case DType::BF16:
    return ncclBfloat16;
  case DType::I32:
    return ncclInt32;
  case DType::I8:
    break;
  }
  comm_fail("collectives move f32, bf16 or i32 elements", __FILE__, __LINE__);
}

// A collective in flight on the communicator's stream: an event recorded
// after it. Waiting makes the device's default stream wait for the event,
// so every kernel and copy issued after it sees the result while the host
// goes on issuing work (it never blocks on the network).
class NcclRequest final : public Request {
public:
  explicit NcclRequest(cudaEvent_t done) : done_(done) {}
  ~NcclRequest() override { wait(); }
  void wait() override {
    if (done_ == nullptr)
      return;
    LLMC_CUDA_CHECK(cudaStreamWaitEvent(cudaStreamLegacy, done_, 0));
    // Released by CUDA once the event completes.
    LLMC_CUDA_CHECK(cudaEventDestroy(done_));
    done_ = nullptr;
  }
  bool test() override {
    if (done_ == nullptr)
      return true;
    cudaError_t status = cudaEventQuery(done_);
    if (status == cudaErrorNotReady)
      return false;
    LLMC_CUDA_CHECK(status);
    wait();
    return true;
  }

private:
  cudaEvent_t done_;
};

} // namespace

//===----------------------------------------------------------------------===//
// Construction
//===----------------------------------------------------------------------===//

NcclCommunicator::NcclCommunicator(MPI_Comm bootstrap, int device)
    : device_(device) {
  LLMC_MPI_CHECK(MPI_Comm_rank(bootstrap, &rank_));
  LLMC_MPI_CHECK(MPI_Comm_size(bootstrap, &size_));
  ncclUniqueId id;
  if (rank_ == 0)
    LLMC_NCCL_CHECK(ncclGetUniqueId(&id));
  LLMC_MPI_CHECK(MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, bootstrap));
  LLMC_CUDA_CHECK(cudaSetDevice(device_));
  LLMC_NCCL_CHECK(ncclCommInitRank(&comm_, size_, id, rank_));
  init_resources();
}

NcclCommunicator::NcclCommunicator(ncclComm_t comm, int device, Adopt)
    : comm_(comm), device_(device) {
  LLMC_NCCL_CHECK(ncclCommUserRank(comm_, &rank_));
  LLMC_NCCL_CHECK(ncclCommCount(comm_, &size_));
  init_resources();
}

void NcclCommunicator::init_resources() {
  LLMC_CUDA_CHECK(cudaSetDevice(device_));
  LLMC_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  LLMC_CUDA_CHECK(cudaMalloc(&scratch_, sizeof(float)));
  LLMC_CUDA_CHECK(cudaEventCreateWithFlags(&computed_, cudaEventDisableTiming));
}

void NcclCommunicator::after_compute() {
  LLMC_CUDA_CHECK(cudaEventRecord(computed_, cudaStreamLegacy));
  LLMC_CUDA_CHECK(cudaStreamWaitEvent(stream_, computed_, 0));
}

NcclCommunicator::~NcclCommunicator() {
  LLMC_CUDA_CHECK(cudaSetDevice(device_));
  // Blocking methods leave nothing in flight; requests must be waited first.
  LLMC_NCCL_CHECK(ncclCommDestroy(comm_));
  LLMC_CUDA_CHECK(cudaFree(scratch_));
  LLMC_CUDA_CHECK(cudaEventDestroy(computed_));
  LLMC_CUDA_CHECK(cudaStreamDestroy(stream_));
}

std::unique_ptr<NcclCommunicator> NcclCommunicator::create(MPI_Comm bootstrap) {
  // Collective either way: every rank splits, then reads its launcher.
  MPI_Comm node = MPI_COMM_NULL;
  LLMC_MPI_CHECK(MPI_Comm_split_type(bootstrap, MPI_COMM_TYPE_SHARED, 0,
                                     MPI_INFO_NULL, &node));
  int local_rank = 0;
  LLMC_MPI_CHECK(MPI_Comm_rank(node, &local_rank));
  LLMC_MPI_CHECK(MPI_Comm_free(&node));
  Launch launch = launch_from_environment();
  if (!launch.launcher.empty())
    local_rank = launch.local_rank;
  int devices = 0;
  LLMC_CUDA_CHECK(cudaGetDeviceCount(&devices));
  return std::make_unique<NcclCommunicator>(
      bootstrap, device_of_local_rank(local_rank, devices));
}

std::unique_ptr<Communicator> NcclCommunicator::split(int color, int key) {
  LLMC_CUDA_CHECK(cudaSetDevice(device_));
  ncclComm_t sub = nullptr;
  LLMC_NCCL_CHECK(ncclCommSplit(comm_, color < 0 ? NCCL_SPLIT_NOCOLOR : color,
                                key, &sub, nullptr));
  if (sub == nullptr)
    return nullptr;
  return std::unique_ptr<Communicator>(
      new NcclCommunicator(sub, device_, Adopt{}));
}

void NcclCommunicator::synchronize() {
  LLMC_CUDA_CHECK(cudaStreamSynchronize(stream_));
}

void NcclCommunicator::then_default_stream() { stream_request()->wait(); }

//===----------------------------------------------------------------------===//
// Collectives
//===----------------------------------------------------------------------===//

void NcclCommunicator::all_reduce(void *data, size_t n, DType dtype) {
  record(Collective::AllReduce,
         ring_bytes::all_reduce(n, size_, dtype_bytes(dtype)));
  after_compute();
  LLMC_NCCL_CHECK(
      ncclAllReduce(data, data, n, nccl_type(dtype), ncclSum, comm_, stream_));
  then_default_stream();
}

std::unique_ptr<Request> NcclCommunicator::stream_request() {
  cudaEvent_t done = nullptr;
  LLMC_CUDA_CHECK(cudaEventCreateWithFlags(&done, cudaEventDisableTiming));
  LLMC_CUDA_CHECK(cudaEventRecord(done, stream_));
  return std::make_unique<NcclRequest>(done);
}

std::unique_ptr<Request>
NcclCommunicator::all_reduce_async(void *data, size_t n, DType dtype) {
  record(Collective::AllReduce,
         ring_bytes::all_reduce(n, size_, dtype_bytes(dtype)));
  after_compute();
  LLMC_NCCL_CHECK(
      ncclAllReduce(data, data, n, nccl_type(dtype), ncclSum, comm_, stream_));
  return stream_request();
}

void NcclCommunicator::all_gather(const void *send, void *recv, size_t n,
                                  DType dtype) {
  record(Collective::AllGather,
         ring_bytes::all_gather(n, size_, dtype_bytes(dtype)));
  after_compute();
  LLMC_NCCL_CHECK(
      ncclAllGather(send, recv, n, nccl_type(dtype), comm_, stream_));
  then_default_stream();
}

std::unique_ptr<Request> NcclCommunicator::all_gather_async(const void *send,
                                                            void *recv,
                                                            size_t n,
                                                            DType dtype) {
  record(Collective::AllGather,
         ring_bytes::all_gather(n, size_, dtype_bytes(dtype)));
  after_compute();
  LLMC_NCCL_CHECK(
      ncclAllGather(send, recv, n, nccl_type(dtype), comm_, stream_));
  return stream_request();
}

void NcclCommunicator::reduce_scatter(const void *send, void *recv, size_t n,
                                      DType dtype) {
  record(Collective::ReduceScatter,
         ring_bytes::reduce_scatter(n, size_, dtype_bytes(dtype)));
  after_compute();
  LLMC_NCCL_CHECK(ncclReduceScatter(send, recv, n, nccl_type(dtype), ncclSum,
                                    comm_, stream_));
  then_default_stream();
}

std::unique_ptr<Request>
NcclCommunicator::reduce_scatter_async(const void *send, void *recv, size_t n,
                                       DType dtype) {
  record(Collective::ReduceScatter,
         ring_bytes::reduce_scatter(n, size_, dtype_bytes(dtype)));
  after_compute();
  LLMC_NCCL_CHECK(ncclReduceScatter(send, recv, n, nccl_type(dtype), ncclSum,
                                    comm_, stream_));
  return stream_request();
}

void NcclCommunicator::broadcast(void *data, size_t n, DType dtype, int root) {
  require_rank(root, size_, "broadcast", "root");
  record(Collective::Broadcast,
         ring_bytes::broadcast(n, size_, rank_, root, dtype_bytes(dtype)));
  after_compute();
  LLMC_NCCL_CHECK(
      ncclBroadcast(data, data, n, nccl_type(dtype), root, comm_, stream_));
  then_default_stream();
}

void NcclCommunicator::send(const void *data, size_t n, DType dtype, int peer,
                            int tag) {
  require_rank(peer, size_, "send", "peer");
  require_tag(tag, "send");
  record(Collective::Send, ring_bytes::send(n, dtype_bytes(dtype)));
  after_compute();
  LLMC_NCCL_CHECK(ncclSend(data, n, nccl_type(dtype), peer, comm_, stream_));
  synchronize();
}

std::unique_ptr<Request> NcclCommunicator::isend(const void *data, size_t n,
                                                 DType dtype, int peer,
                                                 int tag) {
  require_rank(peer, size_, "isend", "peer");
  require_tag(tag, "isend");
  record(Collective::Send, ring_bytes::send(n, dtype_bytes(dtype)));
  after_compute();
  LLMC_NCCL_CHECK(ncclSend(data, n, nccl_type(dtype), peer, comm_, stream_));
  return stream_request();
}

std::unique_ptr<Request>
NcclCommunicator::irecv(void *data, size_t n, DType dtype, int peer, int tag) {
  require_rank(peer, size_, "irecv", "peer");
  require_tag(tag, "irecv");
  record(Collective::Recv, ring_bytes::send(n, dtype_bytes(dtype)));
  after_compute();
  LLMC_NCCL_CHECK(ncclRecv(data, n, nccl_type(dtype), peer, comm_, stream_));
  return stream_request();
}

void NcclCommunicator::recv(void *data, size_t n, DType dtype, int peer,
                            int tag) {
  require_rank(peer, size_, "recv", "peer");
  require_tag(tag, "recv");
  record(Collective::Recv, ring_bytes::send(n, dtype_bytes(dtype)));
  after_compute();
  LLMC_NCCL_CHECK(ncclRecv(data, n, nccl_type(dtype), peer, comm_, stream_));
  synchronize();
}

std::unique_ptr<Request>
NcclCommunicator::exchange(const std::vector<P2P> &ops) {
  for (const P2P &op : ops) {
    const char *what = op.kind == P2P::Send ? "exchange send" : "exchange recv";
    require_rank(op.peer, size_, what, "peer");
    require_tag(op.tag, what);
  }
  after_compute();
  LLMC_NCCL_CHECK(ncclGroupStart());
  for (const P2P &op : ops) {
    if (op.kind == P2P::Send) {
      record(Collective::Send, ring_bytes::send(op.n, dtype_bytes(op.dtype)));
      LLMC_NCCL_CHECK(ncclSend(op.data, op.n, nccl_type(op.dtype), op.peer,
                               comm_, stream_));
    } else {
      record(Collective::Recv, ring_bytes::send(op.n, dtype_bytes(op.dtype)));
      LLMC_NCCL_CHECK(ncclRecv(op.data, op.n, nccl_type(op.dtype), op.peer,
                               comm_, stream_));
    }
  }
  LLMC_NCCL_CHECK(ncclGroupEnd());
  return stream_request();
}

void NcclCommunicator::barrier() {
  record(Collective::Barrier, 0);
  after_compute();
  LLMC_NCCL_CHECK(
      ncclAllReduce(scratch_, scratch_, 1, ncclFloat, ncclSum, comm_, stream_));
  synchronize();
}

} // namespace llmc::comm
