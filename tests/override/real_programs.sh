#!/usr/bin/env bash
# Runs one real program with and without LD_PRELOAD=libspaces_malloc.so and
# checks that stdout, stderr and the exit status are identical.
#   real_programs.sh LIBSPACES_MALLOC_SO SOURCE_DIR WORK_DIR NAME
# NAME: python | git-log | git-status | cmake-version | sort | gxx | default-cap
set -euo pipefail
so=$1 src=$2 work=$3 name=$4
mkdir -p "$work"
cd "$work"

python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3)

case "$name" in
  python)
    cat > alloc_heavy.py <<'PY'
import json, random
random.seed(7)
d = {f"key{i}": [random.random() for _ in range(8)] for i in range(60000)}
s = json.dumps(d, sort_keys=True)
back = json.loads(s)
words = sorted(("".join(random.choice("abcdefgh") for _ in range(12)) for _ in range(100000)))
tree = {}
for w in words:
    node = tree
    for ch in w[:6]:
        node = node.setdefault(ch, {})
print(len(s), len(back), words[0], words[-1], len(tree), sum(len(v) for v in back.values()))
PY
    cmd=("$python" alloc_heavy.py) ;;
  git-log) cmd=(git -C "$src" log --oneline -n 200 --stat) ;;
  git-status) cmd=(git -C "$src" status --porcelain=v1 --ignored=no) ;;
  cmake-version) cmd=(cmake --version) ;;
  sort)
    "$python" -c "
import random
random.seed(11)
with open('big.txt', 'w') as f:
    for i in range(400000):
        f.write(''.join(random.choice('qwertyuiopasdfghjkl') for _ in range(random.randint(1, 40))) + '\n')
"
    cmd=(sort big.txt) ;;
  gxx)
    cmd=(g++ -std=c++20 -O1 -S -o - -I "$src/libspaces/include" -I "$src/libspaces/src" "$src/libspaces/src/slab_cache.cpp") ;;
  default-cap)
    # With a cap on the default heap, an allocation past it fails cleanly.
    set +e
    out=$(LD_PRELOAD="$so" SPACES_DEFAULT_CAP=64M "$python" -c "
try:
    b = bytearray(256 * 1024 * 1024)
    print('allocated')
except MemoryError:
    print('MemoryError')
" 2>&1)
    set -e
    echo "$out"
    [ "$out" = "MemoryError" ] && exit 0
    echo "expected MemoryError under SPACES_DEFAULT_CAP=64M" >&2
    exit 1 ;;
  *) echo "real_programs.sh: unknown program '$name'" >&2; exit 2 ;;
esac

set +e
"${cmd[@]}" > plain.out 2> plain.err
plain=$?
LD_PRELOAD="$so" "${cmd[@]}" > spaces.out 2> spaces.err
preloaded=$?
set -e

status=0
if [ $plain -ne $preloaded ]; then
  echo "$name: exit status $plain without spaces, $preloaded with it" >&2
  status=1
fi
if ! cmp -s plain.out spaces.out; then
  echo "$name: stdout differs:" >&2
  diff plain.out spaces.out | head -20 >&2
  status=1
fi
if ! cmp -s plain.err spaces.err; then
  echo "$name: stderr differs:" >&2
  diff plain.err spaces.err | head -20 >&2
  status=1
fi
[ $status -eq 0 ] && echo "$name: identical under libspaces_malloc.so ($(wc -c < plain.out) bytes of output, exit $plain)"
exit $status
