// Tests that the cluster presets load with their datasheet values and that
// every malformed spec fails with one line naming the file and the field.

#include "compiler/planner/cluster_spec.h"

#include "TestClusters.h"

#include <gtest/gtest.h>

#include <string>

using namespace llmc::planner;

namespace {

const std::string kValid = R"({
  "name": "toy",
  "nodes": 2,
  "devices_per_node": 4,
  "device_memory": 1e9,
  "peak_flops": {"fp32": 1e12, "tf32": 2e12, "bf16": 4e12, "fp16": 4e12},
  "memory_bandwidth": 1e11,
  "intra_node": {"bandwidth": 1e10, "latency": 1e-6},
  "inter_node": {"bandwidth": 1e9, "latency": 1e-5}
})";

// kValid with the first occurrence of `from` replaced by `to`.
std::string with(const std::string &from, const std::string &to) {
  std::string text = kValid;
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

// The message of the PlannerError that parsing `text` throws.
std::string error_of(const std::string &text) {
  try {
    parse_cluster_spec(text, "toy.json");
  } catch (const PlannerError &error) {
    std::string message = error.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    EXPECT_EQ(message.rfind("toy.json: ", 0), 0u) << message;
    return message;
  }
  ADD_FAILURE() << "no error";
  return "";
}

std::string preset(const std::string &name) {
  return std::string(LLMC_SOURCE_DIR) + "/examples/clusters/" + name;
}

} // namespace

// Tests that a valid spec reads every field and defaults gemm_efficiency.
TEST(ClusterSpec, ParsesValidSpec) {
  ClusterSpec spec = parse_cluster_spec(kValid, "toy.json");
  EXPECT_EQ(spec.name, "toy");
  EXPECT_EQ(spec.devices(), 8);
  EXPECT_DOUBLE_EQ(spec.device_memory, 1e9);
  EXPECT_DOUBLE_EQ(spec.peak_flops.of(DType::TF32), 2e12);
  EXPECT_DOUBLE_EQ(spec.peak_flops.of(DType::BF16), 4e12);
  EXPECT_DOUBLE_EQ(spec.intra_node.bandwidth, 1e10);
  EXPECT_DOUBLE_EQ(spec.inter_node.latency, 1e-5);
  EXPECT_DOUBLE_EQ(spec.gemm_efficiency.max, GemmEfficiency().max);
  EXPECT_DOUBLE_EQ(spec.gemm_efficiency.k0, GemmEfficiency().k0);
}

// Tests that the presets carry the datasheet peaks and the measured rates
// cited in their README.
TEST(ClusterSpec, LoadsPresets) {
  ClusterSpec a100 = load_cluster_spec(preset("dgx-a100-80gb-hdr.json"));
  EXPECT_EQ(a100.devices_per_node, 8);
  EXPECT_DOUBLE_EQ(a100.peak_flops.bf16, 312e12);
  EXPECT_DOUBLE_EQ(a100.peak_flops.tf32, 156e12);
  EXPECT_DOUBLE_EQ(a100.peak_flops.fp32, 19.5e12);
  EXPECT_DOUBLE_EQ(a100.memory_bandwidth, 1.88e12);   // cuBLAS GEMV, measured
  EXPECT_DOUBLE_EQ(a100.intra_node.bandwidth, 230e9); // NCCL all-reduce busbw
  // HDR 200 Gb/s at the 86% that NCCL measured across nodes.
  EXPECT_DOUBLE_EQ(a100.inter_node.bandwidth, 0.86 * 200e9 / 8);
  EXPECT_DOUBLE_EQ(a100.gemm_efficiency.max, 0.869); // 271.2 of 312 TFLOP/s

  ClusterSpec h100 = load_cluster_spec(preset("dgx-h100-ndr.json"));
  EXPECT_DOUBLE_EQ(h100.peak_flops.bf16, 989e12);
  EXPECT_DOUBLE_EQ(h100.intra_node.bandwidth, 370e9);
  EXPECT_DOUBLE_EQ(h100.inter_node.bandwidth, 0.86 * 400e9 / 8); // NDR

  ClusterSpec cpu = load_cluster_spec(preset("this-cpu.json"));
  EXPECT_EQ(cpu.devices(), 1);
  EXPECT_DOUBLE_EQ(cpu.peak_flops.fp32, 225e9);
}

// Tests each kind of error and that it names the field.
TEST(ClusterSpec, RejectsMalformedJson) {
  EXPECT_NE(error_of("{\"nodes\": 2,").find("malformed JSON"),
            std::string::npos);
  EXPECT_NE(error_of("[1, 2]").find("expected a JSON object"),
            std::string::npos);
}

TEST(ClusterSpec, RejectsMissingField) {
  EXPECT_EQ(error_of(with("\"nodes\": 2,", "")),
            "toy.json: field 'nodes' is missing");
  // A duplicate key is legal JSON (the last wins): latency is then missing.
  EXPECT_EQ(error_of(with("\"latency\": 1e-6", "\"bandwidth\": 1e10")),
            "toy.json: field 'intra_node.latency' is missing");
}

TEST(ClusterSpec, ChecksNestedFields) {
  EXPECT_EQ(error_of(with(R"("fp16": 4e12)", R"("fp16x": 4e12)")),
            "toy.json: field 'peak_flops.fp16x' is unknown (expected one "
            "of: fp32, tf32, bf16, fp16)");
  EXPECT_EQ(error_of(with(R"(, "fp16": 4e12)", "")),
            "toy.json: field 'peak_flops.fp16' is missing");
}

