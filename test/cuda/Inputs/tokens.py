# Writes N token ids below V (flat little-endian uint16), a fixed pattern
# with some randomness, for the emulated-device tests.
import random
import struct
import sys

path, n, vocab = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(0)
with open(path, "wb") as f:
    f.write(struct.pack("<%dH" % n, *(rng.randrange(vocab) for _ in range(n))))
