"""An independent check of gradexplain's symbolic derivatives: generated programs
are differentiated by SymPy and by gradexplain (`--format json`, key `symbolic`),
and the two derivatives are compared at random points — not the `--at` point.

usage: python3 sympy_check.py GRADEXPLAIN_BINARY FIRST_SEED LAST_SEED
Exit status 0 when every derivative agrees, 1 on the first disagreement.
"""
import json
import random
import subprocess
import sys

import sympy as sp

TEMPLATES = [
    "{a} + {b}", "{a} - {b}", "{a} * {b}", "{a} / (1 + {b} ^ 2)", "-{a}", "{a} ^ 2",
    "tanh({a}) ^ 3", "exp(tanh({a}))", "log(1 + {a} ^ 2)", "sqrt(1 + {a} * {a})",
    "sigmoid({a})", "σ({a}) * {b}", "tanh({a})", "sin({a})", "cos({a}) * {a}",
    "pow(1 + {a} ^ 2, tanh({b}))", "{c} * {a} + {b}", "{a} * {a} + {b} / 2", "{a} / {b}",
    "x0 ^ 3 * {a}", "{a} ^ {b}",
]

FUNCTIONS = {
    "sigmoid": lambda z: 1 / (1 + sp.exp(-z)),
    "σ": lambda z: 1 / (1 + sp.exp(-z)),
    "relu": lambda z: sp.Max(0, z),
    "step": lambda z: sp.Heaviside(z, 0),
    "sign": sp.sign, "max": sp.Max, "min": sp.Min, "abs": sp.Abs, "log": sp.log,
    "exp": sp.exp, "sqrt": sp.sqrt, "tanh": sp.tanh, "sin": sp.sin, "cos": sp.cos,
    "pow": sp.Pow,
}


def read_program(text, names):
    """A gradexplain program as a SymPy expression: stages substituted in order."""
    env = dict(names)
    for line in text.strip().split("\n"):
        lhs, rhs = line.split(" = ", 1)
        value = sp.sympify(eval(rhs.replace("^", "**"), {"__builtins__": {}}, {**FUNCTIONS, **env}))
        if "(" in lhs:
            return value
        env[lhs] = value
    raise ValueError("no header")


def one(binary, seed):
    rnd = random.Random(seed)
    params = [f"x{k}" for k in range(rnd.randint(1, 3))]
    stages = rnd.randint(1, 7)
    lines = []
    for k in range(stages):
        avail = params + [f"s{j}" for j in range(k)]
        body = rnd.choice(TEMPLATES).format(
            a=rnd.choice(avail), b=rnd.choice(avail), c=rnd.choice([2, -1, 0.5, 3]))
        head = f"f({', '.join(params)}) = " if k == stages - 1 else f"s{k} = "
        lines.append(head + body)
    src = "\n".join(lines)
    out = subprocess.run([binary, "-f", "-", "--format", "json"], input=src,
                         capture_output=True, text=True, check=True)
    report = json.loads(out.stdout)
    names = {p: sp.Symbol(p) for p in params}
    f = read_program(src, names)
    for p in params:
        ours = read_program(report["symbolic"][p], names)
        theirs = sp.diff(f, names[p])
        for _ in range(3):
            point = {names[q]: rnd.uniform(0.2, 1.5) for q in params}
            a = complex(ours.evalf(subs=point))
            b = complex(theirs.evalf(subs=point))
            if abs(a - b) > 1e-8 * (1 + abs(b)):
                print(f"seed {seed}: d/d{p} of\n{src}\nis\n{report['symbolic'][p]}\n"
                      f"= {a} at {point}, but SymPy says {b}")
                return False
    return True


def main():
    binary, first, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    for seed in range(first, last):
        if not one(binary, seed):
            sys.exit(1)
    print(f"{last - first} programs agree with SymPy")


if __name__ == "__main__":
    main()
