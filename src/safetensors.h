/* safetensors.h: a validated reader and a streaming writer for the safetensors
 * format (Hugging Face's model.safetensors).
 *
 * Layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON mapping
 * tensor names to {"dtype", "shape", "data_offsets": [begin, end]} (offsets
 * relative to the data section) plus an optional "__metadata__" of string to
 * string, then the data section.
 *
 * st_open validates everything before anything is used, and rejects (status
 * BERTC_ERR_FORMAT, message naming the file and the problem): a file shorter than
 * 8 bytes; N >= 100,000,000 or past the end of the file; a header that is not
 * valid UTF-8 or not one JSON object; duplicate keys (anywhere in the header);
 * an entry without a known dtype, a shape of non-negative integers or two
 * data_offsets; a byte count other than dtype size x product of the shape
 * (overflow-checked); ranges that, sorted by begin, do not tile the data section
 * from 0 with no gap and no overlap; bytes after the last tensor; a __metadata__
 * that is not string to string.
 *
 * What it does not do: big-endian hosts (refused at compile time), sharded
 * checkpoints (model-0000N-of-M.safetensors), quantised dtypes.
 *
 * Memory: the file is memory-mapped read-only; st_tensor.data points into the
 * mapping and is valid until st_close. Data may be unaligned: read it through
 * st_tensor_to_f32 or memcpy. Names are owned by the st_file.
 *
 *     st_file *f = NULL;
 *     if (st_open(&f, "model.safetensors", &err) != BERTC_OK) ...
 *     const st_tensor *t = st_find(f, "embeddings.word_embeddings.weight");
 *     if (t && st_tensor_to_f32(wte, V * C, f, t, &err) != BERTC_OK) ...
 *     st_close(f);
 *
 *     st_entry e[] = {{"w", ST_F32, 2, {3, 4}, w}};   // writer: raw little-endian bytes
 *     st_write("out.safetensors", e, 1, &err);
 */
#ifndef BERTC_SAFETENSORS_H
#define BERTC_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>
#include "common.h"

#define ST_MAX_RANK 8                     /* more dimensions than this are rejected */
#define ST_MAX_HEADER 100000000ULL        /* the reference reader's limit (exclusive) */

typedef enum st_dtype {
    ST_BOOL, ST_U8, ST_I8, ST_F8_E5M2, ST_F8_E4M3,
    ST_I16, ST_U16, ST_F16, ST_BF16,
    ST_I32, ST_U32, ST_F32,
    ST_I64, ST_U64, ST_F64,
    ST_NUM_DTYPES
} st_dtype;

/* "F32", "BF16", ...; "?" for a value out of range. */
const char *st_dtype_name(int dtype);
/* Bytes per element (1, 2, 4 or 8); 0 for a value out of range. */
size_t st_dtype_size(int dtype);

typedef struct st_tensor {
    const char *name;              /* owned by the st_file */
    int dtype;                     /* an st_dtype */
    int rank;                      /* 0..ST_MAX_RANK (0: a scalar, 1 element) */
    int64_t shape[ST_MAX_RANK];    /* dimensions, outermost first */
    size_t numel;                  /* product of shape */
    size_t nbytes;                 /* numel * st_dtype_size(dtype) */
    size_t offset;                 /* begin of the data, relative to the data section */
    const void *data;              /* nbytes bytes inside the mapping (may be unaligned) */
} st_tensor;

typedef struct st_file st_file;    /* opaque: an open, validated file */

/* Opens and validates path. On success *out is a handle for st_close. */
int st_open(st_file **out, const char *path, bertc_err *err);
/* Unmaps and frees. Harmless on NULL. */
void st_close(st_file *f);

/* The path it was opened with. */
const char *st_path(const st_file *f);
/* Number of tensors (not counting __metadata__). */
int st_num_tensors(const st_file *f);
/* The i-th tensor in the header's order, or NULL when i is out of range. */
const st_tensor *st_tensor_at(const st_file *f, int i);
/* The tensor named name, or NULL (O(log n)). */
const st_tensor *st_find(const st_file *f, const char *name);
/* The __metadata__ value for key, or NULL. */
const char *st_metadata(const st_file *f, const char *key);
/* Header length N (bytes of JSON) and size of the data section in bytes. */
size_t st_header_len(const st_file *f);
size_t st_data_len(const st_file *f);

/* Converts tensor t (F32, F16 or BF16) of file f into n floats at dst, exactly:
 * F16 including subnormals, infinities and NaN; BF16 by shifting into the high
 * half. Fails (naming the file and tensor) when t does not hold n elements
 * (BERTC_ERR_FORMAT) or has another dtype (BERTC_ERR_UNSUPPORTED). */
int st_tensor_to_f32(float *dst, size_t n, const st_file *f, const st_tensor *t, bertc_err *err);

/* Single-value conversions used by st_tensor_to_f32. */
float st_f16_to_f32(uint16_t h);
float st_bf16_to_f32(uint16_t b);

/* ---- Writer ---- */

typedef struct st_entry {
    const char *name;              /* unique, not "__metadata__" */
    int dtype;                     /* an st_dtype */
    int rank;                      /* 0..ST_MAX_RANK */
    int64_t shape[ST_MAX_RANK];    /* non-negative dimensions */
    const void *data;              /* numel * dtype size bytes, little-endian */
} st_entry;

/* Writes n tensors to path (created or truncated) in the given order, with
 * __metadata__ {"format": "pt"} and the header padded with spaces to a multiple
 * of 8 bytes as the reference writer does. The data is streamed from the
 * callers' buffers (no copy of the weights), then the file is fsync'd.
 * On failure the partly written file is removed. */
int st_write(const char *path, const st_entry *entries, int n, bertc_err *err);

#endif /* BERTC_SAFETENSORS_H */
