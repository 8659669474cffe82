//===- communicator.cpp - Names and totals of the collectives accounting --===//
#include "runtime/comm/communicator.h"

namespace llmc::comm {

const char *collective_name(Collective kind) {
  switch (kind) {
  case Collective::AllReduce:
    return "all_reduce";
  case Collective::AllGather:
    return "all_gather";
  case Collective::ReduceScatter:
    return "reduce_scatter";
  case Collective::Broadcast:
    return "broadcast";
  case Collective::Send:
    return "send";
  case Collective::Recv:
    return "recv";
  case Collective::Barrier:
    return "barrier";
  }
  return "unknown";
}

namespace {

// The requests of an exchange, completed together.
class BatchRequest final : public Request {
public:
  explicit BatchRequest(std::vector<std::unique_ptr<Request>> requests)
      : requests_(std::move(requests)) {}
  void wait() override {
    for (auto &r : requests_)
      r->wait();
  }
  bool test() override {
    bool done = true;
    for (auto &r : requests_)
      done = r->test() && done; // test every one: each may progress
    return done;
  }

private:
  std::vector<std::unique_ptr<Request>> requests_;
};

} // namespace

// Receives are posted first, so every send finds its receive waiting.
std::unique_ptr<Request> Communicator::exchange(const std::vector<P2P> &ops) {
  std::vector<std::unique_ptr<Request>> requests;
  for (const P2P &op : ops)
    if (op.kind == P2P::Recv)
      requests.push_back(irecv(op.data, op.n, op.dtype, op.peer, op.tag));
  for (const P2P &op : ops)
    if (op.kind == P2P::Send)
      requests.push_back(isend(op.data, op.n, op.dtype, op.peer, op.tag));
  return std::make_unique<BatchRequest>(std::move(requests));
}

uint64_t CommStats::total_bytes_sent() const {
  uint64_t total = 0;
  for (int k = 0; k < kNumCollectives; ++k)
    if (Collective(k) != Collective::Recv)
      total += bytes[k];
  return total;
}

} // namespace llmc::comm
