#!/usr/bin/env python3
"""Validates train_ref.py against independent formulations (run by selftest.sh).

    check_ref.py forward
        train_ref's GPT-2/LLaMA logits vs. a per-sequence, per-head,
        per-position loop formulation (hand LayerNorm/RMSNorm/GELU, RoPE as a
        complex rotation, GQA by explicit kv-head index) in float64, on
        random non-trivial parameters; then float64 autograd gradients of
        1-layer models vs. central finite differences of the loop model, and
        torch.autograd.gradcheck on a few small tensors.
    check_ref.py replay TRAIN_REF_ARGS...
        Re-reads the files a train_ref.py run wrote (--out-grads, --out-losses,
        --out-final): step-0 grads vs. float64 autograd and vs. finite
        differences of the loop model; losses, grad norms, lrs and final
        parameters vs. a hand-written loop (own batch offsets, LR schedule,
        clipping and AdamW update) using train_ref's forward/backward.
    check_ref.py learning LOSSES.json --vocab V
        Step-0 loss within 0.2 of ln(V) and the last loss below the first.
"""
import json
import math
import sys

import numpy as np
import torch

import train_ref

FAILED = []


def check(name, ok, detail=""):
    print("%s %s %s" % ("ok  " if ok else "FAIL", name, detail))
    if not ok:
        FAILED.append(name)


# ------------------------------------------------ independent loop models --

def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def rms_norm(x, w, eps):
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * w


def act_fn(name, x):
    if name in ("gelu_new", "gelu_pytorch_tanh"):
        return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    if name == "gelu":
        return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))
    if name == "relu":
        return torch.clamp(x, min=0)
    return x * torch.sigmoid(x)  # silu / swish


def attend(q, k, v, scale):
    """One head, one sequence: q, k, v [T, D]; position t sees 0..t."""
    out = []
    for t in range(q.shape[0]):
        s = (k[: t + 1] @ q[t]) * scale
        w = torch.exp(s - s.max())
        out.append((w / w.sum()) @ v[: t + 1])
    return torch.stack(out)


def gpt2_loops(c, p, idx):
    C, H, eps = c["n_embd"], c["n_head"], c["layer_norm_epsilon"]
    D = C // H
    logits = []
    for seq in idx:
        T = len(seq)
        x = p["transformer.wte.weight"][seq] + p["transformer.wpe.weight"][:T]
        for i in range(c["n_layer"]):
            g = lambda n: p["transformer.h.%d.%s" % (i, n)]  # noqa: E731
            h = layer_norm(x, g("ln_1.weight"), g("ln_1.bias"), eps)
            qkv = h @ g("attn.c_attn.weight") + g("attn.c_attn.bias")
            heads = [attend(qkv[:, j * D:(j + 1) * D], qkv[:, C + j * D:C + (j + 1) * D],
                            qkv[:, 2 * C + j * D:2 * C + (j + 1) * D], 1 / math.sqrt(D))
                     for j in range(H)]
            x = x + torch.cat(heads, dim=1) @ g("attn.c_proj.weight") + g("attn.c_proj.bias")
            h = layer_norm(x, g("ln_2.weight"), g("ln_2.bias"), eps)
            h = act_fn(c["activation_function"], h @ g("mlp.c_fc.weight") + g("mlp.c_fc.bias"))
            x = x + h @ g("mlp.c_proj.weight") + g("mlp.c_proj.bias")
        x = layer_norm(x, p["transformer.ln_f.weight"], p["transformer.ln_f.bias"], eps)
        logits.append(x @ p["transformer.wte.weight"].t())
    return torch.stack(logits)


