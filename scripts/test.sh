#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian 12 machine: installs the
# packages, then builds and tests each configuration:
#   ci     release build, -Werror, every internal assertion (SPACES_DEBUG=3);
#          the override tests again, 20 times
#   asan   AddressSanitizer + UndefinedBehaviorSanitizer
#   tsan   ThreadSanitizer; the short threaded tests again, 20 times each,
#          and the chaos stress for longer
#   fuzz   the libFuzzer targets (clang-14), scripts/fuzz.sh
# Usage: scripts/test.sh [ci|asan|tsan|fuzz ...]   (default: all four)
# SPACES_TEST_REPEAT (20) and SPACES_CHAOS_SECONDS (30, under TSan) and
# SPACES_FUZZ_SECONDS (60) set how long the repeated parts run.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh

jobs=$(nproc)
repeat=${SPACES_TEST_REPEAT:-20}
configs=("$@")
[ ${#configs[@]} -eq 0 ] && configs=(ci asan tsan fuzz)

# The threaded tests that are short enough to run many times: each forces or
# provokes cross-thread interleavings. The threaded model tests (a minute
# under TSan) run once.
threaded='ThreadsTest|InterleavingTest|CapCollectTest|StatsTest|MisuseTest|HardenedTest\.|HardenedDeathTest\.Remote|WalkTest'

run_ctest() {  # run_ctest <build dir> [ctest arguments...]
  local dir=$1
  shift
  ctest --test-dir "$dir" -j"$jobs" --timeout 900 --output-on-failure "$@"
}

for config in "${configs[@]}"; do
  case "$config" in
    ci)   flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSPACES_WERROR=ON -DSPACES_DEBUG=3) ;;
    asan) flags=(-DCMAKE_BUILD_TYPE=Debug -DSPACES_WERROR=ON -DSPACES_DEBUG=3 "-DSPACES_SANITIZE=address;undefined" -DSPACES_BUILD_BENCH=OFF) ;;
    tsan) flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSPACES_WERROR=ON -DSPACES_DEBUG=2 -DSPACES_SANITIZE=thread -DSPACES_BUILD_BENCH=OFF) ;;
    fuzz) echo "== fuzz" >&2; bash scripts/fuzz.sh "${SPACES_FUZZ_SECONDS:-60}"; continue ;;
    *) echo "scripts/test.sh: unknown configuration '$config' (ci, asan, tsan, fuzz)" >&2; exit 2 ;;
  esac
  dir="build/test-$config"
  echo "== $config: configure and build" >&2
  cmake -S . -B "$dir" -G Ninja "${flags[@]}" >/dev/null
  cmake --build "$dir" -j"$jobs"
  echo "== $config: test" >&2
  case "$config" in
    ci)
      run_ctest "$dir"
      echo "== ci: the override tests, $repeat times" >&2
      run_ctest "$dir" -R 'OverrideTest' --repeat until-fail:"$repeat"
      ;;
    tsan)
      run_ctest "$dir" -E "$threaded|Chaos"
      echo "== tsan: the short threaded tests, $repeat times each" >&2
      run_ctest "$dir" -R "$threaded" --repeat until-fail:"$repeat"
      echo "== tsan: chaos stress, ${SPACES_CHAOS_SECONDS:-30} s per workload" >&2
      SPACES_CHAOS_SECONDS=${SPACES_CHAOS_SECONDS:-30} run_ctest "$dir" -R 'Chaos'
      ;;
    *)
      run_ctest "$dir"
      ;;
  esac
done
