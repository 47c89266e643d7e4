/* core/shared.h - work shared by the jobs of a plan: a keyed, bounded,
 * thread-safe cache of immutable results (features of a window set, a
 * pre-trained encoder), computed once and handed to every job that needs
 * the same thing.
 *
 *     struct mb_shared_ref r;
 *     rc = mb_shared_get(&r, sh, key, make_features, &ctx, free_features);
 *     const struct feats *f = r.val;          // read only
 *     ...
 *     mb_shared_unref(sh, &r);
 *
 * The key is the SHA-256 (hex) of a text naming everything that changes
 * the result (corpus hash, view, window indices, parameters, seed): a
 * result is reused only where computing it afresh would give the same
 * bytes, so sharing never changes a number. Whoever asks first computes;
 * others asking for the same key meanwhile wait for that result instead of
 * computing it again. Entries nobody holds are dropped, least recently used
 * first, when the cache exceeds its byte budget.
 *
 * sh may be NULL everywhere: then get computes and unref destroys, so a
 * method works the same with and without sharing.
 */
#ifndef MB_CORE_SHARED_H
#define MB_CORE_SHARED_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct mb_shared;
struct mb_shared_entry;

/* Scopes: a plan knows which of its jobs are still to run, a cache does
 * not. The harness gives each job a handle of a scope (the jobs of one
 * fold) and ends the scope when the last of those jobs is done; an entry
 * asked for through scoped handles is then dropped as soon as no open scope
 * has asked for it, whatever the budget, instead of holding memory until
 * the budget pushes it out. Entries asked for only through the cache itself
 * follow the budget alone. */

/* Computes a result: *val (owned by the cache afterwards) and its size in bytes. */
typedef int (*mb_shared_make_fn)(void **val, size_t *bytes, void *ctx);
typedef void (*mb_shared_destroy_fn)(void *val);

struct mb_shared_ref {
    const void *val;                  /* the result, read only */
    struct mb_shared_entry *e;        /* NULL when computed without a cache */
    mb_shared_destroy_fn destroy;
    void *own;                        /* the result when computed without a cache */
};

struct mb_shared_stats {
    size_t hits, misses, waits;       /* found (waits included), computed, of the hits: waited for another thread */
    size_t entries, bytes, evicted;   /* now held; dropped for the budget */
    size_t released;                  /* dropped when the last scope that asked for them ended */
};

/* A cache holding at most 'budget' bytes of results nobody holds (held ones
 * are never dropped). NULL after reporting when out of memory. */
struct mb_shared *mb_shared_new(size_t budget);
void mb_shared_free(struct mb_shared *sh);

/* Looks 'key' up and holds it, or computes it with make(ctx). On error
 * (make's, returned as is) nothing is held and a thread waiting for the same
 * key computes it itself. */
int mb_shared_get(struct mb_shared_ref *ref, struct mb_shared *sh, const char *key, mb_shared_make_fn make,
                  void *ctx, mb_shared_destroy_fn destroy) MB_MUST_CHECK;

/* Releases what get held (ref is zeroed). */
void mb_shared_unref(struct mb_shared *sh, struct mb_shared_ref *ref);

void mb_shared_stats(struct mb_shared_stats *st, struct mb_shared *sh);

/* A handle that works like sh and notes 'scope' on every entry it asks
 * for; free it with mb_shared_free (the cache stays). NULL when sh is NULL;
 * sh itself when out of memory (sharing goes on, unscoped). */
struct mb_shared *mb_shared_scoped(struct mb_shared *sh, uint64_t scope);

/* The cache a handle belongs to (sh itself for the cache; NULL for NULL):
 * for results every fold may ask for again (a recording's features), which
 * the end of a scope must not release. */
struct mb_shared *mb_shared_root(struct mb_shared *sh);

/* No job of 'scope' will ask for anything any more: entries no other open
 * scope asked for are dropped now, or when their last holder lets go. */
void mb_shared_end_scope(struct mb_shared *sh, uint64_t scope);

/* A folder where results that are worth keeping across runs (pre-trained
 * encoders, as checkpoints) are written and looked for; NULL = none (the
 * default). The folder must exist; its name should identify the build, so a
 * result of other code is never read back. The string is copied. */
int mb_shared_set_dir(struct mb_shared *sh, const char *dir) MB_MUST_CHECK;
const char *mb_shared_dir(const struct mb_shared *sh);   /* NULL for none or sh NULL */

#endif
