// Denormal floats (below 2^-126) flushed to zero, as deep-learning runtimes
// run CPUs: a product or sum that meets one takes a microcode assist about a
// hundred times slower than a normal one. A softmax over a long row leaves
// many probabilities that small, and the GEMM reading them (a graph's
// attention P·V) ran 100x slower for it here: 7.2 ms against 0.07 ms for
// the same [12, 128, 128] x [12, 128, 64] product (bench/onnx_import).
// LLMC_DENORMALS=keep keeps IEEE denormals.
#pragma once

#include <string>

namespace llmc::cpu {

// Sets flush-to-zero and denormals-are-zero on this thread, which threads
// created later (the OpenMP team) inherit, unless LLMC_DENORMALS=keep;
// throws std::invalid_argument naming the variable for another word.
void set_denormals_from_environment();

} // namespace llmc::cpu
