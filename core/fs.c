/* core/fs.c - temporary names, atomic commit, mkdir -p, SHA-256 (libcrypto). */
#include "core/fs.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int mb_fs_tmpname(char *tmp, size_t cap, const char *path)
{
    const char *slash = strrchr(path, '/');
    int n;
    if (slash)
        n = snprintf(tmp, cap, "%.*s/.%s.part-%ld", (int)(slash - path), path, slash + 1, (long)getpid());
    else
        n = snprintf(tmp, cap, ".%s.part-%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= cap)
        return mb_error(MB_EINVAL, "'%s': path too long", path);
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
