/* test_blas_threads.c: libbertc leaves the calling program's OpenBLAS and
 * OpenMP thread counts as it found them (issue 16). A program that runs
 * threaded OpenBLAS itself sets 3 threads, opens a classifier through the
 * public API and classifies (the GEMMs and attention of src/ops_cpu.c run,
 * which need OpenBLAS at 1 thread inside bertc's own OpenMP blocks); afterwards
 * openblas_get_num_threads() is still 3 and omp_get_max_threads() unchanged.
 * The same with 2, and with 1 (unchanged too). The answers are the same for
 * every setting (the count is 1 inside bertc's ops whatever the caller chose). */
#include <omp.h>

#include "../include/bertc.h"
#include "test.h"

extern void openblas_set_num_threads(int);
extern int openblas_get_num_threads(void);

int main(void) {
    char model[4096];
    snprintf(model, sizeof model, "%s", test_fixture("forward/minilm2"));
    bertc_err err = {0};
    bertc_classifier *c = NULL;
    bertc_options o = {.batch_size = 4};
    const char *texts[] = {"A wonderful film.", "Dull and far too long, with a plot that goes nowhere.",
                           "It was fine, I suppose.", "Never again."};
    size_t lens[4];
    for (int i = 0; i < 4; i++) lens[i] = strlen(texts[i]);
    int omp_before = omp_get_max_threads();
    float first[8] = {0};
    const int settings[] = {3, 2, 1, 3};
    for (int s = 0; s < 4; s++) {
        int want = settings[s];
        openblas_set_num_threads(want);
        REQUIRE(openblas_get_num_threads() == want, "OpenBLAS accepts %d threads (got %d)", want,
                openblas_get_num_threads());
        if (!c) REQUIRE(bertc_open(&c, model, &o, &err) == BERTC_OK, "open %s: %s", model, err.msg);
        CHECK(openblas_get_num_threads() == want, "after bertc_open: OpenBLAS threads %d, the caller set %d",
              openblas_get_num_threads(), want);
        float probs[8] = {0};
        REQUIRE(bertc_classify(c, texts, lens, 4, probs, &err) == BERTC_OK, "classify: %s", err.msg);
        CHECK(openblas_get_num_threads() == want, "after bertc_classify: OpenBLAS threads %d, the caller set %d",
              openblas_get_num_threads(), want);
        CHECK(omp_get_max_threads() == omp_before, "OpenMP threads %d, were %d", omp_get_max_threads(), omp_before);
        if (s == 0) memcpy(first, probs, sizeof first);
        float worst = 0;
        for (int i = 0; i < 8; i++) worst = fmaxf(worst, fabsf(probs[i] - first[i]));
        CHECK(worst == 0.0f, "OpenBLAS at %d threads: probabilities differ from the first run by %g", want, worst);
    }
    bertc_close(c);
    return TEST_END();
}
