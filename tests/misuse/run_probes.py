#!/usr/bin/python3
"""Runs the misuse probes under malloc implementations and says who caught what.

  run_probes.py [--probes BIN] [--timeout S] [--csv FILE] [--only A,B] [--jobs N]
                [--repeat N] [--require-more LABEL_A LABEL_B] ALLOCATOR...
  run_probes.py --check PROBE --lib SO (--expect REGEX [--late] | --expect-file FILE)

ALLOCATOR is `glibc` (no LD_PRELOAD), a path to a malloc library for
LD_PRELOAD, or LABEL=PATH. Every probe runs under every allocator, one
process at a time (--jobs N: N at once), with a timeout. Each run is one of:

  caught   killed by a signal or exited nonzero, with a diagnostic on stderr
           (the probes never write to stderr); noted whether the message
           names the pointer and whether it came at the misusing call
  crashed  killed by a signal (or exited nonzero) without a word: silent
  hung     still running at the timeout (worse than a miss)
  missed   exited 0: the program ran to its end after the misuse
  error    the probe did not reach its misuse (setup failed)

It prints the table probe x allocator and each allocator's totals, and with
--csv writes one row per run. With --repeat N each probe runs N times; a cell
whose runs disagree (address-space randomisation decides some outcomes)
shows every outcome seen, and the totals count the first run.
--require-more A B exits 1 unless A caught strictly more probes than B in
this run (first runs).

--check runs one probe under one library and exits 0 only if the process
was killed by SIGABRT at the misusing call and its stderr is exactly one
line matching REGEX, in which {ptr}, {ptr+N} and {ptr-N} stand for the
pointer the probe reported (in the allocator's %p form). --late accepts a
report after the call (a damaged free list found at a later allocation).
--expect-file reads PROBE's line of hardened_expected.txt (PROBE WHEN REGEX;
WHEN `late` implies --late). --debug-checks (libraries built with
SPACES_DEBUG=3) also accepts, for a late report, the slow path's invariant
checker reporting the damage first ("spaces: invariant failed: ..." and the
assertion's line).

The environment variables that tune allocators (MALLOC_*, GLIBC_TUNABLES,
MIMALLOC_*, TCMALLOC_*, SPACES_*) are removed: defaults are measured.
"""

import argparse
import concurrent.futures
import csv
import os
import re
import resource
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TUNING_VARS = re.compile(r"^(LD_PRELOAD|MALLOC_.*|GLIBC_TUNABLES|MIMALLOC_.*|TCMALLOC_.*|SPACES_.*|JE_MALLOC_CONF)$")
# Lines on stderr that are not about misuse (informational reports).
NOT_A_DIAGNOSTIC = re.compile(r"^tcmalloc: large alloc ")
HEX = re.compile(r"0x[0-9a-fA-F]+")


def label_of(spec):
    if "=" in spec:
        return spec.split("=", 1)
    if spec == "glibc":
        return "glibc", None
    base = os.path.basename(spec)
    name = re.sub(r"^lib", "", base)
    name = re.sub(r"\.so(\.\d+)*$", "", name)
    name = {"spaces_malloc": "spaces", "spaces_malloc_hardened": "spaces-hardened",
            "tcmalloc_minimal": "tcmalloc"}.get(name, name)
    return name, spec


def list_probes(binary):
    out = subprocess.run([binary, "--list"], check=True, capture_output=True, text=True,
                         env=clean_env(None)).stdout
    return [tuple(line.split()[:2]) for line in out.splitlines() if line.strip()]


def clean_env(lib):
    env = {k: v for k, v in os.environ.items() if not TUNING_VARS.match(k)}
    if lib:
        env["LD_PRELOAD"] = os.path.abspath(lib)
    return env


