#!/usr/bin/env bash
# Installs the Debian 12 packages spaces needs to build, test and benchmark.
# As root it runs apt-get; otherwise it prints the exact command to run.
# Skips apt-get entirely when every package is already installed.
set -euo pipefail

packages=(
  antlr4 libantlr4-runtime-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev
  libjemalloc-dev libmimalloc-dev libgoogle-perftools-dev cmake ninja-build g++ clang-14
  libclang-rt-14-dev pkg-config valgrind hyperfine gnuplot-nox python3 git
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

cmd=(apt-get install -y --no-install-recommends "${missing[@]}")
if [ "$(id -u)" -ne 0 ]; then
  echo "spaces: missing Debian packages; run as root:" >&2
  echo "  apt-get update && DEBIAN_FRONTEND=noninteractive ${cmd[*]}" >&2
  exit 1
fi
echo "spaces: installing ${missing[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${cmd[@]}" >/dev/null
