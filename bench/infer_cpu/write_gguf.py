"""Writes a LLaMA checkpoint (Hugging Face names, float32 safetensors) as a
GGUF v3 file of F32 tensors, for the llama.cpp peer of bench/infer_cpu; with
--q8_0, its matrices as Q8_0 (llama.cpp's 8-bit format: blocks of 32 values
along a row, each an fp16 scale max|x|/127 and 32 int8), norms F32.

    write_gguf.py CONFIG WEIGHTS OUT.gguf [--q8_0]

The format is ggml's docs/gguf.md: magic, version 3, tensor and key counts,
typed metadata, then per tensor its name, dimensions (innermost first, as
ggml's ne), type (F32 = 0) and offset, then the data aligned to 32 bytes.
llama.cpp's tensor names and metadata keys are those of its converter
(convert_hf_to_gguf.py), which also permutes q_proj and k_proj rows from
Hugging Face's rotate-half order back to adjacent pairs (llama.cpp rotates
pairs). The vocabulary is a placeholder of the model's size (the bench feeds
token ids): <unk>, <s>, </s>, the 256 byte pieces, then one piece per id.
"""
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "test", "reference"))
import train_ref  # noqa: E402

UINT32, INT32, FLOAT32, STRING, ARRAY = 4, 5, 6, 8, 9
ALIGN = 32
F32, Q8_0 = 0, 8  # ggml types


def q8_0(w):
    """ggml's block_q8_0 rows: per 32 values, fp16 d = max|x| / 127, then
    round(x / d) as int8 (as ggml's quantize_row_q8_0_ref)."""
    blocks = w.astype(np.float32).reshape(-1, 32)
    d = np.abs(blocks).max(axis=1) / 127.0
    inv = np.where(d > 0, 1.0 / np.where(d > 0, d, 1), 0.0)
    q = np.round(blocks * inv[:, None]).astype(np.int8)
    out = np.empty((blocks.shape[0], 34), dtype=np.uint8)
    out[:, :2] = d.astype("<f2").view(np.uint8).reshape(-1, 2)
    out[:, 2:] = q.view(np.uint8)
    return out.tobytes()


def string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def value(kind, v):
    if kind == UINT32:
        return struct.pack("<I", v)
    if kind == INT32:
        return struct.pack("<i", v)
    if kind == FLOAT32:
        return struct.pack("<f", v)
    if kind == STRING:
        return string(v)
    raise ValueError(kind)


def kv(key, kind, v):
    out = string(key) + struct.pack("<I", kind)
    if kind == ARRAY:
        element, items = v
        out += struct.pack("<IQ", element, len(items))
        return out + b"".join(value(element, x) for x in items)
    return out + value(kind, v)


def permute(w, heads):
    """Hugging Face's rotate-half rows to llama.cpp's adjacent pairs."""
    return (w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:])
            .swapaxes(1, 2).reshape(w.shape))


def main():
    config, weights, out = sys.argv[1:4]
    quantize = "--q8_0" in sys.argv[4:]
    c = train_ref.load_config(config)
    if c["family"] != "llama":
        sys.exit("write_gguf.py: LLaMA models only")
    p = {k: v.numpy() for k, v in train_ref.load_params(weights, c).items()}
    H, Hkv, L = c["num_attention_heads"], c["num_key_value_heads"], c["num_hidden_layers"]
    V = c["vocab_size"]
    tensors = [("token_embd.weight", p["model.embed_tokens.weight"]),
               ("output_norm.weight", p["model.norm.weight"]),
               ("output.weight", p["model.embed_tokens.weight" if c["tie_word_embeddings"]
                                   else "lm_head.weight"])]
    for i in range(L):
        hf = "model.layers.%d." % i
        blk = "blk.%d." % i
        tensors += [
            (blk + "attn_norm.weight", p[hf + "input_layernorm.weight"]),
            (blk + "attn_q.weight", permute(p[hf + "self_attn.q_proj.weight"], H)),
            (blk + "attn_k.weight", permute(p[hf + "self_attn.k_proj.weight"], Hkv)),
            (blk + "attn_v.weight", p[hf + "self_attn.v_proj.weight"]),
            (blk + "attn_output.weight", p[hf + "self_attn.o_proj.weight"]),
            (blk + "ffn_norm.weight", p[hf + "post_attention_layernorm.weight"]),
            (blk + "ffn_gate.weight", p[hf + "mlp.gate_proj.weight"]),
            (blk + "ffn_up.weight", p[hf + "mlp.up_proj.weight"]),
            (blk + "ffn_down.weight", p[hf + "mlp.down_proj.weight"]),
        ]
    # llama.cpp's sentencepiece vocabulary looks up byte pieces (<0x0A> for
    # a newline) when it loads.
    pieces = (["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)] +
              ["t%d" % i for i in range(259, V)])
    # unknown, control, control, 256 bytes, normal
    kinds = [2, 3, 3] + [6] * 256 + [1] * (V - 259)
    meta = [
        kv("general.architecture", STRING, "llama"),
        kv("general.name", STRING, os.path.basename(config)),
        kv("general.alignment", UINT32, ALIGN),
        kv("llama.context_length", UINT32, c.get("max_position_embeddings", 2048)),
        kv("llama.embedding_length", UINT32, c["hidden_size"]),
        kv("llama.block_count", UINT32, L),
        kv("llama.feed_forward_length", UINT32, c["intermediate_size"]),
        kv("llama.attention.head_count", UINT32, H),
        kv("llama.attention.head_count_kv", UINT32, Hkv),
        kv("llama.rope.dimension_count", UINT32, c["head_dim"]),
        kv("llama.rope.freq_base", FLOAT32, float(c["rope_theta"])),
        kv("llama.attention.layer_norm_rms_epsilon", FLOAT32, float(c["rms_norm_eps"])),
        kv("tokenizer.ggml.model", STRING, "llama"),
        kv("tokenizer.ggml.tokens", ARRAY, (STRING, pieces)),
        kv("tokenizer.ggml.scores", ARRAY, (FLOAT32, [0.0] * V)),
        kv("tokenizer.ggml.token_type", ARRAY, (INT32, kinds)),
        kv("tokenizer.ggml.bos_token_id", UINT32, 1),
        kv("tokenizer.ggml.eos_token_id", UINT32, 2),
        kv("tokenizer.ggml.unknown_token_id", UINT32, 0),
    ]
    infos, offset, datas = [], 0, []
    for name, w in tensors:
        dims = list(reversed(w.shape))  # ggml's ne: innermost first
        kind = Q8_0 if quantize and w.ndim == 2 else F32
        data = (q8_0(w) if kind == Q8_0 else
                np.ascontiguousarray(w, dtype="<f4").tobytes())
        datas.append(data)
        infos.append(string(name) + struct.pack("<I", len(dims)) +
                     b"".join(struct.pack("<Q", d) for d in dims) +
                     struct.pack("<IQ", kind, offset))
        offset += (len(data) + ALIGN - 1) // ALIGN * ALIGN
    with open(out, "wb") as f:
        f.write(b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(meta)))
        for m in meta + infos:
            f.write(m)
        f.write(b"\0" * (-f.tell() % ALIGN))
        for data in datas:
            f.write(data + b"\0" * (-len(data) % ALIGN))


if __name__ == "__main__":
    main()
