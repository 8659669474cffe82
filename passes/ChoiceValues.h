//===- ChoiceValues.h - The words of each choice as option values -*- C++
//-*-===//
//
// The values of Choices.h's enums for an llvm::cl or a pass option, so every
// option of a choice accepts, lists and prints the same words.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_PASSES_CHOICEVALUES_H
#define LLMC_PASSES_CHOICEVALUES_H

#include "passes/Choices.h"

#include "llvm/Support/CommandLine.h"

namespace llmc {
/// The words of each choice, for a command-line or pass option.
inline llvm::cl::ValuesClass recomputeValues() {
  return llvm::cl::values(
      clEnumValN(Recompute::None, "none", "keep every activation"),
      clEnumValN(Recompute::Selective, "selective",
                 "recompute the attention core"),
      clEnumValN(Recompute::Full, "full",
                 "recompute each layer from its input"));
}

inline llvm::cl::ValuesClass scheduleValues() {
  return llvm::cl::values(
      clEnumValN(Schedule::GPipe, "gpipe", "all forwards, then all backwards"),
      clEnumValN(Schedule::OneFOneB, "1f1b",
                 "one forward, one backward; at most pp microbatches in "
                 "flight"),
      clEnumValN(Schedule::Interleaved, "interleaved",
                 "1F1B over --virtual-stages model chunks per rank"));
}

inline llvm::cl::ValuesClass dpCommValues() {
  return llvm::cl::values(
      clEnumValN(DpComm::Overlap, "overlap",
                 "each bucket as the backward pass completes it"),
      clEnumValN(DpComm::Blocking, "blocking", "all after the backward pass"),
      clEnumValN(DpComm::None, "none",
                 "not averaged: a benchmark baseline, replicas diverge"));
}

inline llvm::cl::ValuesClass precisionValues() {
  return llvm::cl::values(
      clEnumValN(Precision::FP32, "fp32", "fp32 everything"),
      clEnumValN(Precision::BF16Mixed, "bf16-mixed",
                 "bf16 GEMM math, fp32 master weights and moments"));
}

inline llvm::cl::ValuesClass fusionValues() {
  return llvm::cl::values(
      clEnumValN(Fusion::All, "all", "every fusion"),
      clEnumValN(Fusion::Vertical, "vertical",
                 "producer and consumer kernels as one kernel only"),
      clEnumValN(Fusion::Horizontal, "horizontal",
                 "sibling GEMMs sharing an input as one GEMM only "
                 "(inference plans)"),
      clEnumValN(Fusion::Memory, "memory",
                 "elementwise results over dying inputs only"),
      clEnumValN(Fusion::None, "none", "no fusion (a baseline)"));
}

inline llvm::cl::ValuesClass weightsDtypeValues() {
  return llvm::cl::values(
      clEnumValN(WeightsDtype::FP32, "fp32", "fp32 weights, as trained"),
      clEnumValN(WeightsDtype::Int8, "int8",
                 "int8 GEMM weights, per-channel scales, quantized at load"),
      clEnumValN(WeightsDtype::BF16, "bf16",
                 "bf16 GEMM weights, rounded at load, fp32 activations"));
}

} // namespace llmc

#endif // LLMC_PASSES_CHOICEVALUES_H
