/* test_optim.c: AdamW, schedules and clipping against PyTorch/transformers
 * (fixtures from tools/gen_optim.py), plus the properties no reference gives:
 * determinism across thread counts, non-finite handling, argument checks.
 *
 * Tolerances (why):
 *   parameters, moments   |a - b| <= 1e-6 * |b| + 1e-8   fp32 ops in torch's order; the
 *                         only differences are the fp32 vs double norm (clip coefficient)
 *                         and where torch's kernels use FMA, i.e. a few ulps
 *   gradient norm         1e-6 relative (bertc accumulates in double, torch in fp32)
 *   learning rates,       exact: the same double formulas as transformers
 *   warmup steps, lambdas
 */
#include <cjson/cJSON.h>
#include <omp.h>

#include "../src/optim.h"
#include "../src/rng.h"
#include "test.h"

static cJSON *load_json(const char *path) {
    char *text = NULL;
    size_t len = 0;
    bertc_err err = {0};
    if (bertc_read_file(path, 1u << 30, &text, &len, &err) != BERTC_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return NULL;
    }
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    return j;
}

/* Copies a JSON array of numbers into out (n floats); returns the count read. */
static size_t get_floats(const cJSON *arr, float *out, size_t cap) {
    size_t i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, arr) {
        if (i < cap) out[i] = (float)x->valuedouble;
        i++;
    }
    return i;
}

/* Concatenates a list of per-tensor arrays into one flat array. */
static size_t get_tensors(const cJSON *list, float *out, size_t cap) {
    size_t off = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, list) off += get_floats(t, out + off, off < cap ? cap - off : 0);
    return off;
}

static double relerr_max(const float *a, const float *b, size_t n, size_t *where) {
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        double tol = 1e-6 * fabs((double)b[i]) + 1e-8;
        double r = d / tol;
        if (!(r <= worst)) { worst = r; if (where) *where = i; }
    }
    return worst; /* <= 1 passes */
}

static int kind_of(const char *name) {
    int k = -1;
    bertc_err err = {0};
    if (bertc_sched_parse(name, &k, &err) != BERTC_OK) return -1;
    return k;
}

#define MAXN 4096

