//===- Errors.h - How llmc's commands report a failure ----------*- C++ -*-===//
//
// Every command ends a failure with one line, "llmc: error: <message>", and
// exit code 2 for bad input (1 for anything else). The line goes out in a
// single write: under mpirun several ranks print at once, and a line written
// in pieces interleaves with the other ranks' lines.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_TOOLS_LLMC_ERRORS_H
#define LLMC_TOOLS_LLMC_ERRORS_H

#include "llvm/ADT/Twine.h"
#include "llvm/Support/raw_ostream.h"

namespace llmc {

constexpr int kExitBadInput = 2;
constexpr int kExitFailure = 1;

/// Prints "llmc: error: <message>" to stderr in one write.
inline void reportError(const llvm::Twine &message) {
  llvm::errs() << ("llmc: error: " + message + "\n").str();
}

/// Reports bad input and returns its exit code.
inline int failBadInput(const llvm::Twine &message) {
  reportError(message);
  return kExitBadInput;
}

} // namespace llmc

#endif // LLMC_TOOLS_LLMC_ERRORS_H
