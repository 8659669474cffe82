#!/usr/bin/env python3
"""The CUDA kernels' resources as ptxas reported them in the build: one line
per kernel and architecture (registers, shared memory, stack frame, spill
stores and loads), from the OBJECT.ptxas files cmake/ptxas-launcher.sh
keeps beside each object of the kernels' library.

    cuda_resources.py OBJECT|DIR... [--arch sm_80 --arch sm_90] [--out FILE]

reads the objects named (.cu.o; other objects are skipped) or every .cu.o
under a folder, and prints the table and a summary line (both to FILE with
--out, the summary also to stdout).
Exits 1, naming them, if a kernel spills, if an object has no report, or if
an architecture asked for has no kernels. (The build itself fails first on
a spill: ptxas runs with -warn-spills -Werror.)"""
import argparse
import os
import re
import subprocess
import sys

ENTRY = re.compile(r"Compiling entry function '([^']+)' for '(sm_\d+a?)'")
FRAME = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, "
                   r"(\d+) bytes spill loads")
USED = re.compile(r"Used (\d+) registers")
SMEM = re.compile(r"(\d+) bytes smem")


def parse(path):
    """[(kernel, arch, registers, smem, stack, spill stores, spill loads)]"""
    kernels, current = [], None
    for line in open(path):
        if m := ENTRY.search(line):
            current = {"kernel": m[1], "arch": m[2], "registers": 0,
                       "smem": 0, "stack": 0, "stores": 0, "loads": 0}
            kernels.append(current)
        elif current and (m := FRAME.search(line)):
            current.update(stack=int(m[1]), stores=int(m[2]), loads=int(m[3]))
        elif current and (m := USED.search(line)):
            current["registers"] = int(m[1])
            if s := SMEM.search(line):
                current["smem"] = int(s[1])
    return kernels


def demangle(names):
    try:
        out = subprocess.run(["c++filt"], input="\n".join(names), text=True,
                             capture_output=True, check=True).stdout
        return out.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return names


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("objects", nargs="+",
                        help="the kernels' library's objects, or a folder")
    parser.add_argument("--arch", action="append", default=[],
                        help="an architecture that must have kernels")
    parser.add_argument("--out", help="write the table here")
    args = parser.parse_args()
    objects = []
    for path in args.objects:
        if os.path.isdir(path):
            objects += sorted(os.path.join(d, f) for d, _, files in os.walk(path)
                              for f in files)
        else:
            objects.append(path)
    rows, missing = [], []
    for obj in objects:
        name = os.path.basename(obj)
        if not name.endswith(".cu.o"):
            continue
        if not os.path.exists(obj + ".ptxas"):
            missing.append(name)
            continue
        for k in parse(obj + ".ptxas"):
            rows.append(dict(k, file=name[:-len(".o")]))
    names = demangle([r["kernel"] for r in rows])
    table = open(args.out, "w") if args.out else sys.stdout
    print("%-16s %-6s %5s %6s %6s %6s %6s  %s" % (
        "file", "arch", "regs", "smem", "stack", "spillS", "spillL", "kernel"),
        file=table)
    for r, name in zip(rows, names):
        print("%-16s %-6s %5d %6d %6d %6d %6d  %s" % (
            r["file"], r["arch"], r["registers"], r["smem"], r["stack"],
            r["stores"], r["loads"], name.split("(")[0]), file=table)
    errors = []
    if missing:
        errors.append("no ptxas report for " + ", ".join(missing))
    if not rows:
        errors.append("no kernels in " + " ".join(args.objects))
    for arch in args.arch:
        if not any(r["arch"] == arch for r in rows):
            errors.append("no kernels compiled for " + arch)
    spills = [n for r, n in zip(rows, names) if r["stores"] or r["loads"]]
    if spills:
        errors.append("spills registers: " + ", ".join(spills))
    kernels = {r["kernel"] for r in rows}
    arches = sorted({r["arch"] for r in rows})
    if rows:
        top = max(rows, key=lambda r: r["registers"])
        summary = "%d kernels for %s; at most %d registers (%s); %s" % (
            len(kernels), ", ".join(arches), top["registers"],
            names[rows.index(top)].split("(")[0],
            "spills in %d" % len(spills) if spills else "no spills")
        print(summary, file=table)
        if table is not sys.stdout:
            print(summary)
    for e in errors:
        print("cuda_resources: " + e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
