#!/usr/bin/env bash
# run_fuzzer.sh FUZZER CORPUS_DIR SECONDS [libFuzzer options...]
#
# Runs one llmc-fuzz-* binary for SECONDS over a copy of CORPUS_DIR (libFuzzer
# adds what it finds to its first corpus folder; the source tree stays as it
# is). A crash, a sanitizer report, a leak, a timeout of one input or an
# allocation past the limits fails it; the input that did is saved beside the
# copy and its path printed. One input may take 30 s: under the sanitizers'
# comparison tracing, an ONNX graph that folds a few million constant
# elements legitimately takes 8 s alone, and twice that beside the rest of
# ctest; a hang still fails.
set -euo pipefail
fuzzer=$(realpath "$1") corpus=$2 seconds=$3
shift 3
work=$(mktemp -d "${TMPDIR:-/tmp}/llmc-fuzz-run.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/crashes"
cp -r "$corpus"/. "$work/corpus/"
cd "$work"
if ! "$fuzzer" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 \
    -malloc_limit_mb=1024 -artifact_prefix="$work/crashes/" -print_final_stats=1 \
    "$@" corpus 2>fuzz.log; then
  tail -n 60 fuzz.log
  kept=${TMPDIR:-/tmp}/llmc-fuzz-crash.$$
  cp -r "$work/crashes" "$kept"
  echo "run_fuzzer.sh: $(basename "$fuzzer") failed; inputs kept in $kept" >&2
  exit 1
fi
grep -E "^stat::(number_of_executed_units|peak_rss_mb)" fuzz.log