static void check_cases(const cJSON *root) {
    const cJSON *tensors = cJSON_GetObjectItem(root, "tensors");
    bertc_param_segment seg[64];
    int nseg = 0;
    size_t n = 0, frozen_off[64], frozen_cnt[64];
    int nfrozen = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, tensors) {
        size_t cnt = 1;
        const cJSON *d;
        cJSON_ArrayForEach(d, cJSON_GetObjectItem(t, "shape")) cnt *= (size_t)d->valueint;
        int decay = cJSON_GetObjectItem(t, "decay")->valueint;
        if (decay >= 0) seg[nseg++] = (bertc_param_segment){n, cnt, decay};
        else { frozen_off[nfrozen] = n; frozen_cnt[nfrozen++] = cnt; }
        n += cnt;
    }
    CHECK(n > 0 && n <= MAXN && nfrozen > 0, "fixture tensors: n=%zu frozen=%d", n, nfrozen);
    if (n == 0 || n > MAXN) return;
    double base_lr = cJSON_GetObjectItem(root, "base_lr")->valuedouble;
    double wd = cJSON_GetObjectItem(root, "weight_decay")->valuedouble;
    double max_norm = cJSON_GetObjectItem(root, "max_grad_norm")->valuedouble;

    static float p[MAXN], g[MAXN], ref[MAXN], p0[MAXN];
    double worst_p = 0, worst_mv = 0, worst_norm = 0;
    int nclipped = 0, nsteps = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "cases")) {
        const char *sname = cJSON_GetObjectItem(c, "schedule")->valuestring;
        bertc_sched sch = {kind_of(sname), base_lr, (long)cJSON_GetObjectItem(c, "warmup_steps")->valueint,
                           (long)cJSON_GetObjectItem(c, "total_steps")->valueint, 0.5};
        CHECK(sch.kind >= 0, "schedule %s not parsed", sname);
        bertc_adamw_opts ao;
        bertc_adamw_opts_default(&ao);
        ao.weight_decay = wd;
        bertc_adamw opt = {0};
        bertc_err err = {0};
        int rc = bertc_adamw_init(&opt, n, seg, nseg, &ao, &err);
        CHECK(rc == BERTC_OK, "adamw init: %s", err.msg);
        if (rc != BERTC_OK) continue;
        CHECK(get_tensors(cJSON_GetObjectItem(c, "init"), p, MAXN) == n, "%s: init size", sname);
        memcpy(p0, p, n * sizeof(float));
        const cJSON *grads = cJSON_GetObjectItem(c, "grads");
        long k = 0;
        const cJSON *s;
        cJSON_ArrayForEach(s, cJSON_GetObjectItem(c, "steps")) {
            get_tensors(cJSON_GetArrayItem(grads, (int)k), g, MAXN);
            /* A frozen tensor has no gradient: the trainer leaves it at 0. */
            for (int f = 0; f < nfrozen; f++) memset(g + frozen_off[f], 0, frozen_cnt[f] * sizeof(float));
            double lr = bertc_sched_lr(&sch, k);
            double want_lr = cJSON_GetObjectItem(s, "lr")->valuedouble;
            CHECK(lr == want_lr, "%s step %ld: lr %.17g, transformers %.17g", sname, k, lr, want_lr);
            double norm = bertc_clip_grad_norm(g, n, max_norm);
            double want_norm = cJSON_GetObjectItem(s, "norm")->valuedouble;
            double rn = fabs(norm - want_norm) / want_norm;
            if (rn > worst_norm) worst_norm = rn;
            CHECK(rn <= 1e-6, "%s step %ld: grad norm %.9g, torch %.9g", sname, k, norm, want_norm);
            nclipped += cJSON_IsTrue(cJSON_GetObjectItem(s, "clipped"));
            bertc_adamw_step(&opt, p, g, lr);
            get_tensors(cJSON_GetObjectItem(s, "params"), ref, MAXN);
            size_t w = 0;
            double r = relerr_max(p, ref, n, &w);
            if (r > worst_p) worst_p = r;
            CHECK(r <= 1, "%s step %ld: param[%zu] = %.9g, torch %.9g", sname, k, w, p[w], ref[w]);
            for (int f = 0; f < nfrozen; f++)
                CHECK(memcmp(p + frozen_off[f], p0 + frozen_off[f], frozen_cnt[f] * sizeof(float)) == 0,
                      "%s step %ld: a frozen tensor changed", sname, k);
            k++;
            nsteps++;
        }
        CHECK(opt.step == k, "%s: step count %ld, want %ld", sname, opt.step, k);
        const char *names[2] = {"exp_avg", "exp_avg_sq"};
        float *mine[2] = {opt.m, opt.v};
        for (int q = 0; q < 2; q++) {
            get_tensors(cJSON_GetObjectItem(c, names[q]), ref, MAXN);
            size_t w = 0;
            double r = relerr_max(mine[q], ref, n, &w);
            if (r > worst_mv) worst_mv = r;
            CHECK(r <= 1, "%s: %s[%zu] = %.9g, torch %.9g", sname, names[q], w, mine[q][w], ref[w]);
        }
        bertc_adamw_free(&opt);
        bertc_adamw_free(&opt); /* harmless twice */
    }
    CHECK(nsteps >= 40 && nclipped > 0 && nclipped < nsteps, "fixture: %d steps, %d clipped", nsteps, nclipped);
    printf("adamw: %d steps (%d clipped); worst error / tolerance: params %.3f, moments %.3f; "
           "grad norm rel %.2e\n", nsteps, nclipped, worst_p, worst_mv, worst_norm);
}

static void check_lambdas(const cJSON *root) {
    const cJSON *l;
    int count = 0;
    cJSON_ArrayForEach(l, cJSON_GetObjectItem(root, "lambdas")) {
        const char *sname = cJSON_GetObjectItem(l, "schedule")->valuestring;
        bertc_sched s = {kind_of(sname), 1.0, (long)cJSON_GetObjectItem(l, "warmup_steps")->valueint,
                         (long)cJSON_GetObjectItem(l, "total_steps")->valueint, 0.5};
        long k = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, cJSON_GetObjectItem(l, "values")) {
            double got = bertc_sched_lambda(&s, k);
            CHECK(got == v->valuedouble, "%s W=%ld T=%ld step %ld: lambda %.17g, transformers %.17g",
                  sname, s.warmup_steps, s.total_steps, k, got, v->valuedouble);
            k++;
            count++;
        }
    }
    const cJSON *w;
    cJSON_ArrayForEach(w, cJSON_GetObjectItem(root, "warmup")) {
        double ws = cJSON_GetObjectItem(w, "warmup")->valuedouble;
        long total = (long)cJSON_GetObjectItem(w, "total")->valueint;
        long want = (long)cJSON_GetObjectItem(w, "steps")->valueint;
        long got = bertc_warmup_steps(ws, total);
        CHECK(got == want, "warmup %g of %ld steps: %ld, transformers %ld", ws, total, got, want);
    }
    printf("schedules: %d multipliers identical to transformers'\n", count);
}

