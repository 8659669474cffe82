//===- Choices.h - The words a strategy choice takes ------------*- C++ -*-===//
//
// Each choice that is a word (a recomputation mode, a pipeline schedule, how
// data-parallel gradients travel) is one enum here, used by the passes'
// options, the registered pipelines, `llmc compile` and `llmc plan` alike;
// `name` gives the word a plan file and a message use. Plain C++: the
// planner uses it without LLVM; ChoiceValues.h has the option values.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_PASSES_CHOICES_H
#define LLMC_PASSES_CHOICES_H

namespace llmc {

/// Activation recomputation (Korthikanti et al. 2022).
enum class Recompute { None, Selective, Full };

/// A pipeline's order of forward and backward microbatches.
enum class Schedule { GPipe, OneFOneB, Interleaved };

/// How data-parallel gradients travel: each bucket as the backward pass
/// completes it, all after the backward pass, or not at all (a benchmark
/// baseline whose replicas diverge).
enum class DpComm { Overlap, Blocking, None };

/// What a training step's GEMMs multiply: fp32 operands, or (bf16-mixed)
/// operands rounded to bf16 with fp32 sums, fp32 master weights and AdamW
/// moments.
enum class Precision { FP32, BF16Mixed };

inline const char *name(Precision p) {
  return p == Precision::FP32 ? "fp32" : "bf16-mixed";
}

/// How an inference plan stores the weights of its GEMMs.
enum class WeightsDtype { FP32, Int8, BF16 };

inline const char *name(WeightsDtype d) {
  return d == WeightsDtype::FP32   ? "fp32"
         : d == WeightsDtype::Int8 ? "int8"
                                   : "bf16";
}

/// Which of the compiler's fusions a plan gets: vertical (a producer and
/// its consumer as one kernel: GEMM epilogues, the residual add with the
/// next norm), horizontal (an inference plan's sibling GEMMs that share an
/// input as one GEMM) and memory (elementwise results written over inputs
/// that die there); all by default, one kind alone or none to measure what
/// each is worth.
enum class Fusion { All, Vertical, Horizontal, Memory, None };

inline bool fusesVertically(Fusion f) {
  return f == Fusion::All || f == Fusion::Vertical;
}
inline bool fusesHorizontally(Fusion f) {
  return f == Fusion::All || f == Fusion::Horizontal;
}
inline bool fusesMemory(Fusion f) {
  return f == Fusion::All || f == Fusion::Memory;
}

inline const char *name(Fusion f) {
  return f == Fusion::All          ? "all"
         : f == Fusion::Vertical   ? "vertical"
         : f == Fusion::Horizontal ? "horizontal"
         : f == Fusion::Memory     ? "memory"
                                   : "none";
}

inline const char *name(Recompute r) {
  return r == Recompute::None        ? "none"
         : r == Recompute::Selective ? "selective"
                                     : "full";
}

inline const char *name(Schedule s) {
  return s == Schedule::GPipe      ? "gpipe"
         : s == Schedule::OneFOneB ? "1f1b"
                                   : "interleaved";
}

inline const char *name(DpComm d) {
  return d == DpComm::Overlap    ? "overlap"
         : d == DpComm::Blocking ? "blocking"
                                 : "none";
}

} // namespace llmc

#endif // LLMC_PASSES_CHOICES_H
