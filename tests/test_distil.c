/* test_distil.c: DistilBERT parity with transformers' DistilBertForSequenceClassification
 * (fixtures from tools/gen_distil.py: a random dim-64, 2-layer model saved by
 * transformers): logits, relu pre_classifier output, every hidden state and
 * attention map on the fast and reference paths; the loss and every gradient;
 * token types (none: NULL and all-0 agree, others refused); the base
 * DistilBertModel gets a new head; config errors; and a save after one SGD
 * step that bertc reloads bit for bit.
 *
 * With BERTC_DISTIL_SAVE=DIR the saved folder is left in DIR with bertc's
 * logits (DIR/bertc_logits.f32, (B,NL) little-endian float32) for
 * tests/test_distil_interop.sh, which loads it in transformers.
 *
 * Tolerances: those of test_forward / test_grads (docs/numerics.md):
 *   logits, pooled, hidden states  1e-4 absolute;  attentions 1e-5 absolute
 *   loss 1e-5;  gradients |d| <= 1e-3 |torch| + max(1e-6, 1e-4 max|torch in the tensor|) */
#include "../src/bert.h"
#include "ops_ref.h"
#include "../src/hfmodel.h"
#include "npy.h"
#include "test.h"
#include "grad_check.h"

#include <sys/stat.h>
#include <unistd.h>

#define TOL_OUT 1e-4f
#define TOL_ATT 1e-5f
#define LOSS_ATOL 1e-5

static npy ids, mask, labels, logits, pooled, hidden, att, loss_ref, grads;
static char dir[4096];

static int load_refs(void) {
    char p[8192];
#define LD(field, name, kind) (snprintf(p, sizeof p, "%s/ref/" name ".npy", dir), npy_load(&field, p, kind))
    return LD(ids, "input_ids", 'i') || LD(mask, "attention_mask", 'i') || LD(labels, "labels", 'i') ||
           LD(logits, "logits", 'f') || LD(pooled, "pooled", 'f') || LD(hidden, "hidden_states", 'f') ||
           LD(att, "attentions", 'f') || LD(loss_ref, "loss", 'f') || LD(grads, "grads", 'f');
#undef LD
}

static void cmp(const char *tag, const char *what, const float *got, const float *want, size_t n, float tol,
                float *worst) {
    size_t w;
    float d = test_max_abs_diff(got, want, n, &w);
    if (d > *worst) *worst = d;
    CHECK(d <= tol, "%s %s: max |diff| %.3g > %.0e at [%zu] (bertc %.7g, transformers %.7g)", tag, what, d, tol, w,
          got[w], want[w]);
}

static void forward_case(hf_model *hf, int use_reference, int training) {
    const bert_config *c = &hf->cfg;
    int B = (int)ids.shape[0], T = (int)ids.shape[1], L = c->num_layers, C = c->hidden_size, NH = c->num_heads;
    char tag[96];
    snprintf(tag, sizeof tag, "distil [%s%s]", use_reference ? "reference" : "fast", training ? ", training" : "");
    bertc_err err = {0};
    bert_model m;
    int rc = bert_model_build(&m, c, hf->params_memory, B, T, training, &err);
    CHECK(rc == BERTC_OK, "%s: build: %s", tag, err.msg);
    if (rc) return;
    m.ops = use_reference ? &bert_ops_ref : NULL;
    /* memory planning: the estimate's arena is exactly what build allocated */
    bert_memory_plan plan;
    rc = bert_memory_estimate(&plan, c, B, T, training, 1000, &err);
    CHECK(rc == BERTC_OK && plan.arena == m.arena_bytes && plan.params == hf->num_params * sizeof(float) &&
              plan.grads == (training ? plan.params : 0) && plan.adam == (training ? 2 * plan.params : 0) &&
              plan.total == plan.params + plan.grads + plan.adam + plan.arena + 1000 + plan.overhead,
          "%s: memory estimate arena %zu, built %zu (%s)", tag, plan.arena, m.arena_bytes, err.msg);
    size_t nh = (size_t)(L + 1) * B * T * C, na = (size_t)L * B * NH * T * T;
    if (hidden.n != nh || att.n != na) {
        CHECK(0, "%s: fixture shapes do not match the config", tag);
        bert_model_free(&m);
        return;
    }
    float *hs = malloc(nh * sizeof(float)), *at = malloc(na * sizeof(float));
    float wo = 0, wa = 0;
    rc = bert_forward(&m, ids.i, NULL, mask.i, B, T, NULL, hs, at, &err);
    CHECK(rc == BERTC_OK, "%s: forward: %s", tag, err.msg);
    if (rc == BERTC_OK) {
        cmp(tag, "logits", m.logits, logits.f, logits.n, TOL_OUT, &wo);
        cmp(tag, "pooled (relu pre_classifier)", m.pooled, pooled.f, pooled.n, TOL_OUT, &wo);
        cmp(tag, "hidden_states", hs, hidden.f, nh, TOL_OUT, &wo);
        cmp(tag, "attentions", at, att.f, na, TOL_ATT, &wa);
        printf("%-28s max |diff| logits/pooled/hidden %.2e, attentions %.2e\n", tag, wo, wa);
        /* all-0 token types are the same as none; any other is refused */
        float first[64];
        memcpy(first, m.logits, (size_t)B * c->num_labels * sizeof(float));
        int *tt = calloc((size_t)B * T, sizeof(int));
        rc = bert_forward(&m, ids.i, tt, mask.i, B, T, NULL, NULL, NULL, &err);
        CHECK(rc == BERTC_OK && memcmp(first, m.logits, (size_t)B * c->num_labels * sizeof(float)) == 0,
              "%s: all-0 token_type_ids changed the logits", tag);
        tt[3] = 1;
        CHECK(bert_forward(&m, ids.i, tt, mask.i, B, T, NULL, NULL, NULL, &err) == BERTC_ERR_ARG,
              "%s: token type 1 accepted by a model without token types", tag);
        free(tt);
    }
    free(hs), free(at);
    bert_model_free(&m);
}

