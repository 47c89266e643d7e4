/* core/fs.c - temporary names (and their removal on signals and after a
 * crash), output checks, atomic commit, mkdir -p, SHA-256 (libcrypto). */
#include "core/fs.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The hidden stem of the temporary names of 'base': ".<base>" or, for a
 * long base, ".<first bytes>~<12 hex of SHA-256(base)>"; 'stem' holds
 * MB_FS_TMP_BASE_MAX + 2 bytes. The same for every PID, so stale files of
 * dead processes are found by it. */
static void tmp_stem(char *stem, const char *base)
{
    size_t n = strlen(base);
    if (n <= MB_FS_TMP_BASE_MAX) {
        stem[0] = '.';
        memcpy(stem + 1, base, n + 1);
        return;
    }
    char hex[65];
    mb_sha256_hex(hex, base, n);
    size_t keep = MB_FS_TMP_BASE_MAX - 13;   /* room for "~" and 12 hex digits */
    /* Do not cut a UTF-8 character in two: back off over continuation bytes. */
    while (keep > 0 && ((unsigned char)base[keep] & 0xC0) == 0x80)
        keep--;
    snprintf(stem, MB_FS_TMP_BASE_MAX + 2, ".%.*s~%.12s", (int)keep, base, hex);
}

int mb_fs_tmpname(char *tmp, size_t cap, const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    char stem[MB_FS_TMP_BASE_MAX + 2];
    tmp_stem(stem, base);
    int n;
    if (slash)
        n = snprintf(tmp, cap, "%.*s/%s.part-%ld", (int)(slash - path), path, stem, (long)getpid());
    else
        n = snprintf(tmp, cap, "%s.part-%ld", stem, (long)getpid());
    if (n < 0 || (size_t)n >= cap)
        return mb_error(MB_EINVAL, "'%s': path too long", path);
    return MB_OK;
}

