#!/usr/bin/env python3
"""Plain-PyTorch reference generator for GPT-2 and LLaMA (the oracle for llmc's inference).

Independent of llmc: Hugging Face semantics (GPT2LMHeadModel, LlamaForCausalLM
with a past-key-values cache), float32, deterministic. The full-sequence
forward is train_ref.py's; the incremental (KV-cache) forward is written here.

    generate_ref.py --config CONFIG.json --weights W.safetensors
        --prompts PROMPTS.json --max-new-tokens N [--mode cache|recompute|both]
        [--out OUT.json] [--logits-out LOGITS.npy|LOGITS.json] [--no-logits]
        [--bf16-gemm-weights [--bf16-gemm-activations]]

--bf16-gemm-weights: the GEMM weights are rounded to bf16 first (those a
plan of --weights-dtype bf16 reads; round_gemm_weights), in mode cache.
--bf16-gemm-activations: each GEMM's input is rounded to bf16 too (a plan
of --precision bf16-mixed), the products and sums staying fp32.

PROMPTS.json: a JSON list of non-empty lists of token ids in [0, vocab_size).
Each prompt is decoded on its own (batch 1), greedily (argmax, ties to the
lowest id, as torch.argmax), for exactly N new tokens (no EOS stopping).
Modes: cache = prefill the prompt once, then one token per step against the
cached (post-RoPE) keys and values of every layer; recompute = rerun the whole
sequence every step; both (default) = run both and fail (exit 1) unless the
ids are equal and every logits row agrees: max|cache - recompute| /
max|recompute| <= 1e-4.
Positions: the prompt is at 0..len-1, new token i (0-based) is fed at len+i.
GPT-2 needs len + N - 1 <= n_positions (learned wpe); LLaMA RoPE has no limit
(as HF's default rope, max_position_embeddings is not enforced).

Output (stdout, or --out), JSON:
    {"prompts": [[ids]...], "outputs": [[N new ids]...],
     "logits": [[[V floats] x N] per prompt]}
outputs holds the new tokens only. logits[p][i] is the row that chose
outputs[p][i]: i = 0 is the last prompt position, i >= 1 the decode step that
fed outputs[p][i-1] (HF generate's N scores); values are float32 written with
9 significant digits (exact round trip). In mode both they are the recompute
run's. --no-logits leaves "logits" out; --logits-out writes them to their own
file instead (.npy: float32 array [prompts, N, V]; .json: the nested lists).
stderr gets one summary line (mode, max relative difference in mode both, and
the smallest top-1/top-2 logit gap, absolute and relative to max|row|, i.e.
how far the argmax choices are from a tie).
Exit codes: 0 ok, 1 cache/recompute mismatch or non-finite logits, 2 bad input
(one line on stderr).
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_ref  # noqa: E402  (sibling file: configs, parameters, full forward)

REL_TOL = 1e-4


class BadInput(Exception):
    """Invalid command line or input file: reported in one line, exit 2."""


class Mismatch(Exception):
    """The two decoding modes disagree (or the model produced NaN/inf): exit 1."""


# ------------------------------------------------------------ KV cache -----

class KVCache:
    """Per-layer keys and values [1, Hkv, T_past, D], grown along T (HF DynamicCache)."""

    def __init__(self, n_layer):
        self.layers = [None] * n_layer

    def length(self):
        return 0 if self.layers[0] is None else self.layers[0][0].shape[2]

    def update(self, i, k, v):
        """Appends this step's k, v to layer i; returns the whole k, v so far."""
        if self.layers[i] is not None:
            k = torch.cat((self.layers[i][0], k), dim=2)
            v = torch.cat((self.layers[i][1], v), dim=2)
        self.layers[i] = (k, v)
        return k, v


