#!/usr/bin/env python3
"""The most horizontal fusion could give on this machine: sibling GEMMs that
share an input (a layer's q, k and v projections; LLaMA's gate and up) run
one by one, against one GEMM over their weights side by side. PyTorch's CPU
matmul (oneDNN underneath, as llmc's GEMMs), 2 threads, the median of 30
runs each, fp32 and bf16, at a training step's 2048 rows and a decode
step's 8. llmc does not merge them (see BENCHMARKS.md): this bounds what
merging would save, before the cost of splitting the result."""
import time

import torch

torch.set_num_threads(2)


def median_seconds(f, runs=30):
    for _ in range(5):
        f()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[runs // 2]


CASES = (("qkv", 2048, 512, (512, 512, 512)),
         ("qkv gqa", 2048, 512, (512, 128, 128)),
         ("gate+up", 2048, 512, (1376, 1376)),
         ("qkv decode", 8, 512, (512, 512, 512)))
for dtype in (torch.float32, torch.bfloat16):
    for name, M, K, widths in CASES:
        x = torch.randn(M, K, dtype=dtype)
        weights = [torch.randn(K, n, dtype=dtype) for n in widths]
        merged = torch.cat(weights, 1)
        apart = median_seconds(lambda: [x @ w for w in weights])
        one = median_seconds(lambda: x @ merged)
        print("%-9s %-11s apart %7.3f ms  merged %7.3f ms  %.2fx" %
              (str(dtype).split(".")[1], name, apart * 1e3, one * 1e3,
               apart / one))
