#!/usr/bin/env bash
# bench/fuzz/run.sh [BUILD_DIR] [RUNS]: every fuzz target of test/fuzz for RUNS
# executions (default one million) over its seed corpus, one after another,
# with the same sanitizers and limits as ctest's short runs. Prints per target
# the executions, the seconds, executions per second and peak memory; any
# crash, sanitizer report, leak or over-limit input stops it with that input.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
runs=${2:-1000000}
printf '%-14s %10s %8s %10s %8s\n' target executions seconds "exec/s" "peak MB"
for name in plan-file safetensors token-file model-config onnx-import; do
  start=$(date +%s.%N)
  stats=$("$root/test/fuzz/run_fuzzer.sh" "$build/bin/llmc-fuzz-$name" \
    "$root/test/fuzz/corpus/$name" 86400 -runs="$runs")
  seconds=$(echo "$(date +%s.%N) - $start" | bc)
  executed=$(echo "$stats" | awk '/number_of_executed_units/ {print $2}')
  peak=$(echo "$stats" | awk '/peak_rss_mb/ {print $2}')
  printf '%-14s %10s %8.0f %10.0f %8s\n' "$name" "$executed" "$seconds" \
    "$(echo "$executed / $seconds" | bc -l)" "$peak"
done
