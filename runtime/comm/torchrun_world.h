//===- torchrun_world.h - One MPI job from processes torchrun started -----===//
//
// torchrun (and launchers of its style: Kubernetes' PyTorchJob, a shell loop
// setting RANK and WORLD_SIZE) starts every process alone, so MPI_Init makes
// each a job of one. Open MPI joins separate jobs only through a PMIx server
// all of them know, ompi-server. Rank 0 starts one, opens an MPI port, and
// hands both addresses to the other ranks over TCP on MASTER_PORT + 1
// (torchrun's own store holds MASTER_PORT); every rank then starts MPI with
// that server and connects to the port, and the connections are merged into
// one communicator ordered by RANK.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_COMM_TORCHRUN_WORLD_H
#define LLMC_RUNTIME_COMM_TORCHRUN_WORLD_H

#include "runtime/comm/launch.h"

#include <mpi.h>

namespace llmc::comm {

// Starts MPI at `thread_level` and returns the job's communicator (rank
// launch.rank of launch.size). Throws io::InputError with one line when the
// rendezvous fails: ompi-server cannot be started, the port is taken, or not
// every rank arrived within `timeout_seconds`.
MPI_Comm join_torchrun_world(const Launch &launch, int thread_level,
                             int timeout_seconds = 300);

// Stops rank 0's ompi-server after MPI_Finalize; nothing elsewhere.
void stop_torchrun_server();

} // namespace llmc::comm

#endif // LLMC_RUNTIME_COMM_TORCHRUN_WORLD_H
