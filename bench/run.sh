#!/usr/bin/env bash
# The bench: builds the release binary, generates the workloads, times each as a
# whole process (hyperfine) with its peak memory (/usr/bin/time -v), runs the
# micrograd and SymPy baselines in the same run, and the criterion benches of
# each stage; writes bench/work/results.{json,md}. See bench/README.md.
#
#   bench/run.sh            # everything: about 15 minutes on 2 cores
#   bench/run.sh --quick    # sizes up to 100 000, fewer runs, no criterion, no SymPy
#
# Run it on a quiet machine: every number is wall-clock time.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${WORK:-bench/work}
quick=""
sizes=1000,10000,100000,1000000
if [[ "${1:-}" == "--quick" ]]; then
    quick=--quick
    sizes=1000,10000,100000
fi

command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
[[ -x /usr/bin/time ]] || { apt-get update -qq && apt-get install -y -qq time; }
python3 -c "import micrograd" 2>/dev/null || python3 -m pip install --quiet micrograd
python3 -c "import sympy" 2>/dev/null || python3 -m pip install --quiet sympy

cargo build --release --quiet
python3 bench/gen.py "$WORK" --sizes "$sizes"
if [[ -z "$quick" ]]; then
    cargo bench --quiet --bench stages
fi
python3 bench/measure.py "$WORK" target/release/gradexplain $quick
