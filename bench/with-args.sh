#!/usr/bin/env bash
# with-args.sh FILE CMD...: runs CMD with the arguments listed in FILE (one a
# line) appended. The unrolled SVM takes 33 792 values: too long for one shell
# string (hyperfine's), short enough for one command line (each piece stays
# under Linux's 128 KiB limit for a single argument).
set -euo pipefail
file=$1
shift
mapfile -t extra < "$file"
exec "$@" "${extra[@]}"
