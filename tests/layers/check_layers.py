#!/usr/bin/env python3
"""Checks the layering of libspaces (docs/design.md, "Layers"): every file of
libspaces/src includes only headers of its own layer or below, so calls can
only go down. Every file must be listed here, so a new file gets a layer when
it is added. Exit status 1 and one line per violation otherwise.

Usage: check_layers.py LIBSPACES_SRC_DIR
"""
import re
import sys
from pathlib import Path

# 0: data and the OS, 1: base, 2: slabs, 3: heaps, 4: threads, 5: the API.
LAYERS = {
    # headers
    "internal/config.h": 0, "internal/types.h": 0, "internal/poison.h": 0,
    "ds/list.hpp": 0, "ds/size_class.hpp": 0, "ds/spinlock.hpp": 0, "os/os.h": 0,
    "internal/base.h": 1,
    "internal/granule_map.h": 2, "internal/hardened.h": 2, "internal/slab.h": 2,
    "internal/heap.h": 3,
    "internal/thread.h": 4, "internal/alloc.h": 4, "internal/free.h": 4,
    "override/override.h": 5,
    # sources
    "os/posix.cpp": 0, "test_hooks.cpp": 0,
    "options.cpp": 1, "assert.cpp": 1, "meta.cpp": 1, "init.cpp": 1,
    "granule_map.cpp": 2, "slab_cache.cpp": 2, "huge.cpp": 2, "slab.cpp": 2, "remote.cpp": 2, "mini.cpp": 2,
    "hardened.cpp": 2,
    "heap.cpp": 3, "cap.cpp": 3, "span.cpp": 3, "region.cpp": 3, "shard.cpp": 3, "owners.cpp": 3,
    "owner_free.cpp": 3, "refill.cpp": 3, "stats.cpp": 3, "leaks.cpp": 3,
    "thread.cpp": 4, "alloc.cpp": 4, "free.cpp": 4,
    "api.cpp": 5, "override/malloc.cpp": 5, "override/new.cpp": 5,
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def main() -> int:
    src = Path(sys.argv[1]).resolve()
    problems = []
    files = sorted(p for p in src.rglob("*") if p.suffix in (".cpp", ".h", ".hpp"))
    for path in files:
        name = path.relative_to(src).as_posix()
        if name not in LAYERS:
            problems.append(f"{name}: not in the layer table of tests/layers/check_layers.py")
            continue
        layer = LAYERS[name]
        for number, line in enumerate(path.read_text().splitlines(), 1):
            m = INCLUDE.match(line)
            if m is None:
                continue
            # Relative to the file, or to src/ (the library's include path).
            target = (path.parent / m.group(1)).resolve()
            if not target.exists():
                target = (src / m.group(1)).resolve()
            try:
                included = target.relative_to(src).as_posix()
            except ValueError:
                problems.append(f"{name}:{number}: includes {m.group(1)}, outside libspaces/src")
                continue
            if included not in LAYERS:
                problems.append(f"{name}:{number}: includes {included}, which has no layer")
            elif LAYERS[included] > layer:
                problems.append(f"{name}:{number}: layer {layer} includes {included}, layer {LAYERS[included]}")
    for p in problems:
        print(p)
    print(f"{len(files)} files checked, {len(problems)} layering problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
