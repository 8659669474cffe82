// Which library runs the runtime's GEMMs, chosen at run time. oneDNN (the
// default) picks its kernels from the processor it finds (AVX-512 where
// there is one), with products of a few rows (decode steps) on llmc's GEMV
// (runtime/cpu/gemv.h), where oneDNN's matmul runs at a third of the
// memory's pace; OpenBLAS (with its sgemv) stays as the fallback.
#pragma once

#include <string>

namespace llmc::cpu {

enum class GemmLibrary { OneDnn, OpenBlas };

GemmLibrary gemm_library();
void set_gemm_library(GemmLibrary library);

// The word of LLMC_GEMM: "onednn" or "openblas". Returns false for others.
bool parse_gemm_library(const std::string &word, GemmLibrary &out);

// Sets the library from the environment variable LLMC_GEMM when it is set;
// throws std::invalid_argument naming the variable and the words otherwise.
void set_gemm_library_from_environment();

// What runs the GEMMs, for --version and --profile: "oneDNN 2.6.3
// (avx512_core)" or "OpenBLAS 0.3.21 (Haswell)".
std::string gemm_library_description();

// The runtime's own kernels are compiled for AVX2 and FMA when the build
// machine has them. Empty when this processor runs them; otherwise why not,
// so the commands can stop with one line instead of an illegal instruction.
std::string unsupported_processor();

} // namespace llmc::cpu
