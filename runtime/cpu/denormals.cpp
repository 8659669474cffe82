#include "runtime/cpu/denormals.h"

#include <cstdlib>
#include <stdexcept>
#include <xmmintrin.h>

namespace llmc::cpu {

void set_denormals_from_environment() {
  const char *v = std::getenv("LLMC_DENORMALS");
  std::string word = v ? v : "flush";
  if (word == "keep")
    return;
  if (word != "flush")
    throw std::invalid_argument("LLMC_DENORMALS='" + word +
                                "': expected flush (the default) or keep");
  // MXCSR bit 15: flush-to-zero (results); bit 6: denormals-are-zero
  // (operands).
  _mm_setcsr(_mm_getcsr() | 0x8040);
}

} // namespace llmc::cpu
