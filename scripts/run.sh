#!/usr/bin/env bash
# The main job: installs what is missing, builds, then compiles every example
# model and prints its summary (parameters, forward flops per token).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${LLMC_BUILD_DIR:-$root/build}

"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"

printf '\n%-12s %-6s %16s %22s %9s\n' model family params fwd_flops/token context
for config in "$root"/examples/configs/*.json; do
  name=$(basename "$config" .json)
  "$build/bin/llmc" compile "$config" --emit=summary |
    /usr/bin/python3 -c '
import json, sys
s = json.load(sys.stdin)
print("%-12s %-6s %16s %22s %9d" % (sys.argv[1], s["model_type"],
      format(s["params"], ","), format(s["forward_flops_per_token"], ","),
      s["seq_len"]))
' "$name"
done
