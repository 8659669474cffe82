// Strict reading of cluster specs: every error is one line naming the file
// and the field, and a typo in a field name is an error, not a default.

#include "compiler/planner/cluster_spec.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <initializer_list>
#include <map>
#include <sstream>

namespace llmc::planner {

double PeakFlops::of(DType type) const {
  switch (type) {
  case DType::FP32:
    return fp32;
  case DType::TF32:
    return tf32;
  case DType::BF16:
    return bf16;
  case DType::FP16:
    return fp16;
  }
  return fp32;
}

namespace {

using json = nlohmann::json;

//===----------------------------------------------------------------------===//
// Field reader
//===----------------------------------------------------------------------===//

// Reads the fields of one JSON object, naming each by its dotted path.
class ObjectReader {
public:
  ObjectReader(const json &object, std::string file, std::string prefix)
      : object_(object), file_(std::move(file)), prefix_(std::move(prefix)) {}

  [[noreturn]] void fail(const std::string &field,
                         const std::string &message) const {
    throw PlannerError(file_ + ": field '" + prefix_ + field + "' " + message);
  }

  // Rejects any key not in `known`, listing what is accepted.
  void reject_unknown(std::initializer_list<const char *> known) const {
    for (auto it = object_.begin(); it != object_.end(); ++it) {
      bool found = false;
      std::string list;
      for (const char *key : known) {
        found |= it.key() == key;
        list += list.empty() ? key : std::string(", ") + key;
      }
      if (!found)
        fail(it.key(), "is unknown (expected one of: " + list + ")");
    }
  }

  const json &require(const std::string &field) const {
    auto it = object_.find(field);
    if (it == object_.end())
      fail(field, "is missing");
    return *it;
  }

  double positive_number(const std::string &field) const {
    const json &value = require(field);
    if (!value.is_number())
      fail(field, "must be a number, got " + std::string(value.type_name()));
    double number = value.get<double>();
    if (!(number > 0))
      fail(field, "must be positive, got " + value.dump());
    return number;
  }

  // Optional number; keeps `fallback` when absent.
  double positive_number_or(const std::string &field, double fallback) const {
    return object_.contains(field) ? positive_number(field) : fallback;
  }

  int positive_int(const std::string &field) const {
    const json &value = require(field);
    if (!value.is_number_integer())
      fail(field, "must be an integer, got " + value.dump());
    auto number = value.get<long long>();
    if (number <= 0 || number > 1'000'000)
      fail(field, "must be a positive integer, got " + value.dump());
    return static_cast<int>(number);
  }

  std::string string(const std::string &field) const {
    const json &value = require(field);
    if (!value.is_string())
      fail(field, "must be a string, got " + std::string(value.type_name()));
    return value.get<std::string>();
  }

  ObjectReader object(const std::string &field) const {
    const json &value = require(field);
    if (!value.is_object())
      fail(field, "must be an object, got " + std::string(value.type_name()));
    return ObjectReader(value, file_, prefix_ + field + ".");
  }

  bool has(const std::string &field) const { return object_.contains(field); }

