# lit configuration for llmc: runs the .mlir and .test files under test/
# against the tools in build/bin.
import os
import sys

import lit.formats
from lit.llvm import llvm_config

config.name = "llmc"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.llmc_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py",
                   "unittests", "Inputs", "reference"]

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(["llmc", "llmc-opt", "llmc-run"],
                                   [config.llmc_tools_dir])
config.substitutions.append(("%python", sys.executable))
# A build with the CUDA backend (and llmc-run-emulated-cuda); "no-gpu" where
# no NVIDIA device node exists.
if config.llmc_cuda.upper() in ("ON", "1", "TRUE", "YES"):
    config.available_features.add("cuda")
    llvm_config.add_tool_substitutions(["llmc-run-emulated-cuda"],
                                       [config.llmc_tools_dir])
if not os.path.exists("/dev/nvidia0"):
    config.available_features.add("no-gpu")
# Tests that start system daemons (Slurm's slurmd) need root.
if os.geteuid() == 0:
    config.available_features.add("root")
# For scripts that start llmc themselves (test/parallel/Inputs).
config.environment["LLMC_TOOLS_DIR"] = config.llmc_tools_dir
# Multi-rank runs: OpenMPI as root, more ranks than cores, shared memory only,
# one thread per rank.
for name, value in [("OMPI_ALLOW_RUN_AS_ROOT", "1"),
                    ("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1"),
                    ("OMPI_MCA_btl", "self,vader"),
                    ("OMPI_MCA_rmaps_base_oversubscribe", "1")]:
    config.environment[name] = value
config.substitutions.append(
    ("%mpirun", "env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "
                "mpirun --oversubscribe -np"))
config.substitutions.append(
    ("%examples", os.path.join(config.llmc_src_root, "examples")))
config.substitutions.append(("%llmc_src", config.llmc_src_root))
config.substitutions.append(("%llmc_obj", config.llmc_obj_root))
config.substitutions.append(
    ("%bench", os.path.join(config.llmc_src_root, "bench")))
