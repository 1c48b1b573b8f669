/* test_forward.c: forward parity with transformers' BertForSequenceClassification
 * (fixtures from tools/gen_forward.py): logits, pooled output, every layer's
 * hidden states and attention probabilities, on the fast and the reference
 * path, for all-MiniLM-L6-v2 with a 2-label head and a random bert-base-sized
 * model saved in fp32, bf16 and f16.
 *
 * Tolerances (absolute; docs/numerics.md explains them):
 *   logits, pooled, hidden states  1e-4   fp32 sums in another order over 12
 *                                          layers of O(1) activations
 *   attention probabilities        1e-5   probabilities in [0,1]
 * Every position is compared, padded ones included: bertc computes padded
 * rows exactly as transformers does (the mask applies to keys only), and a
 * padded key's probability is exactly 0 on both sides. */
#include "../src/bert.h"
#include "ops_ref.h"
#include "../src/hfmodel.h"
#include "npy.h"
#include "test.h"

#define TOL_OUT 1e-4f
#define TOL_ATT 1e-5f

typedef struct ref_case {
    npy ids, tts, mask, logits, pooled, hidden, att;
} ref_case;

static int load_ref(ref_case *r, const char *dir) {
    char p[8192]; /* dir is at most 4096 */
#define LD(field, name, kind) \
    (snprintf(p, sizeof p, "%s/ref/" name ".npy", dir), npy_load(&r->field, p, kind))
    return LD(ids, "input_ids", 'i') || LD(tts, "token_type_ids", 'i') ||
           LD(mask, "attention_mask", 'i') || LD(logits, "logits", 'f') ||
           LD(pooled, "pooled", 'f') || LD(hidden, "hidden_states", 'f') ||
           LD(att, "attentions", 'f');
#undef LD
}

static void free_ref(ref_case *r) {
    npy_free(&r->ids), npy_free(&r->tts), npy_free(&r->mask), npy_free(&r->logits);
    npy_free(&r->pooled), npy_free(&r->hidden), npy_free(&r->att);
}

/* Compares n floats; reports the worst element with its index. */
static float worst_out, worst_att; /* per run, for the summary line */

static void cmp(const char *what, const char *name, const float *got, const float *want, size_t n,
                float tol) {
    size_t w;
    float d = test_max_abs_diff(got, want, n, &w);
    float *worst = tol == TOL_ATT ? &worst_att : &worst_out;
    if (d > *worst) *worst = d;
    CHECK(d <= tol, "%s %s: max |diff| %.3g > %.0e at [%zu] (bertc %.7g, transformers %.7g)",
          name, what, d, tol, w, got[w], want[w]);
}

/* One forward on model m (already built) and the comparisons. */
static void run_case(const char *name, const char *path_label, hf_model *hf, ref_case *r,
                     int use_reference, int training_layout) {
    const bert_config *c = &hf->cfg;
    int B = (int)r->ids.shape[0], T = (int)r->ids.shape[1];
    int L = c->num_layers, C = c->hidden_size, NH = c->num_heads, NL = c->num_labels;
    char tag[128];
    snprintf(tag, sizeof tag, "%s [%s]", name, path_label);
    bertc_err err = {0};
    bert_model m;
    int rc = bert_model_build(&m, c, hf->params_memory, B, T, training_layout, &err);
    CHECK(rc == BERTC_OK, "%s: build: %s", tag, err.msg);
    if (rc) return;
    m.ops = use_reference ? &bert_ops_ref : NULL;
    size_t nh = (size_t)(L + 1) * B * T * C, na = (size_t)L * B * NH * T * T;
    CHECK(r->hidden.n == nh && r->att.n == na && r->logits.n == (size_t)B * NL && r->pooled.n == (size_t)B * C,
          "%s: fixture shapes do not match the config", tag);
    if (r->hidden.n != nh || r->att.n != na) { bert_model_free(&m); return; }
    float *hidden = malloc(nh * sizeof(float)), *att = malloc(na * sizeof(float));
    worst_out = worst_att = 0;
    rc = bert_forward(&m, r->ids.i, r->tts.i, r->mask.i, B, T, NULL, hidden, att, &err);
    CHECK(rc == BERTC_OK, "%s: forward: %s", tag, err.msg);
    if (rc == BERTC_OK) {
        cmp("logits", tag, m.logits, r->logits.f, (size_t)B * NL, TOL_OUT);
        cmp("pooled", tag, m.pooled, r->pooled.f, (size_t)B * C, TOL_OUT);
        for (int l = 0; l <= L; l++) {
            char what[64];
            snprintf(what, sizeof what, "hidden_states[%d]", l);
            cmp(what, tag, hidden + (size_t)l * B * T * C, r->hidden.f + (size_t)l * B * T * C,
                (size_t)B * T * C, TOL_OUT);
        }
        for (int l = 0; l < L; l++) {
            char what[64];
            snprintf(what, sizeof what, "attentions[%d]", l);
            cmp(what, tag, att + (size_t)l * B * NH * T * T, r->att.f + (size_t)l * B * NH * T * T,
                (size_t)B * NH * T * T, TOL_ATT);
        }
        printf("%-32s max |diff| logits/pooled/hidden %.2e, attentions %.2e\n", tag, worst_out, worst_att);
        /* probabilities are the softmax of the logits */
        for (int b = 0; b < B; b++) {
            double s = 0;
            for (int i = 0; i < NL; i++) s += m.probs[b * NL + i];
            CHECK(fabs(s - 1) < 1e-5, "%s: probs of row %d sum to %.7f", tag, b, s);
        }
        /* repeatable bit for bit; and without the optional outputs, the same logits */
        float *first = malloc((size_t)B * NL * sizeof(float));
        memcpy(first, m.logits, (size_t)B * NL * sizeof(float));
        rc = bert_forward(&m, r->ids.i, r->tts.i, r->mask.i, B, T, NULL, NULL, NULL, &err);
        CHECK(rc == BERTC_OK && memcmp(first, m.logits, (size_t)B * NL * sizeof(float)) == 0,
              "%s: a second forward (no hidden states/attentions requested) gave other logits", tag);
        free(first);
    }
    free(hidden), free(att);
    bert_model_free(&m);
}

int main(void) {
    static const char *cases[] = {"minilm2", "base3", "base3_bf16", "base3_f16"};
    int sanitized = getenv("BERTC_SANITIZED") != NULL;
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", test_fixture(""));
        snprintf(dir + strlen(dir), sizeof dir - strlen(dir), "forward/%s", cases[k]);
        ref_case r;
        REQUIRE(load_ref(&r, dir) == 0, "%s: reference outputs missing: run `make fixtures`", dir);
        hf_load_opts o;
        hf_load_opts_default(&o);
        hf_model hf = {0};
        bertc_err err = {0};
        int rc = hf_model_load(&hf, dir, &o, &err);
        CHECK(rc == BERTC_OK, "%s: load: %s", dir, err.msg);
        if (rc == BERTC_OK) {
            CHECK(!hf.new_head && !hf.new_pooler, "%s: the classifier/pooler should come from the file", dir);
            run_case(cases[k], "fast", &hf, &r, 0, 0);
            if (k == 0) run_case(cases[k], "fast, training layout", &hf, &r, 0, 1);
            /* The reference path is slow; under the sanitizers it runs on the
             * MiniLM case only (the fast path still runs every case). */
            if (!sanitized || k == 0) run_case(cases[k], "reference", &hf, &r, 1, 0);
        }
        hf_model_free(&hf);
        free_ref(&r);
    }
    return TEST_END();
}
