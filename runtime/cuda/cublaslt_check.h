// Checked cuBLASLt calls: a failure throws std::runtime_error naming the
// call and cuBLASLt's status.
#pragma once

#include <cublasLt.h>
#include <stdexcept>
#include <string>

namespace llmc::cuda {

// cublasGetStatusString lives in libcublas, which llmc does not link.
inline const char *status_name(cublasStatus_t status) {
  switch (status) {
  case CUBLAS_STATUS_NOT_INITIALIZED:
    return "not initialized (no usable GPU or driver)";
  case CUBLAS_STATUS_ALLOC_FAILED:
    return "allocation failed";
  case CUBLAS_STATUS_INVALID_VALUE:
    return "invalid value";
  case CUBLAS_STATUS_ARCH_MISMATCH:
    return "not supported by this GPU";
  case CUBLAS_STATUS_EXECUTION_FAILED:
    return "execution failed";
  case CUBLAS_STATUS_NOT_SUPPORTED:
    return "not supported";
  default:
    return "error";
  }
}

inline void check(cublasStatus_t status, const char *call) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string("cuBLASLt: ") + call +
                             " failed: " + status_name(status) + " (status " +
                             std::to_string(int(status)) + ")");
}

} // namespace llmc::cuda
