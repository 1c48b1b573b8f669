/* common.h: what every bertc module shares: error reporting on a bertc_err,
 * checked number parsing for values that come from outside (files, flags, HTTP),
 * overflow-checked size arithmetic and small file helpers.
 *
 * It does not allocate hidden state and never prints. */
#ifndef BERTC_COMMON_H
#define BERTC_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include "../include/bertc.h"

/* Records code and a printf-formatted message on err (if err is not NULL) and
 * returns code, so callers can write `return bertc_fail(err, BERTC_ERR_IO, ...)`.
 * An earlier message on err is replaced. */
int bertc_fail(bertc_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the message already on err with "prefix: " (for adding the file name
 * or the calling context). Returns err->code. */
int bertc_err_prefix(bertc_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Checked conversions: the whole string must be a number within [lo, hi].
 * Return 0 on success, -1 on anything else (empty, junk, overflow, out of range). */
int bertc_parse_long(const char *s, long lo, long hi, long *out);
int bertc_parse_double(const char *s, double lo, double hi, double *out);

/* *out = a * b, or returns -1 when it would overflow size_t. */
int bertc_mul_size(size_t a, size_t b, size_t *out);
/* *out = a + b, or returns -1 when it would overflow size_t. */
int bertc_add_size(size_t a, size_t b, size_t *out);

/* Scratch that grows: buf (NULL at first) holds *cap bytes; returned is buf
 * itself when it holds at least bytes, else a new 64-byte aligned block of at
 * least bytes (buf freed, its contents not kept; *cap updated), or NULL when
 * out of memory (buf freed, *cap 0). BERTC_SCRATCH(buf, cap, n) makes buf hold
 * n elements of its type and yields it. */
void *bertc_scratch(void *buf, size_t *cap, size_t bytes);

/* n > 0: OpenMP's and OpenBLAS's thread counts become n (the API's `threads`
 * fields); 0 leaves the caller's alone. */
void bertc_set_threads(int n);
#define BERTC_SCRATCH(buf, cap, n) ((buf) = bertc_scratch((buf), &(cap), (size_t)(n) * sizeof *(buf)))

/* Reads a whole file into a NUL-terminated malloc'd buffer (*len excludes the NUL).
 * Refuses files larger than max_bytes. The caller frees *out. */
int bertc_read_file(const char *path, size_t max_bytes, char **out, size_t *len,
                    bertc_err *err);

/* Reads path (at most max_bytes) as one JSON value, strictly: the whole file
 * must parse (a NUL byte or trailing junk is an error). *out (the caller
 * cJSON_Deletes it) is set on success only; BERTC_ERR_FORMAT names the file and
 * the byte where parsing stopped. */
struct cJSON;
int bertc_json_read(struct cJSON **out, const char *path, size_t max_bytes, bertc_err *err);

/* The first key that occurs twice among obj's members (Python's json keeps the
 * last of duplicate keys, cJSON finds the first: readers refuse them rather than
 * disagree), or NULL when all are distinct or on out of memory (*nomem = 1).
 * O(n log n). */
const char *bertc_json_duplicate_key(const struct cJSON *obj, int *nomem);

/* UTF-8 (decoded by utf8proc): the offset of the first byte of s[0..len) that
 * does not start a well-formed sequence (overlongs, surrogates and code points
 * above U+10FFFF are ill-formed; NUL is not), or len when all of it is
 * well-formed. bertc_utf8_valid: 1 when it is. */
size_t bertc_utf8_invalid_at(const char *s, size_t len);
int bertc_utf8_valid(const char *s, size_t len);

/* "[d0, d1, ...]", as safetensors and PyTorch print shapes, into out (cap bytes,
 * cut short when it does not fit). */
void bertc_shape_str(char *out, size_t cap, const int64_t *shape, int rank);

/* Writes len bytes to path atomically: path.tmp.PID is written, fsync'd and
 * renamed over path, then the parent directory is fsync'd. On failure path is
 * untouched and the temporary file removed. */
int bertc_write_file_atomic(const char *path, const void *data, size_t len,
                            bertc_err *err);

/* fsyncs a directory (after a rename into it). */
int bertc_fsync_dir(const char *dir, bertc_err *err);

/* Joins dir and name with one '/' into out (capacity cap). Returns -1 if it does not fit. */
int bertc_path_join(char *out, size_t cap, const char *dir, const char *name);

/* rm -r path: a file, a link (never followed) or a folder with everything
 * under it. A missing path is success. Goes on past an entry it cannot remove
 * and returns -1 with errno of the first failure, else 0. */
int bertc_rmtree(const char *path);

/* 1 if path names an existing directory / regular file, else 0. */
int bertc_is_dir(const char *path);
int bertc_is_file(const char *path);

#endif /* BERTC_COMMON_H */
