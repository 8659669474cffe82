//===- CalibrateCommand.h - `llmc calibrate` --------------------*- C++ -*-===//

#ifndef LLMC_TOOLS_LLMC_CALIBRATECOMMAND_H
#define LLMC_TOOLS_LLMC_CALIBRATECOMMAND_H

namespace llmc {

bool isCalibrateCommand();
/// Returns the exit code: 0, or 2 with one line on bad input.
int runCalibrateCommand(const char *argv0);

} // namespace llmc

#endif // LLMC_TOOLS_LLMC_CALIBRATECOMMAND_H
