// `llmc run`: executes a forward plan (an ONNX graph compiled op by op) on
// arrays from .npy files, and writes each of its outputs as DIR/<name>.npy.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace llmc {

// `inputs`: (input name, .npy path) pairs, one per input buffer of the plan;
// `weights`: the safetensors the compile's --weights-out wrote, when the
// plan has parameters. Bad input throws io::InputError naming the file.
// `runs` > 1 runs the plan that many times on the same inputs and returns
// the median milliseconds of one run (the outputs are the last run's);
// `profile` prints the time spent per kernel kind (per run) at the end.
double
run_forward_plan(const std::string &plan_path,
                 const std::vector<std::pair<std::string, std::string>> &inputs,
                 const std::string &weights, const std::string &out_dir,
                 int runs = 1, bool profile = false);

} // namespace llmc