def cached_attention(q, k, v, past, scale):
    """q [1, H, T, D] at positions past..past+T-1; k, v [1, H, past+T, D].

    Query t sees keys 0..past+t (HF slices the causal mask the same way:
    rows key_len-query_len..key_len). A decode step (T = 1) sees everything."""
    T, L = q.shape[2], k.shape[2]
    scores = torch.matmul(q, k.transpose(-1, -2)) * scale
    future = torch.ones(T, L, dtype=torch.bool).triu(past + 1)
    scores = scores.masked_fill(future, float("-inf"))
    att = F.softmax(scores, dim=-1, dtype=torch.float32)
    return torch.matmul(att.to(v.dtype), v)


# ----------------------------------------------------- incremental forward --

# --bf16-gemm-activations: every GEMM's input rounded to bf16 as well (the
# activations of a plan of --precision bf16-mixed), nearest even.
ROUND_GEMM_INPUTS = False


def gemm_input(x):
    return x.to(torch.bfloat16).to(torch.float32) if ROUND_GEMM_INPUTS else x


def gpt2_step(c, p, idx, cache):
    """GPT2LMHeadModel on new tokens idx [1, T] after cache.length() cached ones."""
    T, past = idx.shape[1], cache.length()
    C, H = c["n_embd"], c["n_head"]
    D, eps = C // H, c["layer_norm_epsilon"]
    act = train_ref.ACTIVATIONS[c["activation_function"]]
    # Learned positions continue where the cache ends (HF position_ids).
    x = p["transformer.wte.weight"][idx] + p["transformer.wpe.weight"][past:past + T]
    for i in range(c["n_layer"]):
        pre = "transformer.h.%d." % i
        h = F.layer_norm(x, (C,), p[pre + "ln_1.weight"], p[pre + "ln_1.bias"], eps)
        qkv = train_ref.conv1d(gemm_input(h), p[pre + "attn.c_attn.weight"], p[pre + "attn.c_attn.bias"])
        q, k, v = (t.view(1, T, H, D).transpose(1, 2) for t in qkv.split(C, dim=2))
        k, v = cache.update(i, k, v)
        y = cached_attention(q, k, v, past, D ** -0.5)
        y = y.transpose(1, 2).contiguous().view(1, T, C)
        x = x + train_ref.conv1d(gemm_input(y), p[pre + "attn.c_proj.weight"], p[pre + "attn.c_proj.bias"])
        h = F.layer_norm(x, (C,), p[pre + "ln_2.weight"], p[pre + "ln_2.bias"], eps)
        h = act(train_ref.conv1d(gemm_input(h), p[pre + "mlp.c_fc.weight"], p[pre + "mlp.c_fc.bias"]))
        x = x + train_ref.conv1d(gemm_input(h), p[pre + "mlp.c_proj.weight"], p[pre + "mlp.c_proj.bias"])
    # Only the last position's logits are needed to pick the next token.
    x = F.layer_norm(x[:, -1], (C,), p["transformer.ln_f.weight"],
                     p["transformer.ln_f.bias"], eps)
    # GPT-2 always ties lm_head to wte (a rounded copy: round_gemm_weights).
    return F.linear(gemm_input(x), p.get("lm_head.weight", p["transformer.wte.weight"]))[0]


