#!/usr/bin/python3
# ---------------------------------------------------------------------------
# run.py: runs the allocator workloads of bench/workloads/ under several
# malloc implementations (LD_PRELOAD, one process per run) and prints the
# median wall time and median peak RSS of each, relative to mimalloc, with
# geometric means. Runs are interleaved: for each workload, every round runs
# each allocator once, in an order rotated from round to round, so that a
# burst of load on this shared machine falls on all allocators alike.
#
# It also checks that the work is the same everywhere: a workload's output,
# minus its final "time:" line, must be identical under every allocator; that
# LD_PRELOAD really put the intended library behind malloc; and it reports
# crashes, non-zero exits and anything an allocator prints on stderr.
#
# Peak RSS is the workload's own VmHWM (its last line), not wait4()'s
# ru_maxrss: Linux carries the forking process's RSS high-water mark (this
# Python process) into the child's ru_maxrss across exec.
#
# The real programs (PROGRAMS_DIR) run through wl_exec; their output (a
# digest, counts) must be identical too. Their packages: python3, perl, bc,
# sqlite3, g++.
#
# Usage: /usr/bin/python3 bench/workloads/run.py [--spaces PATH] [--quick] ...
# (see --help). Needs only the Python standard library; gnuplot for --png.
# ---------------------------------------------------------------------------
"""Runs the allocator workloads under glibc, jemalloc, mimalloc, tcmalloc and
libspaces_malloc.so (--spaces) and prints medians relative to mimalloc."""
import argparse
import csv
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LIBDIR = Path("/usr/lib/x86_64-linux-gnu")
BASELINE = "mimalloc"

# name -> library to preload (None: the C library's own malloc). "spaces" is
# filled in from --spaces. The order is the order of the table's columns.
PEERS = {
    "mimalloc": LIBDIR / "libmimalloc.so.2",
    "glibc": None,
    "jemalloc": LIBDIR / "libjemalloc.so.2",
    "tcmalloc": LIBDIR / "libtcmalloc_minimal.so.4",
}


@dataclass
class Workload:
    name: str
    binary: str
    full: list  # arguments; "{T}" stands for the thread count
    quick: list
    kind: str  # "mt" (multi-threaded), "cross" (cross-thread frees), "st", "prog" (a real program)
    about: str


