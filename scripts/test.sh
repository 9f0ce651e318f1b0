#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian 12 machine: installs the
# packages, then builds and tests three configurations:
#   ci     release build, -Werror, every internal assertion (SPACES_DEBUG=3)
#   asan   AddressSanitizer + UndefinedBehaviorSanitizer
#   tsan   ThreadSanitizer
# Usage: scripts/test.sh [ci|asan|tsan ...]   (default: all three)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh

jobs=$(nproc)
configs=("$@")
[ ${#configs[@]} -eq 0 ] && configs=(ci asan tsan)

for config in "${configs[@]}"; do
  case "$config" in
    ci)   flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSPACES_WERROR=ON -DSPACES_DEBUG=3) ;;
    asan) flags=(-DCMAKE_BUILD_TYPE=Debug -DSPACES_WERROR=ON -DSPACES_DEBUG=3 "-DSPACES_SANITIZE=address;undefined" -DSPACES_BUILD_BENCH=OFF) ;;
    tsan) flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSPACES_WERROR=ON -DSPACES_DEBUG=2 -DSPACES_SANITIZE=thread -DSPACES_BUILD_BENCH=OFF) ;;
    *) echo "scripts/test.sh: unknown configuration '$config' (ci, asan, tsan)" >&2; exit 2 ;;
  esac
  echo "== $config: configure and build" >&2
  cmake -S . -B "build/test-$config" -G Ninja "${flags[@]}" >/dev/null
  cmake --build "build/test-$config" -j"$jobs"
  echo "== $config: test" >&2
  ctest --test-dir "build/test-$config" -j"$jobs" --timeout 900 --output-on-failure
done
