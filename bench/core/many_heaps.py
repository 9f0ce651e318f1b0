#!/usr/bin/env python3
"""Runs the many_heaps executables (bench/core/many_heaps.cpp) and prints the
table of medians: what one small heap costs (issue 11, tiny heaps).

    many_heaps.py <build dir> [--heaps N] [--runs R] [--rounds K]

Each strategy runs in R fresh processes; each process makes K rounds of N
heaps. Resident bytes per heap come from the first round of each process
(later rounds reuse its memory); times are the medians over every round.
jemalloc cannot hold more than 4,095 arenas: it runs with min(N, 4000) heaps,
and its row says so.
"""
import argparse
import os
import statistics
import subprocess
import sys

STRATEGIES = [
    ("spaces-tiny", "many_heaps", ["tiny"]),
    ("spaces", "many_heaps", []),
    ("mimalloc", "many_heaps_mimalloc", []),
    ("jemalloc", "many_heaps_jemalloc", []),
    ("pmr-monotonic", "many_heaps_pmr", []),
]
JEMALLOC_MAX_ARENAS = 4000


def run(exe, heaps, rounds, extra):
    out = subprocess.run([exe, str(heaps), str(rounds)] + extra, check=True, capture_output=True, text=True).stdout
    rows = [line.split() for line in out.splitlines() if line.strip()]
    return [(float(r[2]), float(r[3]), float(r[4]), float(r[5])) for r in rows]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("build")
    ap.add_argument("--heaps", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    results = {}
    for name, exe, extra in STRATEGIES:
        path = os.path.join(args.build, "bench", "core", exe)
        if not os.path.exists(path):
            print(f"{name}: {path} not built (peer library missing), skipped", file=sys.stderr)
            continue
        heaps = min(args.heaps, JEMALLOC_MAX_ARENAS) if name == "jemalloc" else args.heaps
        create, destroy, rss, footprint = [], [], [], []
        for _ in range(args.runs):
            for i, (c, d, r, f) in enumerate(run(path, heaps, args.rounds, extra)):
                create.append(c)
                destroy.append(d)
                if i == 0:
                    rss.append(r)
                    footprint.append(f)
        results[name] = (heaps, statistics.median(create), statistics.median(destroy), statistics.median(rss),
                         statistics.median(footprint))
    base = results.get("spaces-tiny")
    print(f"{args.heaps} live heaps of one 64-byte block each; medians of {args.runs} processes x "
          f"{args.rounds} rounds")
    print()
    print("| strategy | heaps | create + alloc ns/heap | destroy ns/heap | total vs spaces-tiny | resident bytes/heap "
          "| footprint bytes/heap (cap) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, (heaps, c, d, r, f) in results.items():
        ratio = f"{(c + d) / (base[1] + base[2]):.2f}x" if base else "-"
        fp = f"{f:.0f}" if f >= 0 else "-"
        print(f"| {name} | {heaps} | {c:.0f} | {d:.0f} | {ratio} | {r:.0f} | {fp} |")


if __name__ == "__main__":
    main()
