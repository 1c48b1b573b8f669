/* ops_ref.h: the reference kernels of BERT, forward and backward, written as
 * plainly as possible (one loop nest per op, no threads, no BLAS). They define
 * what each op means; the fast kernels in ops_cpu.h have the same signatures and
 * are tested against these (tests/test_ops.c), and the whole model can run on
 * them (bert_model.ops = &bert_ops_ref) so tests can compare end to end.
 * Only tests and benchmarks link ops_ref.o: it is not in libbertc (Makefile),
 * and nothing in src/ calls it. The production twins of the small sequential
 * ops below (mask drawing, softmax, cross-entropy) are cpu_* in ops_cpu.h.
 *
 * Conventions (after karpathy/llm.c): outputs first, then inputs, then weights,
 * then dimensions. Every backward *accumulates* (+=) into its d-prefixed outputs,
 * so the caller zeroes them first. N is a number of rows (usually B*T). Weight
 * matrices are PyTorch nn.Linear layout (OC, C): y = x W^T + b.
 *
 * Dropout is "inverted": a kept element is scaled by 1/(1-p). The keep masks are
 * uint8 (1 keep, 0 drop) drawn from a bertc_rng by rng.h's block scheme
 * (ref_dropout_mask one block after another, cpu_dropout_mask the blocks over
 * the threads), so every path, at any thread count, draws the same masks. A NULL
 * keep mask means no dropout (eval mode).
 *
 * Nothing here allocates, prints or fails; the caller checks dimensions.
 */
#ifndef BERTC_OPS_REF_H
#define BERTC_OPS_REF_H

#include <stddef.h>
#include <stdint.h>
#include "rng.h"
#include "ops_cpu.h" /* BERT_MASK_VALUE */


/* out[b,t,:] = wte[ids[b,t]] + wtt[tt[b,t]] + wpe[t], in that order (as HF sums).
 * tt may be NULL (all type 0). */
void ref_embeddings_forward(float *out,       /* (B,T,C) */
                            const int *ids,   /* (B,T) in [0,V) */
                            const int *tt,    /* (B,T) in [0,TT), or NULL */
                            const float *wte, /* (V,C) */
                            const float *wpe, /* (P,C), P >= T */
                            const float *wtt, /* (TT,C) */
                            int B, int T, int C);
void ref_embeddings_backward(float *dwte, float *dwpe, float *dwtt, /* as the weights */
                             const float *dout,                     /* (B,T,C) */
                             const int *ids, const int *tt, int B, int T, int C);

/* LayerNorm over the last dimension: out = (x - mean) * rstd * w + b with
 * rstd = 1/sqrt(var + eps), var the biased variance. mean and rstd are saved for
 * the backward (either may be NULL in the forward when not needed). */
void ref_layernorm_forward(float *out,        /* (N,C) */
                           float *mean,       /* (N) or NULL */
                           float *rstd,       /* (N) or NULL */
                           const float *inp,  /* (N,C) */
                           const float *w,    /* (C) */
                           const float *b,    /* (C) */
                           float eps, int N, int C);
void ref_layernorm_backward(float *dinp,       /* (N,C) */
                            float *dw,         /* (C) */
                            float *db,         /* (C) */
                            const float *dout, /* (N,C) */
                            const float *inp,  /* (N,C) */
                            const float *w,    /* (C) */
                            const float *mean, /* (N) */
                            const float *rstd, /* (N) */
                            int N, int C);

/* out = inp W^T + b. b may be NULL. */
void ref_matmul_forward(float *out,       /* (N,OC) */
                        const float *inp, /* (N,C) */
                        const float *w,   /* (OC,C) */
                        const float *b,   /* (OC) or NULL */
                        int N, int C, int OC);
/* dinp += dout W; dw += dout^T inp; db += sum over rows of dout. dinp and db may be NULL. */
void ref_matmul_backward(float *dinp,       /* (N,C) or NULL */
                         float *dw,         /* (OC,C) */
                         float *db,         /* (OC) or NULL */
                         const float *dout, /* (N,OC) */
                         const float *inp,  /* (N,C) */
                         const float *w,    /* (OC,C) */
                         int N, int C, int OC);

/* Exact GELU, BERT's "gelu": 0.5 x (1 + erf(x / sqrt 2)), not GPT-2's tanh form. */
void ref_gelu_forward(float *out, const float *inp, size_t n);
/* dinp += dout * gelu'(inp), gelu'(x) = Phi(x) + x phi(x). */
void ref_gelu_backward(float *dinp, const float *inp, const float *dout, size_t n);

/* pre = inp W^T + b (kept for the backward when pre is not NULL); out = gelu(pre). */
void ref_matmul_gelu_forward(float *pre,       /* (N,OC) or NULL */
                             float *out,       /* (N,OC) */
                             const float *inp, /* (N,C) */
                             const float *w,   /* (OC,C) */
                             const float *b,   /* (OC) */
                             int N, int C, int OC);

