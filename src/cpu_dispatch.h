/* cpu_dispatch.h: which instruction-set level bertc's own kernels run at.
 *
 * bertc's hand-written kernels (ops_cpu.c: LayerNorm, GELU, softmax, attention,
 * the autovectorised loops) are compiled once per level and picked at run time:
 *   - a local build (`make`) compiles them once, -march=native: one level, "native";
 *   - a distribution build (`make portable`, which `make install` uses) compiles the
 *     whole tree for x86-64-v3 (AVX2 + FMA: the baseline, so the binary runs on any
 *     x86-64 CPU with AVX2) and ops_cpu.c a second time for x86-64-v4 (AVX-512 F,
 *     BW, DQ, VL, CD, 512-bit vectors): levels "avx2" and "avx512".
 * Each compiled copy of ops_cpu.c has its symbols renamed with the level as a
 * suffix (cpu_gelu_forward_avx512, by objcopy at build time, so the source keeps
 * one name per kernel); the cpu_* functions of ops_cpu.h are thin calls through
 * the table of the chosen level. The choice is made once, at the first call, with
 * __builtin_cpu_supports: the highest compiled level the CPU has, lowered (never
 * raised) by the environment variable BERTC_CPU=avx2|avx512|avx512bf16.
 *
 * The same level decides bertc's bf16 path (ops_bf16.c): AVX512-BF16 conversion and
 * oneDNN's bf16 matmul need level avx512bf16 (the CPU's avx512bf16 flag), so
 * BERTC_CPU=avx2 also turns --precision bf16 off. oneDNN and OpenBLAS pick their own
 * kernels by themselves (OPENBLAS_CORETYPE and ONEDNN_MAX_CPU_ISA steer them).
 *
 * Not API: bertc's CLI (`bertc info`) and tests read it. Never prints, never fails:
 * a BERTC_CPU it does not know is ignored and said so in cpu_dispatch_info.note.
 */
#ifndef BERTC_CPU_DISPATCH_H
#define BERTC_CPU_DISPATCH_H

enum {
    CPU_LEVEL_BELOW_AVX2 = 0, /* the portable binary cannot run its baseline here */
    CPU_LEVEL_AVX2 = 1,       /* x86-64-v3: AVX2, FMA, BMI1/2, F16C, MOVBE */
    CPU_LEVEL_AVX512 = 2,     /* x86-64-v4: AVX-512 F, BW, CD, DQ, VL */
    CPU_LEVEL_AVX512BF16 = 3, /* and AVX512-BF16 (bf16 conversion and dot products) */
};

typedef struct cpu_dispatch_info {
    const char *build;    /* "native" (make) or "portable" (make portable / install) */
    const char *compiled; /* the kernel sets in this binary: "native" or "avx2 avx512" */
    const char *kernels;  /* the set the cpu_* kernels run: "native", "avx2" or "avx512" */
    int cpu_level;        /* the highest CPU_LEVEL_* the CPU supports */
    int level;            /* the level in use: cpu_level, lowered by BERTC_CPU */
    const char *level_name; /* "avx2", "avx512", "avx512bf16" (or "below-avx2") */
    char cpu_flags[160];  /* the flags that matter that the CPU has, e.g. "avx2 fma avx512f ..." */
    char forced[48];      /* BERTC_CPU's value when set, else "" */
    char note[160];       /* "" or why BERTC_CPU was ignored or could not raise the level */
} cpu_dispatch_info;

/* The level in use (CPU_LEVEL_*), decided once per process. */
int cpu_level(void);

/* Fills *info with the choice made (deciding it if not yet decided). */
void cpu_dispatch_get(cpu_dispatch_info *info);

/* "avx2", "avx512", "avx512bf16" or "below-avx2". */
const char *cpu_level_name(int level);

/* The fp32 matrix products of ops_cpu.c run in blocks, each a single-threaded
 * sgemm: oneDNN's (dnnl_sgemm, JIT-compiled for the CPU) on CPUs with AVX-512,
 * and on AVX2 CPUs where OpenBLAS fell back to a pre-AVX2 core; OpenBLAS's
 * elsewhere. On an AMX Xeon oneDNN's ran fp32 inference 1.16-1.27x OpenBLAS's
 * SkylakeX kernels (README, Speed); on a Zen 3 (AVX2) it was within +-10% of
 * OpenBLAS's Zen kernels shape by shape, so AVX2 CPUs keep OpenBLAS. OpenBLAS
 * picks its kernels from the CPU's model number and takes its oldest ones for a
 * model it does not know (seen: a cloud VM's "Intel(R) Xeon(R) Processor" with
 * AVX-512 and AMX ran OpenBLAS's Prescott kernels, a quarter of PyTorch's
 * speed). BERTC_SGEMM=openblas|onednn forces either. Decided once per process. */
int cpu_sgemm_onednn(void);
/* "onednn (AVX-512 CPU; OpenBLAS core SkylakeX; ...)" / "onednn (OpenBLAS fell
 * back to ...)" / "openblas (core Zen)": for bertc info. */
const char *cpu_sgemm_desc(void);

#endif /* BERTC_CPU_DISPATCH_H */
