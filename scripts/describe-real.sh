#!/usr/bin/env bash
# Regenerates the table of docs/SYNTH.md "Realism: describe on real and
# synthetic corpora": converts the real recordings of $MB_REAL_DATA (default
# ../shared/data/real) with the shipped converters, generates a synthetic
# population and converts its native files the same way, runs
# 'myobench describe' on each and prints two Markdown tables on stdout: per
# device, median [min - max] over subjects of each statistic, real beside
# synthetic.
#
# Usage (from the repository root, after make):
#   scripts/describe-real.sh                      # synth --preset default
#   MB_SYNTH_ARGS="--preset default --model v1" scripts/describe-real.sh
#   MB_DESCRIBE_KEEP=DIR scripts/describe-real.sh # keep the files (and describe texts) in DIR
# Environment: MB_BIN (default build/myobench), MB_REAL_DATA, MB_SYNTH_ARGS.
# The synthetic NinaPro folders are cut to the exercises the real sample has
# (DB1 and DB5 here: exercise 1 only), so both sides have the same gestures.
# GRABMyo (WFDB) has no converter yet: it is not in the table.
set -euo pipefail
bin=$(realpath "${MB_BIN:-build/myobench}")
real=$(realpath "${MB_REAL_DATA:-../shared/data/real}")
synth_args=${MB_SYNTH_ARGS:---preset default}
if [ -n "${MB_DESCRIBE_KEEP:-}" ]; then
  work=$MB_DESCRIBE_KEEP
  mkdir -p "$work"
else
  work=$(mktemp -d /tmp/describe-real.XXXXXX)
  trap 'rm -rf "$work"' EXIT
fi

# corpus folder : converter arguments (the folder is appended)
corpora=(
  "ninapro_db1:ninapro"
  "ninapro_db5:ninapro"
  "myo_readings:spec myo_readings"
  "uci_gestures:spec uci_gestures"
  "kaufmann_multiday:spec kaufmann_multiday"
)

# shellcheck disable=SC2086
"$bin" synth --out "$work/synth" $synth_args --only ninapro_db1,ninapro_db5,myo_readings,uci_gestures,kaufmann_multiday \
  >&2
# The synthetic files of the exercises the real folder has (NinaPro names
# carry _E<n>_ or _E<n>.), linked into a folder of their own.
like_real() {  # name -> prints the folder to convert
  local ex
  ex=$(find "$real/$1" -name '*.mat' 2>/dev/null | sed -n 's/.*_\(E[0-9]*\)[_.].*/\1/p' | sort -u | paste -sd'|')
  if [ -z "$ex" ]; then printf '%s' "$work/synth/$1"; return; fi
  rm -rf "$work/synth-like/$1"
  (cd "$work/synth/$1" && find . -name '*.mat') | while read -r f; do
    if [[ $(basename "$f") =~ _($ex)[_.] ]]; then
      mkdir -p "$work/synth-like/$1/$(dirname "$f")"
      ln -s "$work/synth/$1/$f" "$work/synth-like/$1/$f"
    fi
  done
  printf '%s' "$work/synth-like/$1"
}

for entry in "${corpora[@]}"; do
  name=${entry%%:*} conv=${entry#*:}
  for src in real synth; do
    dir=$real/$name
    [ "$src" = synth ] && dir=$(like_real "$name")
    if [ ! -d "$dir" ]; then
      echo "describe-real: $dir not found; skipped" >&2
      continue
    fi
    # shellcheck disable=SC2086
    "$bin" convert $conv "$dir" -o "$work/$src-$name.h5" --no-progress >&2
    "$bin" describe "$work/$src-$name.h5" >"$work/$src-$name.txt"
  done
done

# The summary block of a describe text: "statistic median min max".
cell() {  # file statistic
  [ -f "$1" ] || { printf 'missing'; return; }
  awk -v s="$2" '/^summary over subjects/ { on = 1; next }
    on && $1 == s {
      if ($2 == "n/a") printf "n/a"
      else if ($3 == $4) printf "%s", $2
      else printf "%s [%s, %s]", $2, $3, $4
    }' "$1"
}
subjects() { awk '/^corpus/ { print $3 }' "$1" 2>/dev/null || printf '?'; }
# "otto-bock-13e200, 10 ch, 100 Hz" from the corpus line
device() { sed -n 's/^corpus .*; device \([^,]*\), \([0-9]*\) channels at \([0-9.]*\) Hz;.*/\1, \2 ch, \3 Hz/p' "$1"; }

table() {  # statistics...
  local stats=("$@")
  printf '| corpus | device | source | subjects |'
  for s in "${stats[@]}"; do printf ' %s |' "$s"; done
  printf '\n|---|---|---|---|'
  for _ in "${stats[@]}"; do printf -- '---|'; done
  printf '\n'
  for entry in "${corpora[@]}"; do
    name=${entry%%:*}
    for src in real synth; do
      f=$work/$src-$name.txt
      [ -f "$f" ] || continue
      label=$src; [ "$src" = synth ] && label="synthetic ($synth_args)"
      printf '| %s | %s | %s | %s |' "$name" "$(device "$f")" "$label" "$(subjects "$f")"
      for s in "${stats[@]}"; do printf ' %s |' "$(cell "$f" "$s")"; done
      printf '\n'
    done
  done
}

echo "Signal statistics: median [min, max] over subjects (channel statistics: each subject's median over its channels)."
echo
table rms kurtosis mnf_hz mdf_hz corr_d1
echo
echo "Models: LDA on TD4 (balanced accuracy), ridge TD4 -> pose (R^2), pose vote on the true pose (zero-shot balanced accuracy)."
echo
table lda_within lda_loso lda_gap r2_within r2_loso r2_unseen vote_zs
