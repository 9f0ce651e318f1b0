#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang-14, AddressSanitizer
# and UndefinedBehaviorSanitizer in build/fuzz, then runs each for the given
# time on a copy of its committed corpus and regressions (the committed
# corpus never grows). Prints each fuzzer's executions; exits 1 if any
# fuzzer crashed, leaked, timed out, ran out of memory or printed a
# sanitizer report, leaving the reproducer in build/fuzz/artifacts/<fuzzer>/.
# Usage: scripts/fuzz.sh [seconds-per-target]   (default 60)
# FUZZERS="heap_ops_fuzzer ..." picks the targets (default: all built).
# SPACES_FUZZ_SKIP_KNOWN=1 makes the heap fuzzers steer around the failures
# already saved in tests/fuzz/regressions (those inputs then pass), to look
# for new ones while the known ones are not fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
case "$seconds" in '' | *[!0-9]*) echo "scripts/fuzz.sh: seconds must be a number, not '$seconds'" >&2; exit 2 ;; esac

if [ -x scripts/install-deps.sh ]; then
  ./scripts/install-deps.sh
fi

build=build/fuzz
echo "== configure and build $build" >&2
cmake -S . -B "$build" -G Ninja -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DSPACES_FUZZ=ON "-DSPACES_SANITIZE=address;undefined" -DSPACES_DEBUG=3 -DSPACES_WERROR=ON \
  -DSPACES_BUILD_SPACESC=OFF -DSPACES_BUILD_BENCH=OFF >/dev/null
nice cmake --build "$build" -j2 --target spaces_fuzzers

fuzzers=${FUZZERS:-heap_ops_fuzzer heap_ops_fuzzer_hardened option_parser_fuzzer mem_cap_fuzzer}
status=0
for fuzzer in $fuzzers; do
  bin="$build/tests/fuzz/$fuzzer"
  if [ ! -x "$bin" ]; then
    echo "== $fuzzer: not built, skipped" >&2
    continue
  fi
  inputs=${fuzzer%_hardened}
  work=$(mktemp -d)
  mkdir -p "$work/corpus"
  for dir in "tests/fuzz/corpus/$inputs" "tests/fuzz/regressions/$inputs" "tests/fuzz/regressions/$fuzzer"; do
    [ -d "$dir" ] && cp -r "$dir/." "$work/corpus/"
  done
  artifacts="$build/artifacts/$fuzzer"
  mkdir -p "$artifacts"
  log="$build/artifacts/$fuzzer.log"
  echo "== $fuzzer: ${seconds}s" >&2
  rc=0
  nice "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$work/corpus" >"$log" 2>&1 || rc=$?
  rm -rf "$work"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  reports=$(grep -cE '^==[0-9]+==ERROR|runtime error:|CHECK\(|ERROR: libFuzzer' "$log" || true)
  if [ "$rc" -ne 0 ] || [ "$reports" -ne 0 ]; then
    echo "== $fuzzer: FAILED (exit $rc, ${execs:-?} executions); log $log, inputs in $artifacts/" >&2
    grep -m 5 -E 'ERROR|runtime error:|CHECK\(|SUMMARY|Test unit written' "$log" >&2 || true
    status=1
  else
    echo "== $fuzzer: ${execs:-?} executions in ${seconds}s, no failure" >&2
  fi
done
exit $status
