/* int8_gemm.h: bertc's own int8 matrix product for AVX2 CPUs without VNNI,
 * exact with 8-bit weights.
 *
 * Why it exists: oneDNN's int8 kernels for AVX2 without VNNI multiply with
 * vpmaddubsw, which adds two u8 x s8 products into a saturating int16 (255 x
 * 127 x 2 overflows), so bertc gave them 7-bit weights, and on all 25,000 IMDB
 * test reviews 7-bit weights kept 99.34% of labels against 99.60% for 8-bit
 * (bench/results/int8_accuracy_8bit_sim.json). This kernel widens both
 * operands to int16 and multiplies with vpmaddwd, which adds two int16
 * products into an int32: |255 x 127 x 2| < 2^31, so every sum is exact and the
 * weights keep 8 bits. It issues as many multiplies per product as oneDNN's
 * vpmaddubsw + vpmaddwd pair (one vpmaddwd per 16 products instead of two
 * instructions per 32), so on CPUs whose vector multiplier is the limit (Zen 3:
 * two multiply pipes) it can run at the same rate; bench/run.sh measures it.
 *
 *   acc (N, OC) int32 = qa (N, C) u8  x  qw (OC, C)^T s8, exactly,
 *
 * the same integer product as ops_int8.c's oneDNN call and its portable loop
 * (tests/test_int8.c checks all three bit for bit, the saturation worst case
 * included). Weights are packed once (int8_gemm_pack): panels of 16 output
 * channels, each pair of input columns of a channel one int32 lane, zero-padded
 * to a multiple of 16 channels and an even C. Activations are widened into
 * caller-provided scratch on every call. OpenMP over blocks of rows x channels.
 * Library code: never prints, never fails.
 */
#ifndef BERTC_INT8_GEMM_H
#define BERTC_INT8_GEMM_H

#include <stddef.h>
#include <stdint.h>

/* 1 when this build has the kernel (GCC on x86-64, or -mavx2) and the CPU runs AVX2. */
int int8_gemm_available(void);

/* int16 elements of a packed weight (OC, C); allocate with 32-byte alignment. */
size_t int8_gemm_packed_size(int OC, int C);
/* dst (int8_gemm_packed_size) = qw (OC, C) packed. */
void int8_gemm_pack(int16_t *dst, const int8_t *qw, int OC, int C);

/* int32 elements of the activation scratch for N rows of C columns
 * (32-byte aligned). */
size_t int8_gemm_scratch_size(int N, int C);
/* acc (N, OC) = qa (N, C) x the packed weight^T, exact int32. */
void int8_gemm(int32_t *acc, const uint8_t *qa, const int16_t *packed, int N, int C, int OC, int32_t *scratch);

#endif
