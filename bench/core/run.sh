#!/bin/sh
# bench/core/run.sh: builds and runs the core allocator benchmark (issue 2).
#
#   bench/core/run.sh [--rounds R] [--quick] [--only alloc|teardown] [--no-peers] [--cpu C]
#       builds alloc_teardown (and peer_mimalloc, peer_jemalloc) in
#       build/bench (Release) and prints the table of medians and ratios
#   bench/core/run.sh heaps [--heaps N] [--runs R] [--rounds K]
#       what one small heap costs: 10,000 live heaps of one block each,
#       create + destroy time and memory per heap, against mi_heap, jemalloc
#       arenas and std::pmr (many_heaps.cpp, many_heaps.py)
#   bench/core/run.sh callgrind
#       instructions per allocation of each allocation loop, counted by
#       callgrind (the machine has no hardware counters): one cold
#       and nine warm rounds of 16384 objects, the timed loop only
#
# BUILD_DIR overrides the build directory. Build with -j2 at most: the
# machine is shared. Results and caveats: docs/benchmarks.md, "Core allocator".
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build/bench}
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DSPACES_BUILD_TESTS=OFF -DSPACES_BUILD_SPACESC=OFF >/dev/null
cmake --build "$BUILD" --target alloc_teardown -j2 >/dev/null
EXE="$BUILD/bench/core/alloc_teardown"

if [ "${1:-}" = "heaps" ]; then
  shift
  cmake --build "$BUILD" --target many_heaps -j2 >/dev/null
  exec python3 "$ROOT/bench/core/many_heaps.py" "$BUILD" "$@"
fi

if [ "${1:-}" = "callgrind" ]; then
  command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
  N=16384
  OUT=$(mktemp -d)
  trap 'rm -rf "$OUT"' EXIT
  printf '%-14s %12s %16s\n' variant instructions "instr/alloc"
  for pair in bump:bump_round bump-mem:bump_mem_round bump-counted:bump_counted_round region:region_round \
              general:general_round general-st:general_round malloc:malloc_round; do
    v=${pair%%:*}
    f=${pair#*:}
    valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.$v" "--toggle-collect=*$f*" \
      "$EXE" --child alloc "$v" "$N" 9 >/dev/null 2>"$OUT/log.$v"
    ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$OUT/log.$v")
    awk -v v="$v" -v ir="$ir" -v n="$N" 'BEGIN { printf "%-14s %12d %16.1f\n", v, ir, ir / (10 * n) }'
  done
  exit 0
fi

exec "$EXE" "$@"
