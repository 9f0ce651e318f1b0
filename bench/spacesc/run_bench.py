#!/usr/bin/env python3
# ---------------------------------------------------------------------------
# run_bench.py: the spacesc front-end benchmark. Not part of ctest.
#
# spacesc links spaces' malloc replacement and routes every allocation of a
# unit's thread into the unit's capped heap, so LD_PRELOAD cannot change its
# allocator. To compare allocators the benchmark also runs spacesc_unrouted
# (bench/spacesc/CMakeLists.txt), the same tool without the replacement,
# whose malloc is the process allocator's. Configurations (columns):
#   spacesc              routed: spaces is the allocator (the real tool)
#   unrouted/glibc       spacesc_unrouted on glibc's malloc
#   unrouted/jemalloc    spacesc_unrouted with jemalloc, mimalloc or spaces'
#   unrouted/mimalloc    libspaces_malloc.so as LD_PRELOAD
#   unrouted/spaces
#   default ANTLR        toy_antlr_default: ANTLR's default setup (buffered
#                        tokens, parse tree, glibc), no AST; a reference
# For each size it generates a program (gen_toy.py) and runs every
# configuration REPEAT times, interleaved (each repeat runs each
# configuration once, starting one further along the list each time, so a
# change in the machine's load spreads over all of them), and prints
# medians as Markdown tables: the front end's time (parse + AST, `parse` of
# --stats, wall clock) with the repeats' range, the process's CPU time (user
# + system, which time spent waiting for a busy core does not inflate), its
# peak RSS and that per MB of input (both from /usr/bin/time), and the unit
# heap's peak (--stats), with ratios against the routed spacesc. Each run
# compiles one unit, so the process's peak is also the unit's. --allocs
# arena new adds --alloc=new (AST nodes by operator new) and compares it
# with the arena.
#
# The bound check runs the routed spacesc over COPIES copies of the largest
# program with --mem-cap=CAP, -j 1 and -j 2, and prints the largest peak RSS
# of the process against the bound of docs/spacesc.md,
# jobs x (cap + 24 MiB) + 24 MiB.
#
#   bench/spacesc/run_bench.py BUILD_DIR [--sizes 1 10 100] [--repeat 3]
#       [--allocs arena [new]] [--no-default] [--cap 256M] [--copies 4]
#       [--no-bound] [--baseline OTHER_BUILD_DIR]
# --baseline runs a second build's configurations interleaved with the
# first's (e.g. before and after a change) and reports the first's front-end
# time against it.
# ---------------------------------------------------------------------------
import argparse
import dataclasses
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
MIB = 1 << 20
SLACK = 24 * MIB  # the per-job and the per-process term of the documented bound
USAGE_MARK = "run_bench.py usage="  # then peak RSS in KiB, user and system seconds
PRELOAD = {
    "glibc": None,
    "jemalloc": "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2",
    "mimalloc": "/usr/lib/x86_64-linux-gnu/libmimalloc.so.2",
    "spaces": "libspaces/libspaces_malloc.so",  # in the build directory
}


@dataclasses.dataclass(frozen=True)
class Config:
    """One column: a build's binary, what it preloads (None: nothing), --alloc."""
    build: str
    label: str
    tool: str
    preload: str
    alloc: str


@dataclasses.dataclass
class Run:
    """What one run measured (the default-ANTLR reference has no --stats)."""
    parse_ms: float
    rss_mib: float
    cpu_s: float
    unit_peak_mib: float = 0.0
    nodes: int = 0
    teardown_ms: float = 0.0


def timed(cmd, preload=None, check=True):
    """Runs cmd; returns (exit status, stdout, stderr, peak RSS in MiB, CPU
    seconds: user + system, which waiting for a busy core does not add to).

    /usr/bin/time forks the command itself: a child of this Python process
    would start with this process's peak RSS, which Linux keeps across exec.
    LD_PRELOAD is set by env(1) inside, so time itself runs without it."""
    env = ["env", "LD_PRELOAD=" + preload] if preload else []
    p = subprocess.run(["/usr/bin/time", "-f", USAGE_MARK + "%M %U %S", *env, *cmd], capture_output=True, text=True)
    err, _, usage = p.stderr.rpartition(USAGE_MARK)
    kb, user, system = usage.split()
    if "cannot be preloaded" in err or (check and p.returncode != 0):
        sys.exit(f"run_bench.py: {' '.join(cmd)} (LD_PRELOAD={preload}) exited with {p.returncode}:\n{err}")
    return p.returncode, p.stdout, err, int(kb) / 1024, float(user) + float(system)


def stat(pattern, text):
    return re.search(pattern, text).group(1)