def no_core_dumps():
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run_one(binary, probe, lib, timeout):
    """Runs a probe once; returns a dict describing the run."""
    start = time.monotonic()
    proc = subprocess.Popen([binary, probe], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=clean_env(lib), start_new_session=True, preexec_fn=no_core_dumps)
    try:
        out, err = proc.communicate(timeout=timeout)
        rc = proc.returncode
        hung = False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        rc = proc.returncode
        hung = True
    seconds = time.monotonic() - start
    out = out.decode(errors="replace")
    err = err.decode(errors="replace")

    prefix = f"probe: {probe}: "
    lines = [l[len(prefix):] for l in out.splitlines() if l.startswith(prefix)]
    misuse = [l for l in lines if l.startswith("misuse: ")]
    ptrs = [int(m, 16) for l in misuse for m in re.findall(r"ptr=(0x[0-9a-fA-F]+|\(nil\))", l) if m != "(nil)"]
    reached_after = "after the misuse" in lines
    reached_end = "end" in lines
    consequences = [l[len("consequence: "):] for l in lines if l.startswith("consequence: ")]
    diag = [l for l in err.splitlines() if l.strip() and not NOT_A_DIAGNOSTIC.match(l)]
    named = any(int(h, 16) in ptrs for l in diag for h in HEX.findall(l))

    if rc is not None and rc < 0:
        status = signal.Signals(-rc).name
    else:
        status = f"exit {rc}"
    if hung:
        outcome = "hung"
    elif not misuse:
        outcome = "error"
    elif rc == 0:
        outcome = "missed"
    elif diag:
        outcome = "caught"
    else:
        outcome = "crashed"
    return {
        "outcome": outcome, "named": named, "at_call": not reached_after, "end": reached_end,
        "status": "timeout" if hung else status, "rc": rc, "diagnostic": diag[0] if diag else "",
        "diag_lines": diag, "consequence": "; ".join(consequences), "seconds": seconds, "ptrs": ptrs,
        "stdout": out, "stderr": err,
    }


def cell(r):
    o = r["outcome"]
    if o == "caught":
        c = "CP" if r["named"] else "C"
        return c if r["at_call"] else c + "~"
    if o == "crashed":
        return "crash" if r["at_call"] else "crash~"
    if o == "missed":
        return "miss!" if r["consequence"] and is_damage(r["consequence"]) else "miss"
    return {"hung": "HUNG", "error": "err"}[o]


def is_damage(consequence):
    return any(s in consequence for s in ("handed out twice", "still in use", "wrong size"))


LEGEND = """legend: CP caught at the misusing call, the message names the pointer; C caught, pointer not named;
        ~ caught (or crashed) later, after the misusing call returned; crash killed without a message;
        HUNG still running at the timeout; miss ran to the end; miss! ran to the end after handing out
        a block twice or a block still in use, or reporting a wrong usable size; err the probe did not
        reach its misuse"""


