/* test_recompute.c: training that recomputes each layer in the backward
 * (BERT_TRAIN_RECOMPUTE, `bertc train --gradient-checkpointing`) against
 * training that keeps every layer's activations (BERT_TRAIN).
 *
 * The claim is exact, so the checks are too: for the same parameters, inputs
 * and dropout seed the loss, logits and every gradient are bit-identical
 * (memcmp), because the recomputation runs the same deterministic kernels on
 * the same stored layer input with the dropout masks the forward drew. Cases:
 * BERT and DistilBERT (random tiny models), single- and multi-label, dropout
 * on and off, fp32 and (where the CPU has AVX512-BF16) bf16, gradients
 * accumulated over two batches, and all-MiniLM-L6-v2 itself. The recomputation
 * regenerates each layer's attention dropout mask from the rng state the
 * forward drew it from (only one layer's mask is stored), so "dropout on"
 * checks that too. The memory side: bert_memory_estimate predicts exactly what
 * bert_model_build allocates in both modes, and the saving matches a count of
 * bytes made by hand (main). Both models are timed (bert_model.prof, bert.h):
 * profiling leaves every bit as it was (the same comparison), and each kind of
 * work is counted once per kernel call, the recomputation's in the backward. */
#include "../src/bert.h"
#include "../src/hfmodel.h"
#include "../src/ops_bf16.h"
#include "../src/rng.h"
#include "test.h"

#include <stdint.h>

static bertc_rng rng;

static bert_config tiny(int arch, int problem) {
    bert_config c = {0};
    c.model_type = arch;
    c.problem_type = problem;
    c.vocab_size = 120, c.hidden_size = 32, c.num_layers = 3, c.num_heads = 4, c.intermediate_size = 64;
    c.max_position = 64, c.type_vocab_size = arch == BERT_ARCH_DISTILBERT ? 0 : 2, c.num_labels = 3;
    c.layer_norm_eps = 1e-12f, c.hidden_dropout = 0.1f, c.attention_dropout = 0.1f, c.classifier_dropout = 0.1f;
    c.initializer_range = 0.02f;
    return c;
}

/* `batches` forward+backward passes (gradients accumulate) on both models, then
 * checks that loss, logits and gradients agree bit for bit. */
