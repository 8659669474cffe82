#!/usr/bin/env python3
"""Writes Hugging Face Optimum's merged decoder form of a cached export.

    make_merged_onnx.py CACHED.onnx OUT.onnx

Optimum's `decoder_model_merged.onnx` holds the decoder with a past and the
one without in one file: a graph input `use_cache_branch` (bool [1]) is the
condition of a single If node whose then branch runs with the past and whose
else branch (a sequence's first step) without; both branches read the outer
graph's inputs and initializers and give the If's outputs (logits, present.N
.key/.value). Here both branches are the cached export's nodes (the else
branch computes what the first step does, with a past of length 0), their
values renamed apart by a prefix per branch.
"""
import sys

import onnx
from onnx import TensorProto, helper

src, out = sys.argv[1:]
model = onnx.load(src)
g = model.graph
outer = {v.name for v in g.input} | {t.name for t in g.initializer}


def branch(prefix):
    """The cached graph's nodes as a subgraph; inner values prefixed."""
    rename = lambda n: n if n in outer or not n else prefix + n  # noqa: E731
    nodes = []
    for n in g.node:
        m = onnx.NodeProto()
        m.CopyFrom(n)
        m.name = prefix + n.name
        m.input[:] = [rename(i) for i in n.input]
        m.output[:] = [rename(o) for o in n.output]
        nodes.append(m)
    outputs = [helper.make_tensor_value_info(prefix + v.name, v.type.tensor_type.elem_type, None)
               for v in g.output]
    return helper.make_graph(nodes, prefix.rstrip("/"), [], outputs)


merged = helper.make_node("If", ["use_cache_branch"], [v.name for v in g.output],
                          name="optimum::if", then_branch=branch("with_past/"),
                          else_branch=branch("no_past/"))
graph = helper.make_graph(
    [merged], g.name + "_merged",
    list(g.input) + [helper.make_tensor_value_info("use_cache_branch", TensorProto.BOOL, [1])],
    list(g.output), initializer=list(g.initializer))
merged_model = helper.make_model(graph, opset_imports=model.opset_import,
                                 ir_version=model.ir_version)
onnx.checker.check_model(merged_model)
onnx.save(merged_model, out)
