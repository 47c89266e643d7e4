#!/usr/bin/env bash
# What `make valgrind` runs: the three commands of a benchmark on the real
# NinaPro DB1 sample under valgrind's memcheck -
#   convert ninapro DB1 -> db1.h5
#   run --protocol within,loso --methods lda-td4,knn-td4
#   report --out DIR
# - in a temporary folder that is removed afterwards. Any memcheck error
# (invalid read or write, use of uninitialised memory, bad free) or a
# definite leak fails the command, and so the script (exit 1).
#
# Usage: scripts/valgrind.sh [BIN]     (BIN default build/myobench)
# MB_REAL_DATA: folder of the real recordings (default ../shared/data/real).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-build/myobench}")
real=${MB_REAL_DATA:-../shared/data/real}
db1=$real/ninapro_db1
[ -d "$db1" ] || { echo "valgrind.sh: no real DB1 sample in '$db1' (set MB_REAL_DATA)" >&2; exit 1; }
supp=$(realpath scripts/valgrind.supp)
tmp=$(mktemp -d /tmp/mbv.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# Passive OpenMP waits: valgrind runs one thread at a time, so spinning
# workers would only burn the time slices of the working one.
export OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive
# --exit-on-first-error: a broken build fails in seconds, not after the
# quarter of an hour the whole run takes (leaks are still checked at exit).
vg=(valgrind --error-exitcode=1 --exit-on-first-error=yes --leak-check=full --errors-for-leak-kinds=definite
    --suppressions="$supp" --num-callers=30 --log-file="$tmp/vg.%p.log")

step() {  # step NAME ARGS...: one command under valgrind, its report on failure
    local name=$1 t0=$SECONDS
    shift
    rm -f "$tmp"/vg.*.log
    if ! "${vg[@]}" "$bin" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"; then
        echo "valgrind.sh: '$name' failed under valgrind:" >&2
        cat "$tmp/$name.err" "$tmp"/vg.*.log >&2
        exit 1
    fi
    echo "valgrind.sh: $name clean ($((SECONDS - t0)) s)"
}

step convert convert ninapro "$db1" -o "$tmp/db1.h5" -j 2
# Windows every 200 ms instead of 50: the same code on a quarter of the
# windows. At the default view knn-td4's LOSO jobs (5 s each natively) took
# over an hour each under memcheck, whose emulation of OpenBLAS's AVX2
# kernels is slow.
step run run --data "$tmp/db1.h5" --protocol within,loso --methods lda-td4,knn-td4 --db "$tmp/results.db" \
    --stride-ms 200 -j 2 --progress none
step report report "$tmp/results.db" --out "$tmp/report"
echo "valgrind.sh: no memcheck error and no definite leak in convert, run and report"
