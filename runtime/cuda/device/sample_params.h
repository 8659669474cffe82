// The parameters of one row the GPU sampler draws from (device/
// sampling.cuh), shared with its host launcher: plain data, no device code.
#pragma once

namespace llmc::cuda::device {

struct SampleParams {
  double temperature; // 0: greedy
  double top_p;       // 1: off
  long long top_k;    // 0 or >= V: off
  double u;           // the request's uniform in [0, 1) for this token
};

} // namespace llmc::cuda::device
