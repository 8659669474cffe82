"""Decode at batch 1 as a fraction of the memory-bandwidth limit: the bytes
one decode step reads (every weight but the rows of the embedding tables a
token gathers, plus the KV cache of the context so far, on average
PROMPT + N/2 positions) times llmc's tokens/s, over the read bandwidth
read_bandwidth.py measured in the same run. The peers' figures are the same
product with their tokens/s.

usage: bandwidth_table.py CONFIG WEIGHTS RESULTS_BASE MODEL PROMPT N BANDWIDTH_JSON
"""
import json
import statistics
import struct
import sys

config_path, weights, base, model, prompt, n, bw_path = sys.argv[1:]
config = json.load(open(config_path))
with open(weights, "rb") as f:
    header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
gpt2 = config["model_type"] == "gpt2"
tied = gpt2 or config.get("tie_word_embeddings", False)


def gathered(name):
    """Tables of which a step reads one row (a tied table is the LM head)."""
    return name.endswith("wpe.weight") or (
        name.endswith("embed_tokens.weight") and not tied)


weight_bytes = sum(t["data_offsets"][1] - t["data_offsets"][0]
                   for name, t in header.items()
                   if name != "__metadata__" and not gathered(name))
layers = config["n_layer"] if gpt2 else config["num_hidden_layers"]
heads = config["n_head"] if gpt2 else config.get(
    "num_key_value_heads", config["num_attention_heads"])
head_dim = (config["n_embd"] // config["n_head"] if gpt2 else
            config["hidden_size"] // config["num_attention_heads"])
context = int(prompt) + int(n) / 2
step_bytes = weight_bytes + 2 * layers * heads * head_dim * 4 * context
bandwidth = json.load(open(bw_path))["read_bytes_per_s"]

tg = statistics.median(json.loads(l)["tokens_per_s"] for l in open(base + ".tg"))
peers = {"torch": json.load(open(base + ".torch"))["tg"],
         "ort": json.load(open(base + ".ort"))["tg"]}
try:
    peers["cpp"] = json.load(open(base + ".cpp"))["tg"]
except FileNotFoundError:
    pass
fraction = lambda tps: step_bytes * tps / bandwidth
print("%-11s %8.0f %7.1f %8.1f %9.1f %7.0f%%  %s" % (
    model, step_bytes / 1e6, tg, step_bytes * tg / 1e9, bandwidth / 1e9,
    100 * fraction(tg),
    " ".join("%s %.0f%%" % (k, 100 * fraction(v)) for k, v in peers.items())))