# Parameters are chosen so that one run takes 0.1-2 s on this 2-core machine.
WORKLOADS = [
    Workload("larson", "wl_larson", ["--threads", "{T}", "--rounds", "20", "--ops", "100000"],
             ["--threads", "{T}", "--rounds", "4", "--ops", "20000"], "cross",
             "server simulation: shared slots, thread replacement, 10% cross-thread swaps"),
    Workload("xmalloc", "wl_xmalloc", ["--threads", "{T}", "--blocks", "4000000"],
             ["--threads", "{T}", "--blocks", "400000"], "cross",
             "producers allocate, consumers free (every free is remote)"),
    Workload("threadtest", "wl_threadtest", ["--threads", "{T}", "--iterations", "1000", "--objects", "20000"],
             ["--threads", "{T}", "--iterations", "100", "--objects", "20000"], "mt",
             "each thread allocates 8-byte objects, then frees them all"),
    Workload("cache-scratch", "wl_cache_scratch", ["--threads", "{T}", "--iterations", "1000",
                                                   "--repetitions", "20000"],
             ["--threads", "{T}", "--iterations", "100", "--repetitions", "20000"], "mt",
             "passive false sharing: threads free an object main() allocated"),
    Workload("cache-thrash", "wl_cache_thrash", ["--threads", "{T}", "--iterations", "1000",
                                                 "--repetitions", "20000"],
             ["--threads", "{T}", "--iterations", "100", "--repetitions", "20000"], "mt",
             "active false sharing: small objects of different threads"),
    Workload("mstress", "wl_mstress", ["--threads", "{T}", "--scale", "100", "--iterations", "30"],
             ["--threads", "{T}", "--scale", "50", "--iterations", "5"], "cross",
             "mixed sizes, long-lived objects, transfer between threads"),
    Workload("large", "wl_large", ["--iterations", "1000"], ["--iterations", "100"], "st",
             "64 KiB-16 MiB blocks (log-uniform), 8 live, every page touched"),
    Workload("large-5-25M", "wl_large", ["--iterations", "200", "--min", "5M", "--max", "25M", "--slots", "20"],
             ["--iterations", "30", "--min", "5M", "--max", "25M", "--slots", "20"], "st",
             "mimalloc-bench malloc-large's sizes: 5-25 MiB, 20 live"),
    Workload("large-64k-1m", "wl_large", ["--threads", "{T}", "--iterations", "1000000", "--max", "1M", "--touch", "0"],
             ["--threads", "{T}", "--iterations", "100000", "--max", "1M", "--touch", "0"], "mt",
             "64 KiB-1 MiB blocks replaced, 8 live per thread, pages untouched: the allocator's own path"),
    Workload("free-random", "wl_free_order", ["--order", "2", "--blocks", "4000000", "--rounds", "3"],
             ["--order", "2", "--blocks", "400000", "--rounds", "1"], "st",
             "4 M 48-byte blocks freed in random order (only the frees timed)"),
    Workload("map-strings", "wl_map_strings", ["--size", "50000", "--iterations", "2"],
             ["--size", "10000", "--iterations", "1"], "st",
             "std::map/unordered_map of strings: build, query, erase, destroy"),
    Workload("binary-trees", "wl_binary_trees", ["--size", "17"], ["--size", "14"], "st",
             "Benchmarks Game binary-trees, new/delete per node"),
    Workload("realloc-steps", "wl_grow", ["--mode", "0", "--max", "64M", "--step", "64K", "--rounds", "4"],
             ["--mode", "0", "--max", "16M", "--step", "64K", "--rounds", "1"], "st",
             "one buffer grown to 64 MiB by realloc in 64 KiB steps, 4 times"),
    Workload("realloc-huge", "wl_grow", ["--mode", "1", "--max", "128M", "--steps", "16"],
             ["--mode", "1", "--max", "128M", "--steps", "4"], "st",
             "a 128 MiB block grown by a quarter 16 times (to 4.4 GiB)"),
    Workload("calloc-recycled", "wl_grow", ["--mode", "3", "--max", "16M", "--rounds", "30"],
             ["--mode", "3", "--max", "16M", "--rounds", "3"], "st",
             "calloc(16 MiB) of memory written, freed and given back by malloc_trim(0); 30 times"),
    Workload("calloc-1g", "wl_grow", ["--mode", "2", "--max", "1G", "--rounds", "8"],
             ["--mode", "2", "--max", "1G", "--rounds", "1"], "st",
             "calloc(1 GiB), read sparsely, freed; 8 times"),
]

# Real programs nobody here wrote (Debian packages), run through wl_exec,
# which reports their wall time and peak RSS. Their scripts are in programs/.
PROGRAMS_DIR = REPO / "bench" / "workloads" / "programs"


def program(name, argv, about, stdin=None):
    pre = ["--stdin", str(PROGRAMS_DIR / stdin)] if stdin else []
    return Workload(name, "wl_exec", pre + ["--"] + argv, pre + ["--"] + argv, "prog", about)


WORKLOADS += [
    program("python3-dicts", ["/usr/bin/python3", str(PROGRAMS_DIR / "dicts.py")],
            "python3: dicts of 150,000 strings, a bytearray grown 4 KiB at a time, a big join"),
    program("perl-hashes", ["/usr/bin/perl", str(PROGRAMS_DIR / "hashes.pl")],
            "perl: hashes of 150,000 keys, a string grown 4 KiB at a time, sorts"),
    program("bc-factorial", ["/usr/bin/bc", "-q", str(PROGRAMS_DIR / "factorial.bc")],
            "bc: 6000! by repeated multiplication"),
    program("sqlite3-inserts", ["/usr/bin/sqlite3", ":memory:"],
            "sqlite3: 300,000 rows inserted, indexed, grouped, joined, deleted", stdin="inserts.sql"),
    program("g++-O2", ["/usr/bin/g++", "-O2", "-std=c++20", "-c", str(REPO / "bench" / "workloads" / "map_strings.cpp"),
                       "-o", "/dev/null"],
            "g++ -O2 compiling bench/workloads/map_strings.cpp"),
]


@dataclass
class Run:
    workload: str
    allocator: str
    round: int
    ok: bool
    wall_s: float = math.nan
    self_s: float = math.nan
    user_s: float = math.nan
    sys_s: float = math.nan
    peak_rss_kib: float = math.nan
    status: str = ""
    output: str = ""
    stderr: str = ""


