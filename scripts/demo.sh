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
"$bin" synth --out "$out/synth" --preset "$preset"
echo "demo: (conversion arrives with its module)"
echo "demo: outputs in $out/"
