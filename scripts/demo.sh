#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: installs the packages, builds
# spacesc (release) and compiles and runs a bundled Toy program in its own
# 256 MiB-capped heap, printing the unit's memory statistics on stderr.
#   scripts/demo.sh [spacesc arguments]   (default: --mem-cap=256M --stats parser-demo/examples/worked.toy)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSPACES_BUILD_SPACESC=ON -DSPACES_BUILD_TESTS=OFF >/dev/null
cmake --build build/release -j"$(nproc)" --target spacesc
if [ $# -eq 0 ]; then
  set -- --mem-cap=256M --stats parser-demo/examples/worked.toy
fi
exec build/release/parser-demo/spacesc "$@"