@dataclass
class Notes:
    lines: list = field(default_factory=list)

    def add(self, text):
        if text not in self.lines:
            self.lines.append(text)
            print(f"note: {text}", file=sys.stderr, flush=True)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--spaces", type=Path, help="libspaces_malloc.so to preload as 'spaces' (skipped if absent)")
    p.add_argument("--spaces-hardened", type=Path,
                   help="libspaces_malloc_hardened.so to preload as 'hardened' (skipped if not given)")
    p.add_argument("--spaces-routed", type=Path, metavar="SHIM",
                   help="libspaces_route_shim.so: adds the column 'routed', spaces with every thread routed "
                        "into one explicit heap (spaces_thread_set_heap; needs --spaces)")
    p.add_argument("--extra", action="append", default=[], metavar="NAME=PATH",
                   help="another malloc library to preload as NAME (repeatable): a build of an older "
                        "commit, for before/after figures from one interleaved run")
    p.add_argument("--build-dir", type=Path, default=REPO / "build" / "workloads",
                   help="CMake build directory holding bench/workloads/wl_* (default: %(default)s)")
    p.add_argument("--runs", type=int, default=5, help="runs per workload and allocator (default 5; --quick: 1)")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 2,
                   help="threads for the multi-threaded workloads (default: the number of CPUs)")
    p.add_argument("--quick", action="store_true", help="small parameters and one run: a sanity pass")
    p.add_argument("--only", help="comma-separated workload names (default: all)")
    p.add_argument("--allocators", help="comma-separated allocators (default: all available)")
    p.add_argument("--timeout", type=float, default=120, help="seconds before a run is killed (default 120)")
    p.add_argument("--csv", type=Path, help="write every run to this CSV file")
    p.add_argument("--png", type=Path, help="plot the ratios to this PNG with gnuplot")
    p.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    p.add_argument("--list", action="store_true", help="list the workloads and exit")
    args = p.parse_args()
    if args.quick and "--runs" not in " ".join(sys.argv):
        args.runs = 1
    return args


def package_version(path):
    """Debian package and version owning `path`, e.g. 'libmimalloc2.0 2.0.9-3'."""
    try:
        owner = subprocess.run(["dpkg-query", "-S", str(path)], capture_output=True, text=True, check=True)
        pkg = owner.stdout.split(": ")[0]
        ver = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True, check=True)
        return f"{pkg} {ver.stdout.strip()}"
    except (OSError, subprocess.CalledProcessError):
        return "?"


def child_env(lib):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    if lib is not None:
        env["LD_PRELOAD"] = str(lib)
    return env