/* Draws n keep flags: keep[i] = 0 with probability p, else 1, in order from r. */
void ref_dropout_mask(uint8_t *keep, bertc_rng *r, float p, size_t n);
/* out = inp * keep / (1-p); keep NULL: out = inp. out may equal inp. */
void ref_dropout_forward(float *out, const float *inp, const uint8_t *keep, float p, size_t n);
/* dinp += dout * keep / (1-p); keep NULL: dinp += dout. */
void ref_dropout_backward(float *dinp, const float *dout, const uint8_t *keep, float p, size_t n);

/* out = a + b. out may equal a or b. */
void ref_residual_forward(float *out, const float *a, const float *b, size_t n);
/* da += dout; db += dout. */
void ref_residual_backward(float *da, float *db, const float *dout, size_t n);

/* The sub-layer tail of BERT: res = inp + dropout(proj); out = LayerNorm(res).
 * res may equal proj (inference, when res is not kept). */
void ref_residual_layernorm_forward(float *res,           /* (N,C) */
                                    float *out,           /* (N,C) */
                                    float *mean,          /* (N) or NULL */
                                    float *rstd,          /* (N) or NULL */
                                    const float *inp,     /* (N,C) the residual stream */
                                    const float *proj,    /* (N,C) the sub-layer's output */
                                    const uint8_t *keep,  /* (N,C) or NULL */
                                    float p,
                                    const float *w, const float *b, /* (C) */
                                    float eps, int N, int C);

/* BERT self-attention (eager, as transformers computes it):
 *   S = (Q K^T) / sqrt(HS) + m,  m[b,k] = 0 for attention_mask 1, BERT_MASK_VALUE for 0
 *   P = softmax(S) over keys    (att, saved when not NULL)
 *   out = dropout(P) V          (keep: (B,NH,T,T) or NULL)
 * The mask applies to keys only, so a padded query row still attends to the valid
 * keys (its values are defined and match HF). Q, K, V are the three C-wide
 * column blocks of qkv; head h uses columns [h*HS, (h+1)*HS) of each.
 * scratch: T floats (the reference is single-threaded; give it what the fast
 * kernel needs, cpu_attention_scratch_floats, and both work). */
void ref_attention_forward(float *out,          /* (B,T,C) */
                           float *att,          /* (B,NH,T,T) or NULL */
                           const uint8_t *keep, /* (B,NH,T,T) or NULL */
                           float p,
                           const float *qkv,    /* (B,T,3C) */
                           const int *mask,     /* (B,T) 1 = real token, 0 = padding */
                           float *scratch,      /* (T) at least */
                           int nthreads, int B, int T, int C, int NH);
/* dqkv += the gradient of the above; needs the saved att. */
void ref_attention_backward(float *dqkv,         /* (B,T,3C) */
                            const float *dout,   /* (B,T,C) */
                            const float *qkv,    /* (B,T,3C) */
                            const float *att,    /* (B,NH,T,T) */
                            const uint8_t *keep, /* (B,NH,T,T) or NULL */
                            float p,
                            float *scratch,      /* (T) at least */
                            int nthreads, int B, int T, int C, int NH);

/* BERT's pooler: out[b] = tanh(W inp[b,0,:] + bias), the [CLS] token. */
void ref_pooler_forward(float *out,       /* (B,C) */
                        const float *inp, /* (B,T,C) */
                        const float *w,   /* (C,C) */
                        const float *b,   /* (C) */
                        int B, int T, int C);
void ref_pooler_backward(float *dinp,       /* (B,T,C), only rows t=0 touched */
                         float *dw,         /* (C,C) */
                         float *db,         /* (C) */
                         const float *dout, /* (B,C) */
                         const float *out,  /* (B,C) the forward's output */
                         const float *inp,  /* (B,T,C) */
                         const float *w,    /* (C,C) */
                         int B, int T, int C);

/* probs[b] = softmax(logits[b]). */
void ref_softmax_forward(float *probs, const float *logits, int B, int NL);

/* Cross-entropy with optional class weights, reduced as PyTorch's weighted mean:
 * sum_b w[y_b] * l_b / sum_b w[y_b], l_b = logsumexp(logits[b]) - logits[b, y_b].
 * losses (B) gets the unweighted l_b when not NULL. Labels must be in [0,NL). */
float ref_crossentropy_forward(float *losses,             /* (B) or NULL */
                               const float *logits,       /* (B,NL) */
                               const int *labels,         /* (B) */
                               const float *class_weights,/* (NL) or NULL */
                               int B, int NL);
/* dlogits += w[y_b] / sum w * (probs[b] - onehot(y_b)). */
void ref_crossentropy_softmax_backward(float *dlogits,            /* (B,NL) */
                                       const float *probs,        /* (B,NL) */
                                       const int *labels,         /* (B) */
                                       const float *class_weights,/* (NL) or NULL */
                                       int B, int NL);

/* The kernel table of bert_ops.h over the ref_ kernels above. */
struct bert_ops;
extern const struct bert_ops bert_ops_ref;

#endif /* BERTC_OPS_REF_H */
