"""Rewrites an llmc checkpoint the way Hugging Face stores GPT-2 on the hub:
names without "transformer.", a causal-mask buffer per layer, the tied
lm_head saved again, and (with --f16) half-precision tensors.

usage: hf_rename.py IN OUT N_LAYER SEQ [--f16]
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "reference"))
import safetensors_io  # noqa: E402

src, dst, n_layer, seq = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
tensors, _ = safetensors_io.read(src)
out = {}
for name, t in tensors.items():
    out[name[len("transformer."):] if name.startswith("transformer.") else name] = (
        t.shape, t.values)
for layer in range(n_layer):
    mask = [1.0 if j <= i else 0.0 for i in range(seq) for j in range(seq)]
    out["h.%d.attn.bias" % layer] = ([1, 1, seq, seq], mask)
out["lm_head.weight"] = out["wte.weight"]
safetensors_io.write(dst, out, {"format": "pt"},
                     "F16" if "--f16" in sys.argv else "F32")
