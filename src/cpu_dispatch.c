/* cpu_dispatch.c: the level choice and the cpu_* entry points of ops_cpu.h
 * (see cpu_dispatch.h). Each cpu_* function here forwards to the same function
 * of the chosen compiled copy of ops_cpu.c. A kernel added to ops_cpu.h is
 * dispatched once it has its line in KERNELS and its forwarder below; until then
 * the Makefile leaves its name alone in the baseline copy (native or avx2), which
 * then serves every CPU. */
#include "cpu_dispatch.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ops_cpu.h"

/* X(name): every kernel of ops_cpu.h. */
#define KERNELS(X)                                                                                   \
    X(attention_scratch_floats) X(embeddings_forward) X(embeddings_backward) X(layernorm_forward)    \
    X(layernorm_backward) X(matmul_forward) X(matmul_backward) X(bias_backward) X(exp) X(erf)        \
    X(gelu_forward) X(gelu_backward) X(matmul_gelu_forward) X(gelu_serial) X(dropout_forward)        \
    X(gelu_forward_keep_grad) X(gelu_backward_from_grad) X(dropout_backward)                         \
    X(residual_forward) X(residual_backward) X(residual_layernorm_forward) X(attention_forward)      \
    X(attention_backward) X(attention_probs) X(attention_probs_backward)                                  \
    X(pooler_forward) X(pooler_backward)

typedef struct cpu_kernels {
#define FIELD(f) __typeof__(cpu_##f) *f;
    KERNELS(FIELD)
#undef FIELD
} cpu_kernels;

/* The compiled copies (Makefile: KERNEL_LEVELS) and their tables. */
#ifdef BERTC_PORTABLE
#define DECLARE_avx2(f) extern __typeof__(cpu_##f) cpu_##f##_avx2;
#define DECLARE_avx512(f) extern __typeof__(cpu_##f) cpu_##f##_avx512;
#define ENTRY_avx2(f) .f = cpu_##f##_avx2,
#define ENTRY_avx512(f) .f = cpu_##f##_avx512,
KERNELS(DECLARE_avx2)
KERNELS(DECLARE_avx512)
static const cpu_kernels K_AVX2 = {KERNELS(ENTRY_avx2)};
static const cpu_kernels K_AVX512 = {KERNELS(ENTRY_avx512)};
static const char COMPILED[] = "avx2 avx512";
#else
#define DECLARE_native(f) extern __typeof__(cpu_##f) cpu_##f##_native;
#define ENTRY_native(f) .f = cpu_##f##_native,
KERNELS(DECLARE_native)
static const cpu_kernels K_NATIVE = {KERNELS(ENTRY_native)};
static const char COMPILED[] = "native";
#endif

/* ---- the choice, once per process ---- */

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static const cpu_kernels *g_k;
static cpu_dispatch_info g_info;

const char *cpu_level_name(int level) {
    switch (level) {
    case CPU_LEVEL_AVX2: return "avx2";
    case CPU_LEVEL_AVX512: return "avx512";
    case CPU_LEVEL_AVX512BF16: return "avx512bf16";
    default: return "below-avx2";
    }
}

/* Only feature names both GCC and clang know (the fuzz build uses clang): no
 * "x86-64-v3" / "x86-64-v4". x86-64-v3 also has F16C, MOVBE and LZCNT, which
 * every CPU with AVX2, FMA and BMI1/2 has (Haswell, Zen and later). */
