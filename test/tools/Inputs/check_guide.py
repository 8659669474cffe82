"""Checks a guide's code against the tree: every ```sh block must run and
succeed (from the repository root, $TMP a scratch folder), and every block
opened as ```LANG file=PATH must appear in PATH word for word.

usage: check_guide.py GUIDE.md REPO_ROOT SCRATCH
"""
import os
import re
import subprocess
import sys

guide, root, scratch = sys.argv[1:4]
text = open(guide).read()
blocks = re.findall(r"^```(\w+)([^\n]*)\n(.*?)^```$", text, re.M | re.S)
ran = quoted = 0
for lang, info, body in blocks:
    where = re.search(r"file=(\S+)", info)
    if where:
        path = os.path.join(root, where.group(1))
        if body not in open(path).read():
            sys.exit(f"{guide}: a block of {where.group(1)} is not in that "
                     f"file:\n{body}")
        quoted += 1
    elif lang == "sh":
        env = dict(os.environ, TMP=scratch)
        tools = os.environ.get("LLMC_TOOLS_DIR")  # set by lit: llmc, llmc-opt
        if tools:
            env["PATH"] = tools + os.pathsep + env["PATH"]
        done = subprocess.run(["bash", "-eo", "pipefail", "-c", body],
                              cwd=root, env=env, capture_output=True,
                              text=True, timeout=300)
        if done.returncode != 0:
            sys.exit(f"{guide}: this block failed ({done.returncode}):\n{body}"
                     f"\n{done.stdout}{done.stderr}")
        print(done.stdout, end="")
        ran += 1
print(f"guide OK: {ran} commands ran, {quoted} quoted blocks found")
