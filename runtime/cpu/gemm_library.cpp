#include "runtime/cpu/gemm_library.h"

#include "runtime/cpu/onednn_matmul.h"
#include "runtime/cpu/vector_isa.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <atomic>
#include <cblas.h>
#include <cstdlib>
#include <stdexcept>

namespace llmc::cpu {
namespace {
std::atomic<GemmLibrary> chosen{GemmLibrary::OneDnn};
} // namespace

GemmLibrary gemm_library() { return chosen.load(std::memory_order_relaxed); }

void set_gemm_library(GemmLibrary library) { chosen.store(library); }

bool parse_gemm_library(const std::string &word, GemmLibrary &out) {
  if (word == "onednn")
    out = GemmLibrary::OneDnn;
  else if (word == "openblas")
    out = GemmLibrary::OpenBlas;
  else
    return false;
  return true;
}

void set_gemm_library_from_environment() {
  const char *word = std::getenv("LLMC_GEMM");
  if (!word)
    return;
  GemmLibrary library;
  if (!parse_gemm_library(word, library))
    throw std::invalid_argument(std::string("LLMC_GEMM: '") + word +
                                "': expected onednn or openblas");
  set_gemm_library(library);
}

std::string gemm_library_description() {
  if (gemm_library() == GemmLibrary::OpenBlas)
    return std::string("OpenBLAS (") + openblas_get_corename() + ")";
  const dnnl_version_t *v = dnnl_version();
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) +
         "." + std::to_string(v->patch) + " (" + onednn_isa() +
         "; decode rows on llmc's GEMV, " + vector_isa_name() + ")";
}

std::string unsupported_processor() {
#if defined(__AVX2__) && defined(__FMA__)
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
    return "this llmc was built for processors with AVX2 and FMA, and this "
           "one lacks them: build it on this machine";
#endif
  return "";
}

} // namespace llmc::cpu
