#!/usr/bin/env bash
# The folder layout is the architecture: data flows one way,
#
#   cli -> harness -> describe -> protocols -> methods -> corpus -> format / kernels / baselines -> core
#   (converters -> format -> core beside it; reports and synth are leaves over core)
#
# and no folder may use a folder above it. This prints the folder graph, from
# the #include lines and, given a build folder, from the symbols each folder's
# objects take from the others (nm), and exits 1 naming every arrow that goes
# up or sideways between unrelated rooms.
#
# Usage: scripts/layers.sh [BUILD_DIR]    (run from the repository root)
set -euo pipefail
build=${1:-}

# rank: a folder may use only folders of a lower rank (and itself)
declare -A rank=(
  [core]=0
  [format]=1 [kernels]=1 [kernels/nn]=1 [baselines]=1 [reports]=1 [synth]=1
  [converters]=2 [corpus]=2
  [methods]=3
  [protocols]=4
  [describe]=5
  [harness]=6
  [cli]=7
)
folders=(core format kernels kernels/nn baselines reports synth converters corpus methods protocols describe harness cli)

declare -A edge_inc=() edge_sym=()
bad=0

# includes: "folder/file.h" (generated headers of build/gen are not folders)
for d in "${folders[@]}"; do
  for f in "$d"/*.c "$d"/*.h; do
    [ -e "$f" ] || continue
    while read -r inc; do
      t=${inc%/*}
      [ -n "${rank[$t]+x}" ] || continue
      [ "$t" = "$d" ] && continue
      edge_inc["$d -> $t"]=1
    done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
  done
done

# symbols: each folder's undefined symbols, resolved to the folder defining them
if [ -n "$build" ] && [ -d "$build" ]; then
  declare -A owner
  for d in "${folders[@]}"; do
    for o in "$build/$d"/*.o; do
      [ -e "$o" ] || continue
      # an object whose source is gone (a removed file, an old build) is not the code
      [ -e "$d/$(basename "${o%.o}").c" ] || continue
      while read -r s; do owner[$s]=$d; done < <(nm -g --defined-only "$o" | awk '{print $3}')
    done
  done
  for d in "${folders[@]}"; do
    for o in "$build/$d"/*.o; do
      [ -e "$o" ] || continue
      # an object whose source is gone (a removed file, an old build) is not the code
      [ -e "$d/$(basename "${o%.o}").c" ] || continue
      while read -r s; do
        t=${owner[$s]:-}
        [ -n "$t" ] && [ "$t" != "$d" ] && edge_sym["$d -> $t"]=1
      done < <(nm -u "$o" | awk '{print $2}')
    done
  done
fi

check() {  # kind edge
  local from=${2% -> *} to=${2#* -> }
  if [ "${rank[$to]}" -ge "${rank[$from]}" ]; then
    echo "layers: $1 arrow $2 goes up or sideways (rank ${rank[$from]} -> ${rank[$to]})" >&2
    bad=1
  fi
}

echo "folder graph (includes):"
for e in $(printf '%s\n' "${!edge_inc[@]}" | tr ' ' '_' | sort); do
  e=${e//_/ }
  echo "  $e"
  check include "$e"
done
if [ ${#edge_sym[@]} -gt 0 ]; then
  echo "folder graph (symbols, nm):"
  for e in $(printf '%s\n' "${!edge_sym[@]}" | tr ' ' '_' | sort); do
    e=${e//_/ }
    echo "  $e"
    check symbol "$e"
  done
fi
exit $bad