  // Every field, as a positive number (a map of names to rates).
  std::map<std::string, double> positive_numbers() const {
    std::map<std::string, double> values;
    for (auto it = object_.begin(); it != object_.end(); ++it)
      values[it.key()] = positive_number(it.key());
    return values;
  }

private:
  const json &object_;
  std::string file_;
  std::string prefix_;
};

//===----------------------------------------------------------------------===//
// Sections
//===----------------------------------------------------------------------===//

PeakFlops read_peaks(const ObjectReader &reader) {
  reader.reject_unknown({"fp32", "tf32", "bf16", "fp16"});
  PeakFlops peaks;
  peaks.fp32 = reader.positive_number("fp32");
  peaks.tf32 = reader.positive_number("tf32");
  peaks.bf16 = reader.positive_number("bf16");
  peaks.fp16 = reader.positive_number("fp16");
  return peaks;
}

LinkSpec read_link(const ObjectReader &reader) {
  reader.reject_unknown({"bandwidth", "latency"});
  return {reader.positive_number("bandwidth"),
          reader.positive_number("latency")};
}

GemmEfficiency read_gemm_efficiency(const ObjectReader &reader) {
  reader.reject_unknown({"max", "m0", "n0", "k0"});
  GemmEfficiency eff;
  eff.max = reader.positive_number_or("max", eff.max);
  if (eff.max > 1)
    reader.fail("max", "must be at most 1, got " + json(eff.max).dump());
  eff.m0 = reader.positive_number_or("m0", eff.m0);
  eff.n0 = reader.positive_number_or("n0", eff.n0);
  eff.k0 = reader.positive_number_or("k0", eff.k0);
  return eff;
}

} // namespace

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

ClusterSpec parse_cluster_spec(const std::string &text,
                               const std::string &file_name) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::parse_error &error) {
    throw PlannerError(file_name + ": malformed JSON: " + error.what());
  }
  if (!root.is_object())
    throw PlannerError(file_name + ": expected a JSON object at top level");

  ObjectReader reader(root, file_name, "");
  reader.reject_unknown(
      {"name", "nodes", "devices_per_node", "device_memory", "peak_flops",
       "memory_bandwidth", "intra_node", "inter_node", "gemm_efficiency",
       "gemm_efficiency_bf16", "kernel_bandwidth", "kernel_flops"});
  ClusterSpec spec;
  spec.name = reader.string("name");
  spec.nodes = reader.positive_int("nodes");
  spec.devices_per_node = reader.positive_int("devices_per_node");
  spec.device_memory = reader.positive_number("device_memory");
  spec.peak_flops = read_peaks(reader.object("peak_flops"));
  spec.memory_bandwidth = reader.positive_number("memory_bandwidth");
  spec.intra_node = read_link(reader.object("intra_node"));
  spec.inter_node = read_link(reader.object("inter_node"));
  if (reader.has("gemm_efficiency"))
    spec.gemm_efficiency =
        read_gemm_efficiency(reader.object("gemm_efficiency"));
  if (reader.has("gemm_efficiency_bf16"))
    spec.gemm_efficiency_bf16 =
        read_gemm_efficiency(reader.object("gemm_efficiency_bf16"));
  if (reader.has("kernel_bandwidth"))
    spec.kernel_bandwidth =
        reader.object("kernel_bandwidth").positive_numbers();
  if (reader.has("kernel_flops"))
    spec.kernel_flops = reader.object("kernel_flops").positive_numbers();
  return spec;
}

ClusterSpec load_cluster_spec(const std::string &path) {
  std::ifstream file(path);
  if (!file)
    throw PlannerError(path + ": cannot open cluster spec");
  std::ostringstream text;
  text << file.rdbuf();
  return parse_cluster_spec(text.str(), path);
}

std::string format_cluster_spec(const ClusterSpec &spec) {
  auto link = [](const LinkSpec &l) {
    return nlohmann::ordered_json{{"bandwidth", l.bandwidth},
                                  {"latency", l.latency}};
  };
  auto efficiency = [](const GemmEfficiency &e) {
    return nlohmann::ordered_json{
        {"max", e.max}, {"m0", e.m0}, {"n0", e.n0}, {"k0", e.k0}};
  };
  nlohmann::ordered_json json = {
      {"name", spec.name},
      {"nodes", spec.nodes},
      {"devices_per_node", spec.devices_per_node},
      {"device_memory", spec.device_memory},
      {"peak_flops",
       {{"fp32", spec.peak_flops.fp32},
        {"tf32", spec.peak_flops.tf32},
        {"bf16", spec.peak_flops.bf16},
        {"fp16", spec.peak_flops.fp16}}},
      {"memory_bandwidth", spec.memory_bandwidth},
      {"intra_node", link(spec.intra_node)},
      {"inter_node", link(spec.inter_node)},
      {"gemm_efficiency", efficiency(spec.gemm_efficiency)}};
  if (spec.gemm_efficiency_bf16)
    json["gemm_efficiency_bf16"] = efficiency(*spec.gemm_efficiency_bf16);
  if (!spec.kernel_bandwidth.empty())
    json["kernel_bandwidth"] = spec.kernel_bandwidth;
  if (!spec.kernel_flops.empty())
    json["kernel_flops"] = spec.kernel_flops;
  return json.dump(2) + "\n";
}

} // namespace llmc::planner