/* Loss and gradients; then one SGD step, a save, and a reload that must give the same logits. */
static void grads_and_save(hf_model *hf, int use_reference) {
    int B = (int)ids.shape[0], T = (int)ids.shape[1], NL = hf->cfg.num_labels;
    char tag[64];
    snprintf(tag, sizeof tag, "distil grads [%s]", use_reference ? "reference" : "fast");
    bertc_err err = {0};
    bert_model m;
    int rc = bert_model_build(&m, &hf->cfg, hf->params_memory, B, T, 1, &err);
    CHECK(rc == BERTC_OK, "%s: build: %s", tag, err.msg);
    if (rc) return;
    m.ops = use_reference ? &bert_ops_ref : NULL;
    float loss = NAN;
    bert_zero_grad(&m);
    rc = bert_forward(&m, ids.i, NULL, mask.i, B, T, NULL, NULL, NULL, &err);
    if (rc == BERTC_OK) rc = bert_backward(&m, labels.i, NULL, &loss, &err);
    CHECK(rc == BERTC_OK, "%s: forward/backward: %s", tag, err.msg);
    CHECK(fabs(loss - loss_ref.f[0]) <= LOSS_ATOL, "%s: loss %.8f, torch %.8f", tag, loss, loss_ref.f[0]);
    printf("%-28s loss %.7f (torch %.7f)\n", tag, loss, loss_ref.f[0]);
    CHECK(grads.n == m.num_params, "%s: %zu reference gradients for %zu parameters", tag, grads.n, m.num_params);
    if (grads.n == m.num_params) test_compare_grads(tag, dir, m.grads_memory, grads.f, m.num_params);

    if (!use_reference) {
        /* dropout: a training step with dropout repeats for a seed and differs from eval */
        bertc_rng r;
        float l1, l2;
        bertc_rng_seed(&r, 3);
        bert_forward(&m, ids.i, NULL, mask.i, B, T, &r, NULL, NULL, &err);
        bert_loss(&m, labels.i, NULL, &l1, &err);
        bertc_rng_seed(&r, 3);
        bert_forward(&m, ids.i, NULL, mask.i, B, T, &r, NULL, NULL, &err);
        bert_loss(&m, labels.i, NULL, &l2, &err);
        CHECK(l1 == l2 && l1 != loss, "%s: dropout loss %g / %g (eval %g)", tag, l1, l2, loss);

        /* one SGD step, then save and reload */
        for (size_t i = 0; i < m.num_params; i++) hf->params_memory[i] -= 0.5f * m.grads_memory[i];
        rc = bert_forward(&m, ids.i, NULL, mask.i, B, T, NULL, NULL, NULL, &err);
        float after[64];
        memcpy(after, m.logits, (size_t)B * NL * sizeof(float));
        float moved = test_max_abs_diff(after, logits.f, (size_t)B * NL, NULL);
        CHECK(moved > 1e-3f, "%s: the SGD step did not change the logits (%g)", tag, moved);
        const char *keep = getenv("BERTC_DISTIL_SAVE");
        char out[4096];
        if (keep && *keep) snprintf(out, sizeof out, "%s", keep);
        else snprintf(out, sizeof out, "/tmp/bertc-test-distil-%ld", (long)getpid());
        rc = hf_model_save(hf, out, &err);
        CHECK(rc == BERTC_OK, "save %s: %s", out, err.msg);
        hf_model back = {0};
        hf_load_opts o;
        hf_load_opts_default(&o);
        rc = rc ? rc : hf_model_load(&back, out, &o, &err);
        CHECK(rc == BERTC_OK, "reload %s: %s", out, err.msg);
        if (rc == BERTC_OK) {
            CHECK(back.cfg.model_type == BERT_ARCH_DISTILBERT && back.cfg.type_vocab_size == 0 && !back.new_head &&
                      !back.new_pooler && back.num_params == hf->num_params,
                  "reload: not the same DistilBERT (model_type %d, TT %d, new head %d)", back.cfg.model_type,
                  back.cfg.type_vocab_size, back.new_head);
            CHECK(back.num_params == hf->num_params &&
                      memcmp(back.params_memory, hf->params_memory, hf->num_params * sizeof(float)) == 0,
                  "reload: parameters differ from what was saved");
            CHECK(fabsf(back.cfg.classifier_dropout - hf->cfg.classifier_dropout) == 0 &&
                      back.cfg.hidden_dropout == hf->cfg.hidden_dropout,
                  "reload: dropout settings changed");
        }
        hf_model_free(&back);
        if (keep && *keep) {
            char p[8192];
            snprintf(p, sizeof p, "%s/bertc_logits.f32", out);
            FILE *f = fopen(p, "wb");
            CHECK(f && fwrite(after, sizeof(float), (size_t)B * NL, f) == (size_t)B * NL, "%s: cannot write", p);
            if (f) fclose(f);
        } else {
            char cmd[8300];
            snprintf(cmd, sizeof cmd, "rm -rf '%s'", out);
            CHECK(system(cmd) == 0, "cannot remove %s", out);
        }
    }
    bert_model_free(&m);
}

