/* omp.h for the fuzz build only: Debian's clang has no libomp and GCC's omp.h
 * does not parse with clang, so the fuzz build compiles without -fopenmp (the
 * pragmas are ignored) and this stands in for the calls src/ makes. */
#ifndef BERTC_FUZZ_OMP_SHIM_H
#define BERTC_FUZZ_OMP_SHIM_H
static inline int omp_get_max_threads(void) { return 1; }
static inline int omp_get_thread_num(void) { return 0; }
static inline int omp_get_num_threads(void) { return 1; }
static inline int omp_in_parallel(void) { return 0; }
#endif
