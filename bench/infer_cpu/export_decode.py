"""Exports the onnxruntime peer's two graphs of bench/infer_cpu.

    export_decode.py CONFIG WEIGHTS PROMPT OUT_DIR

OUT_DIR/prefill.onnx: the reference model's full forward (train_ref) on a
fixed [1, PROMPT] prompt, logits [1, PROMPT, vocab]: pp, as one prefill.
OUT_DIR/decode.onnx: one decode step with a KV cache, as Hugging Face's
exports with past key values are: input_ids [1, 1], position_ids [1] and
past_key_i / past_value_i [1, Hkv, past, D] (past dynamic, 0 allowed) to
logits [1, vocab] and present_key_i / present_value_i [1, Hkv, past + 1, D].
One token attends to every cached one, so no mask is needed; its position
comes in as a tensor, so the graph has no shape it was traced at. The
arithmetic is generate_ref's incremental forward (GPT-2: learned positions
and tied head; LLaMA: RoPE on the rotated-half convention, grouped kv heads).
Weights are external data beside each graph.
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "test", "reference"))
import export_onnx  # noqa: E402
import train_ref  # noqa: E402


class Decode(torch.nn.Module):
    def __init__(self, c, params):
        super().__init__()
        self.c = c
        self.names = list(params)
        for i, (name, value) in enumerate(params.items()):
            self.register_parameter("w%d" % i, torch.nn.Parameter(value))

    def p(self, name):
        return getattr(self, "w%d" % self.names.index(name))

    def forward(self, input_ids, position_ids, *past):
        c, p = self.c, self.p
        present = []
        if c["family"] == "gpt2":
            C, H = c["n_embd"], c["n_head"]
            Hkv, D, L = H, C // H, c["n_layer"]
            x = p("transformer.wte.weight")[input_ids[0]] + \
                p("transformer.wpe.weight")[position_ids]
        else:
            C, H = c["hidden_size"], c["num_attention_heads"]
            Hkv, D, L = c["num_key_value_heads"], c["head_dim"], c["num_hidden_layers"]
            x = p("model.embed_tokens.weight")[input_ids[0]]
            inv_freq = 1.0 / (c["rope_theta"] ** (
                torch.arange(0, D, 2, dtype=torch.int64).float() / D))
            angle = position_ids.float()[:, None] * inv_freq[None, :]
            emb = torch.cat((angle, angle), dim=-1)
            cos, sin = emb.cos(), emb.sin()
        x = x.view(1, 1, C)
        for i in range(L):
            past_k, past_v = past[2 * i], past[2 * i + 1]
            if c["family"] == "gpt2":
                pre = "transformer.h.%d." % i
                eps = c["layer_norm_epsilon"]
                h = F.layer_norm(x, (C,), p(pre + "ln_1.weight"), p(pre + "ln_1.bias"), eps)
                qkv = train_ref.conv1d(h, p(pre + "attn.c_attn.weight"), p(pre + "attn.c_attn.bias"))
                q, k, v = (t.view(1, 1, H, D).transpose(1, 2) for t in qkv.split(C, dim=2))
            else:
                pre = "model.layers.%d." % i
                h = train_ref.rms_norm(x, p(pre + "input_layernorm.weight"), c["rms_norm_eps"])
                q = F.linear(h, p(pre + "self_attn.q_proj.weight")).view(1, 1, H, D).transpose(1, 2)
                k = F.linear(h, p(pre + "self_attn.k_proj.weight")).view(1, 1, Hkv, D).transpose(1, 2)
                v = F.linear(h, p(pre + "self_attn.v_proj.weight")).view(1, 1, Hkv, D).transpose(1, 2)
                q = q * cos + train_ref.rotate_half(q) * sin
                k = k * cos + train_ref.rotate_half(k) * sin
            k = torch.cat((past_k, k), dim=2)
            v = torch.cat((past_v, v), dim=2)
            present += [k, v]
            if Hkv != H:
                k = k.repeat_interleave(H // Hkv, dim=1)
                v = v.repeat_interleave(H // Hkv, dim=1)
            att = F.softmax(torch.matmul(q, k.transpose(-1, -2)) * D ** -0.5, dim=-1)
            y = torch.matmul(att, v).transpose(1, 2).reshape(1, 1, C)
            if c["family"] == "gpt2":
                x = x + train_ref.conv1d(y, p(pre + "attn.c_proj.weight"), p(pre + "attn.c_proj.bias"))
                h = F.layer_norm(x, (C,), p(pre + "ln_2.weight"), p(pre + "ln_2.bias"), eps)
                h = train_ref.ACTIVATIONS[c["activation_function"]](
                    train_ref.conv1d(h, p(pre + "mlp.c_fc.weight"), p(pre + "mlp.c_fc.bias")))
                x = x + train_ref.conv1d(h, p(pre + "mlp.c_proj.weight"), p(pre + "mlp.c_proj.bias"))
            else:
                x = x + F.linear(y, p(pre + "self_attn.o_proj.weight"))
                h = train_ref.rms_norm(x, p(pre + "post_attention_layernorm.weight"), c["rms_norm_eps"])
                gate = F.silu(F.linear(h, p(pre + "mlp.gate_proj.weight")))
                x = x + F.linear(gate * F.linear(h, p(pre + "mlp.up_proj.weight")),
                                 p(pre + "mlp.down_proj.weight"))
        if c["family"] == "gpt2":
            x = F.layer_norm(x[:, -1], (C,), p("transformer.ln_f.weight"),
                             p("transformer.ln_f.bias"), c["layer_norm_epsilon"])
            logits = F.linear(x, p("transformer.wte.weight"))
        else:
            x = train_ref.rms_norm(x[:, -1], p("model.norm.weight"), c["rms_norm_eps"])
            head = "model.embed_tokens.weight" if c["tie_word_embeddings"] else "lm_head.weight"
            logits = F.linear(x, p(head))
        return (logits, *present)


def save_external(path):
    import onnx
    proto = onnx.load(path)
    onnx.save_model(proto, path, save_as_external_data=True,
                    location=os.path.basename(path) + ".data", size_threshold=1024)


def main():
    config, weights, prompt, out = sys.argv[1:5]
    c = train_ref.load_config(config)
    params = train_ref.load_params(weights, c)
    os.makedirs(out, exist_ok=True)
    with torch.no_grad():
        prefill = export_onnx.ReferenceModel(c, params).eval()
        path = os.path.join(out, "prefill.onnx")
        torch.onnx.export(prefill, (torch.zeros(1, int(prompt), dtype=torch.int64),), path,
                          input_names=["input_ids"], output_names=["logits"],
                          opset_version=17, do_constant_folding=True)
        save_external(path)

        decode = Decode(c, params).eval()
        if c["family"] == "gpt2":
            Hkv, D, L = c["n_head"], c["n_embd"] // c["n_head"], c["n_layer"]
        else:
            Hkv, D, L = c["num_key_value_heads"], c["head_dim"], c["num_hidden_layers"]
        past = [torch.zeros(1, Hkv, 3, D) for _ in range(2 * L)]
        names = [n for i in range(L) for n in ("past_key_%d" % i, "past_value_%d" % i)]
        outs = [n.replace("past", "present") for n in names]
        axes = {n: {2: "past"} for n in names}
        axes.update({n: {2: "total"} for n in outs})
        path = os.path.join(out, "decode.onnx")
        torch.onnx.export(decode, (torch.zeros(1, 1, dtype=torch.int64),
                                   torch.tensor([3]), *past), path,
                          input_names=["input_ids", "position_ids", *names],
                          output_names=["logits", *outs], dynamic_axes=axes,
                          opset_version=17, do_constant_folding=True)
        save_external(path)


if __name__ == "__main__":
    main()
