// How a failure on one rank ends the whole job. A rank that fails returns
// from no collective its peers are waiting in, so it must neither wait for
// them on its way out (MPI_Wait, MPI_Comm_free, MPI_Finalize in destructors)
// nor exit alone: it reports its reason, then MPI_Abort stops every rank
// (mpirun and srun kill the rest within seconds).
#pragma once

#include <exception>

namespace llmc::comm {

// This process's rank in a job of several MPI ranks; -1 when it runs alone
// (MPI not started, already finalized, or a world of one).
int parallel_rank();

// After a failure has been reported: ends every rank of a parallel job with
// `exit_code`. Returns at once when this process runs alone.
void end_job_after_failure(int exit_code);

// True while an exception unwinds the stack. Destructors that would wait for
// other ranks skip it then (leaking to the OS, which the abort reclaims).
inline bool unwinding() { return std::uncaught_exceptions() > 0; }

} // namespace llmc::comm
