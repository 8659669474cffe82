#!/usr/bin/env python3
"""Plain-PyTorch reference trainer for GPT-2 and LLaMA (the CI oracle for llmc).

Independent of llmc: the models are written from the Hugging Face definitions
(GPT2LMHeadModel, LlamaForCausalLM) over a dict of parameters keyed by HF names
with HF shapes, in float32, no dropout, deterministic.

    train_ref.py --config CONFIG.json --init INIT.safetensors --data train.bin
        --steps N --micro-batch B --seq T --lr LR --min-lr MIN
        --warmup-steps W --schedule constant|cosine --weight-decay WD
        --beta1 B1 --beta2 B2 --eps EPS --clip-grad-norm G
        [--out-losses losses.json] [--out-grads grads.safetensors]
        [--out-final final.safetensors] [--autocast-bf16]

Data: flat little-endian uint16 tokens; step i, row b uses offset
o = ((i*B + b)*T) mod (N_tokens - T - 1): inputs tokens[o:o+T], targets [o+1:o+T+1].
Loss: mean cross-entropy over the B*T tokens (float32 logits).
LR at step i: constant -> LR; cosine -> LR*(i+1)/W while i < W, else
MIN + 0.5*(LR-MIN)*(1+cos(pi*(i-W)/max(1, STEPS-W))), STEPS = --steps.
Step: backward; global grad L2 norm (recorded, pre-clip); if G > 0 grads *=
min(1, G/(norm+1e-6)) (clip_grad_norm_); torch.optim.AdamW with weight decay
WD on tensors with dim >= 2 and 0 on the others.
Outputs: losses.json {"losses", "grad_norms", "lrs"} (one float per step);
grads = step-0 gradients before clipping; final = parameters after N steps;
both F32 safetensors under the HF names (tied lm_head not stored).
--autocast-bf16 runs the forward and loss under torch.autocast("cpu",
dtype=torch.bfloat16), how people train in bf16 mixed precision on CPUs
(parameters, gradients and AdamW state stay float32).
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402  (sibling file, stdlib only)


# ----------------------------------------------------------------- config --

def load_config(path):
    """Reads an HF config.json and fills in the HF defaults we depend on."""
    with open(path) as f:
        return config_from_dict(json.load(f), path)


def config_from_dict(raw, path="config"):
    kind = raw.get("model_type")
    if kind is None:
        arch = " ".join(raw.get("architectures", []))
        kind = "gpt2" if "GPT2" in arch else "llama" if "Llama" in arch else None
    c = {"family": kind, "vocab_size": raw.get("vocab_size")}
    if kind == "gpt2":
        c["n_embd"] = raw.get("n_embd", 768)
        c["n_layer"] = raw.get("n_layer", 12)
        c["n_head"] = raw.get("n_head", 12)
        c["n_positions"] = raw.get("n_positions", 1024)
        c["n_inner"] = raw.get("n_inner") or 4 * c["n_embd"]
        c["activation_function"] = raw.get("activation_function", "gelu_new")
        c["layer_norm_epsilon"] = raw.get("layer_norm_epsilon", 1e-5)
        c["vocab_size"] = c["vocab_size"] or 50257
        if c["activation_function"] not in ACTIVATIONS:
            raise ValueError("unsupported activation_function %r" % c["activation_function"])
        if not raw.get("scale_attn_weights", True) or raw.get("scale_attn_by_inverse_layer_idx"):
            raise ValueError("only the default GPT-2 attention scaling is supported")
    elif kind == "llama":
        c["hidden_size"] = raw.get("hidden_size", 4096)
        c["intermediate_size"] = raw.get("intermediate_size", 11008)
        c["num_hidden_layers"] = raw.get("num_hidden_layers", 32)
        c["num_attention_heads"] = raw.get("num_attention_heads", 32)
        c["num_key_value_heads"] = raw.get("num_key_value_heads") or c["num_attention_heads"]
        c["head_dim"] = raw.get("head_dim") or c["hidden_size"] // c["num_attention_heads"]
        c["rms_norm_eps"] = raw.get("rms_norm_eps", 1e-6)
        c["rope_theta"] = float(raw.get("rope_theta", 10000.0))
        c["tie_word_embeddings"] = bool(raw.get("tie_word_embeddings", False))
        c["vocab_size"] = c["vocab_size"] or 32000
        if raw.get("hidden_act", "silu") != "silu":
            raise ValueError("unsupported hidden_act %r" % raw.get("hidden_act"))
        if raw.get("rope_scaling") or raw.get("attention_bias") or raw.get("mlp_bias"):
            raise ValueError("rope_scaling / attention_bias / mlp_bias are not supported")
        if c["num_attention_heads"] % c["num_key_value_heads"]:
            raise ValueError("num_attention_heads must be a multiple of num_key_value_heads")
    else:
        raise ValueError("%s: model_type must be gpt2 or llama" % path)
    return c


def param_shapes(c):
    """{HF name: shape}, in a fixed order (make_init draws in this order)."""
    V, s = c["vocab_size"], {}
    if c["family"] == "gpt2":
        C, Fi = c["n_embd"], c["n_inner"]
        s["transformer.wte.weight"] = [V, C]
        s["transformer.wpe.weight"] = [c["n_positions"], C]
        for i in range(c["n_layer"]):
            p = "transformer.h.%d." % i
            s[p + "ln_1.weight"], s[p + "ln_1.bias"] = [C], [C]
            s[p + "attn.c_attn.weight"], s[p + "attn.c_attn.bias"] = [C, 3 * C], [3 * C]
            s[p + "attn.c_proj.weight"], s[p + "attn.c_proj.bias"] = [C, C], [C]
            s[p + "ln_2.weight"], s[p + "ln_2.bias"] = [C], [C]
            s[p + "mlp.c_fc.weight"], s[p + "mlp.c_fc.bias"] = [C, Fi], [Fi]
            s[p + "mlp.c_proj.weight"], s[p + "mlp.c_proj.bias"] = [Fi, C], [C]
        s["transformer.ln_f.weight"], s["transformer.ln_f.bias"] = [C], [C]
    else:
        C, Fi, D = c["hidden_size"], c["intermediate_size"], c["head_dim"]
        Hq, Hkv = c["num_attention_heads"], c["num_key_value_heads"]
        s["model.embed_tokens.weight"] = [V, C]
        for i in range(c["num_hidden_layers"]):
            p = "model.layers.%d." % i
            s[p + "input_layernorm.weight"] = [C]
            s[p + "self_attn.q_proj.weight"] = [Hq * D, C]
            s[p + "self_attn.k_proj.weight"] = [Hkv * D, C]
            s[p + "self_attn.v_proj.weight"] = [Hkv * D, C]
            s[p + "self_attn.o_proj.weight"] = [C, Hq * D]
            s[p + "post_attention_layernorm.weight"] = [C]
            s[p + "mlp.gate_proj.weight"] = [Fi, C]
            s[p + "mlp.up_proj.weight"] = [Fi, C]
            s[p + "mlp.down_proj.weight"] = [C, Fi]
        s["model.norm.weight"] = [C]
        if not c["tie_word_embeddings"]:
            s["lm_head.weight"] = [V, C]
    return s


# -------------------------------------------------------------- GPT-2 -----

def gelu_new(x):
    # HF NewGELUActivation (the tanh approximation GPT-2 was trained with).
    inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))
    return 0.5 * x * (1.0 + torch.tanh(inner))


ACTIVATIONS = {
    "gelu_new": gelu_new,
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "gelu": F.gelu,  # exact erf form
    "relu": F.relu,
    "silu": F.silu,
    "swish": F.silu,
}


def conv1d(x, w, b):
    # HF Conv1D: weight [in, out], y = x @ w + b via addmm.
    out = torch.addmm(b, x.reshape(-1, x.shape[-1]), w)
    return out.view(*x.shape[:-1], w.shape[1])


def causal_softmax(scores):
    T = scores.shape[-1]
    future = torch.ones(T, T, dtype=torch.bool).triu(1)
    scores = scores.masked_fill(future, float("-inf"))
    # HF computes the softmax in float32 (a no-op here unless running float64).
    return F.softmax(scores, dim=-1, dtype=torch.promote_types(scores.dtype, torch.float32))


def gpt2_forward(c, p, idx):
    B, T = idx.shape
    C, H = c["n_embd"], c["n_head"]
    D, eps = C // H, c["layer_norm_epsilon"]
    act = ACTIVATIONS[c["activation_function"]]
    if T > c["n_positions"]:
        raise ValueError("seq %d > n_positions %d" % (T, c["n_positions"]))
    x = p["transformer.wte.weight"][idx] + p["transformer.wpe.weight"][:T]
    for i in range(c["n_layer"]):
        pre = "transformer.h.%d." % i
        h = F.layer_norm(x, (C,), p[pre + "ln_1.weight"], p[pre + "ln_1.bias"], eps)
        qkv = conv1d(h, p[pre + "attn.c_attn.weight"], p[pre + "attn.c_attn.bias"])
        q, k, v = (t.view(B, T, H, D).transpose(1, 2) for t in qkv.split(C, dim=2))
        att = causal_softmax(torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(D))
        y = torch.matmul(att.to(v.dtype), v).transpose(1, 2).contiguous().view(B, T, C)
        x = x + conv1d(y, p[pre + "attn.c_proj.weight"], p[pre + "attn.c_proj.bias"])
        h = F.layer_norm(x, (C,), p[pre + "ln_2.weight"], p[pre + "ln_2.bias"], eps)
        h = act(conv1d(h, p[pre + "mlp.c_fc.weight"], p[pre + "mlp.c_fc.bias"]))
        x = x + conv1d(h, p[pre + "mlp.c_proj.weight"], p[pre + "mlp.c_proj.bias"])
    x = F.layer_norm(x, (C,), p["transformer.ln_f.weight"], p["transformer.ln_f.bias"], eps)
    return F.linear(x, p["transformer.wte.weight"])  # tied lm_head


# -------------------------------------------------------------- LLaMA -----

def rms_norm(x, w, eps):
    # HF LlamaRMSNorm: computed in (at least) float32, scaled by the weight.
    h = x.to(torch.promote_types(x.dtype, torch.float32))
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)
    return w * h.to(x.dtype)


def rope_cos_sin(T, D, theta, dtype):
    # HF LlamaRotaryEmbedding (default rope_type), computed in float32.
    inv_freq = 1.0 / (theta ** (torch.arange(0, D, 2, dtype=torch.int64).float() / D))
    freqs = torch.outer(torch.arange(T, dtype=torch.float32), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def repeat_kv(x, n):
    # HF repeat_kv (expand + reshape, as ONNX exports of LLaMA carry it):
    # grouped-query attention, query head j uses kv head j // n.
    B, H, T, D = x.shape
    return x if n == 1 else x[:, :, None].expand(B, H, n, T, D).reshape(B, H * n, T, D)


def llama_forward(c, p, idx):
    B, T = idx.shape
    Hq, Hkv, D = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
    eps = c["rms_norm_eps"]
    x = p["model.embed_tokens.weight"][idx]
    cos, sin = rope_cos_sin(T, D, c["rope_theta"], x.dtype)
    for i in range(c["num_hidden_layers"]):
        pre = "model.layers.%d." % i
        h = rms_norm(x, p[pre + "input_layernorm.weight"], eps)
        q = F.linear(h, p[pre + "self_attn.q_proj.weight"]).view(B, T, Hq, D).transpose(1, 2)
        k = F.linear(h, p[pre + "self_attn.k_proj.weight"]).view(B, T, Hkv, D).transpose(1, 2)
        v = F.linear(h, p[pre + "self_attn.v_proj.weight"]).view(B, T, Hkv, D).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k, v = repeat_kv(k, Hq // Hkv), repeat_kv(v, Hq // Hkv)
        att = causal_softmax(torch.matmul(q, k.transpose(2, 3)) * D ** -0.5)
        y = torch.matmul(att.to(v.dtype), v).transpose(1, 2).reshape(B, T, Hq * D)
        x = x + F.linear(y, p[pre + "self_attn.o_proj.weight"])
        h = rms_norm(x, p[pre + "post_attention_layernorm.weight"], eps)
        gate = F.silu(F.linear(h, p[pre + "mlp.gate_proj.weight"]))
        x = x + F.linear(gate * F.linear(h, p[pre + "mlp.up_proj.weight"]),
                         p[pre + "mlp.down_proj.weight"])
    x = rms_norm(x, p["model.norm.weight"], eps)
    head = p["model.embed_tokens.weight"] if c["tie_word_embeddings"] else p["lm_head.weight"]
    return F.linear(x, head)


def forward(c, params, idx):
    return (gpt2_forward if c["family"] == "gpt2" else llama_forward)(c, params, idx)


def loss_fn(c, params, x, y):
    logits = forward(c, params, x)
    logits = logits.to(torch.promote_types(logits.dtype, torch.float32))  # float32 (or float64)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


# ------------------------------------------------------------------ I/O ----

def load_params(path, c, dtype=torch.float32):
    """Reads HF-named tensors, checking names and shapes against the config.

    Also accepts GPT-2 checkpoints without the "transformer." prefix, and
    skips the attention-mask buffers and a tied lm_head.weight."""
    tensors, _ = safetensors_io.read(path)
    want, params = param_shapes(c), {}
    for name, t in tensors.items():
        if c["family"] == "gpt2" and not name.startswith(("transformer.", "lm_head.")):
            name = "transformer." + name
        if name.endswith((".attn.bias", ".attn.masked_bias")) and name not in want:
            continue
        if name == "lm_head.weight" and name not in want:
            continue
        if name not in want:
            raise ValueError("%s: unexpected tensor %s" % (path, name))
        if list(t.shape) != want[name]:
            raise ValueError("%s: %s has shape %s, want %s" % (path, name, t.shape, want[name]))
        arr = np.frombuffer(t.values, dtype=np.float32).reshape(t.shape)
        params[name] = torch.tensor(arr, dtype=dtype)
    missing = [n for n in want if n not in params]
    if missing:
        raise ValueError("%s: missing %s" % (path, ", ".join(missing)))
    return {n: params[n] for n in want}


def save_tensors(path, tensors):
    safetensors_io.write(path, {n: t.detach().float().contiguous() for n, t in tensors.items()},
                         {"format": "pt"})


def load_tokens(path):
    return np.fromfile(path, dtype="<u2").astype(np.int64)


def get_batch(tokens, step, B, T):
    N = len(tokens)
    rows = [((step * B + b) * T) % (N - T - 1) for b in range(B)]
    x = np.stack([tokens[o:o + T] for o in rows])
    y = np.stack([tokens[o + 1:o + T + 1] for o in rows])
    return torch.from_numpy(x), torch.from_numpy(y)


def lr_at(step, a):
    if a.schedule == "constant":
        return a.lr
    if step < a.warmup_steps:
        return a.lr * (step + 1) / a.warmup_steps
    progress = (step - a.warmup_steps) / max(1, a.steps - a.warmup_steps)
    return a.min_lr + 0.5 * (a.lr - a.min_lr) * (1.0 + math.cos(math.pi * progress))


# ---------------------------------------------------------------- train ----

def train(a):
    c = load_config(a.config)
    params = load_params(a.init, c)
    for t in params.values():
        t.requires_grad_(True)
    tokens = load_tokens(a.data)
    if len(tokens) < a.seq + 2:
        raise ValueError("%s: %d tokens, need at least seq+2" % (a.data, len(tokens)))
    if tokens.max() >= c["vocab_size"]:
        raise ValueError("%s: token %d >= vocab_size" % (a.data, tokens.max()))
    plist = list(params.values())
    groups = [{"params": [t for t in plist if t.dim() >= 2], "weight_decay": a.weight_decay},
              {"params": [t for t in plist if t.dim() < 2], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=a.lr, betas=(a.beta1, a.beta2), eps=a.eps, foreach=False)
    log = {"losses": [], "grad_norms": [], "lrs": []}
    for step in range(a.steps):
        lr = lr_at(step, a)
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = get_batch(tokens, step, a.micro_batch, a.seq)
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.autocast_bf16):
            loss = loss_fn(c, params, x, y)
        loss.backward()
        for t in plist:
            if t.grad is None:
                t.grad = torch.zeros_like(t)
        if step == 0 and a.out_grads:
            save_tensors(a.out_grads, {n: t.grad for n, t in params.items()})
        if a.clip_grad_norm > 0:
            norm = torch.nn.utils.clip_grad_norm_(plist, a.clip_grad_norm)
        else:
            norm = torch.norm(torch.stack([torch.norm(t.grad.detach(), 2.0) for t in plist]), 2.0)
        opt.step()
        log["losses"].append(loss.item())
        log["grad_norms"].append(norm.item())
        log["lrs"].append(float(lr))
        print("step %d loss %.6f grad_norm %.6f lr %.6g" % (step, loss.item(), norm.item(), lr))
    if a.out_losses:
        with open(a.out_losses, "w") as f:
            json.dump(log, f, indent=1)
    if a.out_final:
        save_tensors(a.out_final, params)
    return log


def build_parser():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--init", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--micro-batch", type=int, required=True)
    ap.add_argument("--seq", type=int, required=True)
    ap.add_argument("--lr", type=float, required=True)
    ap.add_argument("--min-lr", type=float, required=True)
    ap.add_argument("--warmup-steps", type=int, required=True)
    ap.add_argument("--schedule", choices=["constant", "cosine"], required=True)
    ap.add_argument("--weight-decay", type=float, required=True)
    ap.add_argument("--beta1", type=float, required=True)
    ap.add_argument("--beta2", type=float, required=True)
    ap.add_argument("--eps", type=float, required=True)
    ap.add_argument("--clip-grad-norm", type=float, required=True)
    ap.add_argument("--autocast-bf16", action="store_true")
    ap.add_argument("--out-losses")
    ap.add_argument("--out-grads")
    ap.add_argument("--out-final")
    return ap


def setup_torch():
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(0)


if __name__ == "__main__":
    setup_torch()
    train(build_parser().parse_args())
