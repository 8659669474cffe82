"""Writes a flat little-endian uint16 token file for tests.

usage: tokens.py OUT COUNT VOCAB [BAD_ID_AT]
The stream repeats a short pattern, so a small model can learn it; with
BAD_ID_AT, the token at that offset is set to VOCAB (out of range).
"""
import struct
import sys

out, count, vocab = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
tokens = [(i * 7 + i // 13) % vocab for i in range(count)]
if len(sys.argv) > 4:
    tokens[int(sys.argv[4])] = vocab
with open(out, "wb") as f:
    f.write(struct.pack("<%dH" % count, *tokens))
