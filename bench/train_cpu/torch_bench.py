"""PyTorch side of bench/train_cpu: times training steps of the plain
PyTorch reference model (test/reference/train_ref.py) with AdamW, and
measures this machine's sgemm rate through the same OpenBLAS, and its bf16
GEMM rate (torch.mm on bf16, oneDNN's bf16 kernels where there are some).

usage: torch_bench.py CONFIG TOKENS B T STEPS [bf16]  -> one JSON line
With bf16, the forward and loss run under torch.autocast("cpu",
dtype=torch.bfloat16), how people train in bf16 mixed precision.
"""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "test", "reference"))
import train_ref  # noqa: E402


def sgemm_gflops(n=2048, reps=8, dtype=torch.float32):
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    torch.mm(a, b)
    start = time.perf_counter()
    for _ in range(reps):
        torch.mm(a, b)
    return 2.0 * n ** 3 * reps / (time.perf_counter() - start) / 1e9


def main():
    config, tokens_path, B, T, steps = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
    bf16 = sys.argv[6:] == ["bf16"]
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    c = train_ref.load_config(config)
    torch.manual_seed(0)
    params = {n: (torch.randn(s) * 0.02).requires_grad_(True)
              for n, s in train_ref.param_shapes(c).items()}
    plist = list(params.values())
    groups = [{"params": [t for t in plist if t.dim() >= 2], "weight_decay": 0.1},
              {"params": [t for t in plist if t.dim() < 2], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=3e-4, betas=(0.9, 0.95), eps=1e-8)
    tokens = train_ref.load_tokens(tokens_path)
    times = []
    for step in range(steps):
        x, y = train_ref.get_batch(tokens, step, B, T)
        start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = train_ref.loss_fn(c, params, x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(plist, 1.0)
        opt.step()
        times.append(time.perf_counter() - start)
    steady = sorted(times[1:])[len(times[1:]) // 2]
    print(json.dumps({"tokens_per_s": B * T / steady, "step_s": steady,
                      "sgemm_gflops": sgemm_gflops(),
                      "bf16_gemm_gflops": sgemm_gflops(dtype=torch.bfloat16),
                      "params": sum(t.numel() for t in plist)}))


if __name__ == "__main__":
    main()