/* A copy of the tiny folder with config.json replaced by `config`. */
static int bad_config(const char *config, const char *want_in_msg) {
    char tmp[4096], p[8192], src[8192];
    snprintf(tmp, sizeof tmp, "/tmp/bertc-test-distil-cfg-%ld", (long)getpid());
    mkdir(tmp, 0755);
    const char *files[] = {"model.safetensors", "vocab.txt"};
    for (int i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s/%s", tmp, files[i]);
        snprintf(src, sizeof src, "%s/%s", dir, files[i]);
        unlink(p);
        if (symlink(src, p) != 0) return -1;
    }
    snprintf(p, sizeof p, "%s/config.json", tmp);
    FILE *f = fopen(p, "w");
    if (!f) return -1;
    fputs(config, f);
    fclose(f);
    hf_model m = {0};
    bertc_err err = {0};
    int rc = hf_model_load(&m, tmp, NULL, &err);
    hf_model_free(&m);
    snprintf(p, sizeof p, "rm -rf '%s'", tmp);
    if (system(p) != 0) return -1;
    CHECK(rc != BERTC_OK && strstr(err.msg, want_in_msg), "bad config accepted or unclear message (rc %d): %s", rc,
          err.msg);
    return 0;
}

int main(void) {
    snprintf(dir, sizeof dir, "%sdistil/tiny", test_fixture(""));
    REQUIRE(load_refs() == 0, "%s: reference outputs missing: run `make fixtures`", dir);
    hf_model hf = {0};
    bertc_err err = {0};
    int rc = hf_model_load(&hf, dir, NULL, &err);
    REQUIRE(rc == BERTC_OK, "%s: load: %s", dir, err.msg);
    CHECK(hf.cfg.model_type == BERT_ARCH_DISTILBERT && hf.cfg.type_vocab_size == 0 && hf.cfg.num_labels == 3 &&
              hf.cfg.hidden_size == 64 && hf.cfg.num_layers == 2 && hf.cfg.intermediate_size == 128 &&
              hf.cfg.layer_norm_eps == 1e-12f && fabsf(hf.cfg.classifier_dropout - 0.2f) < 1e-7f,
          "config: model_type %d TT %d NL %d C %d L %d F %d eps %g seq_classif_dropout %g", hf.cfg.model_type,
          hf.cfg.type_vocab_size, hf.cfg.num_labels, hf.cfg.hidden_size, hf.cfg.num_layers,
          hf.cfg.intermediate_size, hf.cfg.layer_norm_eps, hf.cfg.classifier_dropout);
    CHECK(!hf.new_head && !hf.new_pooler, "the classifier and pre_classifier should come from the file");
    CHECK(strstr(hf.checks, "DistilBertForSequenceClassification names") != NULL, "checks line: %s", hf.checks);

    /* The estimate against a count made by hand for this config at the fixture's
     * 4 x 24 (BT = 96 rows, C = 64, F = 128, NH = 4, L = 2): recomputing keeps one
     * layer's activations instead of two, so it saves one layer's: per row qkv 3C
     * + atty, ln1, res1, res2 (C each) + fch F + 4 LayerNorm statistics = 192 +
     * 4*64 + 128 + 4 = 580 floats, and the probabilities BT*NH*T = 9,216 floats:
     * (96*580 + 9216) * 4 = 259,584 bytes; plus one layer's attention dropout mask
     * (9,216 bytes), less the rng states that replace the masks (2 x 32 bytes).
     * The arena rounds every slice up to a multiple of 64 elements: the four
     * LayerNorm statistics slices hold 2 x 96 = 192 floats (no rounding) when
     * every layer is kept, but 96 -> 128 floats when one is, so 4 x 32 x 4 = 512
     * bytes less are saved. */
    {
        bert_memory_plan full, re;
        bertc_err err = {0};
        int rc = bert_memory_estimate(&full, &hf.cfg, 4, 24, BERT_TRAIN, 0, &err) ||
                 bert_memory_estimate(&re, &hf.cfg, 4, 24, BERT_TRAIN_RECOMPUTE, 0, &err);
        CHECK(rc == 0 && full.arena - re.arena == 259584 + 9216 - 64 - 512,
              "distil 4 x 24: recomputing saves %zu arena bytes, counted by hand %d (%s)", full.arena - re.arena,
              259584 + 9216 - 64 - 512, err.msg);
    }
    forward_case(&hf, 0, 0);
    forward_case(&hf, 0, 1);
    if (!getenv("BERTC_SANITIZED")) forward_case(&hf, 1, 0);
    grads_and_save(&hf, 1);
    grads_and_save(&hf, 0); /* last: it steps the parameters */
    hf_model_free(&hf);

    /* the base model (DistilBertModel names, no head): new pre_classifier and classifier */
    char base[4096];
    snprintf(base, sizeof base, "%sdistil/base", test_fixture(""));
    rc = hf_model_load(&hf, base, NULL, &err);
    CHECK(rc == BERTC_OK && hf.new_head && hf.new_pooler && hf.cfg.model_type == BERT_ARCH_DISTILBERT,
          "%s: load: rc %d new head %d new pooler %d: %s", base, rc, hf.new_head, hf.new_pooler, err.msg);
    if (rc == BERTC_OK) {
        bert_model m;
        int B = (int)ids.shape[0], T = (int)ids.shape[1];
        rc = bert_model_build(&m, &hf.cfg, hf.params_memory, B, T, 0, &err);
        if (rc == BERTC_OK) rc = bert_forward(&m, ids.i, NULL, mask.i, B, T, NULL, NULL, NULL, &err);
        CHECK(rc == BERTC_OK, "base: forward: %s", err.msg);
        bert_model_free(&m);
    }
    hf_model_free(&hf);

    const char *head = "{\"model_type\": \"distilbert\", \"vocab_size\": 30522, \"dim\": 64, \"n_layers\": 2, "
                       "\"n_heads\": 4, \"hidden_dim\": 128, \"max_position_embeddings\": 64, \"num_labels\": 3";
    char cfg[1024];
    snprintf(cfg, sizeof cfg, "%s, \"sinusoidal_pos_embds\": true}", head);
    CHECK(bad_config(cfg, "sinusoidal_pos_embds") == 0, "setup failed");
    snprintf(cfg, sizeof cfg, "%s, \"activation\": \"relu\"}", head);
    CHECK(bad_config(cfg, "activation") == 0, "setup failed");
    snprintf(cfg, sizeof cfg, "%s, \"problem_type\": \"regression\"}", head);
    CHECK(bad_config(cfg, "problem_type") == 0, "setup failed");
    snprintf(cfg, sizeof cfg, "{\"model_type\": \"distilbert\", \"vocab_size\": 30522, \"n_layers\": 2}");
    CHECK(bad_config(cfg, "dim") == 0, "setup failed");

    npy_free(&ids), npy_free(&mask), npy_free(&labels), npy_free(&logits), npy_free(&pooled);
    npy_free(&hidden), npy_free(&att), npy_free(&loss_ref), npy_free(&grads);
    return TEST_END();
}
