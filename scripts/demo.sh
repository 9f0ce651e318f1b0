#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: installs the packages, builds a
# release build and runs the capped-heap demo.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSPACES_BUILD_TESTS=OFF >/dev/null
cmake --build build/release -j"$(nproc)" --target capped_heap
exec build/release/libspaces/examples/capped_heap "${@:-8388608}"
