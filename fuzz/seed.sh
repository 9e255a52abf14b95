#!/usr/bin/env bash
# Builds the seed corpora under fuzz/corpus/ from grammar/corpus/ and examples/:
#   parse    — every program as it is;
#   pipeline — every program, and each example with the --at and --grad its
#              header gives, as PROGRAM \0 AT \0 GRAD;
#   values   — the --at and --grad values of the examples, and a few by hand.
set -euo pipefail
cd "$(dirname "$0")"
root=..
mkdir -p corpus/parse corpus/pipeline corpus/values
n=0
for f in "$root"/grammar/corpus/good/*.gx "$root"/grammar/corpus/bad/*.gx "$root"/examples/*.gx; do
  n=$((n + 1))
  cp "$f" "corpus/parse/seed-$n"
  cp "$f" "corpus/pipeline/seed-$n"
  line=$(grep -m1 -- '--at ' "$f" || true)
  [ -n "$line" ] || continue
  at=$(sed -E 's/.*--at ([^ ]+).*/\1/' <<<"$line")
  grad=$(sed -nE 's/.*--grad ([^ ]+).*/\1/p' <<<"$line")
  case "$at" in *@*) continue ;; esac
  { cat "$f"; printf '\0%s' "$at"; [ -z "$grad" ] || printf '\0%s' "$grad"; } >"corpus/pipeline/seed-at-$n"
  # The same, drawn too (FLAGS `d`) and with --check (`c`).
  { cat "$f"; printf '\0%s\0%s\0dc' "$at" "${grad:-1}"; } >"corpus/pipeline/seed-draw-$n"
  printf '%s' "$at" >"corpus/values/seed-at-$n"
  [ -z "$grad" ] || printf '%s' "$grad" >"corpus/values/seed-grad-$n"
done
printf '%s' 'x=3,v=[1, 2, 3],M=[[1, 2], [3, 4]],z=1e-3,w=.5,σ=-inf' >corpus/values/seed-mixed
printf '%s' '[[1, 0], [0, 1]]' >corpus/values/seed-matrix
printf '%s' '[[1.5, 2], [3, "inf"]]' >corpus/values/seed-json
printf 'f(v, M) = sum(M @ v) + max(0, v[1])\0v=[1, -2],M=[[1, 2], [3, 4]]\0 2' >corpus/pipeline/seed-tensor
printf 'L(W, x, y) = sum(max(0, W @ x - (W @ x)[y] + 1)) - 1\0W=[[1, 2], [3, -4], [0.5, 0]],x=[1, -1],y=1' >corpus/pipeline/seed-svm
echo "seeded: $(ls corpus/parse | wc -l) parse, $(ls corpus/pipeline | wc -l) pipeline, $(ls corpus/values | wc -l) values"
