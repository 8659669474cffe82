//===- error.h - The one exception type of the runtime I/O layer ----------===//
//
// Every malformed file, missing tensor or bad batch request throws InputError.
// Its what() is a single line that names the file (and the tensor, field or
// offset) and says what was expected; the CLI prints it and exits with 2.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_IO_ERROR_H
#define LLMC_RUNTIME_IO_ERROR_H

#include <stdexcept>
#include <string>

namespace llmc::io {

class InputError : public std::runtime_error {
public:
  explicit InputError(const std::string &message)
      : std::runtime_error(message) {}
};

} // namespace llmc::io

#endif // LLMC_RUNTIME_IO_ERROR_H
