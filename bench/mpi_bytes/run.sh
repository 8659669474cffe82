#!/usr/bin/env bash
# bench/mpi_bytes: the bytes each rank sends per training step, three ways,
# side by side for every kind of layout:
#   predicted  `llmc explain` (the plan's collectives, ring formulas)
#   accounted  the runtime's own count (--log's comm_bytes_sent: each call's
#              ring formula, summed; what the communicator asked MPI to do)
#   measured   what Open MPI's PML sent, counted by its monitoring component
#              (mpi_bytes.py), per step as (bytes of 3 steps - bytes of 1)/2
# The measured figure is per rank (min and max over ranks): Open MPI's
# collective component picks its own algorithms, which need not be rings.
# Runs the bench/train_cpu model (d 512, 8 layers) with micro-batch 2, seq
# 256 on 2 and 4 ranks.
set -euo pipefail
source "$(dirname "$0")/../common.sh"
use_mpi_ranks

make_tokens 200000
layouts=("dp=2" "dp=4" "tp=2" "tp=2 sp" "dp=2,tp=2" "dp=2 zero1" "dp=2 zero3"
  "pp=2")
printf '%-12s %12s %12s %12s %12s %8s\n' layout predicted accounted \
  "measured min" "measured max" "max/acc"
for layout in "${layouts[@]}"; do
  read -r mesh extra <<<"$layout"
  flags=(--mesh "$mesh")
  case "$extra" in
  sp) flags+=(--sequence-parallel) ;;
  zero*) flags+=(--zero "${extra#zero}") ;;
  esac
  [[ $mesh == pp=* ]] && flags+=(--microbatches 2)
  ranks=1
  for axis in ${mesh//,/ }; do ranks=$((ranks * ${axis#*=})); done
  "$llmc" compile "$here/../train_cpu/config.json" --mode train \
    --micro-batch 2 --seq 256 "${flags[@]}" -o "$work/l.plan" >/dev/null
  predicted=$("$llmc" explain "$work/l.plan" | grep -oE "total: [0-9]+ bytes" |
    head -1 | grep -oE "[0-9]+")
  for steps in 1 3; do
    rm -f "$work"/prof$steps.*.prof
    OMPI_MCA_pml_monitoring_enable=2 OMPI_MCA_pml_monitoring_enable_output=3 \
      OMPI_MCA_pml_monitoring_filename="$work/prof$steps" \
      mpirun --oversubscribe -np "$ranks" "$llmc" train "$work/l.plan" \
      --data "$work/train.bin" --steps "$steps" --log "$work/l$steps.jsonl" \
      --progress never >/dev/null 2>"$work/err" || { cat "$work/err"; exit 1; }
  done
  /usr/bin/python3 - "$here" "$work" "$layout" "$predicted" <<'PY'
import json, sys
here, work, layout, predicted = sys.argv[1:]
sys.path.insert(0, here)
import mpi_bytes
short, long = (mpi_bytes.bytes_by_rank("%s/prof%d" % (work, s)) for s in (1, 3))
measured = [(b - a) // 2 for a, b in zip(short, long)]
accounted = [json.loads(l)["comm_bytes_sent"]
             for l in open(work + "/l3.jsonl") if "comm_bytes_sent" in l][-1]
print("%-12s %12s %12d %12d %12d %8.3f" % (layout, predicted, accounted,
      min(measured), max(measured), max(measured) / max(accounted, 1)))
PY
done
