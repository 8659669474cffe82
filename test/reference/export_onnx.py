#!/usr/bin/env python3
"""Exports the PyTorch reference model (train_ref.py) to ONNX with torch.onnx.export.

    export_onnx.py --config CONFIG.json --out model.onnx [--init INIT.safetensors]
        [--opset 17] [--batch 2] [--seq 16] [--static] [--external-data]

The parameters live in nested modules named as in Hugging Face
(`transformer.h.0.attn.c_attn.weight`, `model.layers.0.self_attn.q_proj.weight`),
so the exporter keeps those names for the initializers it does not fold. The
graph maps `input_ids` [batch, seq] (int64) to `logits` [batch, seq, vocab],
with dynamic batch and sequence axes unless --static. Without --init the
weights are make_init's (seed 0). --external-data stores the weights beside
the model (`model.onnx.data`), as exports of large models do.
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_init  # noqa: E402
import train_ref  # noqa: E402


class ReferenceModel(torch.nn.Module):
    """train_ref's forward over parameters registered under their HF names."""

    def __init__(self, c, params):
        super().__init__()
        self.c = c
        for name, value in params.items():
            owner = self
            *path, leaf = name.split(".")
            for part in path:
                if not hasattr(owner, part):
                    owner.add_module(part, torch.nn.Module())
                owner = getattr(owner, part)
            owner.register_parameter(leaf, torch.nn.Parameter(torch.as_tensor(value)))

    def forward(self, input_ids):
        return train_ref.forward(self.c, dict(self.named_parameters()), input_ids)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--init")
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--seq", type=int, default=16)
    ap.add_argument("--static", action="store_true")
    ap.add_argument("--external-data", action="store_true")
    a = ap.parse_args()

    c = train_ref.load_config(a.config)
    params = (train_ref.load_params(a.init, c) if a.init
              else {n: torch.from_numpy(v) for n, v in make_init.make_init(c, 0, 0.02).items()})
    model = ReferenceModel(c, params).eval()
    ids = torch.zeros(a.batch, a.seq, dtype=torch.int64)
    axes = None if a.static else {"input_ids": {0: "batch", 1: "seq"},
                                  "logits": {0: "batch", 1: "seq"}}
    with torch.no_grad():
        torch.onnx.export(model, (ids,), a.out, input_names=["input_ids"],
                          output_names=["logits"], dynamic_axes=axes,
                          opset_version=a.opset, do_constant_folding=True)
    if a.external_data:
        import onnx
        proto = onnx.load(a.out)
        onnx.save_model(proto, a.out, save_as_external_data=True,
                        location=os.path.basename(a.out) + ".data", size_threshold=1024)


if __name__ == "__main__":
    main()
