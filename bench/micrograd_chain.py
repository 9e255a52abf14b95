#!/usr/bin/env python3
"""micrograd's build + forward + backward of the forked chain, timed in-process.

    h0 = x0;  h_i = tanh(h_{i-1} * x1 + h_{i-1})

micrograd (pip install micrograd) has no tanh; it is added here exactly as
Karpathy's "zero to hero" lecture adds it. micrograd's backward() builds its
topological order recursively, so a deep chain needs a high recursion limit
and a large thread stack. Prints one line of JSON: seconds per phase, the value
and both gradients, so that the bench can check them against gradexplain's.
"""
import json
import math
import sys
import threading
import time

from micrograd.engine import Value


def tanh(self):
    t = math.tanh(self.data)
    out = Value(t, (self,), "tanh")

    def _backward():
        self.grad += (1 - t**2) * out.grad

    out._backward = _backward
    return out


Value.tanh = tanh


def run(n, x0v, x1v, result):
    t0 = time.perf_counter()
    x0, x1 = Value(x0v), Value(x1v)
    h = x0
    for _ in range(n):
        h = (h * x1 + h).tanh()  # build and forward: micrograd computes eagerly
    t1 = time.perf_counter()
    h.backward()
    t2 = time.perf_counter()
    result.update(
        stages=n,
        build_forward_s=t1 - t0,
        backward_s=t2 - t1,
        total_s=t2 - t0,
        value=h.data,
        grad_x0=x0.grad,
        grad_x1=x1.grad,
    )


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    sys.setrecursionlimit(10 * n + 1000)
    threading.stack_size(1 << 30)  # 1 GiB: build_topo recurses once per node
    result = {}
    t = threading.Thread(target=run, args=(n, 0.5, 0.3, result))
    t.start()
    t.join()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
