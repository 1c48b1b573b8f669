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
 * Weights are rounded on every call (or once, with bf16_weight_cache(1), for
 * inference), so fp32 master weights updated by the optimizer are always what
 * is multiplied. oneDNN primitives are created once
 * per shape and kept (a mutex guards the cache); scratch buffers grow to the
 * largest shape and are reused, so a step allocates nothing after the first.
 * Call from one thread at a time (as every op here).
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

void bf16_matmul_forward(float *out, const float *inp, const float *w, const float *b, int N, int C, int OC);
void bf16_matmul_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp, const float *w,
                          int N, int C, int OC);
void bf16_matmul_gelu_forward(float *pre, float *out, const float *inp, const float *w, const float *b, int N, int C,
                              int OC);

/* on = 1: keep each weight's rounded copy between calls (keyed by its address
 * and size), for a model whose weights do not change (inference; about half
 * the encoder's fp32 bytes more memory, and no per-call rounding: batch-1
 * latency). on = 0 drops the copies and rounds on every call (training, where
 * the optimizer changes the weights between steps). */
void bf16_weight_cache(int on);

/* Products computed by the portable fallback instead of oneDNN since the start
 * of the process (0 on a healthy AVX512-BF16 machine). */
unsigned long bf16_fallbacks(void);

/* Frees the primitive cache and scratch (tests and leak checkers; optional). */
void bf16_release(void);

#endif
