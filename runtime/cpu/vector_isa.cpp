#include "runtime/cpu/vector_isa.h"

#include <atomic>
#include <cstdlib>
#include <stdexcept>

namespace llmc::cpu {
namespace {

VectorIsa processor_best() {
  return __builtin_cpu_supports("avx512f") ? VectorIsa::Avx512
                                           : VectorIsa::Avx2;
}

std::atomic<VectorIsa> chosen{processor_best()};

} // namespace

VectorIsa vector_isa() { return chosen.load(std::memory_order_relaxed); }

void set_vector_isa(VectorIsa cap) {
  chosen.store(cap == VectorIsa::Avx512 ? processor_best() : cap);
}

void set_vector_isa_from_environment() {
  const char *word = std::getenv("LLMC_MAX_CPU_ISA");
  if (!word)
    return;
  if (std::string(word) == "avx2")
    set_vector_isa(VectorIsa::Avx2);
  else if (std::string(word) == "avx512")
    set_vector_isa(VectorIsa::Avx512);
  else
    throw std::invalid_argument(std::string("LLMC_MAX_CPU_ISA: '") + word +
                                "': expected avx2 or avx512");
}

std::string vector_isa_name() {
  return vector_isa() == VectorIsa::Avx512 ? "avx512" : "avx2";
}

} // namespace llmc::cpu
