#!/bin/sh
# Runs one libFuzzer target of build-fuzz/ for a while, gently, on a scratch
# copy of its seed corpus; everything goes under /tmp/fuzz-TARGET/.
# Usage: tests/fuzz/run.sh TARGET SECONDS      (TARGET e.g. fuzz_plan or plan)
#
# One process at a time (-fork=1) at nice 19: the machine is shared. The
# binary is copied first, so rebuilding build-fuzz/ during a run is harmless.
# -ignore_crashes/-ignore_timeouts/-ignore_ooms keep the run going past the
# known crashes inside libhdf5 and libmatio; every artifact is kept in
# /tmp/fuzz-TARGET/crashes/ and must be replayed afterwards (README.md).
# The corpus folder is reused by later runs, so they continue where the last
# one stopped. The seed folder is read as a second corpus too, so seeds
# regenerated under the names of older ones (make_seeds_store.sh after a schema
# change) are fuzzed, not hidden by the older copies in the corpus folder.
set -e
cd "$(dirname "$0")/../.."
t=${1#fuzz_}
secs=${2:-1800}
bin=build-fuzz/fuzz_$t
[ -x "$bin" ] || { echo "run.sh: $bin missing (tests/fuzz/build.sh fuzz_$t)" >&2; exit 2; }
dir=/tmp/fuzz-$t
mkdir -p "$dir/corpus" "$dir/crashes"
cp -n tests/fuzz/corpus_$t/* "$dir/corpus/" 2>/dev/null || true
cp "$bin" "$dir/bin"
seeds=$(pwd)/tests/fuzz/corpus_$t
# Leaks are looked for in our own readers; libhdf5 and libmatio leak on
# corrupt files and ask for absurd allocations by design of their formats.
case $t in
    emg2pose|ninapro_mat) asan=allocator_may_return_null=1:detect_leaks=0; maxlen=20000 ;;
    store) asan=allocator_may_return_null=1; maxlen=131072 ;;
    *) asan=allocator_may_return_null=1; maxlen=8192 ;;
esac
cd "$dir"
echo "== $(date -Is) fuzz_$t for ${secs}s, corpus $(ls corpus | wc -l) files" >>runs.log
ASAN_OPTIONS=$asan UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    nice -n 19 ./bin -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    -max_len=$maxlen -timeout=10 -rss_limit_mb=2048 -max_total_time="$secs" \
    -artifact_prefix="$dir/crashes/" corpus "$seeds" >"log-$(date +%s)" 2>&1 || true
echo "== $(date -Is) done, corpus $(ls corpus | wc -l) files, artifacts $(ls crashes | wc -l)" >>runs.log