def llama_step(c, p, idx, cache):
    """LlamaForCausalLM on new tokens idx [1, T] after cache.length() cached ones."""
    T, past = idx.shape[1], cache.length()
    Hq, Hkv, D = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
    eps = c["rms_norm_eps"]
    x = p["model.embed_tokens.weight"][idx]
    # train_ref's float32 table (angle = position * inv_freq) read at past..past+T-1:
    # the same values a full forward uses at those positions.
    cos, sin = (t[past:] for t in train_ref.rope_cos_sin(past + T, D, c["rope_theta"], x.dtype))
    for i in range(c["num_hidden_layers"]):
        pre = "model.layers.%d." % i
        h = train_ref.rms_norm(x, p[pre + "input_layernorm.weight"], eps)
        q = F.linear(gemm_input(h), p[pre + "self_attn.q_proj.weight"]).view(1, T, Hq, D).transpose(1, 2)
        k = F.linear(gemm_input(h), p[pre + "self_attn.k_proj.weight"]).view(1, T, Hkv, D).transpose(1, 2)
        v = F.linear(gemm_input(h), p[pre + "self_attn.v_proj.weight"]).view(1, T, Hkv, D).transpose(1, 2)
        q = q * cos + train_ref.rotate_half(q) * sin
        k = k * cos + train_ref.rotate_half(k) * sin
        # HF caches the rotated keys, per kv head; the grouping happens after.
        k, v = cache.update(i, k, v)
        k = k.repeat_interleave(Hq // Hkv, dim=1)  # query head j uses kv head j // (Hq/Hkv)
        v = v.repeat_interleave(Hq // Hkv, dim=1)
        y = cached_attention(q, k, v, past, D ** -0.5).transpose(1, 2).reshape(1, T, Hq * D)
        x = x + F.linear(gemm_input(y), p[pre + "self_attn.o_proj.weight"])
        h = train_ref.rms_norm(x, p[pre + "post_attention_layernorm.weight"], eps)
        gate = F.silu(F.linear(gemm_input(h), p[pre + "mlp.gate_proj.weight"]))
        x = x + F.linear(gemm_input(gate * F.linear(gemm_input(h), p[pre + "mlp.up_proj.weight"])),
                         p[pre + "mlp.down_proj.weight"])
    x = train_ref.rms_norm(x[:, -1], p["model.norm.weight"], eps)
    head = p["lm_head.weight"] if "lm_head.weight" in p else p["model.embed_tokens.weight"]
    return F.linear(gemm_input(x), head)[0]


def round_gemm_weights(c, p):
    """The weights an llmc plan of --weights-dtype bf16 multiplies: every
    GEMM weight (the 2-D ones) rounded to bf16, nearest even, as torch's
    .to(bfloat16); the embedding tables keep fp32 for their lookups, and a
    tied table's LM head reads a rounded copy, "lm_head.weight"."""
    r = lambda t: t.to(torch.bfloat16).to(torch.float32)  # noqa: E731
    tables = {"transformer.wte.weight", "transformer.wpe.weight",
              "model.embed_tokens.weight"}
    out = {k: r(v) if v.dim() == 2 and k not in tables else v
           for k, v in p.items()}
    tied = c["family"] == "gpt2" or c["tie_word_embeddings"]
    if tied:
        out["lm_head.weight"] = r(p["transformer.wte.weight" if c["family"] == "gpt2"
                                    else "model.embed_tokens.weight"])
    return out


def n_layers(c):
    return c["n_layer"] if c["family"] == "gpt2" else c["num_hidden_layers"]


# ------------------------------------------------------------- decoding ----

def pick(logits):
    """Greedy choice; NaN/inf would make argmax meaningless, so they stop the run."""
    if not torch.isfinite(logits).all():
        raise Mismatch("non-finite logits")
    return int(torch.argmax(logits))  # first maximal index on ties


def generate_cached(c, p, prompt, n):
    """Prefill once, then feed one token per step. Returns (ids, [n logits rows])."""
    step = gpt2_step if c["family"] == "gpt2" else llama_step
    cache = KVCache(n_layers(c))
    logits = step(c, p, torch.tensor([prompt]), cache)
    ids, rows = [], []
    for i in range(n):
        rows.append(logits)
        ids.append(pick(logits))
        if i + 1 < n:  # the last token chosen is not fed back
            logits = step(c, p, torch.tensor([[ids[-1]]]), cache)
    return ids, rows


def generate_recompute(c, p, prompt, n):
    """Rerun train_ref's full forward over prompt + ids every step."""
    seq, ids, rows = list(prompt), [], []
    for _ in range(n):
        logits = train_ref.forward(c, p, torch.tensor([seq]))[0, -1]
        rows.append(logits)
        ids.append(pick(logits))
        seq.append(ids[-1])
    return ids, rows


def rel_diff(a, b):
    """max|a - b| / max|b| (b the reference; 0/0 counts as equal)."""
    scale = b.abs().max().item()
    diff = (a - b).abs().max().item()
    return diff / scale if scale > 0 else (0.0 if diff == 0 else float("inf"))


def compare(k, cached, recomputed):
    """Checks prompt k's two runs agree; returns the largest relative difference."""
    (ids_c, rows_c), (ids_r, rows_r) = cached, recomputed
    worst = 0.0
    for i, (a, b) in enumerate(zip(rows_c, rows_r)):
        d = rel_diff(a, b)
        if d > REL_TOL:
            raise Mismatch("prompt %d step %d: cache vs recompute logits differ by %.3g "
                           "relative (> %g)" % (k, i, d, REL_TOL))
        if ids_c[i] != ids_r[i]:
            raise Mismatch("prompt %d step %d: cache chose token %d, recompute %d"
                           % (k, i, ids_c[i], ids_r[i]))
        worst = max(worst, d)
    return worst


def top2_gap(rows):
    """Smallest (top-1 - top-2) logit gap over the rows, absolute and relative to
    max|row|: how close argmax came to a tie, to set against REL_TOL."""
    gap, rel = float("inf"), float("inf")
    for r in rows:
        if len(r) > 1:
            top = torch.topk(r, 2).values
            d = (top[0] - top[1]).item()
            gap, rel = min(gap, d), min(rel, d / max(r.abs().max().item(), 1e-30))
    return gap, rel


def run(c, params, prompts, n, mode):
    """Returns (outputs, logits rows per prompt, summary line)."""
    outputs, logits, worst, gap, rel_gap = [], [], 0.0, float("inf"), float("inf")
    with torch.no_grad():
        for k, prompt in enumerate(prompts):
            cached = generate_cached(c, params, prompt, n) if mode != "recompute" else None
            recomputed = generate_recompute(c, params, prompt, n) if mode != "cache" else None
            if mode == "both":
                worst = max(worst, compare(k, cached, recomputed))
            ids, rows = recomputed or cached
            outputs.append(ids)
            logits.append(rows)
            g, r = top2_gap(rows)
            gap, rel_gap = min(gap, g), min(rel_gap, r)
    summary = "generate_ref: %s %s, %d prompts x %d tokens" % (c["family"], mode, len(prompts), n)
    if mode == "both":
        summary += ", cache vs recompute max rel logit diff %.3g (tol %g)" % (worst, REL_TOL)
    summary += ", min top-2 logit gap %.4g (%.3g relative)" % (gap, rel_gap)
    return outputs, logits, summary


# ------------------------------------------------------------------ I/O ----

def load_prompts(path, vocab):
    with open(path) as f:
        prompts = json.load(f)
    if not isinstance(prompts, list) or not prompts:
        raise BadInput("%s: want a non-empty JSON list of token-id lists" % path)
    for k, prompt in enumerate(prompts):
        if not isinstance(prompt, list) or not prompt:
            raise BadInput("%s: prompt %d is not a non-empty list of token ids" % (path, k))
        for t in prompt:
            # bool is an int subclass in Python; true/false are not token ids.
            if not isinstance(t, int) or isinstance(t, bool) or not 0 <= t < vocab:
                raise BadInput("%s: prompt %d: %r is not a token id in [0, %d)"
                               % (path, k, t, vocab))
    return prompts


def check_positions(c, prompts, n):
    """GPT-2's learned positions end at n_positions; the last token fed is at len+n-2."""
    if c["family"] != "gpt2" or n == 0:
        return
    longest = max(len(pr) for pr in prompts)
    if longest + n - 1 > c["n_positions"]:
        raise BadInput("prompt of %d tokens + %d new needs %d positions > n_positions %d"
                       % (longest, n, longest + n - 1, c["n_positions"]))


def read_input(path, fn, *args):
    """fn(*args), turning a missing, truncated or malformed file into BadInput."""
    try:
        return fn(*args)
    except BadInput:
        raise
    # What json, safetensors_io and train_ref raise on a bad file.
    except (OSError, ValueError, KeyError, TypeError, IndexError, struct.error) as e:
        msg = str(e) or type(e).__name__
        raise BadInput(msg if path in msg else "%s: %s" % (path, msg))


def load_inputs(a):
    """Config, parameters and prompts, checked; any problem becomes BadInput."""
    if a.max_new_tokens < 0:
        raise BadInput("--max-new-tokens must be >= 0")
    if a.logits_out and not a.logits_out.endswith((".npy", ".json")):
        raise BadInput("--logits-out must end in .npy or .json")
    c = read_input(a.config, train_ref.load_config, a.config)
    params = read_input(a.weights, train_ref.load_params, a.weights, c)
    prompts = read_input(a.prompts, load_prompts, a.prompts, c["vocab_size"])
    check_positions(c, prompts, a.max_new_tokens)
    if a.bf16_gemm_weights:
        if a.mode != "cache":
            raise BadInput("--bf16-gemm-weights needs --mode cache")
        params = round_gemm_weights(c, params)
    if a.bf16_gemm_activations:
        if not a.bf16_gemm_weights:
            raise BadInput("--bf16-gemm-activations needs --bf16-gemm-weights")
        global ROUND_GEMM_INPUTS
        ROUND_GEMM_INPUTS = True
    return c, params, prompts


def float_rows(rows):
    # 9 significant digits round-trip float32 exactly, in half of repr's float64 digits.
    return [[float("%.9g" % v) for v in r.tolist()] for r in rows]


def write_outputs(a, prompts, outputs, logits):
    result = {"prompts": prompts, "outputs": outputs}
    if a.logits_out and a.logits_out.endswith(".npy"):
        V = logits[0][0].numel() if logits and logits[0] else 0
        arr = np.array([[r.numpy() for r in rows] for rows in logits], dtype=np.float32)
        np.save(a.logits_out, arr.reshape(len(logits), a.max_new_tokens, V))
    elif a.logits_out:
        with open(a.logits_out, "w") as f:
            json.dump([float_rows(rows) for rows in logits], f)
    elif not a.no_logits:
        result["logits"] = [float_rows(rows) for rows in logits]
    text = json.dumps(result)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")
    else:
        sys.stdout.write(text + "\n")


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line and exit 2, not argparse's usage block
        raise BadInput(message)


def build_parser():
    ap = Parser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--prompts", required=True)
    ap.add_argument("--max-new-tokens", type=int, required=True)
    ap.add_argument("--mode", choices=["cache", "recompute", "both"], default="both")
    ap.add_argument("--out", help="output JSON (default: stdout)")
    ap.add_argument("--logits-out", help="write the logits here (.npy or .json) instead")
    ap.add_argument("--no-logits", action="store_true", help="leave the logits out")
    ap.add_argument("--bf16-gemm-weights", action="store_true",
                    help="round the GEMM weights to bf16 first (mode cache)")
    ap.add_argument("--bf16-gemm-activations", action="store_true",
                    help="with --bf16-gemm-weights: round GEMM inputs too")
    return ap


def main(argv=None):
    try:
        a = build_parser().parse_args(argv)
        c, params, prompts = load_inputs(a)
    except BadInput as e:
        sys.stderr.write("generate_ref: error: %s\n" % e)
        return 2
    train_ref.setup_torch()  # 2 threads (OMP_NUM_THREADS), deterministic kernels
    try:
        outputs, logits, summary = run(c, params, prompts, a.max_new_tokens, a.mode)
    except Mismatch as e:
        sys.stderr.write("generate_ref: FAIL: %s\n" % e)
        return 1
    try:
        write_outputs(a, prompts, outputs, logits)
    except OSError as e:
        sys.stderr.write("generate_ref: error: %s\n" % e)
        return 2
    sys.stderr.write(summary + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
