//===- KernelsCommand.cpp - `llmc kernels` --------------------------------===//
//
// The kernel table (runtime/kernels/kernel_table.def): every kernel a plan
// may call, its kind and the backends that implement it.
//
//===----------------------------------------------------------------------===//

#include "runtime/cli/command_line.h"
#include "runtime/kernels/kernel_table.h"
#include "tools/llmc-run/Commands.h"
#include "tools/llmc-run/Parse.h"

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

using namespace llmc;

namespace {

std::vector<const char *> backends(unsigned mask) {
  std::vector<const char *> names;
  if (mask & kernels::kCpu)
    names.push_back("cpu");
  if (mask & kernels::kCuda)
    names.push_back("cuda");
  return names;
}

const char *kind(kernels::KernelKind k) {
  switch (k) {
  case kernels::KernelKind::Compute:
    return "compute";
  case kernels::KernelKind::Collective:
    return "collective";
  case kernels::KernelKind::CollectiveWait:
    return "collective wait";
  }
  return "?";
}

} // namespace

int llmc::runKernelsCommand(int argc, char **argv) {
  bool json = false;
  cli::Command cmd("kernels",
                   "List the kernel table: every kernel a plan may call, its "
                   "kind and the backends that implement it",
                   "[options]");
  cmd.option("json", json,
             "Print {\"kernels\": [{\"name\", \"kind\", \"backends\"}, ...]}");
  if (std::optional<int> code = parseCommandLine(cmd, argc, argv))
    return *code;
  const auto &all = kernels::all_kernels();
  if (json) {
    std::printf("{\"kernels\": [");
    for (size_t i = 0; i < all.size(); ++i) {
      std::printf("%s\n  {\"name\": \"%s\", \"kind\": \"%s\", \"backends\": [",
                  i ? "," : "", all[i].name, kind(all[i].kind));
      std::vector<const char *> names = backends(all[i].backends);
      for (size_t b = 0; b < names.size(); ++b)
        std::printf("%s\"%s\"", b ? ", " : "", names[b]);
      std::printf("]}");
    }
    std::printf("\n]}\n");
    return 0;
  }
  size_t cuda = 0;
  for (const kernels::KernelSpec &k : all) {
    std::string list;
    for (const char *b : backends(k.backends))
      list += list.empty() ? b : std::string(", ") + b;
    std::printf("%-28s %-16s %s\n", k.name, kind(k.kind), list.c_str());
    cuda += (k.backends & kernels::kCuda) != 0;
  }
  std::printf("%zu kernels, %zu with a CUDA implementation\n", all.size(),
              cuda);
  return 0;
}
