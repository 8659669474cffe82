// Which vector instructions the runtime's own kernels use, chosen at run
// time from the processor (never from the build machine's flags): AVX-512
// where the processor has it, else AVX2. LLMC_MAX_CPU_ISA=avx2 caps the
// choice, as oneDNN's ONEDNN_MAX_CPU_ISA caps oneDNN's, so both paths can
// be run and compared on one machine.
#pragma once

#include <string>

namespace llmc::cpu {

enum class VectorIsa { Avx2, Avx512 };

// The ISA kernels dispatch on: the processor's best, capped by
// LLMC_MAX_CPU_ISA or set_vector_isa.
VectorIsa vector_isa();

// Caps the choice (tests run both paths); a cap above what the processor
// has gives the processor's best.
void set_vector_isa(VectorIsa cap);

// Reads LLMC_MAX_CPU_ISA ("avx2" or "avx512") when it is set; throws
// std::invalid_argument naming the variable and the words otherwise.
void set_vector_isa_from_environment();

// "avx512" or "avx2", for --version.
std::string vector_isa_name();

} // namespace llmc::cpu
