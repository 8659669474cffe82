// CUDA's spellings for the kernel bodies: nvcc has its own; the emulated
// builds of the launchers (LLMC_SIMT) take them from the SIMT emulator.
// Every device header includes this first.
#pragma once

#if defined(LLMC_SIMT)
#include "runtime/cuda/simt/simt.h"
#endif
