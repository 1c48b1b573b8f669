/* ops_int8.h: the encoder's dense layers in int8 (--precision int8, inference
 * only), through oneDNN's int8 matmul (u8 x s8 -> s32) where it runs VNNI and
 * bertc's own exact AVX2 product (int8_gemm.h) where it does not.
 *
 * The scheme (docs/numerics.md, "int8"):
 *   weights      per output channel, symmetric: sw[o] = max_c |W[o,c]| / Q,
 *                qW[o,c] = round(W[o,c] / sw[o]) in [-Q, Q]; quantized once,
 *                when the model is loaded (int8_weight_prepare), and kept.
 *                Q = 127 (8 bits; 63 only for oneDNN without VNNI:
 *                int8_weight_qmax).
 *   activations  per row (one token), asymmetric u8, on every call: the range
 *                [lo, hi] = [min(X[n,:], 0), max(X[n,:], 0)] in 255 steps,
 *                sa[n] = (hi - lo) / 255, za[n] = round(-lo / sa[n]),
 *                qX[n,c] = round(X[n,c] / sa[n]) + za[n] in [0, 255] (zero is
 *                exact; GELU's outputs, nearly all >= 0, get the full 8 bits).
 *   product      acc[n,o] = sum_c qX[n,c] qW[o,c] exactly in int32 (int8_kernel), then
 *                Y[n,o] = sa[n] sw[o] (acc[n,o] - za[n] sum_c qW[o,c]) + b[o] in
 *                fp32 (here; a fused GELU for the FFN's first layer).
 * Rounding is to nearest, ties to even; a zero row or channel gets scale 1
 * (all its codes are zero). Everything else of the model (embeddings, LayerNorm,
 * softmax, attention's products, the pooler and the classifier) stays fp32.
 *
 * Error bound (per output; |.|_1 is the sum of absolute values over c):
 *   |Y - X W^T - b| <= sa/2 |W[o,:]|_1 + sw/2 |X[n,:]|_1 + C sa sw / 4
 * plus fp32 rounding of the final scaling; tests/test_int8.c checks it.
 *
 * Same signatures as cpu_matmul_forward / cpu_matmul_gelu_forward. The ops
 * cannot fail: when oneDNN cannot run a product (a refused shape, out of
 * memory) the same integer product is computed by a portable loop (exact, the
 * same result bit for bit, slow) and int8_fallbacks() counts it. oneDNN picks
 * its kernel from the CPU (AVX2, AVX2-VNNI, AVX512-VNNI, AMX); int8_isa() names
 * it. Primitives are created once per shape and kept; scratch grows to the
 * largest shape. Call from one thread at a time (a mutex guards the state).
 * The kept weights are process-wide, as ops_bf16's rounded copies:
 * bert_model_build and bert_model_free drop them all (a new parameter block may
 * reuse a freed address), so with two models open, one built after an int8
 * model leaves that model quantizing its weights on every call (the same
 * numbers, slower).
 * Library code: never prints, never exits.
 */
#ifndef BERTC_OPS_INT8_H
#define BERTC_OPS_INT8_H

#include <stddef.h>
#include <stdint.h>

/* 1 when oneDNN builds an s8 matmul on this CPU (any x86-64 with SSE4.1). */
int bert_int8_available(void);

/* The ISA oneDNN dispatches its kernels to ("avx2", "avx512_core_vnni", ...). */
const char *int8_isa(void);

/* The kernel of the integer product: "onednn" (where oneDNN runs VNNI, or with
 * BERTC_INT8_KERNEL=onednn) or "bertc-avx2" (int8_gemm.h: AVX2 without VNNI). */
const char *int8_kernel(void);
/* Tests and benchmarks: switch to kernel "onednn" or "bertc" (drops the kept
 * weights, which are quantized and packed for one kernel). -1 when this
 * build or CPU lacks it. */
int int8_kernel_use(const char *name);

/* q (R, Cn), scale (R), zp (R): row r of x quantized to u8 as above. */
void int8_quantize_act(uint8_t *q, float *scale, int32_t *zp, const float *x, int R, int Cn);

/* q (R, Cn), scale (R): row r of x quantized symmetric to [-qmax, qmax]. */
void int8_quantize_rows(int8_t *q, float *scale, const float *x, int R, int Cn, int qmax);

/* The weights' largest code: 127, except 63 (7 bits) for oneDNN's kernels
 * without VNNI, because of vpmaddubsw's saturating int16 sums (ops_int8.c). */
int int8_weight_qmax(void);

/* Quantizes weight w (OC, C) once and keeps it (keyed by address and size) for
 * the products below. 0, or -1 when out of memory (the products then quantize
 * the weight on every call). */
int int8_weight_prepare(const float *w, int OC, int C);
/* Drops the kept weights (a new parameter block may reuse a freed address). */
void int8_weight_clear(void);

/* out (N, OC) = int8(inp) (N, C) x int8(w)^T (OC, C) + b, as above. */
void int8_matmul_forward(float *out, const float *inp, const float *w, const float *b, int N, int C, int OC);
/* out = gelu(the same); pre, when not NULL, receives the product before GELU. */
void int8_matmul_gelu_forward(float *pre, float *out, const float *inp, const float *w, const float *b, int N, int C,
                              int OC);

/* The portable product, always without oneDNN (tests compare the two). */
void int8_matmul_forward_portable(float *out, const float *inp, const float *w, const float *b, int N, int C, int OC);

/* Products computed by the portable fallback since the start of the process. */
unsigned long int8_fallbacks(void);

/* Frees primitives, kept weights and scratch (tests, leak checkers; optional). */
void int8_release(void);

#endif
