/* onednn_mm.h: the oneDNN matmul primitives that ops_bf16.c and ops_int8.c
 * keep, one per kind and shape, each with the memory objects it runs on; a
 * list of them that its owner bounds and frees. Internal (not API).
 *
 * What differs between the two (data types, layouts, bias, the sum post-op)
 * stays with the caller, which describes the product; this module creates,
 * finds, runs and destroys. It never prints and never exits: a failure is NULL
 * or -1, and the caller then computes the product with its portable loops.
 *
 *   onednn_mm_list l = {0};
 *   onednn_mm *q = onednn_mm_find(&l, kind, M, N, K);
 *   if (!q) q = onednn_mm_add(&l, kind, M, N, K, &ad, &wd, NULL, &cd, &md, attr, eng);
 *   if (!q || onednn_mm_run(q, stream, A, W, NULL, C) != 0) ...portable...
 *   onednn_mm_clear(&l);
 */
#ifndef BERTC_ONEDNN_MM_H
#define BERTC_ONEDNN_MM_H

#include <oneapi/dnnl/dnnl.h>

typedef struct onednn_mm {
    int kind, M, N, K;                 /* the caller's kind; C (M, N) = A (M, K) x B (K, N) */
    dnnl_primitive_t p;
    dnnl_memory_t src, wei, bias, dst; /* bias NULL when the product has none */
    struct onednn_mm *next;
} onednn_mm;

typedef struct onednn_mm_list {
    onednn_mm *head;
    int n;
} onednn_mm_list;

/* Shapes seen are kept; a server seeing every batch length would collect up to
 * Bmax x Tmax of them, so past ONEDNN_MM_MAX the list starts over. */
#define ONEDNN_MM_MAX 512

/* The kept primitive of this kind and shape, or NULL. */
onednn_mm *onednn_mm_find(const onednn_mm_list *l, int kind, int M, int N, int K);

/* Creates md's primitive (attr may be NULL) on eng and its memory objects
 * (src ad, weights wd, bias bd when not NULL, dst cd), with no data handles
 * yet, and keeps it first in l (emptied first when it holds ONEDNN_MM_MAX).
 * NULL when oneDNN refuses or memory runs out (nothing is kept then). */
onednn_mm *onednn_mm_add(onednn_mm_list *l, int kind, int M, int N, int K, const dnnl_memory_desc_t *ad,
                         const dnnl_memory_desc_t *wd, const dnnl_memory_desc_t *bd, const dnnl_memory_desc_t *cd,
                         const dnnl_matmul_desc_t *md, const_dnnl_primitive_attr_t attr, dnnl_engine_t eng);

/* Runs q on stream over these buffers (bias read only when q has one) and
 * waits for it: 0, or -1 when oneDNN refused (it validates before writing dst). */
int onednn_mm_run(onednn_mm *q, dnnl_stream_t stream, const void *src, const void *wei, const void *bias, void *dst);

/* Destroys every primitive of l and empties it. */
void onednn_mm_clear(onednn_mm_list *l);

#endif /* BERTC_ONEDNN_MM_H */
