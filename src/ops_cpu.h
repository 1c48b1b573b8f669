/* ops_cpu.h: the fast CPU kernels of BERT: the same ops, signatures and
 * contracts as ops_ref.h (read that header for the maths), computed with
 * OpenBLAS sgemm for the matrix products and OpenMP loops elsewhere, with fused
 * bias+GELU and residual+dropout+LayerNorm.
 *
 * Determinism: every output element is written by one thread with a fixed
 * summation order (no atomics, no reductions whose order depends on scheduling),
 * so the same inputs give bit-identical results for the same thread count and
 * OpenBLAS build. Sums are accumulated in fp32 (as PyTorch does on the CPU).
 *
 * The softmax/cross-entropy of the NL logits and the dropout mask drawing are
 * tiny and sequential; they are here (not in ops_ref) because the production
 * model runs them, and tests/test_ops.c checks them against the ref_ versions.
 *
 * Call these from one thread (they open their own OpenMP regions and call
 * sgemm, which runs its own threads).
 */
#ifndef BERTC_OPS_CPU_H
#define BERTC_OPS_CPU_H

#include <stddef.h>
#include <stdint.h>
#include "rng.h"

/* The value HF adds to the attention scores of padded keys: torch.finfo(float32).min. */
#define BERT_MASK_VALUE (-3.4028234663852886e+38f)

/* Floats of scratch each thread needs in cpu_attention_forward/backward (the
 * reference needs fewer, so this size serves both). */
size_t cpu_attention_scratch_floats(int T, int HS);

void cpu_embeddings_forward(float *out, const int *ids, const int *tt, const float *wte,
                            const float *wpe, const float *wtt, int B, int T, int C);
void cpu_embeddings_backward(float *dwte, float *dwpe, float *dwtt, const float *dout,
                             const int *ids, const int *tt, int B, int T, int C);

void cpu_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                           const float *w, const float *b, float eps, int N, int C);
void cpu_layernorm_backward(float *dinp, float *dw, float *db, const float *dout,
                            const float *inp, const float *w, const float *mean,
                            const float *rstd, int N, int C);

void cpu_matmul_forward(float *out, const float *inp, const float *w, const float *b,
                        int N, int C, int OC);
void cpu_matmul_backward(float *dinp, float *dw, float *db, const float *dout,
                         const float *inp, const float *w, int N, int C, int OC);
/* db (OC) += the column sums of dout (N, OC) (the bias gradient of a matmul). */
void cpu_bias_backward(float *db, const float *dout, int N, int OC);

/* Branch-free (vectorised) e^x and erf(x), about 1 ulp (tested against libm and
 * double precision in tests/test_ops.c); GELU and softmax use them. exp gives 0
 * below -87.3 instead of denormals. */
void cpu_exp(float *out, const float *x, size_t n);
void cpu_erf(float *out, const float *x, size_t n);

void cpu_gelu_forward(float *out, const float *inp, size_t n);
void cpu_gelu_backward(float *dinp, const float *inp, const float *dout, size_t n);
/* out = gelu(inp W^T + b), keeping inp W^T + b in pre unless pre is NULL. Each
 * block of the product gets its GELU while it is still in cache (the same bits
 * as cpu_matmul_forward then cpu_gelu_forward). */
void cpu_matmul_gelu_forward(float *pre, float *out, const float *inp, const float *w,
                             const float *b, int N, int C, int OC);
/* The backward's GELU with one erf per element: out = gelu(inp) (for the next
 * product's weight gradient) and grad = gelu'(inp); then, once dout is known,
 * grad = 0 + dout * grad in place: the same bits as cpu_gelu_forward(out, inp)
 * and cpu_gelu_backward into a zeroed dinp. */
void cpu_gelu_forward_keep_grad(float *out, float *grad, const float *inp, size_t n);
void cpu_gelu_backward_from_grad(float *grad, const float *dout, size_t n);
/* out[i] = gelu(inp[i]) on the calling thread alone (no parallel region), the
 * same bits as cpu_gelu_forward: for a block of a product still in cache (the
 * int8 epilogue). */
