#!/bin/sh
# Writes the seed stores of fuzz_store into DIR (default tests/fuzz/corpus_store):
# small real stores made by the CLI on a tiny synthetic corpus (never real data),
# and truncated and bit-flipped copies of them. Run it again whenever the store
# schema changes (a new table, e.g. job leases), so the seeds hold what the
# readers of that schema read.
#
# Usage: tests/fuzz/make_seeds_store.sh [DIR]
# Needs build/myobench (make), the sqlite3 command-line shell (package sqlite3;
# it scrubs the machine name and times out of the seeds and makes the edited
# variants) and, for the seed in this target's own plan, build-fuzz/fuzz_store
# (tests/fuzz/build.sh fuzz_store; skipped when missing).
set -eu
cd "$(dirname "$0")/../.."
out=${1:-tests/fuzz/corpus_store}
bin=build/myobench
[ -x "$bin" ] || { echo "make_seeds_store: $bin missing: run make" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "make_seeds_store: needs the sqlite3 shell (apt-get install sqlite3)" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
tmp=$(mktemp -d /tmp/mb-seeds.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# Two subjects of NinaPro DB1 and DB5, synthetic; 400 ms windows every 400 ms
# keep the manifests, and so the stores, small.
"$bin" synth --out "$tmp/syn" --preset tiny --subjects 2 --only ninapro_db1,ninapro_db5 -j 1 >/dev/null 2>&1
# converted from inside $tmp: a conversion note names the source folder as given
# (DB5's), and the corpus SHA-256 in the stores must not depend on mktemp's name
abs=$(pwd)/$bin
(cd "$tmp" && "$abs" convert ninapro syn/ninapro_db1 -o db1.h5 -j 1 >/dev/null 2>&1)
(cd "$tmp" && "$abs" convert ninapro syn/ninapro_db5 -o db5.h5 -j 1 >/dev/null 2>&1)
run() {  # run DB DATA PROTOCOLS METHODS
    "$bin" run --data "$2" --protocol "$3" --methods "$4" --db "$tmp/$1" -j 1 --progress none \
        --window-ms 400 --stride-ms 400 >/dev/null 2>&1
}
# The same bytes on every machine and day: no host name, no wall-clock time, no
# temporary folder name.
scrub() {
    sqlite3 "$1" "UPDATE meta SET value = 'Linux seed 6.1.0 x86_64' WHERE key = 'machine';
                  UPDATE runs SET plan = replace(plan, '$tmp/', '/data/');
                  UPDATE corpora SET path = replace(path, '$tmp/', '/data/');
                  UPDATE meta SET value = '2024-01-01T00:00:00Z' WHERE key = 'created';
                  UPDATE runs SET machine = 'Linux seed 6.1.0 x86_64', started = '2024-01-01T00:00:00Z',
                                  finished = '2024-01-01T00:01:00Z';
                  UPDATE jobs SET finished = '2024-01-01T00:00:30Z' WHERE finished IS NOT NULL;
                  UPDATE jobs SET seconds_fit = 0.25, seconds_predict = 0.125, seconds_total = 0.5
                         WHERE seconds_total IS NOT NULL;
                  UPDATE claims SET owner = 'seed:1000:00000000000000' || printf('%02d', run_id),
                                    claimed = '2024-01-01T00:00:10Z';" >/dev/null
}
# A lease as a run killed while it ran job KEY leaves it: an owner on another
# host (so judged by its heartbeat only, as on any machine), its claim, a
# heartbeat long expired (2024-01-01T00:00:20Z). The next run takes it over.
stale_lease() {  # stale_lease DB KEY_SQL
    sqlite3 "$1" "
    INSERT INTO leases(job, owner, host, pid, run_id, claimed, heartbeat, expiry)
        SELECT key, 'seed-killed:4242:0123456789abcdef', 'seed-killed', 4242, run_id, '2024-01-01T00:00:10Z',
               1704067220, 300.0 FROM jobs WHERE key = ($2);
    INSERT INTO claims(job, run_id, owner, claimed, took_over)
        SELECT key, run_id, 'seed-killed:4242:0123456789abcdef', '2024-01-01T00:00:10Z', NULL
        FROM jobs WHERE key = ($2);" >/dev/null
}
# 512-byte pages (SQLite's smallest): the same store in about half the bytes,
# so mutations land on more of its structure.
small_pages() {
    sqlite3 "$1" "PRAGMA journal_mode = DELETE; PRAGMA page_size = 512; VACUUM; PRAGMA journal_mode = WAL;" >/dev/null
}

# 1. within x lda-td4 on DB1, as the CLI writes it (4096-byte pages)
run within_lda.db "$tmp/db1.h5" within lda-td4
scrub "$tmp/within_lda.db"
sqlite3 "$tmp/within_lda.db" "VACUUM" >/dev/null
# 2. DB1 and DB5 x loso, zeroshot-gestures (n/a for these methods) x lda-td4, knn-td4:
#    per-protocol tables across two datasets, n/a cells
run two_datasets.db "$tmp/db1.h5,$tmp/db5.h5" loso,zeroshot-gestures lda-td4,knn-td4
scrub "$tmp/two_datasets.db"
small_pages "$tmp/two_datasets.db"
# 3. a resumable store: DB1 within x lda-td4, knn-td4, one job failed and one still
#    pending with the lease and claim of the killed run that ran it, a second run row
run resumable.db "$tmp/db1.h5" within lda-td4,knn-td4
run resumable.db "$tmp/db1.h5" within lda-td4,knn-td4
scrub "$tmp/resumable.db"
sqlite3 "$tmp/resumable.db" "
    UPDATE jobs SET status = 'failed', message = 'lda-td4: injected failure', seconds_fit = NULL
        WHERE key = (SELECT MIN(key) FROM jobs WHERE method = 'lda-td4');
    UPDATE jobs SET status = 'pending', message = NULL, run_id = NULL, finished = NULL
        WHERE key = (SELECT MIN(key) FROM jobs WHERE method = 'knn-td4');
    DELETE FROM subject_metrics WHERE job IN (SELECT key FROM jobs WHERE status <> 'ok');
    DELETE FROM confusion WHERE job IN (SELECT key FROM jobs WHERE status <> 'ok');" >/dev/null
stale_lease "$tmp/resumable.db" "SELECT key FROM jobs WHERE status = 'pending'"
small_pages "$tmp/resumable.db"
# 4. a store of another schema version (an older myobench)
cp "$tmp/resumable.db" "$tmp/other_schema.db"
sqlite3 "$tmp/other_schema.db" "UPDATE meta SET value = 'myobench-results/0' WHERE key = 'schema'" >/dev/null
# 5. this target's own plan, run once into an empty store: resuming it skips the
#    finished jobs (the keys hold the library's source hash: regenerate after changes)
if [ -x build-fuzz/fuzz_store ]; then
    : >"$tmp/empty"
    MB_FUZZ_STORE_SAVE="$tmp/fuzz_plan_done.db" build-fuzz/fuzz_store "$tmp/empty" >/dev/null 2>&1
    scrub "$tmp/fuzz_plan_done.db"
    # 6. the same store after a kill -9 of its run: one fz-ok job pending under the
    #    killed run's lease (resuming takes it over), its results gone
    cp "$tmp/fuzz_plan_done.db" "$tmp/fuzz_plan_killed.db"
    sqlite3 "$tmp/fuzz_plan_killed.db" "
        UPDATE jobs SET status = 'pending', message = NULL, finished = NULL, seconds_fit = NULL,
                        seconds_predict = NULL, seconds_total = NULL
            WHERE key = (SELECT MAX(key) FROM jobs WHERE method = 'fz-ok');
        DELETE FROM subject_metrics WHERE job IN (SELECT key FROM jobs WHERE status = 'pending');
        DELETE FROM confusion WHERE job IN (SELECT key FROM jobs WHERE status = 'pending');
        UPDATE runs SET finished = NULL, n_ok = NULL, n_na = NULL, n_failed = NULL, n_skipped = NULL;" >/dev/null
    stale_lease "$tmp/fuzz_plan_killed.db" "SELECT key FROM jobs WHERE status = 'pending'"
    small_pages "$tmp/fuzz_plan_done.db"
    small_pages "$tmp/fuzz_plan_killed.db"
else
    echo "make_seeds_store: build-fuzz/fuzz_store missing, its own store left out" >&2
fi

for f in within_lda two_datasets resumable other_schema fuzz_plan_done fuzz_plan_killed; do
    [ -f "$tmp/$f.db" ] && cp "$tmp/$f.db" "$out/$f.db"
done
: >"$out/empty.db"   # SQLite reads an empty file as an empty database

# Damaged copies. patch FILE OFFSET BYTE(octal) writes one byte in place.
patch() { printf "\\$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }
src="$out/resumable.db"
size=$(wc -c <"$src")
head -c 100 "$src" >"$out/trunc_header.db"          # the 100-byte header only
head -c 512 "$src" >"$out/trunc_first_page.db"      # the schema's first page only
head -c $((size / 2)) "$src" >"$out/trunc_half.db"
head -c $((size - 512)) "$src" >"$out/trunc_last_page.db"
cp "$src" "$out/flip_page_count.db"; patch "$out/flip_page_count.db" 31 377      # header: database size in pages
cp "$src" "$out/flip_utf16.db"; patch "$out/flip_utf16.db" 59 2                # header: text encoding UTF-16le
cp "$src" "$out/flip_freelist.db"; patch "$out/flip_freelist.db" 35 7          # header: first freelist trunk page
cp "$src" "$out/flip_schema_page.db"; patch "$out/flip_schema_page.db" 300 377 # a cell pointer of the schema page
cp "$src" "$out/flip_middle.db"; patch "$out/flip_middle.db" $((size / 2 + 17)) 125
# the first column name of the jobs table in the stored schema text: 'key' -> 'kez'
off=$(grep -obUa 'CREATE TABLE jobs(' "$src" | head -n1 | cut -d: -f1)
if [ -n "$off" ]; then
    cp "$src" "$out/flip_schema_text.db"
    patch "$out/flip_schema_text.db" $((off + 23)) 172
fi
ls -l "$out" | awk 'NR > 1 { n++; s += $5 } END { printf "make_seeds_store: %d seeds, %d bytes\n", n, s }'
