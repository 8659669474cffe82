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
llvm_config.add_tool_substitutions(["llmc", "llmc-opt"],
                                   [config.llmc_tools_dir])
config.substitutions.append(("%python", sys.executable))
config.substitutions.append(
    ("%examples", os.path.join(config.llmc_src_root, "examples")))
