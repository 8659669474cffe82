#!/usr/bin/env python3
"""Writes OUT/scale.onnx, y = Softmax(x * c + b, axis=0), c and b float
initializers, and its input x.npy and expected y.npy (numpy, float64 then
rounded): a graph no pattern recognises, with constants. Also
OUT/strided.onnx, y = Slice(s, ...) with steps 2 and -3 (numpy's
s[1:6:2, 7::-3]), its input s.npy and expected strided.npy.

    make_general_onnx.py OUT
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(0)
x = rng.standard_normal((3, 4)).astype(np.float32)
c = rng.standard_normal(4).astype(np.float32)
b = rng.standard_normal((3, 1)).astype(np.float32)
nodes = [helper.make_node("Mul", ["x", "c"], ["xc"], name="mul"),
         helper.make_node("Add", ["xc", "b"], ["z"], name="add"),
         helper.make_node("Softmax", ["z"], ["y"], name="softmax", axis=0)]
graph = helper.make_graph(
    nodes, "scale",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 4])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 4])],
    initializer=[numpy_helper.from_array(c, "c"), numpy_helper.from_array(b, "b")])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
onnx.checker.check_model(model)
onnx.save(model, os.path.join(out, "scale.onnx"))
z = x.astype(np.float64) * c + b
y = np.exp(z - z.max(axis=0)) / np.exp(z - z.max(axis=0)).sum(axis=0)
np.save(os.path.join(out, "x.npy"), x)
np.save(os.path.join(out, "x-wrong.npy"), x[:2])
np.save(os.path.join(out, "expected.npy"), y.astype(np.float32))

# Strided and backward slices: y = s[1:6:2, 7::-3] (ONNX clamps the end).
s = rng.standard_normal((6, 8)).astype(np.float32)
ints = lambda name, v: numpy_helper.from_array(np.array(v, np.int64), name)  # noqa: E731
graph = helper.make_graph(
    [helper.make_node("Slice", ["s", "starts", "ends", "axes", "steps"], ["y"],
                      name="slice")],
    "strided",
    [helper.make_tensor_value_info("s", TensorProto.FLOAT, [6, 8])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 3])],
    initializer=[ints("starts", [1, 7]), ints("ends", [6, -1000]),
                 ints("axes", [0, 1]), ints("steps", [2, -3])])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
onnx.checker.check_model(model)
onnx.save(model, os.path.join(out, "strided.onnx"))
np.save(os.path.join(out, "s.npy"), s)
np.save(os.path.join(out, "strided.npy"), s[1:6:2, 7::-3])
