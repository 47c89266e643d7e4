#!/bin/sh
# Builds the libFuzzer targets of tests/fuzz/ with clang into build-fuzz/.
# Usage: tests/fuzz/build.sh [target ...]   (default: every fuzz_*.c)
set -e
cd "$(dirname "$0")/../.."
PKGS="hdf5 matio libpcre2-8 libcrypto yaml-0.1 jansson zlib"
SANFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer"
CFLAGS="-std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer $SANFLAGS -I. $(pkg-config --cflags $PKGS)"
LIBS="$(pkg-config --libs $PKGS) -lcsv -lm"
# The library sources a converter reader needs; nothing else is linked in.
SRC="core/err.c core/fs.c core/ydoc.c converters/spec.c converters/spec_read.c converters/ninapro_mat.c converters/emg2pose_h5.c"
# The plan and store readers reach the registries, the runner and the
# reports, i.e. most of the library: they link the whole library, built by
# the Makefile with clang and the same sanitizers (coverage-instrumented,
# so the fuzzer sees inside it) into build-fuzz/lib/.
WHOLE="fuzz_plan fuzz_store"
mkdir -p build-fuzz
targets="$*"
[ -n "$targets" ] || targets=$(cd tests/fuzz && ls fuzz_*.c | sed 's/\.c$//')
lib_built=
for t in $targets; do
    case " $WHOLE " in
    *" $t "*)
        if [ -z "$lib_built" ]; then
            echo "make build-fuzz/lib/libmyobench.a (clang)"
            make -s -j2 BUILD=build-fuzz/lib CC=clang OPT=-O1 SAN="-fsanitize=fuzzer-no-link $SANFLAGS" \
                build-fuzz/lib/libmyobench.a
            lib_built=1
        fi
        echo "clang $t"
        # fuzz_store cuts the reports' bootstrap resamples (see the target)
        wrap=; [ "$t" = fuzz_store ] && wrap=-Wl,--wrap=rep_opts_default
        APKGS="$PKGS libcyaml fftw3f sqlite3 lapacke openblas gsl"
        clang -std=c11 -D_GNU_SOURCE -g -O1 -fopenmp -fsanitize=fuzzer $SANFLAGS -I. $(pkg-config --cflags $APKGS) \
            -o "build-fuzz/$t" "tests/fuzz/$t.c" build-fuzz/lib/libmyobench.a $wrap \
            $(pkg-config --libs $APKGS) -lcsv -lsvm -lm
        ;;
    *)
        echo "clang $t"
        clang $CFLAGS -o "build-fuzz/$t" "tests/fuzz/$t.c" $SRC $LIBS
        ;;
    esac
done