def rope_rotate(x, theta):
    """x [T, D]: rotates the pairs (j, j + D/2) by t * theta^(-2j/D)."""
    T, D = x.shape
    # HF defines the angles in float32; only the trigonometry is float64 here.
    f32 = np.float32
    inv_freq = f32(1) / f32(theta) ** (np.arange(0, D, 2, dtype=f32) / f32(D))
    angle = np.arange(T, dtype=f32)[:, None] * inv_freq[None, :]
    angle = torch.tensor(angle, dtype=torch.float64)
    z = torch.complex(x[:, : D // 2], x[:, D // 2:]) * torch.polar(torch.ones_like(angle), angle)
    return torch.cat([z.real, z.imag], dim=1)


def llama_loops(c, p, idx):
    Hq, D, eps = c["num_attention_heads"], c["head_dim"], c["rms_norm_eps"]
    group = Hq // c["num_key_value_heads"]  # query heads per kv head
    head = p["model.embed_tokens.weight" if c["tie_word_embeddings"] else "lm_head.weight"]
    logits = []
    for seq in idx:
        x = p["model.embed_tokens.weight"][seq]
        for i in range(c["num_hidden_layers"]):
            g = lambda n: p["model.layers.%d.%s" % (i, n)]  # noqa: E731
            h = rms_norm(x, g("input_layernorm.weight"), eps)
            q, k, v = (h @ g("self_attn.%s_proj.weight" % n).t() for n in "qkv")
            heads = []
            for j in range(Hq):
                kv = j // group
                heads.append(attend(rope_rotate(q[:, j * D:(j + 1) * D], c["rope_theta"]),
                                    rope_rotate(k[:, kv * D:(kv + 1) * D], c["rope_theta"]),
                                    v[:, kv * D:(kv + 1) * D], D ** -0.5))
            x = x + torch.cat(heads, dim=1) @ g("self_attn.o_proj.weight").t()
            h = rms_norm(x, g("post_attention_layernorm.weight"), eps)
            gate = act_fn("silu", h @ g("mlp.gate_proj.weight").t())
            x = x + (gate * (h @ g("mlp.up_proj.weight").t())) @ g("mlp.down_proj.weight").t()
        logits.append(rms_norm(x, p["model.norm.weight"], eps) @ head.t())
    return torch.stack(logits)


def loops_loss(c, p, x, y):
    logits = (gpt2_loops if c["family"] == "gpt2" else llama_loops)(c, p, x)
    logp = logits - torch.logsumexp(logits, dim=-1, keepdim=True)
    return -logp.gather(-1, y.unsqueeze(-1)).mean()


# ------------------------------------------------------------- helpers ----

def random_params(c, seed, dtype=torch.float64):
    """Non-trivial parameters (peaked attention, non-unit norms)."""
    g = torch.Generator().manual_seed(seed)
    p = {}
    for name, shape in train_ref.param_shapes(c).items():
        r = torch.randn(shape, generator=g, dtype=dtype)
        if name.endswith(".bias"):
            p[name] = 0.1 * r
        elif "ln_" in name or "norm" in name:
            p[name] = 1 + 0.2 * r
        elif len(shape) == 2 and "wte" not in name and "embed" not in name and "wpe" not in name:
            fan_in = shape[0] if c["family"] == "gpt2" else shape[1]
            p[name] = 1.5 * r / math.sqrt(fan_in)
        else:
            p[name] = 0.5 * r
    return p


def grads_of(c, params, x, y, dtype=torch.float64):
    p = {n: t.detach().to(dtype).requires_grad_(True) for n, t in params.items()}
    loss = train_ref.loss_fn(c, p, x, y)
    loss.backward()
    return loss.item(), {n: t.grad for n, t in p.items()}


def finite_difference_check(label, c, params, grads, x, y, rtol, floor, seed=0, elements=2):
    """Central differences of the loop model (float64) vs. given gradients,
    along one random direction u per tensor (covers every element) and a few
    one-element directions. Error of a directional derivative relative to
    sum|g*u| + floor*scale*sum|u| + 1e-3 (scale = largest |grad|; floor allows
    for float32 rounding in the given gradients, 1e-3 for the ~1e-10 rounding
    noise of the differences, e.g. on GPT-2's key bias whose gradient is 0)."""
    p64 = {n: t.detach().double() for n, t in params.items()}
    g = torch.Generator().manual_seed(seed)
    scale = max(float(t.abs().max()) for t in grads.values())
    worst, where = 0.0, ""
    for name, grad in grads.items():
        grad = grad.double()
        dirs = [torch.randn(p64[name].shape, generator=g, dtype=torch.float64)]
        for _ in range(elements):
            e = torch.zeros(p64[name].numel(), dtype=torch.float64)
            e[torch.randint(e.numel(), (1,), generator=g)] = 1
            dirs.append(e.view(p64[name].shape))
        for u in dirs:
            h = 1e-5 / float(u.abs().max())
            plus = dict(p64, **{name: p64[name] + h * u})
            minus = dict(p64, **{name: p64[name] - h * u})
            fd = (loops_loss(c, plus, x, y) - loops_loss(c, minus, x, y)).item() / (2 * h)
            an = float((grad * u).sum())
            size = float((grad * u).abs().sum()) + floor * scale * float(u.abs().sum()) + 1e-3
            if abs(fd - an) / size > worst:
                worst, where = abs(fd - an) / size, name
    check("%s vs finite differences (%d tensors)" % (label, len(grads)), worst < rtol,
          "worst rel err %.1e (tol %.0e) at %s" % (worst, rtol, where))


def tiny_configs():
    gpt2 = {"model_type": "gpt2", "vocab_size": 48, "n_embd": 32, "n_layer": 2, "n_head": 4,
            "n_positions": 16}
    llama = {"model_type": "llama", "vocab_size": 48, "hidden_size": 32, "intermediate_size": 56,
             "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
             "rms_norm_eps": 1e-6, "rope_theta": 10000.0}
    return [("gpt2 gelu_new", gpt2),
            ("gpt2 gelu n_inner=40", dict(gpt2, activation_function="gelu", n_inner=40)),
            ("llama gqa untied", llama),
            ("llama mha tied head_dim=16", dict(llama, num_key_value_heads=4, head_dim=16,
                                                tie_word_embeddings=True, rope_theta=500000.0)),
            ("llama mqa", dict(llama, num_key_value_heads=1))]


# ---------------------------------------------------------- subcommands ----

def cmd_forward():
    g = torch.Generator().manual_seed(1)
    for k, (label, raw) in enumerate(tiny_configs()):
        c = train_ref.config_from_dict(raw)
        x = torch.randint(c["vocab_size"], (2, 12), generator=g)
        y = torch.randint(c["vocab_size"], (2, 12), generator=g)
        p = random_params(c, seed=k)
        ref = train_ref.forward(c, p, x)
        loops = (gpt2_loops if c["family"] == "gpt2" else llama_loops)(c, p, x)
        err = float((ref - loops).abs().max() / loops.abs().max())
        # LLaMA's RoPE angles are float32 by definition, hence the looser bound.
        tol = 1e-12 if c["family"] == "gpt2" else 1e-6
        check("%s float64 logits vs loops" % label, err < tol, "rel err %.1e" % err)
        p32 = {n: t.float() for n, t in p.items()}
        diff = train_ref.forward(c, p32, x).double() - loops
        err32 = float(diff.abs().max() / loops.abs().max())
        check("%s float32 logits vs loops" % label, err32 < 1e-5, "rel err %.1e" % err32)

        # Gradients on a 1-layer float64 copy.
        layers = "n_layer" if c["family"] == "gpt2" else "num_hidden_layers"
        c1 = train_ref.config_from_dict(dict(raw, **{layers: 1}))
        p1 = random_params(c1, seed=10 + k)
        _, grads = grads_of(c1, p1, x[:, :8], y[:, :8])
        finite_difference_check("%s 1-layer float64 autograd" % label, c1, p1, grads,
                                x[:, :8], y[:, :8], rtol=1e-6, floor=0.0)
    # torch.autograd.gradcheck on the small tensors of a 1-layer llama and gpt2.
    for label, raw in (tiny_configs()[0], tiny_configs()[2]):
        layers = "n_layer" if raw["model_type"] == "gpt2" else "num_hidden_layers"
        c1 = train_ref.config_from_dict(dict(raw, **{layers: 1}))
        p1 = random_params(c1, seed=3)
        names = [n for n, t in p1.items() if t.dim() == 1]
        x = torch.randint(c1["vocab_size"], (2, 6), generator=g)
        y = torch.randint(c1["vocab_size"], (2, 6), generator=g)

        def f(*small):
            return train_ref.loss_fn(c1, dict(p1, **dict(zip(names, small))), x, y)
        ok = torch.autograd.gradcheck(f, [p1[n].clone().requires_grad_(True) for n in names],
                                      eps=1e-6, atol=1e-7, rtol=1e-5)
        check("%s 1-layer torch.autograd.gradcheck on its %d 1-D tensors" % (label, len(names)), ok)


def hand_lr(i, a):
    if a.schedule == "constant":
        return a.lr
    if i < a.warmup_steps:
        return a.lr * (i + 1) / a.warmup_steps
    t = (i - a.warmup_steps) / max(1, a.steps - a.warmup_steps)
    return a.min_lr + (a.lr - a.min_lr) * (1 + math.cos(math.pi * t)) / 2


def hand_batch(tokens, i, a):
    N, T = len(tokens), a.seq
    xs, ys = [], []
    for b in range(a.micro_batch):
        o = ((i * a.micro_batch + b) * T) % (N - T - 1)
        xs.append(tokens[o:o + T])
        ys.append(tokens[o + 1:o + T + 1])
    return torch.tensor(np.array(xs)), torch.tensor(np.array(ys))


def load_st(path):
    return {n: torch.tensor(np.frombuffer(t.values, dtype=np.float32).reshape(t.shape))
            for n, t in train_ref.safetensors_io.read(path)[0].items()}


def cmd_replay(argv):
    a = train_ref.build_parser().parse_args(argv)
    c = train_ref.load_config(a.config)
    init = train_ref.load_params(a.init, c)
    tokens = np.fromfile(a.data, dtype="<u2").astype(np.int64)
    x0, y0 = hand_batch(tokens, 0, a)

    if a.out_grads:
        got = load_st(a.out_grads)
        check("grads: names", sorted(got) == sorted(init))
        _, g64 = grads_of(c, init, x0, y0)
        scale = max(float(t.abs().max()) for t in g64.values())
        err = max(float((got[n].double() - g64[n]).abs().max()) for n in g64) / scale
        check("grads: float32 file vs float64 autograd", err < 1e-5, "rel err %.1e" % err)
        finite_difference_check("grads: file", c, init, got, x0, y0, rtol=1e-3, floor=1e-4)

    # Hand-written training loop. The AdamW update follows torch's operation
    # order, so on torch 1.13 it reproduces train_ref bit for bit (any other
    # rounding order moves GPT-2's key bias, whose true gradient is 0 and whose
    # float gradient is ~1e-11 noise, by up to ~lr*|noise|/eps per step).
    p = {n: t.clone() for n, t in init.items()}
    m = {n: torch.zeros_like(t) for n, t in p.items()}
    v = {n: torch.zeros_like(t) for n, t in p.items()}
    losses, norms, lrs = [], [], []
    for i in range(a.steps):
        lr = hand_lr(i, a)
        x, y = hand_batch(tokens, i, a)
        q = {n: t.clone().requires_grad_(True) for n, t in p.items()}
        loss = train_ref.loss_fn(c, q, x, y)
        loss.backward()
        grads = {n: t.grad for n, t in q.items()}
        norm = torch.norm(torch.stack([torch.norm(g, 2.0) for g in grads.values()]), 2.0)
        if a.clip_grad_norm > 0:
            coef = torch.clamp(a.clip_grad_norm / (norm + 1e-6), max=1.0)
            grads = {n: g * coef for n, g in grads.items()}
        t = i + 1
        for n, g in grads.items():
            p[n].mul_(1 - lr * (a.weight_decay if p[n].dim() >= 2 else 0.0))
            m[n].mul_(a.beta1).add_(g, alpha=1 - a.beta1)
            v[n].mul_(a.beta2).addcmul_(g, g, value=1 - a.beta2)
            denom = (v[n].sqrt() / math.sqrt(1 - a.beta2 ** t)).add_(a.eps)
            p[n].addcdiv_(m[n], denom, value=-lr / (1 - a.beta1 ** t))
        losses.append(loss.item())
        norms.append(norm.item())
        lrs.append(lr)

    if a.out_losses:
        with open(a.out_losses) as f:
            log = json.load(f)
        for key, mine in (("losses", losses), ("grad_norms", norms), ("lrs", lrs)):
            theirs = log[key]
            err = max([abs(u - w) / max(abs(w), 1e-12) for u, w in zip(theirs, mine)] or [0])
            check("losses.json: %s vs hand loop" % key, len(theirs) == a.steps and err < 1e-6,
                  "rel err %.1e" % err)
        clipped = sum(n > a.clip_grad_norm for n in norms) if a.clip_grad_norm > 0 else 0
        print("     (clipping active on %d of %d steps)" % (clipped, a.steps))
    if a.out_final:
        got = load_st(a.out_final)
        moved = max(float((got[n] - init[n]).abs().max()) for n in init)
        err = max(float((got[n] - p[n]).abs().max()) for n in p)
        check("final: parameters vs hand loop", sorted(got) == sorted(p) and err < 1e-6,
              "max abs err %.1e (max change from init %.1e)" % (err, moved))


def cmd_learning(argv):
    path, vocab = argv[0], int(argv[argv.index("--vocab") + 1])
    losses = json.load(open(path))["losses"]
    check("%s: step-0 loss %.4f ~ ln(%d) = %.4f" % (path, losses[0], vocab, math.log(vocab)),
          abs(losses[0] - math.log(vocab)) < 0.2)
    check("%s: loss decreases %.4f -> %.4f" % (path, losses[0], losses[-1]), losses[-1] < losses[0])


if __name__ == "__main__":
    train_ref.setup_torch()
    cmd, rest = sys.argv[1], sys.argv[2:]
    {"forward": lambda: cmd_forward(), "replay": lambda: cmd_replay(rest),
     "learning": lambda: cmd_learning(rest)}[cmd]()
    if FAILED:
        print("%d check(s) failed" % len(FAILED))
        sys.exit(1)
