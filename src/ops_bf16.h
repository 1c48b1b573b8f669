/* ops_bf16.h: the matrix products of ops_cpu.h in bfloat16 (--precision bf16):
 * both operands are rounded to bf16 (round to nearest even) and multiplied by
 * oneDNN's matmul on the CPU's AVX512-BF16 dot-product units, accumulating and
 * writing fp32. Everything else (LayerNorm, softmax, GELU, attention, the
 * optimizer and the master weights) stays fp32: this is mixed precision as
 * torch.autocast(dtype=torch.bfloat16) does it for Linear layers.
 *
 * Same signatures and contracts as cpu_matmul_forward/backward/gelu_forward,
 * except for the rounding: the result equals the fp32 reference op applied to
 * the bf16-rounded operands within fp32 summation error (tests/test_bf16.c).
 *
 * The state these products keep lives in a bf16_state that the model owns
 * (bert_model.bf16, created by its first bf16 forward and freed by
 * bert_model_free): its oneDNN stream and primitives (created once per shape),
 * scratch that grows to the largest shape (a step allocates nothing after the
 * first), and the weights' rounded copies. Weights are rounded on every call,
 * or once with bf16_state_keep_weights(s, 1) (inference), so fp32 master
 * weights updated by the optimizer are always what is multiplied. No lock is
 * shared between models: only the process's one oneDNN engine is created under
 * a mutex. Call a state from one thread at a time (as its model).
 *
 * bert_bf16_available() is 0 when the CPU has no AVX512-BF16 or oneDNN cannot
 * build a bf16 matmul; callers must then refuse --precision bf16 with an error.
 *
 * The ops cannot fail, by construction, and never print or exit: when oneDNN
 * cannot run a product (no AVX512-BF16, out of memory for the scratch, a shape
 * it refuses) the same product of the same bf16-rounded operands is computed by
 * a portable loop summing in double (slow, within the same bound the tests
 * check, allocating nothing). bf16_fallbacks() counts those products, so that a
 * caller or test can tell that the fast path was not taken.
 */
#ifndef BERTC_OPS_BF16_H
#define BERTC_OPS_BF16_H

#include <stddef.h>
#include <stdint.h>

#include "bert.h"

int bert_bf16_available(void);

/* BERTC_OK for BERT_PREC_AUTO and BERT_PREC_FP32, for BERT_PREC_BF16 where
 * available, for BERT_PREC_INT8 where oneDNN builds an int8 matmul
 * (ops_int8.h); else BERTC_ERR_ARG with a message naming --precision. */
int bert_precision_check(int precision, bertc_err *err);

/* What BERT_PREC_AUTO means on this CPU: BERT_PREC_BF16 where bf16 runs on
 * AVX512-BF16 dot products (every CPU with AMX has them too), else
 * BERT_PREC_FP32. Any other precision is returned unchanged. */
int bert_precision_resolve(int precision);

/* "auto", "fp32", "bf16", "int8" ("?" for another value). */
const char *bert_precision_name(int precision);

/* Round to nearest even, as torch's float -> bfloat16 (NaN stays NaN). */
uint16_t bf16_from_float(float f);
float bf16_to_float(uint16_t h);
/* out[i] = bf16(in[i]) as floats (for reference computations in tests). */
void bf16_round_floats(float *out, const float *in, size_t n);

typedef struct bf16_state bf16_state;

/* A new empty state (NULL when out of memory: the products then take the
 * portable path); bf16_state_free(NULL) is harmless. */
bf16_state *bf16_state_new(void);
void bf16_state_free(bf16_state *s);

/* on = 1: keep each weight's rounded copy between calls (keyed by its address
 * and size), for a model whose weights do not change (inference; about half
 * the encoder's fp32 bytes more memory, and no per-call rounding: batch-1
 * latency). on = 0 drops the copies and rounds on every call (training, where
 * the optimizer changes the weights between steps). s may be NULL. */
void bf16_state_keep_weights(bf16_state *s, int on);
/* The weight w (rows x cols) rounded to bf16: the kept copy when keeping (made
 * on first use), else rounded into the state's scratch (valid until the next
 * call on s). NULL when out of memory. */
const uint16_t *bf16_state_weight(bf16_state *s, const float *w, int rows, int cols);
/* How many weights' rounded copies s keeps (tests). */
size_t bf16_state_kept_weights(const bf16_state *s);

/* s: the calling model's state (may be NULL: the portable path). */
void bf16_matmul_forward(bf16_state *s, float *out, const float *inp, const float *w, const float *b, int N, int C,
                         int OC);
void bf16_matmul_backward(bf16_state *s, float *dinp, float *dw, float *db, const float *dout, const float *inp,
                          const float *w, int N, int C, int OC);
void bf16_matmul_gelu_forward(bf16_state *s, float *pre, float *out, const float *inp, const float *w,
                              const float *b, int N, int C, int OC);

/* Attention with its products in bf16 (--precision bf16): cpu_attention_forward
 * and cpu_attention_backward's contracts (ops_cpu.h; the backward accumulates
 * into dqkv), with Q, K, V, dropout(P), dO and the score gradient rounded to
 * bf16 for the products and everything between them fp32, as torch.autocast
 * runs BERT's attention. When oneDNN cannot run a group of sequences, that group
 * takes the fp32 kernels (counted in bf16_fallbacks). The scratch argument is
 * theirs (for that case). */
void bf16_attention_forward(bf16_state *s, float *out, float *att, const uint8_t *keep, float p, const float *qkv,
                            const int *mask, float *scratch, int nthreads, int B, int T, int C, int NH);
void bf16_attention_backward(bf16_state *s, float *dqkv, const float *dout, const float *qkv, const float *att,
                             const uint8_t *keep, float p, float *scratch, int nthreads, int B, int T, int C, int NH);

/* Products computed by the portable fallback instead of oneDNN since the start
 * of the process (0 on a healthy AVX512-BF16 machine). */
unsigned long bf16_fallbacks(void);

/* Frees the process's oneDNN engine, after every model is freed (tests and
 * leak checkers; optional). */
void bf16_release(void);

#endif