static void check_decay_mask(const cJSON *root) {
    /* transformers' parameter names -> the bert_params tensor they load into. */
    static const struct { const char *suffix; int id; } map[] = {
        {"embeddings.word_embeddings.weight", BERT_WTE},
        {"embeddings.position_embeddings.weight", BERT_WPE},
        {"embeddings.token_type_embeddings.weight", BERT_WTT},
        {"embeddings.LayerNorm.weight", BERT_LNEW}, {"embeddings.LayerNorm.bias", BERT_LNEB},
        {"attention.self.query.weight", BERT_QKVW}, {"attention.self.key.weight", BERT_QKVW},
        {"attention.self.value.weight", BERT_QKVW}, {"attention.self.query.bias", BERT_QKVB},
        {"attention.self.key.bias", BERT_QKVB}, {"attention.self.value.bias", BERT_QKVB},
        {"attention.output.dense.weight", BERT_ATTOW}, {"attention.output.dense.bias", BERT_ATTOB},
        {"attention.output.LayerNorm.weight", BERT_LN1W}, {"attention.output.LayerNorm.bias", BERT_LN1B},
        {"intermediate.dense.weight", BERT_FCW}, {"intermediate.dense.bias", BERT_FCB},
        {".output.dense.weight", BERT_FCPROJW}, {".output.dense.bias", BERT_FCPROJB},
        {".output.LayerNorm.weight", BERT_LN2W}, {".output.LayerNorm.bias", BERT_LN2B},
        {"pooler.dense.weight", BERT_POOLW}, {"pooler.dense.bias", BERT_POOLB},
        {"classifier.weight", BERT_CLSW}, {"classifier.bias", BERT_CLSB},
    };
    int mask[BERT_NUM_PARAM_TENSORS], seen[BERT_NUM_PARAM_TENSORS] = {0};
    bertc_bert_decay_mask(mask);
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(root, "decay_names")) {
        const char *name = cJSON_GetObjectItem(e, "name")->valuestring;
        int want = cJSON_GetObjectItem(e, "decay")->valueint, id = -1;
        size_t nl = strlen(name);
        for (size_t i = 0; i < sizeof map / sizeof map[0] && id < 0; i++) {
            size_t sl = strlen(map[i].suffix);
            /* "attention.output.dense" also ends in ".output.dense": test the longer first */
            if (nl >= sl && strcmp(name + nl - sl, map[i].suffix) == 0) id = map[i].id;
        }
        CHECK(id >= 0, "decay mask: unmapped parameter %s", name);
        if (id < 0) continue;
        seen[id] = 1;
        CHECK(mask[id] == want, "decay mask: %s is %sdecayed by Trainer, bertc says %d", name,
              want ? "" : "not ", mask[id]);
    }
    for (int i = 0; i < BERT_NUM_PARAM_TENSORS; i++) CHECK(seen[i], "decay mask: tensor %d not in the fixture", i);
}

