#!/usr/bin/env bash
# Checks that every tracked C++ file is formatted as .clang-format says (LLVM
# style); ctest runs it as `format`. Lists the files that are not, with the
# command that formats them, and fails. After editing, format only what you
# changed with: git clang-format --style=file
set -euo pipefail
cd "$(dirname "$0")/.."
if ! git rev-parse --is-inside-work-tree > /dev/null 2>&1; then
  echo "check-format.sh: not a git checkout; nothing to list" >&2
  exit 1
fi
mapfile -t files < <(git ls-files '*.cpp' '*.h' '*.cu' '*.cuh')
bad=()
for f in "${files[@]}"; do
  if ! clang-format --dry-run --Werror "$f" > /dev/null 2>&1; then
    bad+=("$f")
  fi
done
if [ "${#bad[@]}" -gt 0 ]; then
  echo "check-format.sh: ${#bad[@]} of ${#files[@]} C++ files are not formatted:" >&2
  printf '  %s\n' "${bad[@]}" >&2
  echo "format them with: clang-format -i ${bad[*]}" >&2
  exit 1
fi
echo "check-format.sh: all ${#files[@]} C++ files formatted"