def execute(cmd, lib, timeout):
    """Runs cmd with lib preloaded; returns (wall seconds, wait status, rusage, stdout, stderr)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=child_env(lib))
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid != 0:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                status = -1
                break
            time.sleep(0.002)
        wall = time.perf_counter() - start
        proc.returncode = 0  # reaped by wait4; keep Popen from waiting again
        out.seek(0)
        err.seek(0)
        return wall, status, usage, out.read().decode(errors="replace"), err.read().decode(errors="replace")


def describe_status(status):
    if status == -1:
        return "timeout"
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    code = os.WEXITSTATUS(status)
    return "ok" if code == 0 else f"exit {code}"


def run_once(w, alloc, lib, rnd, binary, threads, quick, timeout):
    argv = [a.replace("{T}", str(threads)) for a in (w.quick if quick else w.full)]
    wall, status, usage, out, err = execute([str(binary)] + argv, lib, timeout)
    r = Run(w.name, alloc, rnd, ok=False, wall_s=wall, user_s=usage.ru_utime, sys_s=usage.ru_stime,
            status=describe_status(status), stderr=err.strip())
    lines = out.splitlines()
    timing = [l for l in lines if l.startswith("time:")]
    r.output = "\n".join(l for l in lines if not l.startswith("time:"))
    if timing:
        fields = dict(kv.split("=", 1) for kv in timing[-1][len("time:"):].split())
        r.self_s = float(fields.get("elapsed_s", "nan"))
        r.peak_rss_kib = float(fields.get("peak_rss_kib", "nan"))
    r.ok = r.status == "ok" and bool(timing)
    if r.status == "ok" and not timing:
        r.status = "no time: line"
    return r


def check_preload(alloc, lib, binary, notes):
    """True if `binary --which-malloc` under `lib` reports the intended malloc."""
    wall, status, usage, out, err = execute([str(binary), "--which-malloc"], lib, 30)
    got = out.strip()
    if describe_status(status) != "ok":
        notes.add(f"{alloc}: '{binary.name} --which-malloc' failed ({describe_status(status)}): {err.strip()[:200]}")
        return False
    if "cannot be preloaded" in err:
        notes.add(f"{alloc}: {err.strip()[:200]}")
        return False
    if lib is None:
        good = "libc.so" in got
    else:
        good = os.path.realpath(got) == os.path.realpath(str(lib).split(":")[0])
    if not good:
        notes.add(f"{alloc}: malloc is served by {got}, not {lib or 'libc'}; allocator skipped")
    return good


def median(xs):
    xs = [x for x in xs if not math.isnan(x)]
    return statistics.median(xs) if xs else math.nan


def geomean(xs):
    xs = [x for x in xs if x > 0 and not math.isnan(x)]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else math.nan


def summarize(runs, workloads, allocs):
    """{workload: {alloc: (median wall s, median peak RSS KiB, spread, failures, median CPU/wall,
    median CPU s)}}; indexes 0, 1 and 5 are the tables' quantities."""
    table = {}
    for w in workloads:
        table[w.name] = {}
        for a in allocs:
            rs = [r for r in runs if r.workload == w.name and r.allocator == a]
            good = [r for r in rs if r.ok]
            walls = [r.wall_s for r in good]
            m = median(walls)
            spread = (max(walls) - min(walls)) / m if len(walls) > 1 and m > 0 else 0.0
            cpu = median([(r.user_s + r.sys_s) / r.wall_s for r in good if r.wall_s > 0])
            table[w.name][a] = (m, median([r.peak_rss_kib for r in good]), spread, len(rs) - len(good), cpu,
                                median([r.user_s + r.sys_s for r in good]))
    return table


def render(table, workloads, allocs, baseline, markdown, mismatched):
    """The three tables (wall time, peak RSS, CPU time) as text lines."""
    out = []
    others = [a for a in allocs if a != baseline]

    def fmt_row(cells, widths):
        if markdown:
            return "| " + " | ".join(cells) + " |"
        return "  ".join(c.rjust(wd) if i else c.ljust(wd) for i, (c, wd) in enumerate(zip(cells, widths)))

    tables = (("median wall time", 0, "s", 1.0), ("median peak RSS", 1, "MiB", 1 / 1024),
              ("median CPU time (user + sys; less sensitive to other load on the machine)", 5, "s", 1.0))
    for title, idx, unit, scale in tables:
        head = ["workload", f"{baseline} ({unit})"] + [f"{a} ×" for a in others]
        if idx == 0:
            head += ["spread", "cpu"]
        widths = [14] + [max(10, len(h)) for h in head[1:]]
        out.append("")
        out.append(f"{title}: {baseline} absolute, others as a ratio to {baseline} (lower is better)")
        out.append("")
        out.append(fmt_row(head, widths))
        if markdown:
            out.append("|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|")
        ratios = {a: [] for a in others}
        cross = {a: [] for a in others}  # the cross-thread workloads alone
        for w in workloads:
            row = table[w.name]
            base = row[baseline][idx]
            name = w.name + (" (!)" if w.name in mismatched else "")
            cells = [name, "FAIL" if math.isnan(base) else (f"{base * scale:.1f}" if idx == 1 else f"{base * scale:.3f}")]
            for a in others:
                v = row[a][idx]
                if math.isnan(v) or math.isnan(base):
                    cells.append("FAIL" if row[a][3] else "–")
                else:
                    ratios[a].append(v / base)
                    if w.kind == "cross":
                        cross[a].append(v / base)
                    cells.append(f"{v / base:.2f}")
            if idx == 0:
                cells.append(f"{max(row[a][2] for a in allocs) * 100:.0f}%")
                cells.append(f"{median([row[a][4] for a in allocs]):.2f}")
            out.append(fmt_row(cells, widths))
        for label, rs in (("geomean", ratios), ("geomean cross", cross)):
            if not any(rs.values()):
                continue
            gm = [label, "1.00"] + [f"{geomean(rs[a]):.2f}" for a in others]
            if idx == 0:
                gm += ["", ""]
            out.append(fmt_row(gm, widths))
    out.append("")
    if any(w.kind == "cross" for w in workloads):
        out.append("geomean cross: the cross-thread workloads only ("
                   + ", ".join(w.name for w in workloads if w.kind == "cross") + ").")
    if mismatched:
        out.append("(!): the output differed between allocators; see the notes.")
    out.append("spread: (max - min) / median of the wall times, for the noisiest allocator of the row.")
    out.append("cpu: median (user + sys) / wall over the allocators: about the number of cores kept busy.")
    return out


