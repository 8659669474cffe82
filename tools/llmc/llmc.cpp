//===- llmc.cpp - The llmc command-line tool ------------------------------===//
//
// One binary, one subcommand per job: `llmc compile CONFIG --emit=mlir|summary`
// today; training, planning and serving commands join it as they land. Bad
// input of any kind prints one line and exits with code 2.
//
//===----------------------------------------------------------------------===//

#include "compiler/Compile.h"

#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

namespace cl = llvm::cl;

namespace {
constexpr int kExitBadInput = 2;

cl::OptionCategory llmcCategory("llmc options");

cl::SubCommand compileCmd("compile",
                          "Compile a model (a Hugging Face config.json) into "
                          "llm IR or a summary");
cl::opt<std::string> configPath(cl::Positional, cl::Required,
                                cl::desc("<config.json>"), cl::sub(compileCmd),
                                cl::cat(llmcCategory));
cl::opt<llmc::EmitKind> emitKind(
    "emit", cl::desc("What to print"), cl::init(llmc::EmitKind::MLIR),
    cl::values(clEnumValN(llmc::EmitKind::MLIR, "mlir",
                          "the one-device llm IR (@forward and @loss)"),
               clEnumValN(llmc::EmitKind::Summary, "summary",
                          "one JSON object: params, forward flops per token")),
    cl::sub(compileCmd), cl::cat(llmcCategory));
cl::opt<int64_t> microBatch("micro-batch",
                            cl::desc("Sequences per micro-batch (default 1)"),
                            cl::init(1), cl::sub(compileCmd),
                            cl::cat(llmcCategory));
cl::opt<int64_t> seqLen("seq",
                        cl::desc("Sequence length (default: the full context)"),
                        cl::init(0), cl::sub(compileCmd),
                        cl::cat(llmcCategory));
cl::opt<std::string> outputPath("o", cl::desc("Output file (default stdout)"),
                                cl::value_desc("file"), cl::init("-"),
                                cl::sub(compileCmd), cl::cat(llmcCategory));

int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "llmc") << message << "\n";
  return kExitBadInput;
}

int runCompile() {
  std::string error;
  std::unique_ptr<llvm::ToolOutputFile> output =
      mlir::openOutputFile(outputPath, &error);
  if (!output)
    return fail("-o " + outputPath + ": " + error);
  llmc::CompileOptions options{configPath, emitKind, microBatch, seqLen};
  if (llvm::Error err = llmc::compile(options, output->os()))
    return fail(llvm::toString(std::move(err)));
  output->keep();
  return 0;
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(llmcCategory);
  if (!cl::ParseCommandLineOptions(argc, argv,
                                   "llmc: compile, plan and run transformer "
                                   "models on many devices\n",
                                   &llvm::errs()))
    return kExitBadInput;
  if (compileCmd)
    return runCompile();
  cl::PrintHelpMessage(/*Hidden=*/false, /*Categorized=*/true);
  return kExitBadInput;
}