/* Folder part of 'path' into 'dir' ("." without a slash, "/" for "/x"). */
static int parent_dir(char *dir, size_t cap, const char *path)
{
    const char *slash = strrchr(path, '/');
    int n = !slash ? snprintf(dir, cap, ".")
          : slash == path ? snprintf(dir, cap, "/")
          : snprintf(dir, cap, "%.*s", (int)(slash - path), path);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int mb_fs_check_output(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
        return mb_error(MB_EIO, "cannot write '%s': not a file name", path);
    if (mb_fs_is_dir(path))
        return mb_error(MB_EIO, "cannot write '%s': it is a folder (give a file name, e.g. '%s/out.h5')", path, path);
    if (strlen(base) > NAME_MAX)
        return mb_error(MB_EIO, "cannot write '%s': %s (%zu bytes, the limit is %d)", path,
                        strerror(ENAMETOOLONG), strlen(base), NAME_MAX);
    if (parent_dir(dir, sizeof dir, path) != 0)
        return mb_error(MB_EIO, "cannot write '%s': %s", path, strerror(ENAMETOOLONG));
    struct stat st;
    if (stat(dir, &st) != 0)
        return mb_error(MB_EIO, "cannot write '%s': folder '%s': %s", path, dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return mb_error(MB_EIO, "cannot write '%s': '%s' is not a folder", path, dir);
    if (access(dir, W_OK | X_OK) != 0)
        return mb_error(MB_EIO, "cannot write '%s': folder '%s': %s", path, dir, strerror(errno));
    return MB_OK;
}

int mb_fs_remove_stale_tmp(const char *path)
{
    char dir[PATH_MAX], stem[MB_FS_TMP_BASE_MAX + 16];
    if (parent_dir(dir, sizeof dir, path) != 0)
        return 0;
    const char *slash = strrchr(path, '/');
    tmp_stem(stem, slash ? slash + 1 : path);
    strcat(stem, ".part-");
    size_t sn = strlen(stem);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int removed = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *name = de->d_name;
        if (strncmp(name, stem, sn) != 0)
            continue;
        const char *digits = name + sn;
        size_t nd = strspn(digits, "0123456789");
        if (nd == 0 || nd > 10 || digits[nd] != '\0')
            continue;
        long pid = strtol(digits, NULL, 10);
        /* EPERM means the process exists (another user's): leave it. */
        if (pid <= 0 || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        char full[PATH_MAX + 256];
        snprintf(full, sizeof full, "%s/%s", dir, name);
        if (unlink(full) == 0) {
            removed++;
            mb_warn("removed '%s', left by process %ld, which no longer runs (killed or crashed)", full, pid);
        } else if (errno != ENOENT) {
            mb_warn("cannot remove '%s', left by process %ld, which no longer runs: %s", full, pid, strerror(errno));
        }
    }
    closedir(d);
    return removed;
}

/* ---- temporary files removed on SIGINT / SIGTERM / SIGHUP ---------------
 * The handler may run at any instruction of any thread, so it only reads
 * static buffers: a slot's path is complete before its flag is raised, and
 * the flag is lowered before the path changes. */

static char tracked[MB_FS_TRACK_MAX][PATH_MAX];
static volatile sig_atomic_t tracked_on[MB_FS_TRACK_MAX];
static pthread_mutex_t tracked_lock = PTHREAD_MUTEX_INITIALIZER;

void mb_fs_track_tmp(const char *tmp)
{
    size_t n = strlen(tmp);
    if (n >= PATH_MAX)
        return;
    pthread_mutex_lock(&tracked_lock);
    for (int i = 0; i < MB_FS_TRACK_MAX; i++)
        if (!tracked_on[i]) {
            memcpy(tracked[i], tmp, n + 1);
            atomic_signal_fence(memory_order_seq_cst);
            tracked_on[i] = 1;
            break;
        }
    pthread_mutex_unlock(&tracked_lock);
}

void mb_fs_untrack_tmp(const char *tmp)
{
    pthread_mutex_lock(&tracked_lock);
    for (int i = 0; i < MB_FS_TRACK_MAX; i++)
        if (tracked_on[i] && !strcmp(tracked[i], tmp)) {
            tracked_on[i] = 0;
            atomic_signal_fence(memory_order_seq_cst);
        }
    pthread_mutex_unlock(&tracked_lock);
}

static void on_fatal_signal(int sig)
{
    for (int i = 0; i < MB_FS_TRACK_MAX; i++)
        if (tracked_on[i])
            unlink(tracked[i]);
    /* The signal is blocked while its handler runs: the re-raised one is
     * delivered, with the default action, as soon as this returns. */
    signal(sig, SIG_DFL);
    raise(sig);
}

int mb_fs_cleanup_on_signals(void)
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
        struct sigaction sa, old;
        /* A signal the caller's parent ignores (nohup, a shell's background
         * job and SIGINT) stays ignored. */
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
            continue;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_fatal_signal;
        sigemptyset(&sa.sa_mask);
        if (sigaction(sigs[i], &sa, NULL) != 0)
            return mb_error(MB_EIO, "cannot install the handler of signal %d: %s", sigs[i], strerror(errno));
    }
    return MB_OK;
}

int mb_fs_commit(const char *tmp, const char *path)
{
    if (rename(tmp, path) != 0)
        return mb_error(MB_EIO, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
    return MB_OK;
}

int mb_fs_mkdirs(const char *dir)
{
    char buf[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof buf)
        return mb_error(MB_EINVAL, "'%s': bad directory name", dir);
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return mb_error(MB_EIO, "cannot create directory '%s': %s", buf, strerror(errno));
            buf[i] = c;
        }
    }
    if (!mb_fs_is_dir(dir))
        return mb_error(MB_EIO, "'%s' exists and is not a directory", dir);
    return MB_OK;
}

static void to_hex(char hex[65], const unsigned char *md)
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
}

int mb_fs_sha256(char hex[65], uint64_t *bytes, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return mb_error(MB_EIO, "cannot open '%s': %s", path, strerror(errno));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        fclose(f);
        EVP_MD_CTX_free(ctx);
        return mb_error(MB_ENOMEM, "cannot start SHA-256 for '%s'", path);
    }
    unsigned char buf[1 << 16];
    uint64_t total = 0;
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        EVP_DigestUpdate(ctx, buf, n);
        total += n;
    }
    int rerr = ferror(f);
    fclose(f);
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    if (rerr)
        return mb_error(MB_EIO, "read error on '%s'", path);
    to_hex(hex, md);
    if (bytes)
        *bytes = total;
    return MB_OK;
}

void mb_sha256_hex(char hex[65], const void *data, size_t n)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(data, n, md, &mdlen, EVP_sha256(), NULL);
    to_hex(hex, md);
}

int mb_fs_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int mb_fs_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}
