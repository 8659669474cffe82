//===- WordParser.h - An enum option that lists its words -------*- C++ -*-===//
//
// llvm::cl's enum parser answers a wrong word with "Cannot find option
// named 'x'!"; this one names what the option takes, in one line:
//   llmc: for the --recompute option: 'some': expected none, selective or full
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_TOOLS_LLMC_WORDPARSER_H
#define LLMC_TOOLS_LLMC_WORDPARSER_H

#include "llvm/Support/CommandLine.h"

#include <string>

namespace llmc {

template <typename T> class WordParser : public llvm::cl::parser<T> {
public:
  using llvm::cl::parser<T>::parser;

  bool parse(llvm::cl::Option &option, llvm::StringRef, llvm::StringRef word,
             T &value) {
    for (const auto &v : this->Values)
      if (v.Name == word) {
        value = v.V.getValue();
        return false;
      }
    std::string words;
    for (size_t i = 0; i < this->Values.size(); ++i)
      words += (i == 0                         ? ""
                : i + 1 == this->Values.size() ? " or "
                                               : ", ") +
               this->Values[i].Name.str();
    return option.error("'" + word + "': expected " + words);
  }
};

/// An option whose value is one of the words of an enum.
template <typename T> using WordOption = llvm::cl::opt<T, false, WordParser<T>>;

} // namespace llmc

#endif // LLMC_TOOLS_LLMC_WORDPARSER_H
