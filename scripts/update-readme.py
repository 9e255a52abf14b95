#!/usr/bin/env python3
"""Rewrites the output under every `$ gradexplain …` command of README.md's ```console
blocks with what the tool prints now (tests/readme.rs checks they agree).

    cargo build && scripts/update-readme.py
"""
import os, shlex, subprocess, sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
binary = os.path.join(root, "target", "debug", "gradexplain")
path = os.path.join(root, "README.md")
lines = open(path, encoding="utf-8").read().split("\n")
out, in_console, skipping = [], False, False
for line in lines:
    if line.startswith("```"):
        in_console = (not in_console) and line.strip() == "```console"
        skipping = False
        out.append(line)
        continue
    if in_console and line.startswith("$ "):
        words = shlex.split(line[2:])
        assert words[0] == "gradexplain", line
        env = dict(os.environ, NO_COLOR="1")
        r = subprocess.run([binary] + words[1:], cwd=root, env=env, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"{line}: exit {r.returncode}\n{r.stderr}")
        out.append(line)
        out.extend(l.rstrip() for l in r.stdout.rstrip("\n").split("\n"))
        skipping = True
        continue
    if skipping:
        continue
    out.append(line)
open(path, "w", encoding="utf-8").write("\n".join(out))
