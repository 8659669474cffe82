#!/usr/bin/env python3
"""Spoils an exported ONNX model in one way, for importer error tests.

    edit_onnx.py IN.onnx OUT.onnx --alias-output OUTPUT SOURCE
    edit_onnx.py IN.onnx OUT.onnx --add-input NAME

--alias-output: graph output OUTPUT becomes OUTPUT_alias, returning what
output SOURCE returns (through an Identity node). --add-input: one more int64 [batch, seq] input
that nothing reads. The result still passes onnx.checker.
"""
import argparse

import onnx
from onnx import TensorProto, helper


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--alias-output", nargs=2, metavar=("OUTPUT", "SOURCE"))
    ap.add_argument("--add-input")
    a = ap.parse_args()
    model = onnx.load(a.src)
    graph = model.graph
    if a.alias_output:
        output, source = a.alias_output
        # Output OUTPUT is replaced by OUTPUT_alias = Identity(SOURCE).
        alias = output + "_alias"
        graph.node.append(helper.make_node("Identity", [source], [alias],
                                           name="alias_" + output))
        for info in graph.output:
            if info.name == output:
                info.name = alias
    if a.add_input:
        graph.input.append(helper.make_tensor_value_info(
            a.add_input, TensorProto.INT64, ["batch_size", "sequence_length"]))
    onnx.checker.check_model(model)
    onnx.save(model, a.dst)


if __name__ == "__main__":
    main()
