"""The PyTorch peer of bench/infer_cpu: eager generation with a KV cache.

Uses the reference generator's incremental forward (test/reference/
generate_ref.py: Hugging Face semantics, past keys and values appended per
step) under torch.no_grad, and times, as llama-bench reports them:
  pp: one prefill of a PROMPT-token prompt (tokens/s);
  tg: DECODE decode steps at batch 1 after a 16-token prompt (tokens/s).
Each the median of RUNS runs. Prints one JSON object.

usage: torch_bench.py CONFIG WEIGHTS PROMPT DECODE RUNS
"""
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "test", "reference"))
import generate_ref  # noqa: E402
import train_ref  # noqa: E402


def main():
    config, weights, prompt, decode, runs = sys.argv[1:6]
    prompt, decode, runs = int(prompt), int(decode), int(runs)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    c = train_ref.load_config(config)
    p = train_ref.load_params(weights, c)
    step = generate_ref.gpt2_step if c["family"] == "gpt2" else \
        generate_ref.llama_step
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, c["vocab_size"], (1, prompt), generator=g)
    pp, tg = [], []
    with torch.no_grad():
        for _ in range(runs):
            cache = generate_ref.KVCache(generate_ref.n_layers(c))
            start = time.perf_counter()
            step(c, p, ids, cache)
            pp.append(prompt / (time.perf_counter() - start))
            cache = generate_ref.KVCache(generate_ref.n_layers(c))
            logits = step(c, p, ids[:, :16], cache)
            start = time.perf_counter()
            for _ in range(decode):
                token = int(torch.argmax(logits))
                logits = step(c, p, torch.tensor([[token]]), cache)
            tg.append(decode / (time.perf_counter() - start))
    print(json.dumps({"pp": statistics.median(pp), "tg": statistics.median(tg)}))


if __name__ == "__main__":
    main()
