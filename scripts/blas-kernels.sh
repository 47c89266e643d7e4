#!/usr/bin/env bash
# Prints two OpenBLAS kernels (OPENBLAS_CORETYPE values) that this CPU can
# run and that differ from the one OpenBLAS picks for it, one per line:
# the widest other vector kernel and the oldest SSE3 one.
#
# Why: each kernel sums in its own order, so float results differ in their
# last bits from CPU to CPU. A numeric test that passes only under the
# kernel of the developer's CPU is a red CI on the next machine; `make test`
# runs the numeric suites again under these two (docs/DETERMINISM.md).
#
# Usage: scripts/blas-kernels.sh BIN   (BIN: any program linked to OpenBLAS)
# Prints nothing where the CPU is not x86-64 or its flags cannot be read.
set -euo pipefail
bin=$1
[ "$(uname -m)" = x86_64 ] && [ -r /proc/cpuinfo ] || exit 0
# OpenBLAS names the kernel it chose when it loads with OPENBLAS_VERBOSE=2.
default=$(OPENBLAS_VERBOSE=2 "$bin" --version 2>&1 >/dev/null | sed -n 's/^Core: //p' | head -n 1)
flags=" $(grep -m 1 '^flags' /proc/cpuinfo | cut -d: -f2) "
has() {
  local f
  for f in "$@"; do [[ $flags == *" $f "* ]] || return 1; done
}
# Widest first; a kernel is listed only if the CPU has its instructions, so
# forcing it never raises SIGILL.
cands=()
has avx512f avx512cd avx512bw avx512dq avx512vl && cands+=(SkylakeX)
has avx2 fma && cands+=(Haswell)
has avx && cands+=(Sandybridge)
has pni && cands+=(Prescott)   # SSE3 is "pni" in /proc/cpuinfo
wide= old=
for k in "${cands[@]}"; do
  [ "$k" != "$default" ] && { wide=$k; break; }
done
for ((i = ${#cands[@]} - 1; i >= 0; i--)); do
  k=${cands[i]}
  [ "$k" != "$default" ] && [ "$k" != "$wide" ] && { old=$k; break; }
done
for k in $wide $old; do echo "$k"; done