def write_csv(path, runs):
    with open(path, "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["workload", "allocator", "round", "status", "wall_s", "self_s", "user_s", "sys_s",
                     "peak_rss_kib"])
        for r in runs:
            wr.writerow([r.workload, r.allocator, r.round, r.status, f"{r.wall_s:.6f}", f"{r.self_s:.6f}",
                         f"{r.user_s:.6f}", f"{r.sys_s:.6f}", f"{r.peak_rss_kib:.0f}"])


def write_png(path, table, workloads, allocs, baseline, notes):
    gnuplot = shutil.which("gnuplot")
    if gnuplot is None:
        notes.add("gnuplot not found; no PNG written")
        return
    others = [a for a in allocs if a != baseline]
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "ratios.dat"
        with open(data, "w") as f:
            for idx in (0, 1):
                for w in workloads:
                    base = table[w.name][baseline][idx]
                    vals = [table[w.name][a][idx] / base if base and not math.isnan(base) else math.nan
                            for a in others]
                    f.write(w.name + " " + " ".join("NaN" if math.isnan(v) else f"{v:.4f}" for v in vals) + "\n")
                f.write("\n\n")
        cols = ", ".join(f"'' using {i + 2}:xtic(1) title '{a}'" if i else f"'{data}' index IDX using 2:xtic(1) "
                         f"title '{a}'" for i, a in enumerate(others))
        cols_t = cols.replace("''", f"'{data}' index 0").replace("IDX", "0")
        cols_r = cols.replace("''", f"'{data}' index 1").replace("IDX", "1")
        script = f"""
set terminal pngcairo size 1400,900 font ',10'
set output '{path}'
set multiplot layout 2,1
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.8 border -1
set logscale y 2
set grid ytics
set key top left
set xtics rotate by -20
set ylabel 'time / {baseline}'
set title 'Median wall time relative to {baseline} (lower is better)'
plot {cols_t}, 1 notitle lc rgb 'black'
set ylabel 'peak RSS / {baseline}'
set title 'Median peak RSS relative to {baseline} (lower is better)'
plot {cols_r}, 1 notitle lc rgb 'black'
unset multiplot
"""
        res = subprocess.run([gnuplot], input=script, capture_output=True, text=True)
        if res.returncode != 0:
            notes.add(f"gnuplot failed: {res.stderr.strip()[:300]}")
        else:
            print(f"wrote {path}", file=sys.stderr)


