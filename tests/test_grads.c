/* test_grads.c: the loss and every parameter's gradient against PyTorch
 * autograd (fixtures from tools/gen_grads.py, dropout off), for a tiny random
 * model with class-weighted cross-entropy and for all-MiniLM-L6-v2 with a
 * 2-label head; on the fast path (and the reference path for the tiny model).
 * Also: gradients accumulate, repeat bit for bit, and a dropout step repeats
 * for the same seed.
 *
 * Tolerances: loss within 1e-5; gradients by the rule in grad_check.h
 * (docs/numerics.md). */
#include "../src/bert.h"
#include "ops_ref.h"
#include "../src/hfmodel.h"
#include "npy.h"
#include "test.h"
#include "grad_check.h"

#define LOSS_ATOL 1e-5

typedef struct grad_ref {
    npy ids, tts, mask, labels, cw, loss, grads;
    int has_cw;
} grad_ref;

static int load(grad_ref *r, const char *dir) {
    char p[8192]; /* dir is at most 4096 */
#define LD(field, name, kind) \
    (snprintf(p, sizeof p, "%s/ref/" name ".npy", dir), npy_load(&r->field, p, kind))
    int rc = LD(ids, "input_ids", 'i') || LD(tts, "token_type_ids", 'i') ||
             LD(mask, "attention_mask", 'i') || LD(labels, "labels", 'i') ||
             LD(loss, "loss", 'f') || LD(grads, "grads", 'f');
    snprintf(p, sizeof p, "%s/ref/class_weights.npy", dir);
    r->has_cw = 0;
    if (!rc && bertc_is_file(p)) r->has_cw = npy_load(&r->cw, p, 'f') == 0;
    return rc;
#undef LD
}

static void run(const char *name, int with_reference) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", test_fixture(""));
    snprintf(dir + strlen(dir), sizeof dir - strlen(dir), "grads/%s", name);
    grad_ref r;
    memset(&r, 0, sizeof r);
    if (load(&r, dir)) {
        CHECK(0, "%s: reference missing: run `make fixtures`", dir);
        return;
    }
    hf_load_opts o;
    hf_load_opts_default(&o);
    hf_model hf = {0};
    bertc_err err = {0};
    int rc = hf_model_load(&hf, dir, &o, &err);
    CHECK(rc == BERTC_OK, "%s: load: %s", dir, err.msg);
    if (rc) goto done;
    CHECK(!hf.new_head, "%s: the classifier should come from the file", dir);
    CHECK(r.grads.n == hf.num_params, "%s: %zu reference gradients for %zu parameters", dir, r.grads.n, hf.num_params);
    if (r.grads.n != hf.num_params) goto done;
    int B = (int)r.ids.shape[0], T = (int)r.ids.shape[1];
    const float *cw = r.has_cw ? r.cw.f : NULL;
    for (int ref = 0; ref <= with_reference; ref++) {
        char tag[128];
        snprintf(tag, sizeof tag, "%s [%s]", name, ref ? "reference" : "fast");
        bert_model m;
        rc = bert_model_build(&m, &hf.cfg, hf.params_memory, B, T, 1, &err);
        CHECK(rc == BERTC_OK, "%s: build: %s", tag, err.msg);
        if (rc) continue;
        m.ops = ref ? &bert_ops_ref : NULL;
        float loss = NAN;
        bert_zero_grad(&m);
        rc = bert_forward(&m, r.ids.i, r.tts.i, r.mask.i, B, T, NULL, NULL, NULL, &err);
        if (rc == BERTC_OK) rc = bert_backward(&m, r.labels.i, cw, &loss, &err);
        CHECK(rc == BERTC_OK, "%s: forward/backward: %s", tag, err.msg);
        CHECK(fabs(loss - r.loss.f[0]) <= LOSS_ATOL, "%s: loss %.8f, torch %.8f", tag, loss, r.loss.f[0]);
        printf("%-22s loss %.7f (torch %.7f)\n", tag, loss, r.loss.f[0]);
        test_compare_grads(tag, dir, m.grads_memory, r.grads.f, m.num_params);

        if (!ref) {
            /* accumulation: a second backward adds the same again; zero_grad + redo is bit-identical */
            size_t n = m.num_params;
            float *g1 = malloc(n * sizeof(float));
            memcpy(g1, m.grads_memory, n * sizeof(float));
            bert_backward(&m, r.labels.i, cw, NULL, &err);
            size_t off2 = 0;
            for (size_t i = 0; i < n; i++) off2 += fabsf(m.grads_memory[i] - 2 * g1[i]) > 1e-6f + 1e-5f * fabsf(g1[i]);
            CHECK(off2 == 0, "%s: a second backward did not accumulate (%zu off)", tag, off2);
            bert_zero_grad(&m);
            bert_forward(&m, r.ids.i, r.tts.i, r.mask.i, B, T, NULL, NULL, NULL, &err);
            bert_backward(&m, r.labels.i, cw, NULL, &err);
            CHECK(memcmp(g1, m.grads_memory, n * sizeof(float)) == 0, "%s: gradients not repeatable bit for bit", tag);

            /* dropout: the same seed gives the same step, another seed another one */
            float l1, l2, l3;
            bertc_rng rng;
            bertc_rng_seed(&rng, 5);
            bert_zero_grad(&m);
            bert_forward(&m, r.ids.i, r.tts.i, r.mask.i, B, T, &rng, NULL, NULL, &err);
            rc = bert_backward(&m, r.labels.i, cw, &l1, &err);
            memcpy(g1, m.grads_memory, n * sizeof(float));
            bertc_rng_seed(&rng, 5);
            bert_zero_grad(&m);
            bert_forward(&m, r.ids.i, r.tts.i, r.mask.i, B, T, &rng, NULL, NULL, &err);
            bert_backward(&m, r.labels.i, cw, &l2, &err);
            CHECK(rc == BERTC_OK && isfinite(l1) && l1 == l2 && memcmp(g1, m.grads_memory, n * sizeof(float)) == 0,
                  "%s: a dropout step is not repeatable for the same seed (%g vs %g)", tag, l1, l2);
            bert_forward(&m, r.ids.i, r.tts.i, r.mask.i, B, T, &rng, NULL, NULL, &err);
            bert_loss(&m, r.labels.i, cw, &l3, &err);
            CHECK(l3 != l1 && l1 != loss, "%s: dropout had no effect on the loss (%g, %g, eval %g)", tag, l1, l3, loss);
            free(g1);

            /* bad labels are refused, not indexed */
            int badlab[64];
            for (int b = 0; b < B && b < 64; b++) badlab[b] = r.labels.i[b];
            badlab[B - 1] = hf.cfg.num_labels;
            CHECK(bert_backward(&m, badlab, cw, NULL, &err) == BERTC_ERR_ARG, "%s: label out of range accepted", tag);
        }
        bert_model_free(&m);
    }
done:
    hf_model_free(&hf);
    npy_free(&r.ids), npy_free(&r.tts), npy_free(&r.mask), npy_free(&r.labels);
    npy_free(&r.cw), npy_free(&r.loss), npy_free(&r.grads);
}

int main(void) {
    run("tiny", 1);
    run("minilm2", getenv("BERTC_SANITIZED") == NULL);
    return TEST_END();
}
