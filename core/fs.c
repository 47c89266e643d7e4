/* core/fs.c - temporary names, output checks, atomic commit, mkdir -p,
 * SHA-256 (libcrypto). */
#include "core/fs.h"

#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The hidden stem of the temporary names of 'base': ".<base>" or, for a
 * long base, ".<first bytes>~<12 hex of SHA-256(base)>"; 'stem' holds
 * MB_FS_TMP_BASE_MAX + 2 bytes. */
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
