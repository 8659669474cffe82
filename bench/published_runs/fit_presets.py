#!/usr/bin/env python3
"""Fits the GEMM efficiency curve of the A100 and H100 cluster presets to
published measurements (examples/clusters/README.md cites each one).

The planner times a GEMM of (m x k)(k x n) in 16-bit as
    max(2mnk / (peak * eff), 2(mk + kn + mn) / memory_bandwidth),
    eff = max * m/(m+c) * n/(n+c) * k/(k+c)
(planner/compute.h, with m0 = n0 = k0 = c). `max` is the best measured rate
over the peak; memory_bandwidth is the measured streaming rate; c is fitted
by least squares of the log rates over a 2^(1/8) grid, taking the largest c
whose loss is within 1% of the least (the measurements are mostly
memory-bound and leave small c undetermined; the largest is the most
cautious about small GEMMs). Prints c and each shape's error.
"""
import math

PRESETS = {
    # name: (bf16 peak, memory bandwidth, [(m, n, k, measured TFLOP/s)])
    "dgx-a100-80gb-hdr": (312e12, 1.88e12, [
        (1024, 10240, 5120, 271.2),  # MAMF, bf16 torch.matmul
        (16, 4096, 4096, 22.24),     # cuBLAS fp16, mlx PR 3255
        (64, 4096, 4096, 79.61),
        (16, 16384, 16384, 26.52),
        (64, 16384, 16384, 100.14),
    ]),
    "dgx-h100-ndr": (989e12, 3.09e12, [
        (2048, 2048, 13312, 794.5),  # MAMF, bf16 torch.matmul
        (16, 16384, 16384, 47.8),    # cuBLAS fp16, mlx PR 3160
        (64, 16384, 16384, 178.2),
        (1, 16384, 16384, 2.8),
    ]),
}


def rate(m, n, k, peak, top, c, bandwidth):
    eff = top * m / (m + c) * n / (n + c) * k / (k + c)
    seconds = max(2 * m * n * k / (peak * eff),
                  2 * (m * k + k * n + m * n) / bandwidth)
    return 2 * m * n * k / seconds / 1e12


def main():
    for name, (peak, bandwidth, shapes) in PRESETS.items():
        top = max(shapes, key=lambda s: s[3])[3] * 1e12 / peak
        fits = []
        for i in range(0, 100):
            c = 2 ** (i / 8)
            loss = sum(math.log(rate(m, n, k, peak, top, c, bandwidth) / f) ** 2
                       for m, n, k, f in shapes)
            fits.append((loss, c))
        least = min(loss for loss, _ in fits)
        c = max(c for loss, c in fits if loss <= least * 1.01 + 1e-12)
        print("%s: max %.3f, m0 = n0 = k0 = %.0f" % (name, top, c))
        for m, n, k, f in shapes:
            p = rate(m, n, k, peak, top, c, bandwidth)
            print("  %5d x %5d x %5d  measured %6.1f  model %6.1f TFLOP/s  "
                  "%+5.1f%%" % (m, n, k, f, p, 100 * (p / f - 1)))


if __name__ == "__main__":
    main()
