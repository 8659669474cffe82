//===- sentencepiece_backend.cpp - Loading libllmc_sentencepiece.so -------===//
//
// Looks for the shim next to the running executable (../lib, the layout of
// the build tree and of an install), then where the build put it.
//
//===----------------------------------------------------------------------===//

#include "runtime/data/sentencepiece_backend.h"

#include <dlfcn.h>
#include <unistd.h>

#include <climits>
#include <stdexcept>

#ifndef LLMC_SENTENCEPIECE_SHIM_PATH
#error "LLMC_SENTENCEPIECE_SHIM_PATH must name the built shim"
#endif

namespace {

constexpr const char *kShimName = "libllmc_sentencepiece.so";

/// "<directory of the executable>/../lib/<shim>", or "" if unknown.
std::string beside_executable() {
  char exe[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0)
    return "";
  std::string path(exe, static_cast<size_t>(n));
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos)
    return "";
  return path.substr(0, slash) + "/../lib/" + kShimName;
}

llmc::data::SentencePieceLibrary *load_shim() {
  std::string errors;
  for (const std::string &path :
       {beside_executable(), std::string(LLMC_SENTENCEPIECE_SHIM_PATH)}) {
    if (path.empty() || ::access(path.c_str(), R_OK) != 0)
      continue;
    // DEEPBIND: the shim and sentencepiece bind to their own symbols first
    // (sentencepiece's protobuf-lite), LOCAL: nobody else binds to them.
    void *handle =
        ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (!handle) {
      errors += std::string("; ") + ::dlerror();
      continue;
    }
    using Entry = llmc::data::SentencePieceLibrary *(*)();
    auto entry =
        reinterpret_cast<Entry>(::dlsym(handle, "llmc_sentencepiece_library"));
    if (entry)
      return entry();
    errors += "; " + path + ": no llmc_sentencepiece_library";
  }
  throw std::runtime_error(std::string("cannot load ") + kShimName +
                           " (built with llmc; needs libsentencepiece0)" +
                           errors);
}

} // namespace

llmc::data::SentencePieceLibrary &llmc::data::sentencepiece_library() {
  // Loaded once and never unloaded: sentencepiece keeps global state.
  static llmc::data::SentencePieceLibrary *library = load_shim();
  return *library;
}
