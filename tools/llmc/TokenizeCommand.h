//===- TokenizeCommand.h - `llmc tokenize` --------------------------------===//
//
// The tokenize subcommand lives in its own translation unit: it registers its
// own cl::SubCommand and options; llmc's main asks whether it was chosen and
// runs it.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_TOOLS_LLMC_TOKENIZECOMMAND_H
#define LLMC_TOOLS_LLMC_TOKENIZECOMMAND_H

namespace llmc {

/// True when the command line chose `llmc tokenize` (after parsing).
bool isTokenizeCommand();

/// Runs `llmc tokenize`: 0 on success; prints "llmc: error: <message>" and
/// returns 2 on bad input (1 on any other failure).
int runTokenizeCommand();

} // namespace llmc

#endif // LLMC_TOOLS_LLMC_TOKENIZECOMMAND_H