def main():
    args = parse_args()
    if args.list:
        for w in WORKLOADS:
            print(f"{w.name:14} {w.kind:6} {w.about}\n{'':21} {w.binary} {' '.join(w.full)}  "
                  f"(--quick: {' '.join(w.quick)}; {{T}} = --threads)")
        return 0
    notes = Notes()
    bindir = args.build_dir / "bench" / "workloads"
    workloads = WORKLOADS
    if args.only:
        wanted = args.only.split(",")
        unknown = set(wanted) - {w.name for w in WORKLOADS}
        if unknown:
            sys.exit(f"unknown workload(s): {', '.join(sorted(unknown))} (see --list)")
        workloads = [w for w in WORKLOADS if w.name in wanted]
    missing = [w.binary for w in workloads if not (bindir / w.binary).exists()]
    if missing:
        sys.exit(f"missing {', '.join(missing)} in {bindir}; build them with\n"
                 f"  cmake -S {REPO} -B {args.build_dir} -G Ninja -DCMAKE_BUILD_TYPE=Release "
                 f"-DSPACES_BUILD_TESTS=OFF -DSPACES_BUILD_SPACESC=OFF\n"
                 f"  cmake --build {args.build_dir} --target bench_workloads -j2")

    libs = dict(PEERS)
    if args.spaces is None:
        notes.add("spaces: skipped (no --spaces PATH to libspaces_malloc.so given)")
    elif not args.spaces.is_file():
        notes.add(f"spaces: skipped ({args.spaces} does not exist)")
    else:
        libs["spaces"] = args.spaces.resolve()
    if args.spaces_hardened is not None:
        if args.spaces_hardened.is_file():
            libs["hardened"] = args.spaces_hardened.resolve()
        else:
            notes.add(f"hardened: skipped ({args.spaces_hardened} does not exist)")
    if args.spaces_routed is not None and "spaces" in libs:
        if args.spaces_routed.is_file():
            # Two libraries, malloc's first: LD_PRELOAD takes a colon-separated list.
            libs["routed"] = f"{libs['spaces']}:{args.spaces_routed.resolve()}"
        else:
            notes.add(f"routed: skipped ({args.spaces_routed} does not exist)")
    for extra in args.extra:
        name, sep, path = extra.partition("=")
        if not sep or not name or name in libs:
            sys.exit(f"--extra {extra}: want NAME=PATH with a new NAME")
        libs[name] = Path(path).resolve()
    for name, lib in list(libs.items()):
        if lib is not None and not all(Path(part).is_file() for part in str(lib).split(":")):
            notes.add(f"{name}: skipped ({lib} does not exist)")
            del libs[name]
    if args.allocators:
        wanted = args.allocators.split(",")
        libs = {a: l for a, l in libs.items() if a in wanted}
    # Every binary must really run on the intended malloc under every allocator.
    allocs = [a for a in libs if all(check_preload(a, libs[a], bindir / w.binary, notes)
                                     for w in {w.binary: w for w in workloads}.values())]
    if not allocs:
        sys.exit("no allocator to run")
    baseline = BASELINE if BASELINE in allocs else allocs[0]
    if baseline != BASELINE:
        notes.add(f"{BASELINE} not run: ratios are relative to {baseline}")

    versions = {a: package_version(str(libs[a]).split(":")[0] if libs[a] else "/lib/x86_64-linux-gnu/libc.so.6") for a in allocs
                if a in PEERS}
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}  {platform.node()}  {os.cpu_count()} CPUs  "
          f"load {os.getloadavg()[0]:.2f}  runs={args.runs} threads={args.threads}"
          f"{' quick' if args.quick else ''}", flush=True)
    for a in allocs:
        print(f"#   {a:9} {libs[a] or '(no preload)'}  {versions.get(a, '')}", flush=True)

    runs = []
    reference = {}  # workload -> (allocator, output) of its first good run
    mismatched = set()
    for w in workloads:
        for rnd in range(args.runs):
            order = allocs[rnd % len(allocs):] + allocs[:rnd % len(allocs)]
            for a in order:
                r = run_once(w, a, libs[a], rnd, bindir / w.binary, args.threads, args.quick, args.timeout)
                runs.append(r)
                print(f"  {w.name:14} {a:9} run {rnd + 1}/{args.runs}: {r.status:8} wall {r.wall_s:7.3f} s  "
                      f"rss {r.peak_rss_kib / 1024:8.1f} MiB", file=sys.stderr, flush=True)
                if r.stderr:
                    notes.add(f"{a} on {w.name}: stderr: {r.stderr[:300]}")
                if not r.ok:
                    notes.add(f"{a} on {w.name}: {r.status}")
                    continue
                ref = reference.setdefault(w.name, (a, r.output))
                if r.output != ref[1]:
                    mismatched.add(w.name)
                    notes.add(f"{w.name}: output under {a} differs from under {ref[0]}:\n    "
                              f"{r.output!r}\n    vs {ref[1]!r}")

    table = summarize(runs, workloads, allocs)
    lines = render(table, workloads, allocs, baseline, args.markdown, mismatched)
    print("\n".join(lines))
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
    same = [w.name for w in workloads if w.name in reference and w.name not in mismatched]
    print(f"outputs identical across allocators: {len(same)}/{len(workloads)} workloads"
          + (f" (differ: {', '.join(sorted(mismatched))})" if mismatched else ""))
    if notes.lines:
        print("notes:")
        for n in notes.lines:
            print(f"  - {n}")
    if args.csv:
        write_csv(args.csv, runs)
        print(f"wrote {args.csv}", file=sys.stderr)
    if args.png:
        write_png(args.png, table, workloads, allocs, baseline, notes)
    failed = any(not r.ok for r in runs)
    return 1 if failed or mismatched else 0


if __name__ == "__main__":
    sys.exit(main())
