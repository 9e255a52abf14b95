#!/usr/bin/env python3
"""SymPy's `diff` of the nested chain, timed in-process (the referee for
gradexplain's symbolic derivatives):

    f = tanh(tanh(… tanh(x0 * x1 + x0) … * x1 + x0) * x1 + x0)   (depth n)

Both derivatives, ∂f/∂x0 and ∂f/∂x1, as gradexplain's report has both. SymPy
walks expressions recursively, so a deep one needs a high recursion limit and
a large thread stack. Prints one line of JSON. (The derivatives are not
evaluated here: evaluating them takes SymPy far longer than differentiating;
the bench checks gradexplain's numbers against finite differences instead.)
"""
import json
import sys
import threading
import time

import sympy as sp


def run(n, result):
    x0, x1 = sp.symbols("x0 x1")
    t0 = time.perf_counter()
    f = x0
    for _ in range(n):
        f = sp.tanh(f * x1 + x0)
    t1 = time.perf_counter()
    d0 = sp.diff(f, x0)
    t2 = time.perf_counter()
    d1 = sp.diff(f, x1)
    t3 = time.perf_counter()
    result.update(
        depth=n,
        build_s=t1 - t0,
        diff_x0_s=t2 - t1,
        diff_x1_s=t3 - t2,
        diff_s=t3 - t1,
        # That the work was done: both are functions of both variables.
        free_symbols=sorted(str(s) for s in d0.free_symbols | d1.free_symbols),
    )


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    sys.setrecursionlimit(1_000_000)
    threading.stack_size(1 << 30)
    result = {}
    t = threading.Thread(target=run, args=(n, result), daemon=True)
    t.start()
    t.join()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
