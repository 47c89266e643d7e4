#!/bin/sh
# Builds the libFuzzer targets of tests/fuzz/ with clang into build-fuzz/.
# Usage: tests/fuzz/build.sh [target ...]   (default: every fuzz_*.c)
set -e
cd "$(dirname "$0")/../.."
PKGS="hdf5 matio libpcre2-8 libcrypto yaml-0.1 jansson zlib"
CFLAGS="-std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer -I. $(pkg-config --cflags $PKGS)"
LIBS="$(pkg-config --libs $PKGS) -lcsv -lm"
# The library sources a reader needs; nothing else is linked in.
SRC="core/err.c core/fs.c core/ydoc.c converters/spec.c converters/spec_read.c converters/ninapro_mat.c converters/emg2pose_h5.c"
mkdir -p build-fuzz
targets="$*"
[ -n "$targets" ] || targets=$(cd tests/fuzz && ls fuzz_*.c | sed 's/\.c$//')
for t in $targets; do
    echo "clang $t"
    clang $CFLAGS -o "build-fuzz/$t" "tests/fuzz/$t.c" $SRC $LIBS
done
