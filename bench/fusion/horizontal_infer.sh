#!/usr/bin/env bash
# bench/fusion/horizontal_infer.sh: what horizontal fusion (one GEMM by the
# q, k and v projections' weights, llmc-fuse-sibling-gemms) is worth when
# llmc generates, on bench/infer_cpu's 134M LLaMA (batch 1, 2 threads):
# the 128-token prefill (tokens/s, as time to the first token) and 128
# decode steps (tokens/s), in fp32, with INT8 weights and bf16-mixed, each
# plan compiled with --fusion all (vertical and horizontal) and vertical
# (q, k and v apart). The two run in turn, ROUNDS times; medians, and all
# over vertical.
set -euo pipefail
source "$(dirname "$0")/../common.sh"
rounds=${ROUNDS:-5}
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
config="$root/bench/infer_cpu/llama-134m.json"
P=128 N=128
/usr/bin/python3 "$root/test/reference/make_init.py" --config "$config" \
  --out "$work/w.safetensors" --seed 1 >/dev/null
make_prompts $P
kinds="fp32 int8 mixed"
flags() {
  case $1 in
  fp32) ;;
  int8) echo --weights-dtype int8 ;;
  mixed) echo --precision bf16-mixed ;;
  esac
}
for kind in $kinds; do
  for f in all vertical; do
    # shellcheck disable=SC2046
    "$llmc" compile "$config" --mode infer --max-batch 1 --max-seq $P \
      $(flags $kind) --fusion $f -o "$work/pp-$kind-$f.plan" > /dev/null
    # shellcheck disable=SC2046
    "$llmc" compile "$config" --mode infer --max-batch 1 \
      --max-seq $((16 + N)) $(flags $kind) --fusion $f \
      -o "$work/tg-$kind-$f.plan" > /dev/null
  done
done
for round in $(seq "$rounds"); do
  for kind in $kinds; do
    for f in all vertical; do
      "$llmc" generate "$work/pp-$kind-$f.plan" --weights "$work/w.safetensors" \
        --prompts "$work/pp.jsonl" --max-new-tokens 1 --json \
        >> "$work/$kind-$f.pp"
      "$llmc" generate "$work/tg-$kind-$f.plan" --weights "$work/w.safetensors" \
        --prompts "$work/tg.jsonl" --max-new-tokens $((N + 1)) --json \
        >> "$work/$kind-$f.tg"
    done
  done
done
/usr/bin/python3 - "$work" "$kinds" $P "$rounds" <<'PY'
import json, statistics, sys
work, kinds, P, rounds = sys.argv[1], sys.argv[2].split(), int(sys.argv[3]), sys.argv[4]
def runs(path):
    return [json.loads(l) for l in open(path)]
print("%-6s %10s %10s %6s %10s %10s %6s  (medians of %s runs)" %
      ("", "pp all", "pp apart", "x", "tg all", "tg apart", "x", rounds))
for kind in kinds:
    pp = {f: statistics.median(P / (r["ttft_ms"] / 1000)
                               for r in runs("%s/%s-%s.pp" % (work, kind, f)))
          for f in ("all", "vertical")}
    tg = {f: statistics.median(r["tokens_per_s"]
                               for r in runs("%s/%s-%s.tg" % (work, kind, f)))
          for f in ("all", "vertical")}
    same = runs("%s/%s-all.tg" % (work, kind))[0]["output_ids"] == \
        runs("%s/%s-vertical.tg" % (work, kind))[0]["output_ids"]
    print("%-6s %10.0f %10.0f %5.3fx %10.1f %10.1f %5.3fx  %s" %
          (kind, pp["all"], pp["vertical"], pp["all"] / pp["vertical"],
           tg["all"], tg["vertical"], tg["all"] / tg["vertical"],
           "same ids" if same else "ids differ"))
PY
