#!/usr/bin/env python3
# ---------------------------------------------------------------------------
# run_bench.py: the spacesc front-end benchmark (issue 5). Not part of ctest.
#
# For each size it generates a program (gen_toy.py), then runs, REPEAT times
# each, interleaved (every repeat runs every configuration once, so a change
# in the machine's load spreads over all of them), taking medians:
#   spacesc --alloc=arena and --alloc=new, each under glibc, jemalloc and
#                                    mimalloc as the process allocator (LD_PRELOAD)
#   toy_antlr_default                ANTLR's default setup (buffered tokens, parse tree)
# and reports front-end throughput (parse + AST, MB/s), AST nodes per
# second, peak RSS (of the whole process) and AST teardown time, with
# ratios against the arena. Numbers come from `spacesc --stats`.
#
#   bench/spacesc/run_bench.py BUILD_DIR [--sizes 1 10 100] [--repeat 3]
#                              [--no-default] [--baseline OTHER_BUILD_DIR]
# --baseline runs a second build's spacesc interleaved with the first (e.g.
# before and after a change) and reports the first's speed against it.
# ---------------------------------------------------------------------------
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PRELOAD = {
    "glibc": None,
    "jemalloc": "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2",
    "mimalloc": "/usr/lib/x86_64-linux-gnu/libmimalloc.so.2",
}


def run_spacesc(spacesc, path, alloc, allocator):
    env = dict(os.environ)
    if PRELOAD[allocator]:
        env["LD_PRELOAD"] = PRELOAD[allocator]
    # --emit=ir runs the whole compiler but not the program: main of the
    # generated programs calls two functions, so lowering and passes are small.
    p = subprocess.run([spacesc, "--alloc=" + alloc, "--stats", "--emit=ir", path], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
    s = p.stderr
    parse_ms = float(re.search(r"time \(ms\)\s+read [\d.]+, parse ([\d.]+)", s).group(1))
    nodes = int(re.search(r"ast\s+(\d+) nodes", s).group(1))
    teardown = float(re.search(r"teardown \(ms\) ast ([\d.]+)", s).group(1))
    rss = float(re.search(r"peak RSS\s+([\d.]+) MiB", s).group(1))
    return parse_ms, nodes, teardown, rss


def run_default(tool, path):
    p = subprocess.run([tool, path], stdout=subprocess.PIPE, text=True, check=True)
    parse_ms = float(re.search(r"parse_ms=([\d.]+)", p.stdout).group(1))
    rss = int(re.search(r"peak_rss_kb=(\d+)", p.stdout).group(1)) / 1024.0
    return parse_ms, rss


def main():
    ap = argparse.ArgumentParser(description="spacesc front-end benchmark")
    ap.add_argument("build_dir")
    ap.add_argument("--sizes", type=float, nargs="+", default=[1, 10, 100])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-default", action="store_true", help="skip the default-ANTLR baseline")
    ap.add_argument("--baseline", metavar="BUILD_DIR",
                    help="another build (e.g. before a change) run interleaved with the first; "
                         "reports both and the first's speed against it")
    args = ap.parse_args()
    builds = [("build", args.build_dir)]
    if args.baseline:
        builds.append(("baseline", args.baseline))
    spacesc = {name: os.path.join(d, "parser-demo", "spacesc") for name, d in builds}
    default_tool = os.path.join(args.build_dir, "bench", "spacesc", "toy_antlr_default")
    allocators = ["glibc", "jemalloc", "mimalloc"]
    configs = [(alloc, a) for a in allocators for alloc in ("arena", "new")]
    tmp = tempfile.mkdtemp(prefix="spacesc-bench-")
    print(f"# spacesc front-end benchmark: median of {args.repeat} runs; RSS in MiB, times in ms")
    print("# runs are interleaved: each repeat runs every build and configuration once")
    for name, d in builds:
        print(f"# {name}: {d}")
    for size in args.sizes:
        path = os.path.join(tmp, f"gen-{size:g}mb.toy")
        with open(path, "w") as f:
            subprocess.run([sys.executable, os.path.join(HERE, "gen_toy.py"), str(size)], stdout=f, check=True)
        mb = os.path.getsize(path) / 1e6
        use_default = not args.no_default and os.path.exists(default_tool)
        runs = {}
        default_runs = []
        for _ in range(args.repeat):
            for name, _d in builds:
                for alloc, allocator in configs:
                    runs.setdefault((name, alloc, allocator), []).append(
                        run_spacesc(spacesc[name], path, alloc, allocator))
            if use_default:
                default_runs.append(run_default(default_tool, path))
        print(f"\n## {mb:.1f} MB input")
        default = None
        if default_runs:
            default = (statistics.median(r[0] for r in default_runs), 0.0,
                       statistics.median(r[1] for r in default_runs))
        medians = {}
        for name, _d in builds:
            if len(builds) > 1:
                print(f"### {name}")
            print(f"{'config':<16} {'MB/s':>7} {'Mnodes/s':>9} {'peak RSS':>9} {'teardown':>10} {'nodes':>10}")
            results = {}
            for alloc, allocator in configs:
                rs = runs[(name, alloc, allocator)]
                parse = statistics.median(r[0] for r in rs)
                nodes = rs[0][1]
                teardown = statistics.median(r[2] for r in rs)
                rss = statistics.median(r[3] for r in rs)
                results[(alloc, allocator)] = (parse, teardown, rss)
                label = f"{alloc}/{allocator}"
                print(f"{label:<16} {mb / (parse / 1e3):7.2f} {nodes / parse / 1e3:9.3f} {rss:9.1f} "
                      f"{teardown:10.4f} {nodes:10d}")
            if default is not None:
                print(f"{'default ANTLR':<16} {mb / (default[0] / 1e3):7.2f} {'-':>9} {default[2]:9.1f} {'-':>10} {'-':>10}")
            print("arena against new under the same process allocator:")
            for allocator in allocators:
                a = results[("arena", allocator)]
                o = results[("new", allocator)]
                print(f"  {allocator:<9} front end {o[0] / a[0]:.2f}x as fast, teardown {o[1] / max(a[1], 1e-6):.0f}x "
                      f"faster, peak RSS {a[2] / o[2]:.2f}x of new's")
            if default is not None:
                a = results[("arena", "glibc")]
                print(f"  default ANTLR setup: arena/glibc peak RSS {a[2] / default[2]:.2f}x of the default's, "
                      f"front end {default[0] / a[0]:.2f}x as fast")
            medians[name] = results
        if len(builds) > 1:
            print("build against baseline, front end (parse + AST):")
            for alloc, allocator in configs:
                b = medians["build"][(alloc, allocator)][0]
                o = medians["baseline"][(alloc, allocator)][0]
                print(f"  {alloc + '/' + allocator:<16} {o / b:.3f}x as fast")
        os.remove(path)
    os.rmdir(tmp)


if __name__ == "__main__":
    main()
