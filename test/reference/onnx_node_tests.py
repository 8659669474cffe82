#!/usr/bin/env python3
"""Runs the ONNX backend node tests of the ops llmc's general lowering claims.

    onnx_node_tests.py --llmc BIN --workdir DIR [--data DIR] [--markdown FILE]

The tests are Debian's libonnx-testdata (/usr/share/libonnx-testdata/data/
node/test_*/): a one-node model (or a function expanded into several
nodes), its inputs and expected outputs as TensorProto files. A test is
claimed when every node of its graph is an op type in OPS; a claimed test
runs unless its opset is outside llmc's 13-17 or a graph input or output
is not a float32 tensor (llmc's general kernels compute in float32; a
Gather's integer indices excepted), which
is counted as skipped. Integer inputs that are
shape data (ReduceSum's axes, Reshape's and Expand's shape) are made
initializers with the test's values, since llmc binds shapes when it
compiles, and so are Gather's indices where some are negative (llmc reads
run-time indices as ids 0..n-1, negative ones only as constants). Each claimed
test: `llmc compile model.onnx --emit=plan` (constants to --weights-out),
then `llmc run` on every test_data_set_N; each output must match the
expected one at the backend tests' tolerance (rtol 1e-3, atol 1e-7).

Prints one line per test and a summary "node tests: P passed, F failed,
S skipped (dtype) of C claimed"; exit 1 if any failed. --markdown writes
the table of ops and tests passed (frontends/onnx/node-tests.md).
"""
import argparse
import collections
import glob
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper

OPS = {"Identity", "Neg", "Abs", "Relu", "Exp", "Log", "Sqrt", "Reciprocal",
       "Tanh", "Sigmoid", "Erf", "Sin", "Cos", "Floor", "Ceil", "Add", "Sub",
       "Mul", "Div", "Pow", "Max", "Min", "Sum", "Softmax", "MatMul",
       "Transpose", "Reshape", "Squeeze", "Unsqueeze", "ReduceSum",
       "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd",
       "ReduceSumSquare", "Concat", "Split", "Constant", "Gemm",
       "LayerNormalization", "Expand", "Gather", "Where"}
RTOL, ATOL = 1e-3, 1e-7


