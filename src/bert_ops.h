/* bert_ops.h: private to the model (bert.c) and its heads (heads.c): the table
 * of kernels a model runs on (reference, fast fp32, bf16 or int8) and the dropout
 * mask draw, so that a head runs on the same kernels as the encoder under it.
 * Not API: nothing outside bert.c, heads.c and ops_ref.c (the reference
 * table, for tests) includes it. */
#ifndef BERTC_BERT_OPS_H
#define BERTC_BERT_OPS_H

#include <stdint.h>
#include "bert.h"

typedef struct bert_ops {
    void (*embeddings_forward)(float *, const int *, const int *, const float *, const float *,
                               const float *, int, int, int);
    void (*embeddings_backward)(float *, float *, float *, const float *, const int *,
                                const int *, int, int, int);
    void (*layernorm_forward)(float *, float *, float *, const float *, const float *,
                              const float *, float, int, int);
    void (*layernorm_backward)(float *, float *, float *, const float *, const float *,
                               const float *, const float *, const float *, int, int);
    /* the matrix products take the model's bf16 state first (bert_model.bf16;
     * the fp32 kernel sets ignore it) */
    void (*matmul_forward)(struct bf16_state *, float *, const float *, const float *, const float *, int, int,
                           int);
    void (*matmul_backward)(struct bf16_state *, float *, float *, float *, const float *, const float *,
                            const float *, int, int, int);
    void (*gelu_forward)(float *, const float *, size_t);
    void (*gelu_backward)(float *, const float *, const float *, size_t);
    /* Optional (NULL: gelu_forward then gelu_backward): the backward's GELU
     * recompute that also keeps gelu', and the gradient from it, bit for bit
     * gelu_forward and gelu_backward into a zeroed dinp (ops_cpu.h). */
    void (*gelu_forward_keep_grad)(float *, float *, const float *, size_t);
    void (*gelu_backward_from_grad)(float *, const float *, size_t);
    void (*dropout_forward)(float *, const float *, const uint8_t *, float, size_t);
    void (*dropout_backward)(float *, const float *, const uint8_t *, float, size_t);
    void (*residual_layernorm_forward)(float *, float *, float *, float *, const float *,
                                       const float *, const uint8_t *, float, const float *,
                                       const float *, float, int, int);
    /* attention takes the bf16 state first too: bf16 runs its products there */
    void (*attention_forward)(struct bf16_state *, float *, float *, const uint8_t *, float, const float *,
                              const int *, float *, int, int, int, int, int);
    void (*attention_backward)(struct bf16_state *, float *, const float *, const float *, const float *,
                               const uint8_t *, float, float *, int, int, int, int, int);
    void (*pooler_forward)(float *, const float *, const float *, const float *, int, int, int);
    void (*pooler_backward)(float *, float *, float *, const float *, const float *,
                            const float *, const float *, int, int, int);
    /* The encoder's four dense layers (QKV, attention output, FFN in and out)
     * run dense_*; the pooler and the heads run matmul_*. In fp32 both are the
     * same kernels; in bf16 and int8 only the encoder's dense layers are
     * reduced, and the heads' products (a few columns: negligible time) stay
     * fp32, so a head whose logits cancel (large weights centred by the bias)
     * keeps fp32's logits (docs/numerics.md). */
    void (*dense_forward)(struct bf16_state *, float *, const float *, const float *, const float *, int, int,
                          int);
    void (*dense_gelu_forward)(struct bf16_state *, float *, float *, const float *, const float *,
                               const float *, int, int, int);
    void (*dense_backward)(struct bf16_state *, float *, float *, float *, const float *, const float *,
                           const float *, int, int, int);
} bert_ops;

/* The kernels model m runs on (ops, else precision). */
const bert_ops *bert_ops_of(const bert_model *m);

/* Draws a keep mask into keep when dropout is on (rng) and p > 0, and returns
 * it; else returns NULL (no dropout). */
const uint8_t *bert_draw_mask(uint8_t *keep, bertc_rng *rng, float p, size_t n);

/* The mask of the last forward when it drew one for probability p, else NULL. */
#define BERT_KEPT(m, keep, p) (((m)->dropout_on && (p) > 0.0f) ? (keep) : NULL)

#endif /* BERTC_BERT_OPS_H */
