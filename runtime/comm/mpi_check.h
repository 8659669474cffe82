//===- mpi_check.h - Checked MPI calls
//-------------------------------------===//
//
// LLMC_MPI_CHECK(call) prints file:line and MPI's error string, then aborts
// the whole job (exiting one rank would leave the others hanging). MPI only
// returns errors on communicators with MPI_ERRORS_RETURN, which every
// MpiCommunicator sets; elsewhere MPI's default handler aborts first.
// comm_fail does the same for arguments the backends validate.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_COMM_MPI_CHECK_H
#define LLMC_RUNTIME_COMM_MPI_CHECK_H

#include <mpi.h>

namespace llmc::comm {

/// Prints "[MPI ERROR] at file:line: <MPI_Error_string>" and aborts the job.
[[noreturn]] void mpi_fail(int code, const char *file, int line);

inline void mpi_check(int code, const char *file, int line) {
  if (code != MPI_SUCCESS)
    mpi_fail(code, file, line);
}

/// Prints "[COMM ERROR] at file:line: <message>" and aborts the job.
[[noreturn]] void comm_fail(const char *message, const char *file, int line);

/// Argument checks both backends share: a peer or root inside the group, a
/// non-negative tag; comm_fail otherwise, naming the operation.
void require_rank(int r, int size, const char *op, const char *what);
void require_tag(int tag, const char *op);

/// MPI_Abort on the job (or exit before MPI_Init / after Finalize).
[[noreturn]] void abort_job(int code);

} // namespace llmc::comm

#define LLMC_MPI_CHECK(call) ::llmc::comm::mpi_check((call), __FILE__, __LINE__)

#endif // LLMC_RUNTIME_COMM_MPI_CHECK_H
