/* gemm_phases.c: bertc's matrix-multiply phases on their own, at the shapes
 * the benchmark's models run (all-MiniLM-L6-v2: C=384, F=1536; bert-base:
 * C=768, F=3072), through the very library calls the model makes:
 * cpu_matmul_forward/backward (fp32, OpenBLAS) and bf16_matmul_forward/backward
 * (--precision bf16, oneDNN). Prints one JSON object: GFLOP/s per phase and
 * the FLOP-weighted rate of a whole layer's products, for run.py to set
 * against the measured peaks.
 *
 *   gemm_phases [--threads N] [--reps R]
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../src/ops_bf16.h"
#include "../src/ops_cpu.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static float *rnd(size_t n) {
    float *x = malloc(n * sizeof *x);
    if (!x) exit(1);
    for (size_t i = 0; i < n; i++) x[i] = (float)((double)rand() / RAND_MAX - 0.5);
    return x;
}

static bf16_state *g_state; /* one model's bf16 state */

/* seconds per call of one product: forward (fwd = 1) or backward (dinp + dW) */
static double time_op(int bf16, int fwd, int N, int C, int OC, int reps) {
    float *inp = rnd((size_t)N * C), *w = rnd((size_t)OC * C), *b = rnd((size_t)OC), *out = rnd((size_t)N * OC);
    float *dinp = rnd((size_t)N * C), *dw = rnd((size_t)OC * C);
    double best = 1e30;
    for (int r = 0; r < reps + 1; r++) {
        double t0 = now();
        if (fwd && bf16) bf16_matmul_forward(g_state, out, inp, w, b, N, C, OC);
        else if (fwd) cpu_matmul_forward(out, inp, w, b, N, C, OC);
        else if (bf16) bf16_matmul_backward(g_state, dinp, dw, NULL, out, inp, w, N, C, OC);
        else cpu_matmul_backward(dinp, dw, NULL, out, inp, w, N, C, OC);
        double dt = now() - t0;
        if (r > 0 && dt < best) best = dt; /* the first call builds oneDNN's kernels */
    }
    free(inp), free(w), free(b), free(out), free(dinp), free(dw);
    return best;
}

int main(int argc, char **argv) {
    int threads = 0, reps = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--reps")) reps = atoi(argv[i + 1]);
    }
    if (threads > 0) omp_set_num_threads(threads);
    g_state = bf16_state_new();
    int have_bf16 = bert_bf16_available();
    struct { const char *model; int N, C, F; const char *use; } cases[] = {
        {"all-MiniLM-L6-v2", 4096, 384, 1536, "infer"}, /* batch 32 x 128 */
        {"all-MiniLM-L6-v2", 1024, 384, 1536, "train"}, /* batch 8 x 128 */
        {"bert-base", 4096, 768, 3072, "infer"},
        {"bert-base", 1024, 768, 3072, "train"},
    };
    printf("{\"threads\":%d,\"bf16\":%s,\"cases\":[", omp_get_max_threads(), have_bf16 ? "true" : "false");
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        int N = cases[k].N, C = cases[k].C, F = cases[k].F;
        int train = !strcmp(cases[k].use, "train");
        /* a layer's four products: QKV, attention output, intermediate, output */
        int shp[4][2] = {{C, 3 * C}, {C, C}, {C, F}, {F, C}};
        printf("%s{\"model\":\"%s\",\"use\":\"%s\",\"tokens\":%d,\"phases\":[", k ? "," : "", cases[k].model,
               cases[k].use, N);
        double tot_fl = 0, tot_t[2] = {0, 0};
        for (int s = 0; s < 4; s++) {
            for (int fwd = 1; fwd >= (train ? 0 : 1); fwd--) {
                double fl = 2.0 * N * shp[s][0] * shp[s][1] * (fwd ? 1 : 2);
                double t32 = time_op(0, fwd, N, shp[s][0], shp[s][1], reps);
                double t16 = have_bf16 ? time_op(1, fwd, N, shp[s][0], shp[s][1], reps) : 0;
                tot_fl += fl, tot_t[0] += t32, tot_t[1] += t16;
                printf("%s{\"C\":%d,\"OC\":%d,\"pass\":\"%s\",\"fp32_gflops\":%.1f,\"bf16_gflops\":%.1f}",
                       (s || fwd != 1) ? "," : "", shp[s][0], shp[s][1], fwd ? "forward" : "backward",
                       fl / t32 / 1e9, have_bf16 ? fl / t16 / 1e9 : 0.0);
            }
        }
        printf("],\"layer_fp32_gflops\":%.1f,\"layer_bf16_gflops\":%.1f}", tot_fl / tot_t[0] / 1e9,
               have_bf16 ? tot_fl / tot_t[1] / 1e9 : 0.0);
        fflush(stdout);
    }
    printf("]}\n");
    bf16_state_free(g_state);
    bf16_release();
    return 0;
}