static void check_properties(void) {
    /* The norm is bit-identical for 1 and 2 threads (fixed blocks). */
    size_t n = 1000003;
    float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
    bertc_rng r;
    bertc_rng_seed(&r, 7);
    for (size_t i = 0; i < n; i++) x[i] = bertc_rng_normal(&r) * 1e-2f;
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    double n1 = bertc_l2_norm(x, n);
    omp_set_num_threads(2);
    double n2 = bertc_l2_norm(x, n);
    omp_set_num_threads(3);
    double n3 = bertc_l2_norm(x, n);
    omp_set_num_threads(saved);
    CHECK(n1 == n2 && n1 == n3, "norm depends on the thread count: %.17g %.17g %.17g", n1, n2, n3);
    double exact = 0;
    for (size_t i = 0; i < n; i++) exact += (double)x[i] * x[i];
    exact = sqrt(exact);
    CHECK(fabs(n1 - exact) <= 1e-12 * exact, "norm %.17g vs serial %.17g", n1, exact);

    /* Clipping scales to max_norm; a non-finite gradient changes nothing. */
    memcpy(y, x, n * sizeof(float));
    double pre = bertc_clip_grad_norm(y, n, 1.0);
    CHECK(pre == n1, "clip returns the pre-clip norm");
    double post = bertc_l2_norm(y, n);
    CHECK(fabs(post - 1.0) < 1e-5, "after clipping to 1 the norm is %.9g", post);
    memcpy(y, x, n * sizeof(float));
    y[n / 2] = NAN;
    double bad = bertc_clip_grad_norm(y, n, 1.0);
    CHECK(isnan(bad), "NaN gradient: norm %g, want NaN", bad);
    y[n / 2] = x[n / 2];
    CHECK(memcmp(x, y, n * sizeof(float)) == 0, "a non-finite norm must leave the gradients unchanged");
    size_t where = 0;
    y[12345] = INFINITY;
    CHECK(!bertc_all_finite(y, n, &where) && where == 12345, "all_finite found %zu", where);
    CHECK(isinf(bertc_l2_norm(y, n)), "inf gradient gives an inf norm");
    y[12345] = x[12345];
    CHECK(bertc_all_finite(y, n, NULL), "all finite");
    /* Huge but finite floats do not overflow the double norm. */
    float big[4] = {3e38f, -3e38f, 3e38f, 1};
    CHECK(isfinite(bertc_l2_norm(big, 4)), "finite huge gradients give a finite norm");
    bertc_scale(y, n, 0.5f);
    CHECK(y[10] == x[10] * 0.5f, "scale");
    /* max_norm <= 0: no clipping. */
    memcpy(y, x, n * sizeof(float));
    bertc_clip_grad_norm(y, n, 0);
    CHECK(memcmp(x, y, n * sizeof(float)) == 0, "max_norm 0 disables clipping");

    /* A BERT-sized optimizer: same bits for 1 and 2 threads. */
    bert_config cfg = {.vocab_size = 100, .hidden_size = 64, .num_layers = 2, .num_heads = 4,
                       .intermediate_size = 256, .max_position = 32, .type_vocab_size = 2,
                       .num_labels = 3, .layer_norm_eps = 1e-12f, .initializer_range = 0.02f};
    size_t np = bert_num_params(&cfg);
    float *pa = malloc(np * sizeof(float)), *pb = malloc(np * sizeof(float)), *gr = malloc(np * sizeof(float));
    for (size_t i = 0; i < np; i++) { pa[i] = pb[i] = bertc_rng_normal(&r); gr[i] = bertc_rng_normal(&r); }
    bertc_adamw_opts ao;
    bertc_adamw_opts_default(&ao);
    ao.weight_decay = 0.01;
    bertc_adamw oa = {0}, ob = {0};
    bertc_err err = {0};
    CHECK(bertc_adamw_init_bert(&oa, &cfg, &ao, &err) == BERTC_OK, "%s", err.msg);
    CHECK(bertc_adamw_init_bert(&ob, &cfg, &ao, &err) == BERTC_OK, "%s", err.msg);
    CHECK(oa.n == np && oa.nseg == BERT_NUM_PARAM_TENSORS, "bert optimizer covers %zu of %zu", oa.n, np);
    omp_set_num_threads(1);
    for (int k = 0; k < 3; k++) bertc_adamw_step(&oa, pa, gr, 1e-3);
    omp_set_num_threads(2);
    for (int k = 0; k < 3; k++) bertc_adamw_step(&ob, pb, gr, 1e-3);
    omp_set_num_threads(saved);
    CHECK(memcmp(pa, pb, np * sizeof(float)) == 0 && memcmp(oa.v, ob.v, np * sizeof(float)) == 0,
          "adamw depends on the thread count");
    /* Clipping fused into the update (the trainer's path): bit for bit clip_grad_norm_
     * then the step, 3 steps, with the gradients scaled by a factor < 1, and
     * factor 1 (max_norm above the norm) equal to the plain step; the gradients
     * are left as they were. */
    {
        bertc_adamw oc = {0}, od = {0};
        CHECK(bertc_adamw_init_bert(&oc, &cfg, &ao, &err) == BERTC_OK && bertc_adamw_init_bert(&od, &cfg, &ao, &err) ==
                  BERTC_OK, "%s", err.msg);
        float *pc = malloc(np * sizeof(float)), *pd = malloc(np * sizeof(float)), *g2 = malloc(np * sizeof(float));
        float *g0 = malloc(np * sizeof(float)), *gk = malloc(np * sizeof(float));
        for (size_t i = 0; i < np; i++) pc[i] = pd[i] = bertc_rng_normal(&r);
        int same = 1, kept = 1;
        for (int k = 0; k < 4; k++) {
            double max_norm = k == 3 ? 1e9 : 1.0; /* the last step: nothing to clip */
            for (size_t i = 0; i < np; i++) g0[i] = g2[i] = bertc_rng_normal(&r) * (k + 1);
            double n_ref = bertc_clip_grad_norm(g2, np, max_norm);
            bertc_adamw_step(&oc, pc, g2, 1e-3);
            float coef = bertc_clip_coef(bertc_l2_norm(g0, np), max_norm);
            CHECK((k == 3) == (coef == 1.0f) && coef > 0, "step %d: clip factor %g", k, coef);
            CHECK(bertc_l2_norm(g0, np) == n_ref, "step %d: the norm", k);
            memcpy(gk, g0, np * sizeof(float));
            bertc_adamw_step_scaled(&od, pd, g0, 1e-3, coef);
            kept &= memcmp(gk, g0, np * sizeof(float)) == 0;
            same &= memcmp(pc, pd, np * sizeof(float)) == 0 && memcmp(oc.m, od.m, np * sizeof(float)) == 0 &&
                    memcmp(oc.v, od.v, np * sizeof(float)) == 0;
        }
        CHECK(same, "adamw_step_scaled(clip factor) = clip_grad_norm then adamw_step, bit for bit");
        CHECK(kept, "the fused step leaves the gradients unscaled");
        CHECK(bertc_clip_coef(NAN, 1.0) == 1.0f && bertc_clip_coef(5.0, 0) == 1.0f && bertc_clip_coef(0.5, 1.0) == 1.0f,
              "clip factor 1 for a non-finite norm, max_norm 0, or a norm below max_norm");
        free(pc), free(pd), free(g2), free(g0), free(gk);
        bertc_adamw_free(&oc);
        bertc_adamw_free(&od);
    }
    bertc_adamw_reset(&oa);
    CHECK(oa.step == 0 && oa.m[5] == 0 && oa.v[np - 1] == 0, "reset zeroes the state");
    bertc_adamw_free(&oa);
    bertc_adamw_free(&ob);

    /* Argument checks. */
    bertc_param_segment overlap[2] = {{0, 10, 1}, {5, 10, 0}}, outside[1] = {{95, 10, 1}};
    bertc_adamw o = {0};
    CHECK(bertc_adamw_init(&o, 100, overlap, 2, &ao, &err) == BERTC_ERR_ARG, "overlapping segments refused");
    CHECK(strstr(err.msg, "offset 5") != NULL, "message names the segment: %s", err.msg);
    CHECK(bertc_adamw_init(&o, 100, outside, 1, &ao, &err) == BERTC_ERR_ARG, "segment past the end refused");
    ao.beta2 = 1.0;
    CHECK(bertc_adamw_init(&o, 100, outside, 0, &ao, &err) == BERTC_ERR_ARG, "beta2 = 1 refused");
    int kind;
    CHECK(bertc_sched_parse("cosine_with_restarts", &kind, &err) == BERTC_ERR_ARG, "unknown schedule refused");
    CHECK(bertc_sched_parse("cosine", &kind, &err) == BERTC_OK && kind == BERTC_SCHED_COSINE, "cosine parsed");
    CHECK(strcmp(bertc_sched_name(BERTC_SCHED_LINEAR), "linear") == 0, "name of linear");
    free(x); free(y); free(pa); free(pb); free(gr);
}

int main(void) {
    cJSON *root = load_json(test_fixture("optim/optim.json"));
    REQUIRE(root != NULL, "cannot read %s (run make fixtures)", test_fixture("optim/optim.json"));
    check_cases(root);
    check_lambdas(root);
    check_decay_mask(root);
    cJSON_Delete(root);
    check_properties();
    return TEST_END();
}