static int cpu_detect(char *flags, size_t cap) {
    static const char *const names[] = {"sse4.2",   "avx",      "avx2",     "fma",      "bmi2",      "avx512f",
                                        "avx512bw", "avx512dq", "avx512vl", "avx512cd", "avx512bf16", "avx512vnni"};
    __builtin_cpu_init();
    /* __builtin_cpu_supports takes a string literal only, hence the table of results. */
    const int has[] = {__builtin_cpu_supports("sse4.2"),   __builtin_cpu_supports("avx"),
                       __builtin_cpu_supports("avx2"),     __builtin_cpu_supports("fma"),
                       __builtin_cpu_supports("bmi2"),     __builtin_cpu_supports("avx512f"),
                       __builtin_cpu_supports("avx512bw"), __builtin_cpu_supports("avx512dq"),
                       __builtin_cpu_supports("avx512vl"), __builtin_cpu_supports("avx512cd"),
                       __builtin_cpu_supports("avx512bf16"), __builtin_cpu_supports("avx512vnni")};
    size_t len = 0;
    flags[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (has[i] && len + strlen(names[i]) + 2 < cap)
            len += (size_t)snprintf(flags + len, cap - len, "%s%s", len ? " " : "", names[i]);
    int v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi") &&
             __builtin_cpu_supports("bmi2");
    int v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512cd");
    if (!v3) return CPU_LEVEL_BELOW_AVX2;
    if (!v4) return CPU_LEVEL_AVX2;
    return __builtin_cpu_supports("avx512bf16") ? CPU_LEVEL_AVX512BF16 : CPU_LEVEL_AVX512;
}

static void decide(void) {
    cpu_dispatch_info *in = &g_info;
    in->cpu_level = cpu_detect(in->cpu_flags, sizeof in->cpu_flags);
    in->level = in->cpu_level;
    const char *env = getenv("BERTC_CPU");
    if (env && *env) {
        snprintf(in->forced, sizeof in->forced, "%s", env);
        int want = !strcmp(env, "avx2") ? CPU_LEVEL_AVX2
                 : !strcmp(env, "avx512") ? CPU_LEVEL_AVX512
                 : !strcmp(env, "avx512bf16") ? CPU_LEVEL_AVX512BF16 : -1;
        if (want < 0)
            snprintf(in->note, sizeof in->note, "BERTC_CPU=%.40s ignored: expected avx2, avx512 or avx512bf16", env);
        else if (want > in->cpu_level)
            snprintf(in->note, sizeof in->note, "BERTC_CPU=%.40s: this CPU has no %s, so %s (it lowers, never raises)",
                     env, cpu_level_name(want), cpu_level_name(in->cpu_level));
        else
            in->level = want;
    }
    in->level_name = cpu_level_name(in->level);
    in->compiled = COMPILED;
#ifdef BERTC_PORTABLE
    in->build = "portable";
    int wide = in->level >= CPU_LEVEL_AVX512;
    g_k = wide ? &K_AVX512 : &K_AVX2;
    in->kernels = wide ? "avx512" : "avx2";
#else
    in->build = "native";
    g_k = &K_NATIVE;
    in->kernels = "native";
#endif
}

static inline const cpu_kernels *K(void) {
    pthread_once(&g_once, decide);
    return g_k;
}

int cpu_level(void) {
    K();
    return g_info.level;
}

void cpu_dispatch_get(cpu_dispatch_info *info) {
    K();
    *info = g_info;
}

/* ---- the entry points of ops_cpu.h ---- */

size_t cpu_attention_scratch_floats(int T, int HS) { return K()->attention_scratch_floats(T, HS); }

void cpu_embeddings_forward(float *out, const int *ids, const int *tt, const float *wte,
                            const float *wpe, const float *wtt, int B, int T, int C) {
    K()->embeddings_forward(out, ids, tt, wte, wpe, wtt, B, T, C);
}

void cpu_embeddings_backward(float *dwte, float *dwpe, float *dwtt, const float *dout,
                             const int *ids, const int *tt, int B, int T, int C) {
    K()->embeddings_backward(dwte, dwpe, dwtt, dout, ids, tt, B, T, C);
}

void cpu_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                           const float *w, const float *b, float eps, int N, int C) {
    K()->layernorm_forward(out, mean, rstd, inp, w, b, eps, N, C);
}

void cpu_layernorm_backward(float *dinp, float *dw, float *db, const float *dout,
                            const float *inp, const float *w, const float *mean,
                            const float *rstd, int N, int C) {
    K()->layernorm_backward(dinp, dw, db, dout, inp, w, mean, rstd, N, C);
}

void cpu_matmul_forward(float *out, const float *inp, const float *w, const float *b,
                        int N, int C, int OC) {
    K()->matmul_forward(out, inp, w, b, N, C, OC);
}

void cpu_matmul_backward(float *dinp, float *dw, float *db, const float *dout,
                         const float *inp, const float *w, int N, int C, int OC) {
    K()->matmul_backward(dinp, dw, db, dout, inp, w, N, C, OC);
}

void cpu_bias_backward(float *db, const float *dout, int N, int OC) { K()->bias_backward(db, dout, N, OC); }

void cpu_exp(float *out, const float *x, size_t n) { K()->exp(out, x, n); }

void cpu_erf(float *out, const float *x, size_t n) { K()->erf(out, x, n); }

void cpu_gelu_forward(float *out, const float *inp, size_t n) { K()->gelu_forward(out, inp, n); }

void cpu_gelu_serial(float *out, const float *inp, size_t n) { K()->gelu_serial(out, inp, n); }

void cpu_gelu_forward_keep_grad(float *out, float *grad, const float *inp, size_t n) {
    K()->gelu_forward_keep_grad(out, grad, inp, n);
}

void cpu_gelu_backward_from_grad(float *grad, const float *dout, size_t n) { K()->gelu_backward_from_grad(grad, dout, n); }

void cpu_gelu_backward(float *dinp, const float *inp, const float *dout, size_t n) {
    K()->gelu_backward(dinp, inp, dout, n);
}

void cpu_matmul_gelu_forward(float *pre, float *out, const float *inp, const float *w,
                             const float *b, int N, int C, int OC) {
    K()->matmul_gelu_forward(pre, out, inp, w, b, N, C, OC);
}

void cpu_dropout_forward(float *out, const float *inp, const uint8_t *keep, float p, size_t n) {
    K()->dropout_forward(out, inp, keep, p, n);
}

void cpu_dropout_backward(float *dinp, const float *dout, const uint8_t *keep, float p, size_t n) {
    K()->dropout_backward(dinp, dout, keep, p, n);
}

void cpu_residual_forward(float *out, const float *a, const float *b, size_t n) {
    K()->residual_forward(out, a, b, n);
}

void cpu_residual_backward(float *da, float *db, const float *dout, size_t n) {
    K()->residual_backward(da, db, dout, n);
}

