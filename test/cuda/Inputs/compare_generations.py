# Compares two `llmc generate --json` outputs of one prompt: the same ids,
# and every chosen token's log-probability within 1e-6. Exits 1 otherwise.
import json
import sys

a, b = (json.load(open(path)) for path in sys.argv[1:3])
if a["output_ids"] != b["output_ids"]:
    sys.exit(f"ids differ: {a['output_ids']} vs {b['output_ids']}")
worst = max(abs(x - y) for x, y in zip(a["logprobs"], b["logprobs"]))
if worst > 1e-6:
    sys.exit(f"log-probabilities differ by {worst}")
print(f"ids equal: {len(a['output_ids'])} tokens, log-probabilities within "
      f"1e-6 (worst {worst:.1e}; ids {a['output_ids']})")
