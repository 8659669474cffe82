//===- GenerateCommand.h - `llmc generate` ----------------------*- C++ -*-===//
//
// llmc generate PLAN --weights W (--prompt-ids 1,2,3 | --prompt TEXT
// --tokenizer T | --prompts FILE.jsonl) --max-new-tokens N [sampling]
// [--json]: generates from an inference plan with the continuous-batching
// engine (runtime/serve).
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_TOOLS_LLMC_GENERATECOMMAND_H
#define LLMC_TOOLS_LLMC_GENERATECOMMAND_H

namespace llmc {

/// True when the command line chose `llmc generate` (after parsing).
bool isGenerateCommand();

/// Runs `llmc generate`: 0 on success, 2 for bad input.
int runGenerateCommand();

} // namespace llmc

#endif // LLMC_TOOLS_LLMC_GENERATECOMMAND_H
