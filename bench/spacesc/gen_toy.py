#!/usr/bin/env python3
# ---------------------------------------------------------------------------
# gen_toy.py: writes a valid Toy program of about SIZE megabytes to stdout.
#
# The program is a sequence of structs and generic functions of ordinary
# size (a dozen statements each: literals, arithmetic chains, member access,
# calls of earlier functions, reshapes), then a main that calls a few of
# them, so that a run stays short and the cost is the front end's. The
# output is deterministic for a given SIZE and --seed.
#
#   gen_toy.py 10 > ten.toy          # about 10 MB
# ---------------------------------------------------------------------------
import argparse
import random
import sys


def literal(rng, n):
    return "[" + ", ".join(str(rng.randint(0, 99)) + ("." + str(rng.randint(0, 9)) if rng.random() < 0.3 else "")
                           for _ in range(n)) + "]"


def function(rng, i, has_struct):
    out = []
    if has_struct:
        out.append(f"struct S{i} {{\n  var lo;\n  var hi;\n}}\n\n")
        out.append(f"def span{i}(S{i} s, k) {{\n  return (s.hi - s.lo) * k;\n}}\n\n")
    out.append(f"def f{i}(a, b) {{\n")
    out.append("  # mix the arguments\n")
    out.append(f"  var x{i} = a * b + transpose(transpose(a));\n")
    out.append(f"  var y{i} = x{i} - b * (a + b) + x{i} * a;\n")
    for k in range(rng.randint(4, 9)):
        out.append(f"  var t{k} = {literal(rng, 4)} * {literal(rng, 4)} + {literal(rng, 4)};\n")
        out.append(f"  var u{k}<2, 2> = t{k} - {literal(rng, 4)};\n")
    if i > 0:
        out.append(f"  var z{i} = f{i - 1}(a, b);\n")
        out.append(f"  return z{i} + y{i};\n")
    else:
        out.append(f"  return y{i};\n")
    out.append("}\n\n")
    return "".join(out)


def main():
    parser = argparse.ArgumentParser(description="Writes a valid Toy program of about SIZE MB to stdout.")
    parser.add_argument("size_mb", type=float, help="approximate size in MB (10^6 bytes)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    target = int(args.size_mb * 1e6)
    written = 0
    i = 0
    chunks = []
    while written < target:
        chunk = function(rng, i, i % 4 == 0)
        chunks.append(chunk)
        written += len(chunk)
        i += 1
        if len(chunks) >= 1000:
            sys.stdout.write("".join(chunks))
            chunks.clear()
    sys.stdout.write("".join(chunks))
    sys.stdout.write("def main() {\n")
    sys.stdout.write("  S0 r = {[1, 2], [4, 8]};\n  print(span0(r, [0.5, 0.5]));\n")
    sys.stdout.write("  print(f0([1, 2, 3, 4], [5, 6, 7, 8]));\n")
    sys.stdout.write("}\n")


if __name__ == "__main__":
    main()
