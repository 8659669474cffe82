//===- TokenFileFuzzer.cpp - libFuzzer target: the token-file reader
//-------===//
//
// The first four bytes choose what a caller would have validated already
// (vocabulary size, sequence length, rows, seed); the rest is the token file.
// Maps it, checks the sequence length, and cuts the first steps' batches in
// both orders. Only InputError may come out.
//
//===----------------------------------------------------------------------===//
#include "runtime/io/error.h"
#include "runtime/io/token_file.h"
#include "test/fuzz/FuzzFile.h"

#include <cstdint>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 4)
    return 0;
  int64_t vocab = 1 + (data[0] | (data[1] << 8));
  int64_t T = 1 + data[2] % 64, B = 1 + data[3] % 4;
  std::string path = llmc::fuzz::writeInput("train.bin", data + 4, size - 4);
  try {
    llmc::io::TokenFile file(path, vocab);
    file.check_sequence_length(T);
    std::vector<int32_t> inputs(B * T), targets(B * T);
    for (auto order :
         {llmc::io::BatchOrder::Sequential, llmc::io::BatchOrder::Shuffled})
      for (int64_t step = 0; step < 3; ++step)
        file.fill_batch(step, B, T, order, /*seed=*/data[3], inputs.data(),
                        targets.data(), 0, B);
  } catch (const llmc::io::InputError &) {
  }
  return 0;
}
