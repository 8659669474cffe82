//===- nccl_check.h - Checked NCCL calls
//-----------------------------------===//
//
// LLMC_NCCL_CHECK(call) prints file:line, NCCL's error string and its last
// error message, then aborts the whole job through MPI (NCCL jobs are
// bootstrapped over MPI). CUDA calls use LLMC_CUDA_CHECK from
// runtime/cuda/cuda_check.h.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_COMM_NCCL_CHECK_H
#define LLMC_RUNTIME_COMM_NCCL_CHECK_H

#include <nccl.h>

namespace llmc::comm {

/// Prints "[NCCL ERROR] at file:line: <string> (<last error>)" and aborts.
[[noreturn]] void nccl_fail(ncclResult_t result, const char *file, int line);

inline void nccl_check(ncclResult_t result, const char *file, int line) {
  if (result != ncclSuccess)
    nccl_fail(result, file, line);
}

} // namespace llmc::comm

#define LLMC_NCCL_CHECK(call)                                                  \
  ::llmc::comm::nccl_check((call), __FILE__, __LINE__)

#endif // LLMC_RUNTIME_COMM_NCCL_CHECK_H
