#!/usr/bin/env bash
# The main job on the embedded default: generate the synthetic corpora,
# convert what can be converted, and summarise each unified file.
# Usage: scripts/demo.sh BIN [--quick]
set -euo pipefail
bin=${1:-build/myobench}
preset=default
[ "${2:-}" = "--quick" ] && preset=tiny
out=demo-out
rm -rf "$out"
mkdir -p "$out"
"$bin" --version

echo "== synthesising the '$preset' population into $out/native"
"$bin" synth --out "$out/native" --preset "$preset"

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
echo "demo: all outputs are in $out/"
