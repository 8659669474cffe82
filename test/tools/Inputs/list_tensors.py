"""Prints each tensor of a safetensors file as `name [d0, d1, ...]`, sorted.

usage: list_tensors.py FILE.safetensors
"""
import json
import struct
import sys

with open(sys.argv[1], "rb") as f:
    (length,) = struct.unpack("<Q", f.read(8))
    header = json.loads(f.read(length))
for name in sorted(k for k in header if k != "__metadata__"):
    print("%s [%s]" % (name, ", ".join(str(d) for d in header[name]["shape"])))
