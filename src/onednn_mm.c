/* onednn_mm.c: kept oneDNN matmul primitives (see onednn_mm.h). */
#include "onednn_mm.h"

#include <stdlib.h>

/* Destroys what q holds (any part may be missing: a half-built one) and q. */
static void mm_free(onednn_mm *q) {
    if (q->p) dnnl_primitive_destroy(q->p);
    if (q->src) dnnl_memory_destroy(q->src);
    if (q->wei) dnnl_memory_destroy(q->wei);
    if (q->bias) dnnl_memory_destroy(q->bias);
    if (q->dst) dnnl_memory_destroy(q->dst);
    free(q);
}

onednn_mm *onednn_mm_find(const onednn_mm_list *l, int kind, int M, int N, int K) {
    for (onednn_mm *q = l->head; q; q = q->next)
        if (q->kind == kind && q->M == M && q->N == N && q->K == K) return q;
    return NULL;
}

onednn_mm *onednn_mm_add(onednn_mm_list *l, int kind, int M, int N, int K, const dnnl_memory_desc_t *ad,
                         const dnnl_memory_desc_t *wd, const dnnl_memory_desc_t *bd, const dnnl_memory_desc_t *cd,
                         const dnnl_matmul_desc_t *md, const_dnnl_primitive_attr_t attr, dnnl_engine_t eng) {
    if (l->n >= ONEDNN_MM_MAX) onednn_mm_clear(l);
    onednn_mm *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    q->kind = kind, q->M = M, q->N = N, q->K = K;
    dnnl_primitive_desc_t pd = NULL;
    int ok = dnnl_primitive_desc_create(&pd, md, attr, eng, NULL) == dnnl_success &&
             dnnl_primitive_create(&q->p, pd) == dnnl_success &&
             dnnl_memory_create(&q->src, ad, eng, DNNL_MEMORY_NONE) == dnnl_success &&
             dnnl_memory_create(&q->wei, wd, eng, DNNL_MEMORY_NONE) == dnnl_success &&
             dnnl_memory_create(&q->dst, cd, eng, DNNL_MEMORY_NONE) == dnnl_success &&
             (!bd || dnnl_memory_create(&q->bias, bd, eng, DNNL_MEMORY_NONE) == dnnl_success);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (!ok) {
        mm_free(q);
        return NULL;
    }
    q->next = l->head;
    l->head = q;
    l->n++;
    return q;
}

int onednn_mm_run(onednn_mm *q, dnnl_stream_t stream, const void *src, const void *wei, const void *bias, void *dst) {
    dnnl_memory_set_data_handle(q->src, (void *)src);
    dnnl_memory_set_data_handle(q->wei, (void *)wei);
    dnnl_memory_set_data_handle(q->dst, dst);
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, q->src}, {DNNL_ARG_WEIGHTS, q->wei}, {DNNL_ARG_DST, q->dst}};
    int nargs = 3;
    if (q->bias) {
        dnnl_memory_set_data_handle(q->bias, (void *)bias);
        args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, q->bias};
    }
    if (dnnl_primitive_execute(q->p, stream, nargs, args) != dnnl_success || dnnl_stream_wait(stream) != dnnl_success)
        return -1;
    return 0;
}

void onednn_mm_clear(onednn_mm_list *l) {
    while (l->head) {
        onednn_mm *q = l->head;
        l->head = q->next;
        mm_free(q);
    }
    l->n = 0;
}
