#include "runtime/run_forward.h"

#include "runtime/executor.h"
#include "runtime/io/error.h"
#include "runtime/io/npy.h"
#include "runtime/io/safetensors.h"
#include "runtime/plan/plan_file.h"
#include "runtime/trace.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <set>

namespace llmc {
namespace {

std::string shape_text(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::vector<int64_t> shape_of(const planfile::Plan &plan, int tensor) {
  const auto &s = plan.tensors(tensor).shape();
  return {s.begin(), s.end()};
}

} // namespace

double
run_forward_plan(const std::string &plan_path,
                 const std::vector<std::pair<std::string, std::string>> &inputs,
                 const std::string &weights, const std::string &out_dir,
                 int runs, bool profile) {
  Executor exec(plan::read_plan_file(plan_path));
  const planfile::Plan &plan = exec.plan();
  if (plan.model().model_type() != "onnx")
    throw io::InputError(plan_path + ": a plan of a " +
                         plan.model().model_type() +
                         " model; llmc run takes the forward plans of ONNX "
                         "graphs (llmc train, generate and serve run models)");
  std::set<std::string> given;
  for (const auto &[name, path] : inputs) {
    int t = exec.find_tensor(name, planfile::INPUT);
    if (t < 0)
      throw io::InputError(name + "=" + path + ": the plan has no input '" +
                           name + "'");
    if (!given.insert(name).second)
      throw io::InputError(name + "=" + path + ": input '" + name +
                           "' given twice");
    io::NpyArray a = io::read_npy(path);
    if (a.shape != shape_of(plan, t))
      throw io::InputError(path + ": shape " + shape_text(a.shape) +
                           ", but input '" + name + "' is " +
                           shape_text(shape_of(plan, t)));
    bool ids = plan.tensors(t).dtype() == planfile::I32;
    if (ids != a.integer)
      throw io::InputError(path + ": input '" + name + "' takes " +
                           (ids ? "integer ids" : "float32 values"));
    if (!ids) {
      exec.upload(exec.f32(t), a.data.data(), a.data.size() * sizeof(float));
      continue;
    }
    std::vector<int32_t> values(a.ints.size());
    for (size_t i = 0; i < a.ints.size(); ++i) {
      if (a.ints[i] < 0 || a.ints[i] > INT32_MAX)
        throw io::InputError(path + ": id " + std::to_string(a.ints[i]) +
                             " is out of range");
      values[i] = int32_t(a.ints[i]);
    }
    exec.upload(exec.i32(t), values.data(), values.size() * sizeof(int32_t));
  }
  for (const planfile::Buffer &b : plan.buffers())
    if (b.category() == planfile::INPUT && !given.count(b.name()))
      throw io::InputError(plan_path + ": input '" + b.name() +
                           "' is not given (NAME=FILE.npy)");
  bool has_params = std::any_of(plan.buffers().begin(), plan.buffers().end(),
                                [](const planfile::Buffer &b) {
                                  return b.category() == planfile::PARAM;
                                });
  if (has_params && weights.empty())
    throw io::InputError(plan_path + ": the plan reads constants; give the "
                                     "--weights that llmc compile "
                                     "--weights-out wrote");
  if (has_params) {
    io::SafetensorsReader reader(weights);
    for (const planfile::Buffer &b : plan.buffers()) {
      if (b.category() != planfile::PARAM)
        continue;
      int t = exec.find_tensor(b.name(), planfile::PARAM);
      const io::TensorInfo &info = reader.info(b.name());
      if (info.shape != shape_of(plan, t))
        throw io::InputError(weights + ": '" + b.name() + "' has shape " +
                             shape_text(info.shape) + ", the plan's is " +
                             shape_text(shape_of(plan, t)));
      std::vector<float> values(size_t(exec.num_elements(t)));
      reader.read(b.name(), values.data());
      exec.upload(exec.f32(t), values.data(), values.size() * sizeof(float));
    }
  }
  exec.set_profiling(profile);
  std::vector<double> ms;
  for (int r = 0; r < std::max(runs, 1); ++r) {
    auto start = std::chrono::steady_clock::now();
    exec.run(OptimizerStep());
    ms.push_back(std::chrono::duration<double, std::milli>(
                     std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  std::filesystem::create_directories(out_dir);
  for (const planfile::Buffer &b : plan.buffers()) {
    if (b.category() != planfile::OUTPUT)
      continue;
    int t = exec.find_tensor(b.name(), planfile::OUTPUT);
    // An ONNX name may hold '/' or ':'; the file name keeps [A-Za-z0-9._-].
    std::string file = b.name();
    for (char &ch : file)
      if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '.' &&
          ch != '_' && ch != '-')
        ch = '_';
    std::vector<float> values;
    io::write_npy(
        (std::filesystem::path(out_dir) / (file + ".npy")).string(),
        shape_of(plan, t),
        exec.readable(exec.f32(t), size_t(exec.num_elements(t)), values));
  }
  if (profile)
    print_profile(exec.kernel_seconds(), std::max(runs, 1), "run");
  return ms[ms.size() / 2];
}

} // namespace llmc