static void compare(const char *what, const bert_config *cfg, float *params, int B, int T, int precision,
                    int dropout, int batches) {
    bert_model full, re;
    bertc_err err = {0};
    int rc = bert_model_build(&full, cfg, params, B, T, BERT_TRAIN, &err) ||
             bert_model_build(&re, cfg, params, B, T, BERT_TRAIN_RECOMPUTE, &err);
    CHECK(rc == 0, "%s: build: %s", what, err.msg);
    if (rc) return;
    full.precision = re.precision = precision;
    bert_prof pfull = {0}, pre = {0};
    full.prof = &pfull, re.prof = &pre;
    CHECK(re.recompute && !full.recompute, "%s: the recompute flag", what);
    CHECK(re.arena_bytes < full.arena_bytes, "%s: recomputing arena %zu bytes, not below the full %zu", what,
          re.arena_bytes, full.arena_bytes);
    bert_memory_plan pf, pr;
    rc = bert_memory_estimate(&pf, cfg, B, T, BERT_TRAIN, 0, &err) ||
         bert_memory_estimate(&pr, cfg, B, T, BERT_TRAIN_RECOMPUTE, 0, &err);
    CHECK(rc == 0 && pf.arena == full.arena_bytes && pr.arena == re.arena_bytes,
          "%s: estimates %zu / %zu vs built arenas %zu / %zu", what, pf.arena, pr.arena, full.arena_bytes,
          re.arena_bytes);
    int NL = cfg->num_labels;
    int *ids = malloc((size_t)B * T * sizeof *ids), *types = malloc((size_t)B * T * sizeof *types);
    int *mask = malloc((size_t)B * T * sizeof *mask), *labels = malloc((size_t)B * sizeof *labels);
    float *targets = malloc((size_t)B * NL * sizeof *targets);
    bertc_rng d1, d2;
    bertc_rng_seed(&d1, 7);
    bertc_rng_seed(&d2, 7);
    float l1 = 0, l2 = 0;
    for (int step = 0; step < batches; step++) {
        for (int b = 0; b < B; b++) {
            int len = T - (b * 3) % T; /* some padding, one full row */
            for (int t = 0; t < T; t++) {
                ids[b * T + t] = t < len ? (int)bertc_rng_below(&rng, (uint64_t)cfg->vocab_size) : cfg->pad_token_id;
                types[b * T + t] = cfg->type_vocab_size > 0 && t >= len / 2 && t < len;
                mask[b * T + t] = t < len;
            }
            labels[b] = (int)bertc_rng_below(&rng, (uint64_t)NL);
            for (int i = 0; i < NL; i++) targets[b * NL + i] = (float)((b + i + step) % 2);
        }
        bertc_rng *r1 = dropout ? &d1 : NULL, *r2 = dropout ? &d2 : NULL;
        int multi = cfg->problem_type == BERT_PROBLEM_MULTI_LABEL;
        rc = bert_forward(&full, ids, types, mask, B, T, r1, NULL, NULL, &err) ||
             (multi ? bert_backward_multilabel(&full, targets, &l1, &err) : bert_backward(&full, labels, NULL, &l1, &err)) ||
             bert_forward(&re, ids, types, mask, B, T, r2, NULL, NULL, &err) ||
             (multi ? bert_backward_multilabel(&re, targets, &l2, &err) : bert_backward(&re, labels, NULL, &l2, &err));
        CHECK(rc == 0, "%s: forward/backward: %s", what, err.msg);
        if (rc) break;
        CHECK(memcmp(&l1, &l2, sizeof l1) == 0, "%s: batch %d loss %.9g vs %.9g", what, step, l1, l2);
        CHECK(memcmp(full.logits, re.logits, (size_t)B * NL * sizeof(float)) == 0, "%s: batch %d logits differ", what,
              step);
    }
    /* per batch, L layers: forward 4L dense products, L attentions, 2L + 1
     * LayerNorms (the embeddings'), 1 embedding lookup and 1 head; backward the
     * same products again (4L + 4L recomputed), the head twice (loss, backward) */
    long L = cfg->num_layers, nb = batches;
    for (int r = 0; r < 2; r++) {
        const bert_prof *pp = r ? &pre : &pfull;
        long fw = pp->calls[BERT_PROF_FORWARD][BERT_PROF_DENSE], bw = pp->calls[BERT_PROF_BACKWARD][BERT_PROF_DENSE];
        long fa = pp->calls[BERT_PROF_FORWARD][BERT_PROF_ATTENTION], ba = pp->calls[BERT_PROF_BACKWARD][BERT_PROF_ATTENTION];
        CHECK(fw == 4 * L * nb && bw == (r ? 8 : 4) * L * nb && fa == L * nb && ba == (r ? 2 : 1) * L * nb,
              "%s: profile of the %s model counted %ld/%ld dense and %ld/%ld attention calls (forward/backward)", what,
              r ? "recomputing" : "full", fw, bw, fa, ba);
        CHECK(pp->calls[BERT_PROF_FORWARD][BERT_PROF_NORM] == (2 * L + 1) * nb &&
                  pp->calls[BERT_PROF_FORWARD][BERT_PROF_EMBED] == nb &&
                  pp->calls[BERT_PROF_FORWARD][BERT_PROF_HEAD] == nb &&
                  pp->calls[BERT_PROF_BACKWARD][BERT_PROF_HEAD] == 2 * nb &&
                  pp->calls[BERT_PROF_BACKWARD][BERT_PROF_EMBED] == nb,
              "%s: profile counts of LayerNorm/embeddings/head calls", what);
        double tot = 0;
        for (int ph = 0; ph < BERT_PROF_PHASES; ph++)
            for (int k = 0; k < BERT_PROF_KINDS; k++) tot += pp->sec[ph][k];
        CHECK(tot > 0 && pp->sec[BERT_PROF_FORWARD][BERT_PROF_DENSE] > 0, "%s: the profile timed nothing", what);
    }
    size_t nd = 0;
    for (size_t i = 0; i < full.num_params; i++) nd += memcmp(&full.grads_memory[i], &re.grads_memory[i], 4) != 0;
    CHECK(nd == 0, "%s: %zu of %zu gradient values differ", what, nd, full.num_params);
    double gsum = 0;
    for (size_t i = 0; i < full.num_params; i++) gsum += fabs(full.grads_memory[i]);
    CHECK(gsum > 0, "%s: the gradients are all zero (nothing was compared)", what);
    printf("%-34s arena %8.2f MiB -> %7.2f MiB recomputing; gradients identical: %s\n", what,
           full.arena_bytes / 1048576.0, re.arena_bytes / 1048576.0, nd == 0 ? "yes" : "NO");
    bert_model_free(&full);
    bert_model_free(&re);
    free(ids), free(types), free(mask), free(labels), free(targets);
}

