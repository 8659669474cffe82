#!/usr/bin/env python3
"""Writes an initial F32 safetensors for an HF config with GPT-2's init scheme.

    make_init.py --config CONFIG.json --out INIT.safetensors [--seed S] [--std 0.02]

Weights and embeddings ~ N(0, std) (std = config initializer_range, default
0.02); residual projections (attn.c_proj, mlp.c_proj, o_proj, down_proj
weights) ~ N(0, std/sqrt(2*n_layer)); biases 0; norm weights 1. Drawn from
numpy.random.default_rng(seed) in train_ref.param_shapes order (for tests only).
"""
import argparse
import json
import math

import numpy as np

import train_ref


def make_init(c, seed, std):
    rng = np.random.default_rng(seed)
    n_layer = c["n_layer"] if c["family"] == "gpt2" else c["num_hidden_layers"]
    params = {}
    for name, shape in train_ref.param_shapes(c).items():
        if name.endswith(".bias"):
            value = np.zeros(shape)
        elif "ln_" in name or "norm" in name:
            value = np.ones(shape)
        elif name.endswith(("c_proj.weight", "o_proj.weight", "down_proj.weight")):
            value = rng.normal(0.0, std / math.sqrt(2 * n_layer), shape)
        else:
            value = rng.normal(0.0, std, shape)
        params[name] = value.astype(np.float32)
    return params


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--std", type=float, help="default: initializer_range or 0.02")
    a = ap.parse_args()
    c = train_ref.load_config(a.config)
    with open(a.config) as f:
        std = a.std if a.std is not None else json.load(f).get("initializer_range", 0.02)
    train_ref.safetensors_io.write(a.out, make_init(c, a.seed, std), {"format": "pt"})


if __name__ == "__main__":
    main()
