#!/bin/sh
# CUDA compiler launcher of the kernels' library: runs the compile (the
# rest of the arguments: ccache, nvcc and its flags) and keeps ptxas's
# resource report (-Xptxas -v: each kernel's registers, shared memory,
# stack frame and spills, per architecture) beside the object as
# OBJECT.ptxas, for cmake/cuda_resources.py. Every other line nvcc prints
# goes on to the build's output; ccache replays the report on a hit.
out=
prev=
for arg; do
  [ "$prev" = "-o" ] && out=$arg
  prev=$arg
done
log=$(mktemp)
"$@" 2>"$log"
rc=$?
report='^ptxas info|bytes stack frame'
[ -n "$out" ] && grep -E "$report" "$log" >"$out.ptxas"
grep -Ev "$report" "$log" >&2
rm -f "$log"
exit $rc
