#!/usr/bin/env python3
"""Generates the bench workloads into a directory.

    python3 bench/gen.py OUT [--sizes 1000,10000,100000,1000000]

Writes, for each size N (stages, or terms):

    chain-N.gx    the forked chain: h0 = x0; h_i = tanh(h_{i-1} * x1 + h_{i-1})
    hinge-N.gx    a wide sum of N hinge terms max(0, w_i*x - v_i*y + 1), the
                  weights written in as numbers (two parameters, x and y)

and once:

    svm-unrolled.gx, svm-unrolled.args
                  the multiclass SVM loss of one image unrolled to scalars,
                  10 classes x 3072 features, label 3: s_j = sum_k Wj_k * xk,
                  L = sum_{j != 3} max(0, s_j - s_3 + 1); the values as --at
                  arguments, one per line (for xargs: a command line holds them,
                  a shell string does not)
    svm-vectorised.gx, W.npy, x.npy
                  the same loss on a 10x3072 matrix and a vector, numpy files
    nested-D.gx   the nested chain for the symbolic comparison with SymPy:
                  tanh(... tanh(x0 * x1 + x0) ... * x1 + x0), D deep (D = 100)
    workloads.json  what each file is and the --at arguments it takes

Numbers come from a seeded generator, so every run writes the same files. No
third-party module is needed: the .npy files are written by hand.
"""
import argparse
import json
import os
import random
import struct

CLASSES, FEATURES, LABEL = 10, 3072, 3


def chain(n):
    lines = ["h0 = x0"]
    lines += [f"h{i} = tanh(h{i - 1} * x1 + h{i - 1})" for i in range(1, n + 1)]
    return "\n".join(lines) + "\n"


def hinge(n, rng):
    terms = []
    for _ in range(n):
        w = rng.randint(1, 999) / 1000
        v = rng.randint(1, 999) / 1000
        terms.append(f"max(0, {w}*x - {v}*y + 1)")
    return "f(x, y) = " + " + ".join(terms) + "\n"


def nested(depth):
    f = "x0"
    for _ in range(depth):
        f = f"tanh({f} * x1 + x0)"
    return f"f(x0, x1) = {f}\n"


def svm_values(rng):
    w = [[round(rng.gauss(0, 0.001), 6) for _ in range(FEATURES)] for _ in range(CLASSES)]
    x = [float(rng.randint(0, 255)) for _ in range(FEATURES)]
    return w, x


def svm_unrolled():
    lines = []
    for j in range(CLASSES):
        lines.append(f"s{j} = " + " + ".join(f"W{j}_{k}*x{k}" for k in range(FEATURES)))
    margins = [f"max(0, s{j} - s{LABEL} + 1)" for j in range(CLASSES) if j != LABEL]
    lines.append("L = " + " + ".join(margins))
    return "\n".join(lines) + "\n"


def svm_args(w, x):
    """--at arguments, each well under Linux's 128 KiB limit for one argument."""
    pairs = [f"W{j}_{k}={w[j][k]}" for j in range(CLASSES) for k in range(FEATURES)]
    pairs += [f"x{k}={x[k]:g}" for k in range(FEATURES)]
    args, chunk = [], []
    for p in pairs:
        chunk.append(p)
        if len(chunk) == 2000:
            args += ["--at", ",".join(chunk)]
            chunk = []
    if chunk:
        args += ["--at", ",".join(chunk)]
    return args


def write_npy(path, rows, shape):
    """numpy's format, version 1.0, little-endian float64, C order."""
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': %s, }" % (shape,)
    pad = 64 - (10 + len(header) + 1) % 64
    header = header + " " * pad + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00")
        f.write(struct.pack("<H", len(header)))
        f.write(header.encode("latin1"))
        for v in rows:
            f.write(struct.pack("<d", v))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--sizes", default="1000,10000,100000,1000000")
    ap.add_argument("--depth", type=int, default=100)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rng = random.Random(7)
    work = []

    def put(name, text):
        with open(os.path.join(a.out, name), "w") as f:
            f.write(text)

    for n in [int(s) for s in a.sizes.split(",")]:
        put(f"chain-{n}.gx", chain(n))
        work.append(dict(name="chain", n=n, file=f"chain-{n}.gx", at=["--at", "x0=0.5,x1=0.3"]))
        put(f"hinge-{n}.gx", hinge(n, rng))
        work.append(dict(name="hinge", n=n, file=f"hinge-{n}.gx", at=["--at", "x=0.5,y=-0.25"]))
    w, x = svm_values(rng)
    put("svm-unrolled.gx", svm_unrolled())
    put("svm-unrolled.args", "\n".join(svm_args(w, x)) + "\n")
    work.append(dict(name="svm-unrolled", n=CLASSES * FEATURES, file="svm-unrolled.gx",
                     args_file="svm-unrolled.args"))
    put("svm-vectorised.gx", "s = W·x\nL(W, x, y) = sum(max(0, s − s[y] + 1)) − 1\n")
    write_npy(os.path.join(a.out, "W.npy"), [v for row in w for v in row], (CLASSES, FEATURES))
    write_npy(os.path.join(a.out, "x.npy"), x, (FEATURES,))
    work.append(dict(name="svm-vectorised", n=CLASSES * FEATURES, file="svm-vectorised.gx",
                     at=["--at", f"W=@{a.out}/W.npy,x=@{a.out}/x.npy,y={LABEL}"]))
    put(f"nested-{a.depth}.gx", nested(a.depth))
    work.append(dict(name="nested", n=a.depth, file=f"nested-{a.depth}.gx", at=[]))
    with open(os.path.join(a.out, "workloads.json"), "w") as f:
        json.dump(work, f, indent=1)


if __name__ == "__main__":
    main()
