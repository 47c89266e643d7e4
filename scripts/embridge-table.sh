#!/usr/bin/env bash
# EMBridge's table (plans/embridge.yaml): linear probe and zero-shot on seen and
# unseen gestures of held-out users, every representation method and EMBridge's
# ablations, with the report's paired tests. Makes the unified emg2pose file
# (synthetic by default; MB_EMG2POSE=DIR converts a real emg2pose folder
# instead), puts a copy of the plan beside it, runs it into OUT/results.db
# (resumable: run the same command again after an interruption) and writes
# the report into OUT/report, printing its Markdown tables.
# Usage: scripts/embridge-table.sh [OUT]        (default embridge-out)
# Environment: MB_BIN (default build/myobench), MB_SYNTH_ARGS (default
# "--preset default"), MB_EMG2POSE, MB_JOBS (run -j).
# Cost: 4 protocols x 4 folds x 2 seeds x 8 methods; about an hour on 2 cores
# for the default population (docs/METHODS.md "EMBridge's table").
set -euo pipefail
bin=$(realpath "${MB_BIN:-build/myobench}")
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-embridge-out}
mkdir -p "$out"
if [ ! -f "$out/emg2pose.h5" ]; then
  if [ -n "${MB_EMG2POSE:-}" ]; then
    "$bin" convert emg2pose "$MB_EMG2POSE" -o "$out/emg2pose.h5" --no-progress
  else
    # shellcheck disable=SC2086
    "$bin" synth --out "$out/native" ${MB_SYNTH_ARGS:---preset default} --only emg2pose >&2
    "$bin" convert emg2pose "$out/native/emg2pose" -o "$out/emg2pose.h5" --no-progress
  fi
fi
cp "$root/plans/embridge.yaml" "$out/embridge.yaml"
"$bin" run "$out/embridge.yaml" --db "$out/results.db" --progress lines ${MB_JOBS:+-j "$MB_JOBS"} 2>>"$out/run.log" || {
  tail -n 5 "$out/run.log" >&2; exit 1; }
tail -n 2 "$out/run.log" | grep "^myobench: run: " >&2 || true
"$bin" report "$out/results.db" --out "$out/report"
"$bin" report "$out/results.db"
