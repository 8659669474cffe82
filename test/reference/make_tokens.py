#!/usr/bin/env python3
"""Writes COUNT uniformly random tokens in [0, VOCAB) as flat little-endian uint16.

    make_tokens.py --out train.bin --count N --vocab V [--seed S]
"""
import argparse

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--vocab", type=int, required=True)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    if not 0 < a.vocab <= 65536:
        raise SystemExit("vocab must be in 1..65536 for uint16 tokens")
    rng = np.random.default_rng(a.seed)
    rng.integers(0, a.vocab, size=a.count).astype("<u2").tofile(a.out)


if __name__ == "__main__":
    main()
