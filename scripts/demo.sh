#!/usr/bin/env bash
# The main job on the embedded default: generate the synthetic corpora,
# convert what can be converted, summarise each unified file, run the
# protocols with the classical baselines into one results store, and print
# the Markdown tables of its report.
# Usage: scripts/demo.sh BIN [--quick] [--model v1|v2]
#   --quick   the tiny population (make demo QUICK=1)
#   --model   the generator model (default: synth's, v2); v1 reproduces the
#             numbers of runs before 2026-12-08 (make demo MODEL=v1)
set -euo pipefail
bin=${1:-build/myobench}
shift || true
preset=default
model=()
while [ $# -gt 0 ]; do
  case $1 in
    --quick) preset=tiny ;;
    --model) model=(--model "$2"); shift ;;
    *) echo "demo.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
out=demo-out
rm -rf "$out"
mkdir -p "$out"
"$bin" --version

echo "== synthesising the '$preset' population into $out/native"
"$bin" synth --out "$out/native" --preset "$preset" "${model[@]}"

convert() {  # name converter source [extra args]
  local name=$1 conv=$2 src=$3; shift 3
  echo "== converting $name ($conv)"
  "$bin" convert "$conv" "$@" "$src" -o "$out/$name.h5" --no-progress
  "$bin" validate "$out/$name.h5"
  "$bin" info "$out/$name.h5"
}

convert emg2pose emg2pose "$out/native/emg2pose"
for c in $("$bin" convert --help | awk '/^  [a-z0-9]+ /{print $1}'); do
  case $c in
    ninapro)
      convert ninapro_db1 ninapro "$out/native/ninapro_db1" --db 1
      convert ninapro_db5 ninapro "$out/native/ninapro_db5" --db 5
      # DB2 is found from its DB2_s<N> folders; no --db needed.
      convert ninapro_db2 ninapro "$out/native/ninapro_db2" ;;
  esac
done
# The multi-device text corpora go through the declarative converter and its shipped specs.
for s in myo_readings kaufmann_multiday uci_gestures; do
  convert "$s" spec "$out/native/$s" "$s"
done
# The benchmark: protocols x methods into one results store.
# Left out of the demo for time, not for any fault (each is one flag away:
# --methods): the SVMs, logreg-td4 (its L-BFGS fit takes about 50 s on a
# few-shot fold of the default emg2pose corpus) and lda-ls9 (LS sorts every
# window: about 18 s per fold).
# Within-subject and few-shot run on every corpus: NinaPro's repetitions
# make the standard split; emg2pose, without repetitions, is split in time
# blocks per arm (docs/PROTOCOLS.md, "time-blocks").
# The representation-learning methods (docs/METHODS.md) run on emg2pose, the
# corpus with pose, in their own plan: at 1 kHz with 400 ms windows (four
# 100 ms patches, of which the MAEs mask half), the linear probe and
# zero-shot on unseen gestures with two subject folds, beside classical
# methods under the same view so the rows compare. cpep and the pose oracle
# also name NinaPro's unseen gestures from the glove in the zero-shot plan.
# The quick demo trains them for fewer steps (info.txt lists every method's
# parameters).
if [ "$preset" = tiny ]; then
  all="[emg2pose.h5, ninapro_db1.h5]" zs="[ninapro_db1.h5]" shots="[1]" episodes=2
  steps="mae_steps=20"
else
  all="[emg2pose.h5, ninapro_db1.h5, ninapro_db5.h5]" zs="[ninapro_db1.h5, ninapro_db5.h5]"
  # 2 shots: the synthetic emg2pose subjects make each gesture once per arm, cut into three
  # time blocks, so k = 2 is the most they can give with a block left to test (a larger k is
  # refused as a whole, docs/PROTOCOLS.md)
  shots="[2]" episodes=2 steps=""
fi
methods="[lda-td4, qda-td4, knn-td4, lda-tdpsd, pose-ridge-td4]"
neural() {  # a method entry, with the quick demo's step counts (align_steps: cpep's key only)
  local p=$steps
  [ -n "$p" ] && case $1 in cpep | qformer | embridge) p="$p,align_steps=20" ;; esac
  if [ -n "$p" ]; then echo "{ name: $1, params: \"$p\" }"; else echo "$1"; fi
}
cat >"$out/plan.yaml" <<EOF
# every corpus at its native rate; 200 ms windows every 100 ms
data: $all
view: { window_ms: 200, stride_ms: 100 }
protocols:
  - loso
  - within
  - { name: fewshot, shots: $shots, episodes: $episodes }
methods: $methods
EOF
cat >"$out/plan-zeroshot.yaml" <<EOF
# unseen gestures named from the glove's pose references: by ridge regression to the
# glove, by cpep through its pose encoder, and by the pose oracle (400 ms windows:
# four 100 ms patches)
data: $zs
view: { window_ms: 400, stride_ms: 200 }
protocols: [{ name: zeroshot-gestures, folds: 2 }]
methods:
  - pose-ridge-td4
  - $(neural cpep)
  - $(neural pose-upper-bound)
EOF
cat >"$out/plan-representations.yaml" <<EOF
data: [emg2pose.h5]
view: { rate_hz: 1000, window_ms: 400, stride_ms: 200 }
protocols: [{ name: probe, folds: 2 }, { name: zeroshot-gestures, folds: 2 }]
methods:
  - lda-td4
  - lda-tdpsd
  - pose-ridge-td4
  - $(neural emg-mae)
  - $(neural emg2pose-tds)
  - $(neural cpep)
  - $(neural qformer)
  - $(neural embridge)
  - $(neural pose-upper-bound)
EOF
for plan in plan plan-zeroshot plan-representations; do
  echo "== running $out/$plan.yaml into $out/results.db (job lines in $out/run.log)"
  "$bin" run "$out/$plan.yaml" --db "$out/results.db" --progress lines 2>>"$out/run.log" || {
    tail -n 5 "$out/run.log" >&2; exit 1; }
  tail -n 2 "$out/run.log" | grep "^myobench: run: "   # the jobs summary, and what was shared
done
"$bin" report "$out/results.db" --out "$out/report"
echo "== results (every table, figure and info.txt are in $out/report)"
"$bin" report "$out/results.db"
echo "demo: all outputs are in $out/"
