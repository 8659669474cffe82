#!/usr/bin/env python3
"""Exports the PyTorch reference model (train_ref.py) to ONNX with torch.onnx.export.

    export_onnx.py --config CONFIG.json --out model.onnx [--init INIT.safetensors]
        [--opset 17] [--batch 2] [--seq 16] [--static] [--external-data] [--past]

The parameters live in nested modules named as in Hugging Face
(`transformer.h.0.attn.c_attn.weight`, `model.layers.0.self_attn.q_proj.weight`),
so the exporter keeps those names for the initializers it does not fold. The
graph maps `input_ids` [batch, seq] (int64) to `logits` [batch, seq, vocab],
with dynamic batch and sequence axes unless --static. Without --init the
weights are make_init's (seed 0). --external-data stores the weights beside
the model (`model.onnx.data`), as exports of large models do.

--past writes the cached form Hugging Face Optimum exports (its single-file
`model.onnx`, whose first step takes a past of length 0): inputs
`input_ids` [batch, seq], `attention_mask` [batch, past + seq] (1 for real
tokens), `position_ids` [batch, seq] and `past_key_values.N.key/value`
[batch, kv heads, past, head_dim]; outputs `logits` [batch, seq, vocab] and
`present.N.key/value` [batch, kv heads, past + seq, head_dim] (the keys
after RoPE, as HF caches them). The attention masks are built as
transformers' GPT2Attention (the `bias` buffer sliced at past..past+seq,
Where with finfo.min, plus the padding mask (1 - mask) * finfo.min) and
LlamaModel (one additive 4-D mask, causal and padding together) build
them; LLaMA's cos/sin are computed from position_ids (LlamaRotaryEmbedding).
"""
import argparse
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_init  # noqa: E402
import train_ref  # noqa: E402


class ReferenceModel(torch.nn.Module):
    """train_ref's forward over parameters registered under their HF names."""

    def __init__(self, c, params):
        super().__init__()
        self.c = c
        for name, value in params.items():
            owner = self
            *path, leaf = name.split(".")
            for part in path:
                if not hasattr(owner, part):
                    owner.add_module(part, torch.nn.Module())
                owner = getattr(owner, part)
            owner.register_parameter(leaf, torch.nn.Parameter(torch.as_tensor(value)))

    def forward(self, input_ids):
        return train_ref.forward(self.c, dict(self.named_parameters()), input_ids)