def run_spacesc(config, path):
    # --emit=ir runs the whole compiler but not the program: main of the
    # generated programs calls two functions, so lowering and passes are small.
    _, _, s, rss, cpu = timed([config.tool, "--alloc=" + config.alloc, "--stats", "--emit=ir", path], config.preload)
    return Run(parse_ms=float(stat(r"time \(ms\)\s+read [\d.]+, parse ([\d.]+)", s)), rss_mib=rss, cpu_s=cpu,
               unit_peak_mib=int(stat(r"heap unit .* peak (\d+)", s)) / MIB,
               nodes=int(stat(r"ast\s+(\d+) nodes", s)),
               teardown_ms=float(stat(r"teardown \(ms\) ast ([\d.]+)", s)))


def run_default(tool, path):
    _, out, _, rss, cpu = timed([tool, path])
    return Run(parse_ms=float(stat(r"parse_ms=([\d.]+)", out)), rss_mib=rss, cpu_s=cpu)


def configs_of(build, build_dir, allocs):
    """The configurations of one build, leaving out those whose files are missing."""
    unrouted = os.path.join(build_dir, "bench", "spacesc", "spacesc_unrouted")
    columns = [("spacesc", os.path.join(build_dir, "parser-demo", "spacesc"), None)]
    for allocator, lib in PRELOAD.items():
        columns.append(("unrouted/" + allocator, unrouted, lib and os.path.join(build_dir, lib)))
    if not os.path.exists(columns[0][1]):
        sys.exit(f"run_bench.py: {build}: no {columns[0][1]}")
    configs = []
    for label, tool, lib in columns:
        missing = [f for f in (tool, lib) if f and not os.path.exists(f)]
        if missing:
            print(f"# {build}: no {label}: {', '.join(missing)} missing")
        else:
            configs += [Config(build, label, tool, lib, a) for a in allocs]
    return configs


def interleaved(jobs, repeat):
    """Runs each job (a key -> thunk dict) `repeat` times, interleaved and
    rotated; returns key -> list of results."""
    keys = list(jobs)
    runs = {k: [] for k in keys}
    for r in range(repeat):
        shift = r % len(keys)
        for k in keys[shift:] + keys[:shift]:
            runs[k].append(jobs[k]())
    return runs


def med(runs, field):
    return statistics.median(getattr(r, field) for r in runs)


