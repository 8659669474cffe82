#!/usr/bin/env bash
# bench/published_runs: the cost model against published large-scale runs
# (Megatron-LM's Table 1, Narayanan et al. 2021; Korthikanti et al. 2022):
# each paper's layout estimated on the preset of the cluster it ran on,
# predicted against published, and llmc plan's choice for the same devices.
# Then the A100 and H100 presets' GEMM curves against the measured shapes.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
llmc=${LLMC:-$root/build/bin/llmc}
python3 "$root/bench/published_runs/compare.py" --llmc "$llmc" \
  --clusters "$root/examples/clusters"
echo
python3 "$root/bench/published_runs/fit_presets.py"