class CachedReferenceModel(ReferenceModel):
    """The same parameters, forward with a past key/value cache (HF semantics)."""

    def __init__(self, c, params):
        super().__init__(c, params)
        if c["family"] == "gpt2":
            n = c["n_positions"]
            self.register_buffer("bias", torch.tril(torch.ones(n, n, dtype=torch.bool))
                                 .view(1, 1, n, n), persistent=False)

    def forward(self, input_ids, attention_mask, position_ids, *past):
        c, p = self.c, dict(self.named_parameters())
        gpt2 = c["family"] == "gpt2"
        B, T = input_ids.shape
        P = past[0].shape[2]
        lowest = torch.finfo(torch.float32).min
        if gpt2:
            C, H = c["n_embd"], c["n_head"]
            Hkv, D, L = H, C // H, c["n_layer"]
            x = p["transformer.wte.weight"][input_ids] + p["transformer.wpe.weight"][position_ids]
            causal = self.bias[:, :, P:P + T, :P + T]
            padding = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * lowest
        else:
            C, H = c["hidden_size"], c["num_attention_heads"]
            Hkv, D, L = c["num_key_value_heads"], c["head_dim"], c["num_hidden_layers"]
            x = p["model.embed_tokens.weight"][input_ids]
            inv_freq = 1.0 / (c["rope_theta"] ** (
                torch.arange(0, D, 2, dtype=torch.int64).float() / D))
            freqs = (inv_freq[None, :, None].expand(B, -1, 1)
                     @ position_ids[:, None, :].float()).transpose(1, 2)
            emb = torch.cat((freqs, freqs), dim=-1)
            cos, sin = emb.cos()[:, None], emb.sin()[:, None]
            mask = torch.full((T, P + T), lowest).triu(P + 1)[None, None].expand(B, 1, T, P + T)
            padding = attention_mask[:, None, None, :].expand(B, 1, T, P + T) == 0
            mask = mask.masked_fill(padding, lowest)
        present = []
        for i in range(L):
            if gpt2:
                pre = "transformer.h.%d." % i
                eps = c["layer_norm_epsilon"]
                h = F.layer_norm(x, (C,), p[pre + "ln_1.weight"], p[pre + "ln_1.bias"], eps)
                qkv = train_ref.conv1d(h, p[pre + "attn.c_attn.weight"], p[pre + "attn.c_attn.bias"])
                q, k, v = (t.view(B, T, H, D).transpose(1, 2) for t in qkv.split(C, dim=2))
            else:
                pre = "model.layers.%d." % i
                h = train_ref.rms_norm(x, p[pre + "input_layernorm.weight"], c["rms_norm_eps"])
                q = F.linear(h, p[pre + "self_attn.q_proj.weight"]).view(B, T, H, D).transpose(1, 2)
                k = F.linear(h, p[pre + "self_attn.k_proj.weight"]).view(B, T, Hkv, D).transpose(1, 2)
                v = F.linear(h, p[pre + "self_attn.v_proj.weight"]).view(B, T, Hkv, D).transpose(1, 2)
                q = q * cos + train_ref.rotate_half(q) * sin
                k = k * cos + train_ref.rotate_half(k) * sin
            k = torch.cat((past[2 * i], k), dim=2)
            v = torch.cat((past[2 * i + 1], v), dim=2)
            present += [k, v]
            k, v = train_ref.repeat_kv(k, H // Hkv), train_ref.repeat_kv(v, H // Hkv)
            scores = torch.matmul(q, k.transpose(-1, -2))
            if gpt2:
                scores = scores / torch.full([], D ** 0.5)
                scores = torch.where(causal, scores, torch.full([], lowest)) + padding
            else:
                scores = scores * D ** -0.5 + mask
            y = torch.matmul(F.softmax(scores, dim=-1), v).transpose(1, 2).reshape(B, T, C)
            if gpt2:
                x = x + train_ref.conv1d(y, p[pre + "attn.c_proj.weight"], p[pre + "attn.c_proj.bias"])
                h = F.layer_norm(x, (C,), p[pre + "ln_2.weight"], p[pre + "ln_2.bias"], eps)
                h = train_ref.ACTIVATIONS[c["activation_function"]](
                    train_ref.conv1d(h, p[pre + "mlp.c_fc.weight"], p[pre + "mlp.c_fc.bias"]))
                x = x + train_ref.conv1d(h, p[pre + "mlp.c_proj.weight"], p[pre + "mlp.c_proj.bias"])
            else:
                x = x + F.linear(y, p[pre + "self_attn.o_proj.weight"])
                h = train_ref.rms_norm(x, p[pre + "post_attention_layernorm.weight"], c["rms_norm_eps"])
                gate = F.silu(F.linear(h, p[pre + "mlp.gate_proj.weight"]))
                x = x + F.linear(gate * F.linear(h, p[pre + "mlp.up_proj.weight"]),
                                 p[pre + "mlp.down_proj.weight"])
        if gpt2:
            x = F.layer_norm(x, (C,), p["transformer.ln_f.weight"],
                             p["transformer.ln_f.bias"], c["layer_norm_epsilon"])
            logits = F.linear(x, p["transformer.wte.weight"])
        else:
            x = train_ref.rms_norm(x, p["model.norm.weight"], c["rms_norm_eps"])
            head = "model.embed_tokens.weight" if c["tie_word_embeddings"] else "lm_head.weight"
            logits = F.linear(x, p[head])
        return (logits, *present)


def export_cached(c, model, a):
    """torch.onnx.export of the cached forward under Optimum's names."""
    gpt2 = c["family"] == "gpt2"
    L = c["n_layer"] if gpt2 else c["num_hidden_layers"]
    Hkv = c["n_head"] if gpt2 else c["num_key_value_heads"]
    D = c["n_embd"] // c["n_head"] if gpt2 else c["head_dim"]
    P = 3  # any past length traces the same graph; 0 is a valid input
    ids = torch.zeros(a.batch, a.seq, dtype=torch.int64)
    mask = torch.ones(a.batch, P + a.seq, dtype=torch.int64)
    positions = torch.arange(P, P + a.seq).expand(a.batch, a.seq)
    past = [torch.zeros(a.batch, Hkv, P, D) for _ in range(2 * L)]
    kv = ["%d.%s" % (i, t) for i in range(L) for t in ("key", "value")]
    inputs = (["input_ids", "attention_mask", "position_ids"] +
              ["past_key_values." + n for n in kv])
    outputs = ["logits"] + ["present." + n for n in kv]
    axes = {"input_ids": {0: "batch_size", 1: "sequence_length"},
            "attention_mask": {0: "batch_size", 1: "past_sequence_length + sequence_length"},
            "position_ids": {0: "batch_size", 1: "sequence_length"},
            "logits": {0: "batch_size", 1: "sequence_length"}}
    for n in kv:
        axes["past_key_values." + n] = {0: "batch_size", 2: "past_sequence_length"}
        axes["present." + n] = {0: "batch_size", 2: "past_sequence_length + sequence_length"}
    with torch.no_grad():
        torch.onnx.export(model, (ids, mask, positions, *past), a.out,
                          input_names=inputs, output_names=outputs,
                          dynamic_axes=axes, opset_version=a.opset,
                          do_constant_folding=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--init")
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--seq", type=int, default=16)
    ap.add_argument("--static", action="store_true")
    ap.add_argument("--external-data", action="store_true")
    ap.add_argument("--past", action="store_true")
    a = ap.parse_args()

    c = train_ref.load_config(a.config)
    params = (train_ref.load_params(a.init, c) if a.init
              else {n: torch.from_numpy(v) for n, v in make_init.make_init(c, 0, 0.02).items()})
    if a.past:
        export_cached(c, CachedReferenceModel(c, params).eval(), a)
    else:
        model = ReferenceModel(c, params).eval()
        ids = torch.zeros(a.batch, a.seq, dtype=torch.int64)
        axes = None if a.static else {"input_ids": {0: "batch", 1: "seq"},
                                      "logits": {0: "batch", 1: "seq"}}
        with torch.no_grad():
            torch.onnx.export(model, (ids,), a.out, input_names=["input_ids"],
                              output_names=["logits"], dynamic_axes=axes,
                              opset_version=a.opset, do_constant_folding=True)
    if a.external_data:
        import onnx
        proto = onnx.load(a.out)
        onnx.save_model(proto, a.out, save_as_external_data=True,
                        location=os.path.basename(a.out) + ".data", size_threshold=1024)


if __name__ == "__main__":
    main()