def spread(runs, field, digits=0):
    values = [getattr(r, field) for r in runs]
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def print_table(title, rows, ref, mb):
    """rows: label -> runs; ratios against rows[ref]."""
    print(f"\n{title}\n")
    print("| config | front end ms (range) | x spacesc | process CPU s (range) | x spacesc "
          "| peak RSS MiB | MiB per MB | x spacesc | unit peak MiB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    base = rows[ref]
    for label, runs in rows.items():
        unit = f"{med(runs, 'unit_peak_mib'):.1f}" if runs[0].unit_peak_mib else "-"
        print(f"| {label} | {spread(runs, 'parse_ms')} | {med(runs, 'parse_ms') / med(base, 'parse_ms'):.2f} "
              f"| {spread(runs, 'cpu_s', 2)} | {med(runs, 'cpu_s') / med(base, 'cpu_s'):.2f} "
              f"| {med(runs, 'rss_mib'):.1f} | {med(runs, 'rss_mib') / mb:.2f} "
              f"| {med(runs, 'rss_mib') / med(base, 'rss_mib'):.2f} | {unit} |")


def print_arena_vs_new(configs, runs):
    print("\narena against new, same build and allocator:")
    for c in (c for c in configs if c.alloc == "arena"):
        a = runs[c]
        n = runs[dataclasses.replace(c, alloc="new")]
        print(f"  {c.build + '/' + c.label:<27} front end {med(n, 'parse_ms') / med(a, 'parse_ms'):.2f}x as fast, "
              f"teardown {med(n, 'teardown_ms') / max(med(a, 'teardown_ms'), 1e-6):.0f}x faster, "
              f"peak RSS {med(a, 'rss_mib') / med(n, 'rss_mib'):.2f}x of new's")


def print_against_baseline(configs, runs):
    print("\nbuild against baseline, front end (parse + AST):")
    baseline = {(c.label, c.alloc): runs[c] for c in configs if c.build == "baseline"}
    for c in (c for c in configs if c.build == "build" and (c.label, c.alloc) in baseline):
        ratio = med(baseline[(c.label, c.alloc)], "parse_ms") / med(runs[c], "parse_ms")
        print(f"  {c.label + ' --alloc=' + c.alloc:<32} {ratio:.3f}x as fast")


def bench_size(path, configs, default_tool, repeat):
    mb = os.path.getsize(path) / 1e6
    jobs = {c: (lambda c=c: run_spacesc(c, path)) for c in configs}
    if default_tool:
        jobs["default ANTLR"] = lambda: run_default(default_tool, path)
    runs = interleaved(jobs, repeat)
    nodes = runs[configs[0]][0].nodes
    print(f"\n## {mb:.1f} MB input ({nodes:,} AST nodes), medians of {repeat}")
    for build in dict.fromkeys(c.build for c in configs):
        for alloc in dict.fromkeys(c.alloc for c in configs):
            rows = {c.label: runs[c] for c in configs if c.build == build and c.alloc == alloc}
            if alloc == "arena" and build == "build" and default_tool:
                rows["default ANTLR"] = runs["default ANTLR"]
            print_table(f"### {build}, --alloc={alloc}", rows, "spacesc", mb)
    if any(c.alloc == "new" for c in configs) and any(c.alloc == "arena" for c in configs):
        print_arena_vs_new(configs, runs)
    if any(c.build == "baseline" for c in configs):
        print_against_baseline(configs, runs)


def parse_size(text):
    m = re.fullmatch(r"(\d+)([KMG]?)", text.upper())
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {text}")
    return int(m.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30}[m.group(2)]


def bound_check(spacesc, path, cap, copies, repeat, tmp):
    """The routed spacesc on `copies` copies of path under --mem-cap=cap (bytes)."""
    files = []
    for i in range(copies):
        files.append(os.path.join(tmp, f"copy{i}.toy"))
        shutil.copyfile(path, files[-1])
    jobs = {j: (lambda j=j: timed([spacesc, f"--mem-cap={cap}", "-j", str(j), *files], check=False))
            for j in (1, 2)}
    runs = interleaved(jobs, repeat)
    print(f"\n## Bound: spacesc --mem-cap={cap / MIB:g}M -j N on {copies} copies of the "
          f"{os.path.getsize(path) / 1e6:.1f} MB program, {repeat} runs\n")
    print("| jobs | peak RSS MiB, largest (median) | bound MiB | of the bound | exit statuses |")
    print("| ---: | ---: | ---: | ---: | --- |")
    for j, rs in runs.items():
        rss = [r[3] for r in rs]
        statuses = " ".join(str(r[0]) for r in rs)
        bound = (j * (cap + SLACK) + SLACK) / MIB
        print(f"| {j} | {max(rss):.1f} ({statistics.median(rss):.1f}) | {bound:.0f} | {max(rss) / bound:.2f} "
              f"| {statuses} |")
    for f in files:
        os.remove(f)


def generate(size, tmp):
    path = os.path.join(tmp, f"gen-{size:g}mb.toy")
    with open(path, "w") as f:
        subprocess.run([sys.executable, os.path.join(HERE, "gen_toy.py"), str(size)], stdout=f, check=True)
    return path


def main():
    ap = argparse.ArgumentParser(description="spacesc front-end benchmark: routed against unrouted")
    ap.add_argument("build_dir")
    ap.add_argument("--sizes", type=float, nargs="+", default=[1, 10, 100])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--allocs", nargs="+", choices=["arena", "new"], default=["arena"],
                    help="spacesc --alloc modes to run (default: arena)")
    ap.add_argument("--no-default", action="store_true", help="skip the default-ANTLR reference")
    ap.add_argument("--cap", default="256M", type=parse_size, help="--mem-cap of the bound check (default 256M)")
    ap.add_argument("--copies", type=int, default=4, help="units of the bound check (default 4)")
    ap.add_argument("--no-bound", action="store_true", help="skip the bound check")
    ap.add_argument("--baseline", metavar="BUILD_DIR",
                    help="another build (e.g. before a change) run interleaved with the first; "
                         "reports the first's front-end time against it")
    args = ap.parse_args()
    builds = [("build", args.build_dir)] + ([("baseline", args.baseline)] if args.baseline else [])
    configs = [c for name, d in builds for c in configs_of(name, d, args.allocs)]
    default_tool = os.path.join(args.build_dir, "bench", "spacesc", "toy_antlr_default")
    default_tool = default_tool if not args.no_default and os.path.exists(default_tool) else None
    print(f"# spacesc front-end benchmark: {' '.join(sys.argv)}")
    for name, d in builds:
        print(f"# {name}: {os.path.abspath(d)}")
    tmp = tempfile.mkdtemp(prefix="spacesc-bench-")
    for size in args.sizes:
        path = generate(size, tmp)
        bench_size(path, configs, default_tool, args.repeat)
        if size == max(args.sizes) and not args.no_bound:
            bound_check(configs[0].tool, path, args.cap, args.copies, args.repeat, tmp)
        os.remove(path)
    os.rmdir(tmp)


if __name__ == "__main__":
    main()