def run_test(a, folder):
    """'passed', 'skipped: why' or 'failed: why'."""
    name = os.path.basename(folder)
    work = os.path.join(a.workdir, name)
    os.makedirs(work, exist_ok=True)
    model = onnx.load(os.path.join(folder, "model.onnx"))
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    if not 13 <= opset <= 17:
        return "skipped: opset %d (llmc imports 13-17)" % opset
    sets = sorted(glob.glob(os.path.join(folder, "test_data_set_*")))
    inputs = [v for v in model.graph.input
              if v.name not in {t.name for t in model.graph.initializer}]
    for v in inputs + list(model.graph.output):
        if not v.type.HasField("tensor_type"):
            return "skipped: '%s' is not a tensor" % v.name
    first = [numpy_helper.to_array(onnx.load_tensor(
        os.path.join(sets[0], "input_%d.pb" % i))) for i in range(len(inputs))]
    # Shape data (the second input of these ops) as initializers: llmc
    # folds shapes when it compiles.
    shapes = {n.input[1] for n in model.graph.node if len(n.input) > 1 and
              n.op_type in ("ReduceSum", "Reshape", "Squeeze", "Unsqueeze",
                            "Split", "Expand")}
    # Gather reads run-time indices as ids in 0..n-1 (an embedding's rows);
    # negative indices, which count from the end, only as constants.
    gathered = {n.input[1] for n in model.graph.node if n.op_type == "Gather"}
    runtime = []
    for v, value in zip(inputs, first):
        if v.name in shapes or (v.name in gathered and (value < 0).any()):
            model.graph.initializer.append(numpy_helper.from_array(value, v.name))
            model.graph.input.remove(v)
        else:
            runtime.append(v)
    ids = {v.name for v in runtime if v.name in gathered and
           v.type.tensor_type.elem_type in (onnx.TensorProto.INT64,
                                            onnx.TensorProto.INT32)}
    for v in list(runtime) + list(model.graph.output):
        if v.type.tensor_type.elem_type != onnx.TensorProto.FLOAT and v.name not in ids:
            return "skipped: '%s' is %s" % (v.name, onnx.TensorProto.DataType.Name(
                v.type.tensor_type.elem_type))
    path = os.path.join(work, "model.onnx")
    onnx.save(model, path)
    plan, weights = os.path.join(work, "model.plan"), os.path.join(work, "w.safetensors")
    r = subprocess.run([a.llmc, "compile", path, "--emit=plan", "-o", plan,
                        "--weights-out", weights], capture_output=True, text=True)
    if r.returncode:
        return "failed: " + r.stderr.strip()
    index = {v.name: i for i, v in enumerate(inputs)}
    for s in sets:
        args = []
        for v in runtime:
            array = numpy_helper.to_array(onnx.load_tensor(
                os.path.join(s, "input_%d.pb" % index[v.name])))
            npy = os.path.join(work, "%s.%s.npy" % (os.path.basename(s), index[v.name]))
            dtype = array.dtype if v.name in ids else np.float32
            np.save(npy, np.array(array, dtype=dtype, order="C"))
            args.append("%s=%s" % (v.name, npy))
        out = os.path.join(work, "out-" + os.path.basename(s))
        r = subprocess.run([a.llmc, "run", plan, *args, "--weights", weights,
                            "-o", out], capture_output=True, text=True)
        if r.returncode:
            return "failed: " + r.stderr.strip()
        for i, v in enumerate(model.graph.output):
            expected = numpy_helper.to_array(onnx.load_tensor(
                os.path.join(s, "output_%d.pb" % i)))
            got = np.load(os.path.join(out, v.name + ".npy"))
            try:
                np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)
            except AssertionError as e:
                lines = [line for line in str(e).splitlines() if line.strip()]
                return "failed: output '%s': %s" % (v.name, " ".join(lines[:3]))
    return "passed"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--llmc", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--data", default="/usr/share/libonnx-testdata/data/node")
    ap.add_argument("--markdown")
    a = ap.parse_args()
    by_op = collections.defaultdict(lambda: collections.Counter())
    totals = collections.Counter()
    for folder in sorted(glob.glob(os.path.join(a.data, "test_*"))):
        model = onnx.load(os.path.join(folder, "model.onnx"))
        ops = {n.op_type for n in model.graph.node}
        if not ops or not ops <= OPS:
            continue
        result = run_test(a, folder)
        kind = result.split(":")[0]
        totals[kind] += 1
        for op in ops - {"Constant"}:
            by_op[op][kind] += 1
        print("%s: %s" % (os.path.basename(folder), result))
    claimed = sum(totals.values())
    print("node tests: %d passed, %d failed, %d skipped (opset or dtype) of "
          "%d claimed"
          % (totals["passed"], totals["failed"], totals["skipped"], claimed))
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write("# ONNX backend node tests of the general lowering\n\n"
                    "Written by `test/reference/onnx_node_tests.py --markdown` "
                    "over Debian's libonnx-testdata 1.12: the tests whose "
                    "every node is an op the general lowering takes. Tests "
                    "of opsets outside 13-17 (which llmc refuses) or of "
                    "other element types than float32 (llmc's general "
                    "kernels compute in float32) are skipped. Shape inputs "
                    "(Reshape's, Expand's, axes) are given as constants, as "
                    "are Gather's indices where some are negative (run-time "
                    "indices are ids 0..n-1). A test of several ops counts "
                    "once for each.\n\n"
                    "| op | passed | failed | skipped (opset or dtype) |\n"
                    "|---|---|---|---|\n")
            for op in sorted(by_op):
                c = by_op[op]
                f.write("| %s | %d | %d | %d |\n" % (op, c["passed"], c["failed"],
                                                   c["skipped"]))
            f.write("\nIn all: %d passed, %d failed, %d skipped of %d claimed "
                    "tests.\n" % (totals["passed"], totals["failed"],
                                  totals["skipped"], claimed))
    sys.exit(1 if totals["failed"] else 0)


if __name__ == "__main__":
    main()
