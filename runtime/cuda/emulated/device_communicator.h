// The emulated build's device communicator: the host's (MPI) collectives,
// with device memory open while each runs, as NCCL reads and writes device
// memory on a GPU. Made per host communicator and kept.
#pragma once

#include "runtime/comm/communicator.h"

namespace llmc::cuda::emulated {

comm::Communicator *device_communicator(comm::Communicator &host);

} // namespace llmc::cuda::emulated
