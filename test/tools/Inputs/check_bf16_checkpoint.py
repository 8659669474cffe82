"""Checks a step folder saved with llmc train --save-dtype bf16 against the
same step saved in fp32 by an identical run:
- every tensor of its model.safetensors is BF16, with the bits PyTorch's
  conversion gives the fp32 run's weights (Tensor.to(torch.bfloat16), round
  to nearest even), in half the bytes;
- its master.safetensors holds the fp32 run's weights exactly;
- its config.json says torch_dtype "bfloat16".

usage: check_bf16_checkpoint.py BF16_STEP_FOLDER FP32_STEP_FOLDER
"""
import json
import os
import struct
import sys

import numpy as np
import torch


def read(path):
    """{name: (dtype, shape, raw bytes)} of a safetensors file."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    return {name: (t["dtype"], t["shape"],
                   data[t["data_offsets"][0]:t["data_offsets"][1]])
            for name, t in header.items() if name != "__metadata__"}


bf16_dir, fp32_dir = sys.argv[1:3]
model = read(os.path.join(bf16_dir, "model.safetensors"))
master = read(os.path.join(bf16_dir, "master.safetensors"))
fp32 = read(os.path.join(fp32_dir, "model.safetensors"))
assert sorted(model) == sorted(fp32) == sorted(master), (model.keys(), fp32.keys())
for name, (dtype, shape, raw) in fp32.items():
    assert dtype == "F32", (name, dtype)
    assert master[name] == fp32[name], "master.safetensors: %s differs" % name
    got_dtype, got_shape, got = model[name]
    assert got_dtype == "BF16" and got_shape == shape, (name, got_dtype, got_shape)
    want = (torch.from_numpy(np.frombuffer(raw, dtype=np.float32).copy())
            .to(torch.bfloat16).view(torch.int16).numpy().tobytes())
    assert got == want, "model.safetensors: %s is not PyTorch's rounding" % name
config = json.load(open(os.path.join(bf16_dir, "config.json")))
assert config["torch_dtype"] == "bfloat16", config.get("torch_dtype")
size = os.path.getsize(os.path.join(bf16_dir, "model.safetensors"))
full = os.path.getsize(os.path.join(fp32_dir, "model.safetensors"))
print("ok: %d tensors in bf16 as PyTorch rounds them, master fp32 exact, "
      "model.safetensors %.2f of fp32's bytes" % (len(fp32), size / full))