void cpu_gelu_serial(float *out, const float *inp, size_t n);

/* Draws n keep flags: keep[i] = 0 with probability p, else 1, in order from r
 * (one thread, so every kernel set and thread count draws the same masks). */
void cpu_dropout_mask(uint8_t *keep, bertc_rng *r, float p, size_t n);
void cpu_dropout_forward(float *out, const float *inp, const uint8_t *keep, float p, size_t n);
void cpu_dropout_backward(float *dinp, const float *dout, const uint8_t *keep, float p, size_t n);
void cpu_residual_forward(float *out, const float *a, const float *b, size_t n);
void cpu_residual_backward(float *da, float *db, const float *dout, size_t n);
void cpu_residual_layernorm_forward(float *res, float *out, float *mean, float *rstd,
                                    const float *inp, const float *proj, const uint8_t *keep,
                                    float p, const float *w, const float *b, float eps,
                                    int N, int C);

/* scratch: nthreads slices of cpu_attention_scratch_floats(T, C/NH) floats. */
void cpu_attention_forward(float *out, float *att, const uint8_t *keep, float p,
                           const float *qkv, const int *mask, float *scratch, int nthreads,
                           int B, int T, int C, int NH);
void cpu_attention_backward(float *dqkv, const float *dout, const float *qkv, const float *att,
                            const uint8_t *keep, float p, float *scratch, int nthreads,
                            int B, int T, int C, int NH);

/* Attention's elementwise parts between batched products (ops_bf16.c's bf16
 * attention): G sequences x NH heads of (T,T) blocks, plain; bf16 arrays are
 * uint16_t, rounded to nearest even. keep (same layout) may be NULL (no dropout).
 *
 * cpu_attention_probs: S holds scale Q K^T; in place it becomes the
 * probabilities P exactly as cpu_attention_forward computes them from the same
 * scores (mask of sequence g at mask + g T; keys after its last real one get 0),
 * and Pd = bf16(dropout(P)); keep_probs 0 leaves S as scratch (inference needs
 * only Pd).
 * cpu_attention_probs_backward: dA holds dO V^T; Pd = bf16(dropout(P)) again,
 * and in place dP = dropout'(dA), then dS = bf16(P (dP - sum(P dP)) scale). */
void cpu_attention_probs(float *S, uint16_t *Pd, const uint8_t *keep, float p, const int *mask, int G, int NH,
                         int T, int keep_probs);
void cpu_attention_probs_backward(uint16_t *Pd, uint16_t *dS, const float *P, float *dA, const uint8_t *keep,
                                  float p, float scale, int G, int NH, int T);

void cpu_pooler_forward(float *out, const float *inp, const float *w, const float *b,
                        int B, int T, int C);
void cpu_pooler_backward(float *dinp, float *dw, float *db, const float *dout, const float *out,
                         const float *inp, const float *w, int B, int T, int C);

/* probs[r] = softmax(logits[r]) for each of N rows of NL logits (max-subtracted,
 * summed in double). */
void cpu_softmax_forward(float *probs, const float *logits, int N, int NL);
/* p = softmax(p) in place over n doubles, as numpy computes it in transformers'
 * pipelines: p - max, exp, / sum (the token and QA decoders). */
void cpu_softmax_double(double *p, int n);
/* Cross-entropy of one row of n logits x[0], x[stride], ... against class y:
 * logsumexp(x) - x[y], in double. With g != NULL adds scale * (softmax(x) -
 * onehot(y)) to g[0], g[stride], ... (the caller's scale holds the reduction:
 * 1/count for a mean, w[y]/sum w for PyTorch's weighted mean). y in [0,n). */
double cpu_crossentropy_row(const float *x, int n, size_t stride, int y, float *g, double scale);

#endif /* BERTC_OPS_CPU_H */
