#!/usr/bin/env python3
"""A tiny, independent safetensors reader and writer (Python stdlib only).

Written from the format description, not from llmc's C++, so the parity tests
can cross-check the two: an 8-byte little-endian u64 N, N bytes of JSON
{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {..}}
padded with spaces, then the data buffer (offsets relative to its start).

    read(path)  -> ({name: Tensor(dtype, shape, values)}, metadata)
    write(path, {name: (shape, values) or array-like}, metadata, dtype="F32")

Values are array('f') of float32 whatever the stored dtype (F32, F16, BF16).
Command line (used by the gtests):
    safetensors_io.py roundtrip IN OUT   read IN, write it back to OUT as F32
    safetensors_io.py sample OUT         write a fixed F32/F16/BF16 sample
    safetensors_io.py dump IN            print names, dtypes, shapes, metadata
"""
import array
import collections
import json
import math
import struct
import sys

Tensor = collections.namedtuple("Tensor", "dtype shape values")

_SIZES = {"F32": 4, "F16": 2, "BF16": 2}


def _numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def _f32_array(raw):
    a = array.array("f")
    a.frombytes(raw)
    if sys.byteorder == "big":
        a.byteswap()
    return a


def _decode(dtype, raw):
    if dtype == "F32":
        return _f32_array(raw)
    n = len(raw) // 2
    if dtype == "F16":
        return array.array("f", struct.unpack("<%de" % n, raw))
    halves = struct.unpack("<%dH" % n, raw)  # BF16: the top half of an F32
    return _f32_array(struct.pack("<%dI" % n, *[h << 16 for h in halves]))


def _to_bf16(x):
    (bits,) = struct.unpack("<I", struct.pack("<f", x))
    if math.isnan(x):
        return (bits >> 16) | 0x40
    return (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16  # round to nearest even


def _encode(dtype, values):
    n = len(values)
    if dtype == "F32":
        return struct.pack("<%df" % n, *values)
    if dtype == "F16":
        return struct.pack("<%de" % n, *values)
    if dtype == "BF16":
        return struct.pack("<%dH" % n, *[_to_bf16(v) for v in values])
    raise ValueError("unsupported dtype %r" % dtype)


def read(path):
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError("%s: shorter than the 8-byte header length" % path)
    (n,) = struct.unpack("<Q", blob[:8])
    if 8 + n > len(blob):
        raise ValueError("%s: header length %d past end of file" % (path, n))
    header = json.loads(blob[8 : 8 + n].decode("utf-8"))
    data = blob[8 + n :]
    metadata = header.pop("__metadata__", None) or {}
    tensors, ranges = {}, []
    for name, entry in header.items():
        dtype, shape = entry["dtype"], entry["shape"]
        begin, end = entry["data_offsets"]
        if dtype not in _SIZES:
            raise ValueError("%s: %s has unsupported dtype %s" % (path, name, dtype))
        if not 0 <= begin <= end <= len(data):
            raise ValueError("%s: %s offsets out of range" % (path, name))
        if _numel(shape) * _SIZES[dtype] != end - begin:
            raise ValueError("%s: %s shape/offsets mismatch" % (path, name))
        ranges.append((begin, end, name))
        tensors[name] = Tensor(dtype, list(shape), _decode(dtype, data[begin:end]))
    ranges.sort()
    for (_, e0, a), (b1, _, b) in zip(ranges, ranges[1:]):
        if b1 < e0:
            raise ValueError("%s: %s and %s overlap" % (path, a, b))
    return tensors, metadata


def _shape_and_values(value):
    if isinstance(value, Tensor):
        return list(value.shape), value.values
    if isinstance(value, tuple):
        return list(value[0]), value[1]
    # numpy arrays and torch tensors
    return list(value.shape), value.reshape(-1).tolist()


def write(path, tensors, metadata=None, dtype="F32"):
    """Writes {name: (shape, values) or array-like} as `dtype`."""
    entries = {}
    for name, value in tensors.items():
        shape, values = _shape_and_values(value)
        if _numel(shape) != len(values):
            raise ValueError("%s: %s has %d values for shape %s"
                             % (path, name, len(values), shape))
        entries[name] = (dtype, shape, values)
    write_mixed(path, entries, metadata)


def write_mixed(path, tensors, metadata=None):
    """Writes {name: (dtype, shape, values)}, data in name order."""
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name in sorted(tensors):
        dtype, shape, values = tensors[name]
        raw = _encode(dtype, values)
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in chunks:
            f.write(raw)


# The values the C++ test expects back from `sample` (all exact in their dtype).
SAMPLE = {
    "f32": ("F32", [2, 3], [0.0, -1.5, 3.25, 1e-30, -65504.0, 0.1]),
    "f16": ("F16", [2, 4], [1.0, -2.5, 65504.0, 2.0**-24, 2.0**-14, -0.0,
                            float("inf"), 0.0999755859375]),
    "bf16": ("BF16", [4], [1.0, -3.0, 2.0**100, 0.15625]),
    "scalar": ("F32", [], [7.0]),
    "empty": ("F32", [0, 4], []),
}


def main(argv):
    if len(argv) == 4 and argv[1] == "roundtrip":
        tensors, metadata = read(argv[2])
        write(argv[3], tensors, metadata)
    elif len(argv) == 3 and argv[1] == "sample":
        write_mixed(argv[2], SAMPLE, {"source": "python", "format": "pt"})
    elif len(argv) == 3 and argv[1] == "dump":
        tensors, metadata = read(argv[2])
        for name, t in tensors.items():
            print(name, t.dtype, t.shape)
        print("metadata", json.dumps(metadata, sort_keys=True))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
