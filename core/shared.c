/* core/shared.c - see shared.h. One mutex guards the table; results are
 * computed outside it, so jobs computing different things run in parallel. */
#include "core/shared.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { E_PENDING, E_READY };

struct mb_shared_entry {
    char *key;
    int state;
    void *val;
    size_t bytes;
    mb_shared_destroy_fn destroy;
    size_t refs;
    uint64_t used;                 /* tick of the last get: least recently used goes first */
    uint64_t *scopes;              /* [n_scopes] open scopes that asked for it */
    size_t n_scopes, cap_scopes;
    int scoped;                    /* asked for inside a scope: dropped when the last one ends */
    struct mb_shared_entry *next;
};

struct mb_shared {
    struct mb_shared *root;        /* itself, or the cache a scoped handle forwards to */
    uint64_t scope;                /* a scoped handle's scope */
    pthread_mutex_t mu;
    pthread_cond_t cv;             /* a pending entry became ready or was abandoned */
    struct mb_shared_entry *head;
    size_t budget, bytes;
    uint64_t tick;
    struct mb_shared_stats st;
    char *dir;
};

struct mb_shared *mb_shared_new(size_t budget)
{
    struct mb_shared *sh = calloc(1, sizeof *sh);
    if (!sh) {
        mb_error(MB_ENOMEM, "out of memory for the shared-work cache");
        return NULL;
    }
    pthread_mutex_init(&sh->mu, NULL);
    pthread_cond_init(&sh->cv, NULL);
    sh->budget = budget;
    sh->root = sh;
    return sh;
}

struct mb_shared *mb_shared_scoped(struct mb_shared *sh, uint64_t scope)
{
    if (!sh)
        return NULL;
    struct mb_shared *h = calloc(1, sizeof *h);
    if (!h)
        return sh->root;   /* sharing without the scope: the same numbers, only kept longer */
    h->root = sh->root;
    h->scope = scope;
    return h;
}

static void entry_free(struct mb_shared_entry *e)
{
    if (e->val && e->destroy)
        e->destroy(e->val);
    free(e->scopes);
    free(e->key);
    free(e);
}

void mb_shared_free(struct mb_shared *sh)
{
    if (!sh)
        return;
    if (sh->root != sh) {   /* a scoped handle: the cache stays */
        free(sh);
        return;
    }
    for (struct mb_shared_entry *e = sh->head, *n; e; e = n) {
        n = e->next;
        entry_free(e);
    }
    pthread_cond_destroy(&sh->cv);
    pthread_mutex_destroy(&sh->mu);
    free(sh->dir);
    free(sh);
}

static struct mb_shared_entry *find(struct mb_shared *sh, const char *key)
{
    for (struct mb_shared_entry *e = sh->head; e; e = e->next)
        if (!strcmp(e->key, key))
            return e;
    return NULL;
}

static void unlink_entry(struct mb_shared *sh, struct mb_shared_entry *x)
{
    for (struct mb_shared_entry **p = &sh->head; *p; p = &(*p)->next)
        if (*p == x) {
            *p = x->next;
            return;
        }
}

static void drop(struct mb_shared *sh, struct mb_shared_entry *e, size_t *count)
{
    unlink_entry(sh, e);
    sh->bytes -= e->bytes;
    sh->st.entries--;
    (*count)++;
    entry_free(e);
}

/* Drops ready entries nobody holds, least recently used first, until the
 * unheld bytes fit the budget. Called with the lock held. */
static void evict(struct mb_shared *sh)
{
    for (;;) {
        size_t unheld = 0;
        struct mb_shared_entry *lru = NULL;
        for (struct mb_shared_entry *e = sh->head; e; e = e->next)
            if (e->state == E_READY && !e->refs) {
                unheld += e->bytes;
                if (!lru || e->used < lru->used)
                    lru = e;
            }
        if (unheld <= sh->budget || !lru)
            return;
        drop(sh, lru, &sh->st.evicted);
    }
}

/* Records that scope asked for e (lock held). Without memory for the note
 * the entry just stops being scoped: kept by the budget alone, never
 * dropped while a scope may still want it. */
static void add_scope(struct mb_shared_entry *e, uint64_t scope)
{
    for (size_t i = 0; i < e->n_scopes; i++)
        if (e->scopes[i] == scope)
            return;
    if (e->n_scopes == e->cap_scopes) {
        size_t cap = e->cap_scopes ? 2 * e->cap_scopes : 4;
        uint64_t *p = realloc(e->scopes, cap * sizeof *p);
        if (!p) {
            e->scoped = 0;
            return;
        }
        e->scopes = p;
        e->cap_scopes = cap;
    }
    e->scopes[e->n_scopes++] = scope;
}

