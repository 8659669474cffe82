//===- launch.h - Who started this process, read from its environment -----===//
//
// Every launcher tells a process its place in the job through environment
// variables: mpirun (OMPI_COMM_WORLD_*), srun (SLURM_STEP_NUM_TASKS,
// SLURM_PROCID, SLURM_LOCALID), MPICH's mpiexec (PMI_SIZE, PMI_RANK) and
// torchrun or any launcher of its style (WORLD_SIZE, RANK, LOCAL_RANK). The
// runtime reads them before MPI starts: to refuse a launch of the wrong size
// on every rank at once, to name the launcher in that error, and to form the
// job itself when nothing but torchrun's variables started it.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_COMM_LAUNCH_H
#define LLMC_RUNTIME_COMM_LAUNCH_H

#include <functional>
#include <string>

namespace llmc::comm {

struct Launch {
  // "mpirun", "srun", "mpiexec", "torchrun", or empty when started alone.
  std::string launcher;
  int rank = 0;
  int size = 1;
  int local_rank = 0;
  // srun only: the MPI plugin it started the tasks with ("pmix", "pmi2" or
  // "none"); Debian's Open MPI starts under PMIx alone.
  std::string srun_mpi;
  // torchrun's rendezvous address (MASTER_ADDR, MASTER_PORT); torchrun only.
  std::string master_addr;
  int master_port = 0;
};

// The launch described by `getenv` (the process's environment by default).
// The first launcher whose variables are present wins, in the order above:
// an MPI launcher's own variables are the truth when torchrun's are also
// inherited. Throws io::InputError naming the variable when one is malformed
// (not an integer, a rank outside the size, a size below one).
Launch launch_from_environment(
    const std::function<const char *(const char *)> &getenv = nullptr);

// The GPU of a rank with `local_rank` on a node whose processes see
// `visible_devices` GPUs: one GPU per rank, the local rank's own, or the one
// GPU a rank sees (a launcher that binds one per task). Throws
// io::InputError when the node has more ranks than GPUs (two ranks on one
// GPU would run at half speed and can run out of its memory) or none.
int device_of_local_rank(int local_rank, int visible_devices);

} // namespace llmc::comm

#endif // LLMC_RUNTIME_COMM_LAUNCH_H
