//===- Compile.cpp - The `llmc compile` driver ----------------------------===//

#include "compiler/Compile.h"

#include "compiler/Registration.h"
#include "compiler/Summary.h"
#include "frontends/hf/ModelBuilder.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Support/LLVM.h"

using namespace mlir;

llvm::Error llmc::compile(const CompileOptions &options, llvm::raw_ostream &os) {
  llvm::Expected<ModelConfig> config = loadModelConfig(options.configPath);
  if (!config)
    return config.takeError();

  DialectRegistry registry;
  registerDialects(registry);
  MLIRContext context(registry);
  BuildOptions build{options.microBatch, options.seqLen};
  auto module = buildModel(context, *config, build);
  if (!module)
    return module.takeError();
  // The frontend builds valid IR by construction; a failure here is a bug in
  // llmc, reported as an error rather than printed as broken IR.
  if (failed(verify(**module)))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "internal error: built IR does not verify");

  if (options.emit == EmitKind::MLIR) {
    (*module)->print(os);
    return llvm::Error::success();
  }
  llvm::Expected<llvm::json::Object> summary =
      summarizeModel(**module, *config);
  if (!summary)
    return summary.takeError();
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(*summary))) << "\n";
  return llvm::Error::success();
}
