"""The machine's read bandwidth, as PyTorch's sum measures it (an
independent vectorised, threaded reduction): bytes/s of summing 512 MiB of
float32, the best of 10 runs, on THREADS threads. Prints one JSON object.

usage: read_bandwidth.py THREADS
"""
import json
import sys
import time

import torch

torch.set_num_threads(int(sys.argv[1]))
x = torch.ones(128 << 20)
best = float("inf")
for _ in range(10):
    start = time.perf_counter()
    x.sum()
    best = min(best, time.perf_counter() - start)
print(json.dumps({"read_bytes_per_s": x.numel() * 4 / best}))
