/* core/fs.h - file-system helpers shared by every writer: the
 * temporary-name-then-rename discipline, directory creation, hashing. */
#ifndef MB_CORE_FS_H
#define MB_CORE_FS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Writes into 'tmp' (of size 'cap') the temporary name under which 'path'
 * is built: "<dir>/.<base>.part-<pid>". The name is in the same directory,
 * so the final rename() is atomic, and it starts with a dot so a
 * half-written file never looks like an output. A base longer than
 * MB_FS_TMP_BASE_MAX bytes is shortened to its first bytes (cut on a UTF-8
 * character boundary), '~' and 12 hex digits of its SHA-256, so the
 * temporary name stays under NAME_MAX (255) whatever the output's length. */
#define MB_FS_TMP_BASE_MAX 200
int mb_fs_tmpname(char *tmp, size_t cap, const char *path) MB_MUST_CHECK;

/* Checks, before any work is done, that 'path' can become an output file:
 * not an existing folder, a name that fits NAME_MAX, in a folder that
 * exists and is writable. MB_EIO with the reason (and the errno text)
 * otherwise. */
int mb_fs_check_output(const char *path) MB_MUST_CHECK;

/* Removes the temporary files of 'path' (the names mb_fs_tmpname gives for
 * any PID) left behind by processes that no longer exist (kill -9, a
 * crash, a power cut), with a warning naming each. Those of live processes
 * and of this one are left alone. Returns how many were removed. A PID is
 * "no longer running" when kill(pid, 0) fails with ESRCH, as seen from this
 * process's PID namespace. */
int mb_fs_remove_stale_tmp(const char *path);

/* Temporary files removed if the process is stopped by SIGINT, SIGTERM or
 * SIGHUP. A writer tracks its temporary file from creation until it is
 * committed or removed; up to MB_FS_TRACK_MAX at once (more are simply not
 * tracked). Thread-safe. The handlers are installed only by
 * mb_fs_cleanup_on_signals(): a command that writes outputs calls it once.
 * The handler unlinks every tracked file (async-signal-safe: the paths sit
 * in static buffers), then re-raises the signal with its default action, so
 * the exit status still says "killed by signal". */
#define MB_FS_TRACK_MAX 8
void mb_fs_track_tmp(const char *tmp);
void mb_fs_untrack_tmp(const char *tmp);
int  mb_fs_cleanup_on_signals(void) MB_MUST_CHECK;

/* Renames 'tmp' onto 'path' (atomic on POSIX) and fsyncs nothing else. */
int mb_fs_commit(const char *tmp, const char *path) MB_MUST_CHECK;

/* mkdir -p; existing directories are fine. */
int mb_fs_mkdirs(const char *dir) MB_MUST_CHECK;

/* SHA-256 of a whole file as 64 lower-case hex characters plus NUL;
 * 'bytes' (may be NULL) receives the file size. */
int mb_fs_sha256(char hex[65], uint64_t *bytes, const char *path) MB_MUST_CHECK;

/* SHA-256 of a memory block, hex as above. */
void mb_sha256_hex(char hex[65], const void *data, size_t n);

/* 1 if 'path' exists and is a regular file / a directory, else 0. */
int mb_fs_is_file(const char *path);
int mb_fs_is_dir(const char *path);

#endif
