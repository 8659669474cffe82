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

uint64_t CommStats::total_bytes_sent() const {
  uint64_t total = 0;
  for (int k = 0; k < kNumCollectives; ++k)
    if (Collective(k) != Collective::Recv)
      total += bytes[k];
  return total;
}

} // namespace llmc::comm
