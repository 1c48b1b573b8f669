/* grad_check.h: compares a model's gradients with PyTorch's, tensor by tensor,
 * for every gradient test (test_grads, test_distil, test_multilabel).
 *
 * The reference is DIR/ref/grads_index.txt ("NAME OFFSET COUNT" per transformers
 * tensor, offsets in bertc's parameter layout) plus the flat gradient array.
 *
 * Tolerance (docs/numerics.md), for every element of every tensor:
 *   |bertc - torch| <= GRAD_RTOL * |torch| + max(GRAD_ATOL_MIN, GRAD_ATOL_REL * max|torch over the tensor|)
 * Elements that are sums of many cancelling terms (a word used several times,
 * LayerNorm biases) carry the fp32 rounding of the *largest* terms, so "tiny"
 * is measured against the tensor's scale. */
#ifndef BERTC_GRAD_CHECK_H
#define BERTC_GRAD_CHECK_H

#include "test.h"

#define GRAD_RTOL 1e-3
#define GRAD_ATOL_REL 1e-4
#define GRAD_ATOL_MIN 1e-6

/* Checks got against want (num_params floats each) for every tensor of the
 * index; prints the worst element's share of its tolerance. Returns how many
 * gradients were compared. */
static inline size_t test_compare_grads(const char *tag, const char *dir, const float *got, const float *want,
                                        size_t num_params) {
    char p[8192], name[512];
    snprintf(p, sizeof p, "%s/ref/grads_index.txt", dir);
    FILE *f = fopen(p, "r");
    CHECK(f != NULL, "%s: cannot open", p);
    if (!f) return 0;
    size_t covered = 0, off, cnt;
    int ntensors = 0;
    double worst = 0;
    char worst_name[512] = "";
    while (fscanf(f, "%511s %zu %zu", name, &off, &cnt) == 3) {
        CHECK(off + cnt <= num_params, "%s: %s outside the layout", tag, name);
        if (off + cnt > num_params) break;
        const float *a = got + off, *b = want + off;
        float scale = 0;
        for (size_t i = 0; i < cnt; i++) scale = fmaxf(scale, fabsf(b[i]));
        double atol = fmax(GRAD_ATOL_MIN, GRAD_ATOL_REL * scale);
        size_t bad = 0, first = 0;
        for (size_t i = 0; i < cnt; i++) {
            double d = fabs((double)a[i] - b[i]), tol = GRAD_RTOL * fabs((double)b[i]) + atol;
            if (!(d <= tol) && !bad++) first = i;
            if (d / tol > worst) {
                worst = d / tol;
                snprintf(worst_name, sizeof worst_name, "%s", name);
            }
        }
        CHECK(bad == 0, "%s: grad %s: %zu of %zu off (first [%zu] bertc %.7g torch %.7g; tensor max %.3g)", tag,
              name, bad, cnt, first, a[first], b[first], scale);
        covered += cnt;
        ntensors++;
    }
    fclose(f);
    CHECK(covered == num_params, "%s: the index covers %zu of %zu parameters", tag, covered, num_params);
    printf("%-26s %d tensors, %zu gradients; worst element uses %.1f%% of its tolerance (%s)\n", tag, ntensors,
           covered, 100 * worst, worst_name);
    return covered;
}

#endif