int main(void) {
    bertc_rng_seed(&rng, 2026);
    int bf16 = bert_bf16_available();
    const struct { const char *name; int arch, problem; } kinds[] = {
        {"bert", BERT_ARCH_BERT, BERT_PROBLEM_SINGLE_LABEL},
        {"bert multi-label", BERT_ARCH_BERT, BERT_PROBLEM_MULTI_LABEL},
        {"distilbert", BERT_ARCH_DISTILBERT, BERT_PROBLEM_SINGLE_LABEL},
    };
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        bert_config cfg = tiny(kinds[k].arch, kinds[k].problem);
        size_t n = bert_num_params(&cfg);
        float *params = malloc(n * sizeof *params);
        for (size_t i = 0; i < n; i++) params[i] = bertc_rng_normal(&rng) * 0.2f;
        char what[96];
        for (int prec = 0; prec < (bf16 ? 2 : 1); prec++)
            for (int dropout = 0; dropout < 2; dropout++) {
                snprintf(what, sizeof what, "%s %s dropout %s", kinds[k].name, prec ? "bf16" : "fp32",
                         dropout ? "on" : "off");
                compare(what, &cfg, params, 4, 16, prec ? BERT_PREC_BF16 : BERT_PREC_FP32, dropout, 2);
            }
        free(params);
    }
    /* The saving, counted by hand for tiny() at B = 4, T = 16 (BT = 64 rows, C = 32,
     * F = 64, NH = 4, L = 3), against the estimate. Recomputing keeps one layer's
     * activations instead of L: per layer and row qkv 3C + atty C + ln1 C + fch F +
     * res1 C + res2 C + 4 LayerNorm statistics = 96+32+32+64+32+32+4 = 292 floats,
     * and the probabilities BT*NH*T = 4096 floats: (64*292 + 4096) * 4 bytes =
     * 91,136 bytes per layer, 182,272 for the 2 layers not kept. The attention
     * dropout masks (BT*NH*T = 4,096 bytes per layer) are regenerated from a
     * stored rng state (32 bytes per layer, 96 bytes padded to 128): one layer's
     * mask is kept instead of 3, saving 8,192 - 128 bytes. The arena rounds every
     * slice up to a multiple of 64 elements; every slice here already is one
     * (but the 96 bytes of rng states), so no other padding hides in the sum. */
    {
        bert_config cfg = tiny(BERT_ARCH_BERT, BERT_PROBLEM_SINGLE_LABEL);
        bert_memory_plan pf, pr;
        bertc_err err = {0};
        REQUIRE(bert_memory_estimate(&pf, &cfg, 4, 16, BERT_TRAIN, 0, &err) == 0 &&
                    bert_memory_estimate(&pr, &cfg, 4, 16, BERT_TRAIN_RECOMPUTE, 0, &err) == 0,
                "tiny estimate: %s", err.msg);
        size_t want = 182272 + 8192 - 128;
        CHECK(pf.arena - pr.arena == want,
              "tiny 4 x 16: recomputing saves %zu arena bytes; counted by hand: %zu (182,272 of activations + "
              "8,064 of attention dropout masks)", pf.arena - pr.arena, want);
    }

    /* the fp32 cases ran; the bf16 ones are reported, by name, as skipped */
    if (!bf16)
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
            printf("SKIP (partial): %s bf16 dropout off/on: no AVX512-BF16 on this CPU\n", kinds[k].name);

    /* the real model, with its own dropout rates */
    const char *dir = test_model_dir();
    hf_load_opts o;
    hf_load_opts_default(&o);
    hf_model hf = {0};
    bertc_err err = {0};
    REQUIRE(hf_model_load(&hf, dir, &o, &err) == BERTC_OK, "%s: %s (run make deps)", dir, err.msg);
    compare("all-MiniLM-L6-v2 fp32 dropout on", &hf.cfg, hf.params_memory, 4, 48, BERT_PREC_FP32, 1, 1);
    /* at the notebook's shape the saving is most of the arena */
    bert_memory_plan pf, pr;
    REQUIRE(bert_memory_estimate(&pf, &hf.cfg, 8, 128, BERT_TRAIN, 0, &err) == 0 &&
                bert_memory_estimate(&pr, &hf.cfg, 8, 128, BERT_TRAIN_RECOMPUTE, 0, &err) == 0,
            "estimate: %s", err.msg);
    printf("all-MiniLM-L6-v2 at 8 x 128: activations %.1f MiB -> %.1f MiB\n", pf.arena / 1048576.0,
           pr.arena / 1048576.0);
    CHECK(pr.arena * 2 < pf.arena, "recomputing keeps %zu of %zu arena bytes at 8 x 128 (want under half)", pr.arena,
          pf.arena);
    hf_model_free(&hf);
    bf16_release();
    return TEST_END();
}