int mb_shared_get(struct mb_shared_ref *ref, struct mb_shared *sh, const char *key, mb_shared_make_fn make,
                  void *ctx, mb_shared_destroy_fn destroy)
{
    memset(ref, 0, sizeof *ref);
    ref->destroy = destroy;
    if (!sh) {
        void *v = NULL;
        size_t b = 0;
        int rc = make(&v, &b, ctx);
        if (rc)
            return rc;
        ref->val = ref->own = v;
        return MB_OK;
    }
    /* a scoped handle asks the cache and notes its scope on the entry */
    int in_scope = sh->root != sh;
    uint64_t scope = sh->scope;
    sh = sh->root;
    pthread_mutex_lock(&sh->mu);
    struct mb_shared_entry *e;
    int waited = 0;
    while ((e = find(sh, key)) && e->state == E_PENDING) {
        waited = 1;
        pthread_cond_wait(&sh->cv, &sh->mu);
    }
    if (e) {
        e->refs++;
        e->used = ++sh->tick;
        if (in_scope && e->scoped)
            add_scope(e, scope);
        sh->st.hits++;
        sh->st.waits += (size_t)waited;
        pthread_mutex_unlock(&sh->mu);
        ref->val = e->val;
        ref->e = e;
        return MB_OK;
    }
    e = calloc(1, sizeof *e);
    if (!e || !(e->key = strdup(key))) {
        free(e);
        pthread_mutex_unlock(&sh->mu);
        return mb_error(MB_ENOMEM, "out of memory for a shared-work entry");
    }
    e->state = E_PENDING;
    e->destroy = destroy;
    if (in_scope) {
        e->scoped = 1;
        add_scope(e, scope);
    }
    e->next = sh->head;
    sh->head = e;
    sh->st.misses++;
    pthread_mutex_unlock(&sh->mu);

    void *v = NULL;
    size_t b = 0;
    int rc = make(&v, &b, ctx);

    pthread_mutex_lock(&sh->mu);
    if (rc) {
        /* abandoned: whoever waits for it computes it (and reports its own error) */
        unlink_entry(sh, e);
        free(e->scopes);
        free(e->key);
        free(e);
    } else {
        e->val = v;
        e->bytes = b;
        e->state = E_READY;
        e->refs = 1;
        e->used = ++sh->tick;
        sh->bytes += b;
        sh->st.entries++;
        ref->val = v;
        ref->e = e;
        evict(sh);
    }
    pthread_cond_broadcast(&sh->cv);
    pthread_mutex_unlock(&sh->mu);
    return rc;
}

void mb_shared_unref(struct mb_shared *sh, struct mb_shared_ref *ref)
{
    if (ref->own) {
        if (ref->destroy)
            ref->destroy(ref->own);
    } else if (sh && ref->e) {
        sh = sh->root;
        pthread_mutex_lock(&sh->mu);
        struct mb_shared_entry *e = ref->e;
        e->refs--;
        /* every scope that asked for it has ended while it was held */
        if (!e->refs && e->scoped && !e->n_scopes)
            drop(sh, e, &sh->st.released);
        evict(sh);
        pthread_mutex_unlock(&sh->mu);
    }
    memset(ref, 0, sizeof *ref);
}

struct mb_shared *mb_shared_root(struct mb_shared *sh)
{
    return sh ? sh->root : NULL;
}

void mb_shared_end_scope(struct mb_shared *sh, uint64_t scope)
{
    if (!sh)
        return;
    sh = sh->root;
    pthread_mutex_lock(&sh->mu);
    for (struct mb_shared_entry *e = sh->head, *n; e; e = n) {
        n = e->next;
        for (size_t i = 0; i < e->n_scopes; i++)
            if (e->scopes[i] == scope) {
                e->scopes[i] = e->scopes[--e->n_scopes];
                break;
            }
        if (e->state == E_READY && !e->refs && e->scoped && !e->n_scopes)
            drop(sh, e, &sh->st.released);
    }
    pthread_mutex_unlock(&sh->mu);
}

void mb_shared_stats(struct mb_shared_stats *st, struct mb_shared *sh)
{
    memset(st, 0, sizeof *st);
    if (!sh)
        return;
    sh = sh->root;
    pthread_mutex_lock(&sh->mu);
    *st = sh->st;
    st->bytes = sh->bytes;
    pthread_mutex_unlock(&sh->mu);
}

int mb_shared_set_dir(struct mb_shared *sh, const char *dir)
{
    sh = sh->root;
    char *d = dir ? strdup(dir) : NULL;
    if (dir && !d)
        return mb_error(MB_ENOMEM, "out of memory");
    free(sh->dir);
    sh->dir = d;
    return MB_OK;
}

const char *mb_shared_dir(const struct mb_shared *sh)
{
    return sh ? sh->root->dir : NULL;
}