TEST(ClusterSpec, RejectsWrongType) {
  EXPECT_EQ(error_of(with("\"nodes\": 2", "\"nodes\": \"2\"")),
            "toy.json: field 'nodes' must be an integer, got \"2\"");
  EXPECT_EQ(error_of(with("\"nodes\": 2", "\"nodes\": 2.5")),
            "toy.json: field 'nodes' must be an integer, got 2.5");
  EXPECT_EQ(error_of(with("\"device_memory\": 1e9", "\"device_memory\": true")),
            "toy.json: field 'device_memory' must be a number, got boolean");
  EXPECT_EQ(
      error_of(with(R"("intra_node": {"bandwidth": 1e10, "latency": 1e-6})",
                    R"("intra_node": 5)")),
      "toy.json: field 'intra_node' must be an object, got number");
}

TEST(ClusterSpec, RejectsNonPositive) {
  EXPECT_EQ(
      error_of(with("\"memory_bandwidth\": 1e11", "\"memory_bandwidth\": 0")),
      "toy.json: field 'memory_bandwidth' must be positive, got 0");
  EXPECT_EQ(
      error_of(with("\"devices_per_node\": 4", "\"devices_per_node\": -4")),
      "toy.json: field 'devices_per_node' must be a positive integer, "
      "got -4");
  EXPECT_EQ(
      error_of(with("\"latency\": 1e-5", "\"latency\": -1e-5")),
      "toy.json: field 'inter_node.latency' must be positive, got -1e-05");
}

TEST(ClusterSpec, RejectsUnknownField) {
  std::string message =
      error_of(with("\"nodes\": 2,", "\"nodes\": 2, \"_comment\": \"x\","));
  EXPECT_EQ(message.rfind("toy.json: field '_comment' is unknown", 0), 0u)
      << message;
  EXPECT_EQ(error_of(with("\"latency\": 1e-6", "\"latncy\": 1e-6")),
            "toy.json: field 'intra_node.latncy' is unknown (expected one "
            "of: bandwidth, latency)");
}

TEST(ClusterSpec, ReadsAndChecksGemmEfficiency) {
  std::string text =
      with("\"nodes\": 2,", "\"nodes\": 2, \"gemm_efficiency\": {\"m0\": 64},");
  ClusterSpec spec = parse_cluster_spec(text, "toy.json");
  EXPECT_DOUBLE_EQ(spec.gemm_efficiency.m0, 64);
  EXPECT_DOUBLE_EQ(spec.gemm_efficiency.n0, GemmEfficiency().n0);
  EXPECT_EQ(
      error_of(with("\"nodes\": 2,",
                    "\"nodes\": 2, \"gemm_efficiency\": {\"max\": 1.5},")),
      "toy.json: field 'gemm_efficiency.max' must be at most 1, got 1.5");
}

TEST(ClusterSpec, LoadNamesMissingFile) {
  try {
    load_cluster_spec("/nonexistent/spec.json");
    FAIL() << "no error";
  } catch (const PlannerError &error) {
    EXPECT_STREQ(error.what(),
                 "/nonexistent/spec.json: cannot open cluster spec");
  }
}

// Tests that a spec written by llmc calibrate (with measured kernel rates)
// reads back as written.
TEST(ClusterSpec, FormatRoundTrips) {
  ClusterSpec spec = parse_cluster_spec(
      format_cluster_spec(llmc::planner::testing::two_node_cluster()), "a");
  spec.gemm_efficiency = {1.0, 11, 16, 8};
  EXPECT_FALSE(parse_cluster_spec(format_cluster_spec(spec), "b")
                   .gemm_efficiency_bf16.has_value());
  spec.gemm_efficiency_bf16 = GemmEfficiency{0.9, 181, 64, 91};
  spec.kernel_bandwidth = {{"adamw", 6.5e9}, {"layernorm_forward", 12e9}};
  spec.kernel_flops = {{"attention_forward", 40e9}};
  ClusterSpec back = parse_cluster_spec(format_cluster_spec(spec), "b");
  EXPECT_EQ(back.name, spec.name);
  EXPECT_EQ(back.devices(), 16);
  EXPECT_DOUBLE_EQ(back.peak_flops.bf16, 100e12);
  EXPECT_DOUBLE_EQ(back.inter_node.latency, 1e-5);
  EXPECT_DOUBLE_EQ(back.gemm_efficiency.n0, 16);
  ASSERT_TRUE(back.gemm_efficiency_bf16.has_value());
  EXPECT_DOUBLE_EQ(back.gemm_efficiency_bf16->m0, 181);
  EXPECT_DOUBLE_EQ(back.gemm_efficiency_bf16->max, 0.9);
  EXPECT_EQ(back.kernel_bandwidth, spec.kernel_bandwidth);
  EXPECT_EQ(back.kernel_flops, spec.kernel_flops);
}

TEST(ClusterSpec, RejectsNonPositiveKernelRate) {
  std::string text =
      format_cluster_spec(llmc::planner::testing::two_node_cluster());
  text.insert(text.rfind('}'), R"(, "kernel_bandwidth": {"adamw": 0})");
  EXPECT_THROW(
      {
        try {
          parse_cluster_spec(text, "spec.json");
        } catch (const PlannerError &e) {
          EXPECT_STREQ(e.what(), "spec.json: field 'kernel_bandwidth.adamw' "
                                 "must be positive, got 0");
          throw;
        }
      },
      PlannerError);
}
