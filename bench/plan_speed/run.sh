#!/usr/bin/env bash
# bench/plan_speed: how long `llmc plan` takes to search the parallel layouts
# of GPT-3 175B on 1,024 A100s and of a 1T-parameter GPT on 3,072 A100s
# (the two largest runs of Narayanan et al. 2021). For scale, Alpa reports
# about 40 minutes to plan a 39B model on 64 GPUs.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
llmc=${LLMC:-$root/build/bin/llmc}
cluster=$root/examples/clusters/dgx-a100-80gb-hdr.json

run() { # config devices global-batch
  local start end
  start=$(date +%s%N)
  "$llmc" plan "$root/examples/configs/$1.json" --cluster "$cluster" \
    --devices "$2" --global-batch "$3" --top 1 > /tmp/llmc-plan-speed.txt
  end=$(date +%s%N)
  printf '%-10s %5d devices  batch %5d  %6d ms  (%s)\n' "$1" "$2" "$3" \
    $(((end - start) / 1000000)) \
    "$(tail -1 /tmp/llmc-plan-speed.txt)"
  sed -n 3p /tmp/llmc-plan-speed.txt # the best layout, under the header
}
run gpt3-175b 1024 1536
run gpt-1t 3072 3072
