// A model of what cuBLASLt computes from a matmul descriptor and its
// layouts, written from cuBLASLt's documentation and read through its own
// getters: D[i] = epilogue(op(A[i]) · op(B[i])) column-major, alpha 1,
// beta 0, each matrix at rows x cols with its leading dimension and batch
// stride, bias and aux pointers taken from the descriptor, fp32 operands
// rounded to bf16 under CUBLAS_COMPUTE_32F_FAST_16BF, and A and B stored
// fp32 or bf16 (CUDA_R_16BF), D fp32. The emulated build runs its GEMMs
// through it, and llmc-cublaslt-tests checks llmc's descriptors with it.
#pragma once

#include "runtime/cuda/gemm.h"

namespace llmc::cuda {

// Throws std::logic_error when the descriptors disagree (op(A)'s columns
// not op(B)'s rows, batch counts that differ, an unset bias pointer).
void execute_gemm_model(const GemmDescriptors &d, const void *A, const void *B,
                        float *D);

} // namespace llmc::cuda
