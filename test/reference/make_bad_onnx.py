#!/usr/bin/env python3
"""Writes small ONNX models that `llmc compile` must refuse, one per case.

    make_bad_onnx.py --out DIR

Each model is built by hand with onnx.helper (no torch), and each is wrong in
one way only, so the error llmc gives names that one thing:

  garbage.onnx              bytes that are not a protobuf ModelProto
  opset12.onnx              a valid Relu graph importing default-domain opset 12
  opset18.onnx              the same with opset 18
  outside/model.onnx        an initializer whose external data is ../secret.bin
  missing/model.onnx        an initializer whose external data weights.bin is absent
  absolute/model.onnx       an initializer whose external data is /etc/passwd
  itself/model.onnx         external data '.', the model's folder itself
  directory/model.onnx      external data 'sub', a folder inside the model's
  overflow/model.onnx       external data at an offset near 2^63 with a length
                            whose sum with it overflows int64
  checker.onnx              a node of op type NoSuchOp (onnx.checker refuses it)
  unsupported.onnx          input_ids -> Cast -> Hardmax, an op the importer lacks
  norecognise.onnx          input_ids -> Gather -> Relu -> MatMul -> logits, which
                            folds but is neither GPT-2 nor LLaMA
  nomodel/                  a folder without model.onnx

Every model except garbage.onnx and checker.onnx passes onnx.checker; the script
checks that, so a case fails here rather than for a reason the test does not
mean.
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

VOCAB, HIDDEN = 11, 4


def ids_input():
    return helper.make_tensor_value_info("input_ids", TensorProto.INT64,
                                         ["batch", "seq"])


def model(nodes, inputs, outputs, initializers=(), opset=17, name="bad"):
    graph = helper.make_graph(nodes, name, inputs, outputs,
                              initializer=list(initializers))
    return helper.make_model(graph, producer_name="make_bad_onnx",
                             opset_imports=[helper.make_opsetid("", opset)])


def relu_model(opset):
    """A valid float Relu graph."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])
    return model([helper.make_node("Relu", ["x"], ["y"], name="relu")],
                 [x], [y], opset=opset)


def external_model(location, **fields):
    """input_ids -> Gather(embedding) -> logits, the embedding stored at
    LOCATION (not checked: the file may not exist) with the further
    external_data FIELDS (offset, length)."""
    emb = TensorProto(name="embedding", data_type=TensorProto.FLOAT,
                      dims=[VOCAB, HIDDEN])
    emb.data_location = TensorProto.EXTERNAL
    for key, value in [("location", location)] + list(fields.items()):
        entry = emb.external_data.add()
        entry.key, entry.value = key, str(value)
    out = helper.make_tensor_value_info("logits", TensorProto.FLOAT,
                                        ["batch", "seq", HIDDEN])
    return model([helper.make_node("Gather", ["embedding", "input_ids"],
                                   ["logits"], name="embed")],
                 [ids_input()], [out], [emb])


def save(m, path, check=True):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if check:
        onnx.checker.check_model(m)
    with open(path, "wb") as f:
        f.write(m.SerializeToString())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    out = ap.parse_args().out
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(0)

    # 1. Not a protobuf: a field tag of wire type 7, which no message has.
    with open(os.path.join(out, "garbage.onnx"), "wb") as f:
        f.write(b"\xff\xff\xff\xff this is not an ONNX model\n")

    # 2. Opsets on either side of 13-17.
    save(relu_model(12), os.path.join(out, "opset12.onnx"))
    save(relu_model(18), os.path.join(out, "opset18.onnx"))

    # 3. External data outside the folder, missing, or absolute. The checker
    # would itself look at the files, so these are saved unchecked; llmc
    # refuses the location before it runs the checker.
    with open(os.path.join(out, "secret.bin"), "wb") as f:
        f.write(np.zeros(VOCAB * HIDDEN, np.float32).tobytes())
    save(external_model("../secret.bin"),
         os.path.join(out, "outside", "model.onnx"), check=False)
    save(external_model("weights.bin"),
         os.path.join(out, "missing", "model.onnx"), check=False)
    save(external_model("/etc/passwd"),
         os.path.join(out, "absolute", "model.onnx"), check=False)
    save(external_model("."), os.path.join(out, "itself", "model.onnx"),
         check=False)
    os.makedirs(os.path.join(out, "directory", "sub"), exist_ok=True)
    save(external_model("sub"), os.path.join(out, "directory", "model.onnx"),
         check=False)
    os.makedirs(os.path.join(out, "overflow"), exist_ok=True)
    with open(os.path.join(out, "overflow", "weights.bin"), "wb") as f:
        f.write(np.zeros(VOCAB * HIDDEN, np.float32).tobytes())
    save(external_model("weights.bin", offset=8, length=2**63 - 4),
         os.path.join(out, "overflow", "model.onnx"), check=False)

    # 4. An op type no schema has: the checker refuses it.
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])
    bad = model([helper.make_node("NoSuchOp", ["x"], ["y"], name="mystery")],
                [x], [y])
    try:
        onnx.checker.check_model(bad)
    except onnx.checker.ValidationError:
        pass
    else:
        raise SystemExit("onnx.checker accepts NoSuchOp; pick another case")
    save(bad, os.path.join(out, "checker.onnx"), check=False)

    # 5. A valid graph through an op the importer does not evaluate.
    logits = helper.make_tensor_value_info("logits", TensorProto.FLOAT,
                                           ["batch", "seq"])
    save(model([helper.make_node("Cast", ["input_ids"], ["ids_float"],
                                 name="to_float", to=TensorProto.FLOAT),
                helper.make_node("Hardmax", ["ids_float"], ["logits"],
                                 name="bad_node", axis=-1)],
               [ids_input()], [logits]),
         os.path.join(out, "unsupported.onnx"))

    # 6. Folds, has the right input and output, but is no transformer.
    emb = numpy_helper.from_array(
        rng.standard_normal((VOCAB, HIDDEN)).astype(np.float32), "embedding")
    head = numpy_helper.from_array(
        rng.standard_normal((HIDDEN, VOCAB)).astype(np.float32), "head")
    logits = helper.make_tensor_value_info("logits", TensorProto.FLOAT,
                                           ["batch", "seq", VOCAB])
    save(model([helper.make_node("Gather", ["embedding", "input_ids"],
                                 ["hidden"], name="embed"),
                helper.make_node("Relu", ["hidden"], ["act"], name="act"),
                helper.make_node("MatMul", ["act", "head"], ["logits"],
                                 name="lm_head")],
               [ids_input()], [logits], [emb, head]),
         os.path.join(out, "norecognise.onnx"))

    # 7. A folder with no model.onnx in it.
    os.makedirs(os.path.join(out, "nomodel"), exist_ok=True)


if __name__ == "__main__":
    main()
