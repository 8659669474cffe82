//===- ServeCommand.h - `llmc serve` ----------------------------*- C++ -*-===//
//
// llmc serve PLAN --weights W [--tokenizer T] [--host H] [--port P]
// [--model-name NAME] [--api-key KEY] [--max-queue N] [--max-body-bytes N]:
// an OpenAI-compatible HTTP server over the generation engine.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_TOOLS_LLMC_SERVECOMMAND_H
#define LLMC_TOOLS_LLMC_SERVECOMMAND_H

namespace llmc {

/// True when the command line chose `llmc serve` (after parsing).
bool isServeCommand();

/// Runs `llmc serve` until SIGTERM: 0 after a clean stop, 2 for bad input.
int runServeCommand();

} // namespace llmc

#endif // LLMC_TOOLS_LLMC_SERVECOMMAND_H
