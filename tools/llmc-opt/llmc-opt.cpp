//===- llmc-opt.cpp - mlir-opt with llmc's dialects and passes ------------===//
//
// The driver pass developers use: parse IR, run a pass pipeline, print IR.
//
//===----------------------------------------------------------------------===//

#include "compiler/Registration.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Debug.h"

#include <string>
#include <vector>

namespace cl = llvm::cl;

/// -debug and -debug-only=TYPE,..., as an assertions build of LLVM has them.
/// Debian's LLVM is a release build without them, while llmc's passes are
/// built with their LLVM_DEBUG traces (passes/CMakeLists.txt), so llmc-opt
/// adds them where the library has none.
static void addDebugOptions() {
  if (cl::getRegisteredOptions().count("debug-only"))
    return;
  static cl::opt<bool, /*ExternalStorage=*/true> debug(
      "debug", cl::desc("Print every pass's debug trace"), cl::Hidden,
      cl::location(llvm::DebugFlag));
  static std::vector<std::string> types;
  static cl::list<std::string> debugOnly(
      "debug-only",
      cl::desc("Print the debug traces of these DEBUG_TYPEs, e.g. "
               "llmc-partition-tensor-parallel"),
      cl::Hidden, cl::CommaSeparated, cl::value_desc("type"),
      cl::callback([](const std::string &type) {
        types.push_back(type);
        std::vector<const char *> names;
        for (const std::string &t : types)
          names.push_back(t.c_str());
        llvm::DebugFlag = true;
        llvm::setCurrentDebugTypes(names.data(), unsigned(names.size()));
      }));
}

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  llmc::registerDialects(registry);
  llmc::registerPasses();
  addDebugOptions();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "llmc optimizer driver\n", registry));
}
