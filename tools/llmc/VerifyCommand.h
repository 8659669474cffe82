//===- VerifyCommand.h - `llmc verify` --------------------------*- C++ -*-===//
//
// llmc verify PLAN [--device-memory SIZE] proves a plan safe to run (see
// runtime/plan/verify.h) and prints what it proved, or one line per problem
// and exit code 2.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_TOOLS_LLMC_VERIFYCOMMAND_H
#define LLMC_TOOLS_LLMC_VERIFYCOMMAND_H

namespace llmc {

/// True when the command line chose `llmc verify` (after parsing).
bool isVerifyCommand();

/// Runs `llmc verify`: 0 when the plan is verified, 2 otherwise.
int runVerifyCommand();

} // namespace llmc

#endif // LLMC_TOOLS_LLMC_VERIFYCOMMAND_H