void cpu_residual_layernorm_forward(float *res, float *out, float *mean, float *rstd,
                                    const float *inp, const float *proj, const uint8_t *keep,
                                    float p, const float *w, const float *b, float eps,
                                    int N, int C) {
    K()->residual_layernorm_forward(res, out, mean, rstd, inp, proj, keep, p, w, b, eps, N, C);
}

void cpu_attention_forward(float *out, float *att, const uint8_t *keep, float p,
                           const float *qkv, const int *mask, float *scratch, int nthreads,
                           int B, int T, int C, int NH) {
    K()->attention_forward(out, att, keep, p, qkv, mask, scratch, nthreads, B, T, C, NH);
}

void cpu_attention_backward(float *dqkv, const float *dout, const float *qkv, const float *att,
                            const uint8_t *keep, float p, float *scratch, int nthreads,
                            int B, int T, int C, int NH) {
    K()->attention_backward(dqkv, dout, qkv, att, keep, p, scratch, nthreads, B, T, C, NH);
}

void cpu_attention_probs(float *S, uint16_t *Pd, const uint8_t *keep, float p, const int *mask, int G, int NH,
                         int T, int keep_probs) {
    K()->attention_probs(S, Pd, keep, p, mask, G, NH, T, keep_probs);
}

void cpu_attention_probs_backward(uint16_t *Pd, uint16_t *dS, const float *P, float *dA, const uint8_t *keep,
                                  float p, float scale, int G, int NH, int T) {
    K()->attention_probs_backward(Pd, dS, P, dA, keep, p, scale, G, NH, T);
}

void cpu_pooler_forward(float *out, const float *inp, const float *w, const float *b,
                        int B, int T, int C) {
    K()->pooler_forward(out, inp, w, b, B, T, C);
}

void cpu_pooler_backward(float *dinp, float *dw, float *db, const float *dout, const float *out,
                         const float *inp, const float *w, int B, int T, int C) {
    K()->pooler_backward(dinp, dw, db, dout, out, inp, w, B, T, C);
}

/* ---- which single-threaded sgemm runs ops_cpu's matmul blocks ---- */

static pthread_once_t g_sgemm_once = PTHREAD_ONCE_INIT;
static int g_sgemm_onednn;
static char g_sgemm_desc[160];

extern char *openblas_get_corename(void);

/* OpenBLAS's own kernels for CPUs before AVX2: on a CPU with AVX2 one of these
 * means that OpenBLAS did not recognise the CPU (a virtual machine's "Intel(R)
 * Xeon(R) Processor" with a model number it does not know) and fell back. */
static int generic_core(const char *core) {
    static const char *const old[] = {"Prescott", "Core2",   "Penryn",  "Dunnington", "Nehalem",  "Atom",
                                      "Katmai",   "Coppermine", "Northwood", "Banias", "Athlon", "Opteron",
                                      "Opteron(SSE3)", "Barcelona", "Bobcat", "Sandybridge", "Bulldozer",
                                      "Piledriver", "Steamroller", "Excavator", "unknown", NULL};
    for (int i = 0; old[i]; i++)
        if (strcasecmp(core, old[i]) == 0) return 1;
    return 0;
}

static void sgemm_decide(void) {
    const char *core = openblas_get_corename();
    if (!core) core = "unknown";
    const char *env = getenv("BERTC_SGEMM");
    if (env && (!strcmp(env, "onednn") || !strcmp(env, "openblas"))) {
        g_sgemm_onednn = !strcmp(env, "onednn");
        snprintf(g_sgemm_desc, sizeof g_sgemm_desc, "%s (BERTC_SGEMM=%s; OpenBLAS core %s)", env, env, core);
        return;
    }
    __builtin_cpu_init();
    int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    int avx512 = avx2 && __builtin_cpu_supports("avx512f");
    g_sgemm_onednn = avx512 || (avx2 && generic_core(core));
    if (g_sgemm_onednn && generic_core(core))
        snprintf(g_sgemm_desc, sizeof g_sgemm_desc,
                 "onednn (OpenBLAS fell back to its %s kernels on this AVX2 CPU; BERTC_SGEMM=openblas keeps them)%s",
                 core, env ? "; BERTC_SGEMM ignored: openblas|onednn" : "");
    else if (g_sgemm_onednn)
        snprintf(g_sgemm_desc, sizeof g_sgemm_desc, "onednn (AVX-512 CPU; OpenBLAS core %s; BERTC_SGEMM=openblas runs it)%s",
                 core, env ? "; BERTC_SGEMM ignored: openblas|onednn" : "");
    else
        snprintf(g_sgemm_desc, sizeof g_sgemm_desc, "openblas (core %s)%s", core,
                 env ? "; BERTC_SGEMM ignored: openblas|onednn" : "");
}

int cpu_sgemm_onednn(void) {
    pthread_once(&g_sgemm_once, sgemm_decide);
    return g_sgemm_onednn;
}

const char *cpu_sgemm_desc(void) {
    pthread_once(&g_sgemm_once, sgemm_decide);
    return g_sgemm_desc;
}
