#!/usr/bin/env bash
# Installs the Debian packages myobench builds and tests with, and only those
# that are missing. Quiet and fast when everything is present, so `make demo`
# and `make test` can call it every time. Extra packages one target needs
# besides these are given as arguments (`make valgrind`: valgrind).
set -euo pipefail

pkgs=(
  gcc make pkg-config
  libhdf5-dev        # the unified format and emg2pose files
  libcsv-dev         # delimited text readers
  libpcre2-dev       # file-name patterns of the spec converter
  libmatio-dev       # NinaPro MAT files
  zlib1g-dev
  libssl-dev         # SHA-256 of source files (libcrypto)
  libopenblas-dev liblapacke-dev
  libsqlite3-dev     # results store
  libyaml-dev libcyaml-dev   # spec and plan files
  libjansson-dev     # JSON output
  libfftw3-dev       # spectral features
  libgsl-dev         # chi-square, F and normal p-values in reports/stats.c
  libsvm-dev         # SVM baselines (baselines/svm.c)
  libcriterion-dev   # tests
  "$@"
)

missing=()
for p in "${pkgs[@]}"; do
  # A package counts as present only when dpkg says it is fully installed.
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
SUDO=
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "install-deps: missing packages (${missing[*]}) and not root; install them with apt-get" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
