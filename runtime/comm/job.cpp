// Ending the job after a failure; see job.h.
#include "runtime/comm/job.h"

#include "runtime/comm/mpi_communicator.h"

#include <mpi.h>

namespace llmc::comm {

int parallel_rank() {
  int initialized = 0, finalized = 0, size = 1, rank = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized)
    return -1;
  MPI_Comm_size(job_world(), &size);
  MPI_Comm_rank(job_world(), &rank);
  return size > 1 ? rank : -1;
}

void end_job_after_failure(int exit_code) {
  if (parallel_rank() >= 0)
    abort_job(exit_code);
}

} // namespace llmc::comm