def check(args):
    r = run_one(args.probes, args.check, args.lib, args.timeout)
    sys.stdout.write(r["stdout"])
    sys.stdout.write("--- stderr ---\n" + r["stderr"])
    problems = []
    if (args.debug_checks and args.late and r["status"] == "SIGABRT" and r["diag_lines"]
            and r["diag_lines"][0].startswith("spaces: invariant failed: ")):
        print(f"run_probes.py: {args.check}: caught after the call by the SPACES_DEBUG=3 invariant checks")
        return 0
    if r["status"] != "SIGABRT":
        problems.append(f"expected an abort (SIGABRT), got {r['status']}")
    if not r["at_call"] and not args.late:
        problems.append("the report came after the misusing call returned")
    if len(r["diag_lines"]) != 1:
        problems.append(f"expected one line on stderr, got {len(r['diag_lines'])}")
    if not r["ptrs"]:
        problems.append("the probe reported no pointer")
    else:
        ptr = r["ptrs"][0]

        def subst(m):
            off = int(m.group(2) or 0) * (-1 if m.group(1) == "-" else 1)
            return re.escape(hex(ptr + off))

        regex = re.sub(r"\{ptr(?:([+-])(\d+))?\}", subst, args.expect)
        if not r["diag_lines"] or not re.fullmatch(regex, r["diag_lines"][0]):
            problems.append(f"stderr does not match: {regex}")
    for p in problems:
        print(f"run_probes.py: {args.check}: {p}")
    if not problems:
        print(f"run_probes.py: {args.check}: caught {'' if r['at_call'] else 'after the call '}with the expected message")
    return 1 if problems else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--probes", default=os.path.join(os.getcwd(), "misuse_probes"), help="the probe program")
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--csv")
    ap.add_argument("--only", help="comma-separated probe names")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--require-more", nargs=2, metavar=("LABEL_A", "LABEL_B"))
    ap.add_argument("--check", metavar="PROBE")
    ap.add_argument("--lib")
    ap.add_argument("--expect")
    ap.add_argument("--late", action="store_true")
    ap.add_argument("--expect-file")
    ap.add_argument("--debug-checks", action="store_true")
    ap.add_argument("allocators", nargs="*")
    args = ap.parse_args()
    if args.check:
        if args.expect_file:
            for line in open(args.expect_file):
                parts = line.split(None, 2)
                if len(parts) == 3 and parts[0] == args.check:
                    args.expect, args.late = parts[2].rstrip("\n"), parts[1] == "late"
            if args.expect is None:
                ap.error(f"--expect-file: no line for probe '{args.check}'")
        if not args.lib or args.expect is None:
            ap.error("--check needs --lib and --expect or --expect-file")
        return check(args)
    if not args.allocators:
        ap.error("name at least one allocator (glibc, or a library path)")

    allocs = [label_of(a) for a in args.allocators]
    probes = list_probes(args.probes)
    if args.only:
        wanted = args.only.split(",")
        probes = [p for p in probes if p[0] in wanted]
    jobs = [(p, a, i) for i in range(max(1, args.repeat)) for p in probes for a in allocs]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {(p[0], a[0], i): pool.submit(run_one, args.probes, p[0], a[1], args.timeout) for p, a, i in jobs}
        runs = {}
        for (name, label, i), f in futures.items():
            runs.setdefault((name, label), []).append(f.result())
    results = {k: v[0] for k, v in runs.items()}

    def cells(key):
        seen = []
        for r in runs[key]:
            if cell(r) not in seen:
                seen.append(cell(r))
        return "/".join(seen)

    labels = [a[0] for a in allocs]
    width = max(len(p[0]) for p in probes)
    colw = max(8, max(len(l) for l in labels) + 1, max(len(cells(k)) for k in runs) + 2)
    print(f"{'probe':<{width}}  " + "".join(f"{l:>{colw}}" for l in labels))
    for name, _ in probes:
        print(f"{name:<{width}}  " + "".join(f"{cells((name, l)):>{colw}}" for l in labels))
    print(LEGEND)
    print()
    print(f"{'totals (' + str(len(probes)) + ' probes)':<{width}}  " + "".join(f"{l:>{colw}}" for l in labels))
    totals = {}
    for l in labels:
        rs = [results[(p[0], l)] for p in probes]
        totals[l] = {
            "caught": sum(r["outcome"] == "caught" for r in rs),
            "  names the pointer": sum(r["outcome"] == "caught" and r["named"] for r in rs),
            "  at the call": sum(r["outcome"] == "caught" and r["at_call"] for r in rs),
            "crashed silently": sum(r["outcome"] == "crashed" for r in rs),
            "hung": sum(r["outcome"] == "hung" for r in rs),
            "missed": sum(r["outcome"] == "missed" for r in rs),
            "  with visible damage": sum(r["outcome"] == "missed" and is_damage(r["consequence"]) for r in rs),
            "error": sum(r["outcome"] == "error" for r in rs),
        }
        if args.repeat > 1:
            totals[l]["varied between runs"] = sum("/" in cells((p[0], l)) for p in probes)
    for key in totals[labels[0]]:
        print(f"{key:<{width}}  " + "".join(f"{totals[l][key]:>{colw}}" for l in labels))

    if args.csv:
        with open(args.csv, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["probe", "kind", "allocator", "run", "outcome", "cell", "names_pointer", "at_call",
                        "status", "diagnostic", "consequence", "seconds"])
            for name, kind in probes:
                for l in labels:
                    for i, r in enumerate(runs[(name, l)]):
                        w.writerow([name, kind, l, i + 1, r["outcome"], cell(r), int(r["named"]), int(r["at_call"]),
                                    r["status"], r["diagnostic"], r["consequence"], f"{r['seconds']:.3f}"])

    if args.require_more:
        a, b = args.require_more
        for l in (a, b):
            if l not in totals:
                ap.error(f"--require-more: no allocator labelled '{l}'")
        ok = totals[a]["caught"] > totals[b]["caught"]
        print(f"\n{a} caught {totals[a]['caught']}, {b} caught {totals[b]['caught']}: "
              f"{'strictly more' if ok else 'NOT strictly more'}")
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
