#!/usr/bin/env bash
# scripts/function_lengths.sh [LIMIT] [DIR...]: every C++ function longer than
# LIMIT lines (default 50) in the given directories (default libspaces and
# parser-demo), counted from its signature to its closing brace with
# Universal Ctags. Prints "lines  file:line  name", longest first.
set -euo pipefail
cd "$(dirname "$0")/.."
limit=${1:-50}
shift || true
dirs=("$@")
[ ${#dirs[@]} -eq 0 ] && dirs=(libspaces parser-demo)
ctags -R --languages=C++ --langmap=C++:+.hpp.h --kinds-C++=f --fields=+ne --output-format=u-ctags -f - "${dirs[@]}" |
  awk -F'\t' -v lim="$limit" '{
    line = ""; end = ""
    for (i = 4; i <= NF; i++) { if ($i ~ /^line:/) line = substr($i, 6); if ($i ~ /^end:/) end = substr($i, 5) }
    if (line != "" && end != "" && end - line + 1 > lim) printf "%4d  %s:%s  %s\n", end - line + 1, $2, line, $1
  }' | sort -rn
