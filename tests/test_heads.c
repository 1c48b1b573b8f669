/* test_heads.c: the per-token heads against transformers (tools/gen_heads.py):
 * BertForTokenClassification, BertForQuestionAnswering and their DistilBERT
 * twins. For each: the folder loads as that head (config.json architectures),
 * logits (eval) within 1e-4, the loss within 1e-5, every gradient within
 * grad_check.h's 1e-3 relative, ten AdamW steps' losses within 1e-4 and the
 * final parameters within 1e-4 (fast kernels; the reference kernels for the
 * forward and gradients too); a save and reload round trip keeps the head,
 * its names and every parameter bit for bit (BERTC_HEADS_SAVE=DIR keeps the
 * saved folders for tests/test_heads_interop.sh); a text-classification load
 * of a token folder (--task) gets a new head; bad targets are refused.
 *
 * Tolerances (why, docs/numerics.md): logits 1e-4 as test_forward; loss 1e-5
 * (a mean of log-softmaxes of logits that agree to ~1e-6); gradients and the
 * ten steps as test_grads and test_train10.
 */
#include <cjson/cJSON.h>

#include "../src/bert.h"
#include "ops_ref.h"
#include "../src/heads.h"
#include "../src/hfmodel.h"
#include "../src/optim.h"
#include "grad_check.h"
#include "npy.h"
#include "test.h"

#include <unistd.h>

/* REQUIRE for the helpers (void): fail and return. */
#define NEED(cond, ...)                  \
    do {                                 \
        int need_ok_ = !!(cond);         \
        CHECK(need_ok_, __VA_ARGS__);    \
        if (!need_ok_) return;           \
    } while (0)

static const char *CASES[] = {"bert_token", "bert_qa", "distil_token", "distil_qa"};

static int get_ints(const cJSON *rows, int *out, int cap) {
    int n = 0;
    const cJSON *r, *x;
    cJSON_ArrayForEach(r, rows) {
        if (cJSON_IsNumber(r)) {
            if (n < cap) out[n] = r->valueint;
            n++;
            continue;
        }
        cJSON_ArrayForEach(x, r) {
            if (n < cap) out[n] = x->valueint;
            n++;
        }
    }
    return n;
}

static void load_npy(npy *a, const char *dir, const char *name, char kind) {
    char p[4096];
    snprintf(p, sizeof p, "%s/ref/%s", dir, name);
    memset(a, 0, sizeof *a);
    if (npy_load(a, p, kind)) memset(a, 0, sizeof *a);
}

/* forward, loss and gradients on one kernel set */
static void parity(const char *cs, const char *dir, hf_model *hf, int qa, int use_reference) {
    char tag[96];
    snprintf(tag, sizeof tag, "%s [%s]", cs, use_reference ? "reference" : "fast");
    npy ids, tts, mask, labels, start, end, logits, loss_ref, grads;
    load_npy(&ids, dir, "input_ids.npy", 'i');
    load_npy(&tts, dir, "token_type_ids.npy", 'i');
    load_npy(&mask, dir, "attention_mask.npy", 'i');
    load_npy(&labels, dir, "labels.npy", 'i');
    load_npy(&start, dir, "start.npy", 'i');
    load_npy(&end, dir, "end.npy", 'i');
    load_npy(&logits, dir, "logits.npy", 'f');
    load_npy(&loss_ref, dir, "loss.npy", 'f');
    load_npy(&grads, dir, "grads.npy", 'f');
    NEED(ids.n > 0 && mask.n == ids.n && logits.n > 0 && grads.n > 0, "%s: fixtures missing (run make fixtures)", tag);
    int B = (int)ids.shape[0], T = (int)ids.shape[1], NL = hf->cfg.num_labels;
    bertc_err err = {0};
    bert_model m;
    int rc = bert_model_build(&m, &hf->cfg, hf->params_memory, B, T, BERT_TRAIN, &err);
    NEED(rc == BERTC_OK, "%s: build: %s", tag, err.msg);
    m.ops = use_reference ? &bert_ops_ref : NULL;
    rc = bert_forward(&m, ids.i, tts.n ? tts.i : NULL, mask.i, B, T, NULL, NULL, NULL, &err);
    CHECK(rc == BERTC_OK, "%s: forward: %s", tag, err.msg);
    CHECK(logits.n == (size_t)B * T * NL, "%s: reference logits %zu, expected %d x %d x %d", tag, logits.n, B, T, NL);
    size_t where = 0;
    float d = test_max_abs_diff(m.logits, logits.f, logits.n, &where);
    CHECK(d <= 1e-4f, "%s: logits differ by %g at %zu", tag, d, where);
    bert_targets y = {0};
    if (qa) y.start = start.i, y.end = end.i;
    else y.labels = labels.i;
    float loss = NAN;
    bert_zero_grad(&m);
    rc = bert_head_backward(&m, &y, &loss, &err);
    CHECK(rc == BERTC_OK, "%s: backward: %s", tag, err.msg);
    CHECK(fabsf(loss - loss_ref.f[0]) <= 1e-5f, "%s: loss %.8f, torch %.8f", tag, loss, loss_ref.f[0]);
    float l2 = NAN;
    CHECK(bert_head_loss(&m, &y, &l2, &err) == BERTC_OK && l2 == loss, "%s: bert_head_loss %g != %g", tag, l2, loss);
    printf("%-26s logits within %.2e, loss %.7f (torch %.7f)\n", tag, d, loss, loss_ref.f[0]);
    CHECK(grads.n == m.num_params, "%s: %zu reference gradients for %zu parameters", tag, grads.n, m.num_params);
    if (grads.n == m.num_params) test_compare_grads(tag, dir, m.grads_memory, grads.f, m.num_params);

    if (!use_reference) {
        /* the text-classification entry points refuse a per-token head */
        int lab0[64] = {0};
        CHECK(bert_backward(&m, lab0, NULL, NULL, &err) == BERTC_ERR_ARG, "%s: bert_backward accepted a %s head", tag,
              bert_head_of(hf->cfg.task)->name);
        /* bad targets */
        if (qa) {
            bert_targets none = {0};
            CHECK(bert_head_loss(&m, &none, NULL, &err) == BERTC_ERR_ARG, "%s: no positions accepted", tag);
        } else {
            int *bad = malloc((size_t)B * T * sizeof(int));
            memcpy(bad, labels.i, (size_t)B * T * sizeof(int));
            bad[1] = NL;
            bert_targets yb = {.labels = bad};
            CHECK(bert_head_loss(&m, &yb, NULL, &err) == BERTC_ERR_ARG && strstr(err.msg, "labels[1]"),
                  "%s: label %d accepted (%s)", tag, NL, err.msg);
            for (int i = 0; i < B * T; i++) bad[i] = -100;
            CHECK(bert_head_loss(&m, &yb, NULL, &err) == BERTC_ERR_NUMERIC, "%s: nothing scored gave a finite loss", tag);
            free(bad);
        }
    }
    bert_model_free(&m);
    npy_free(&ids), npy_free(&tts), npy_free(&mask), npy_free(&labels), npy_free(&start), npy_free(&end);
    npy_free(&logits), npy_free(&loss_ref), npy_free(&grads);
}

/* ten AdamW steps as Trainer takes them */
static void ten_steps(const char *cs, const char *dir, hf_model *hf, int qa) {
    char p[4200], *text = NULL;
    size_t len = 0;
    bertc_err err = {0};
    snprintf(p, sizeof p, "%s/train10.json", dir);
    NEED(bertc_read_file(p, 1 << 26, &text, &len, &err) == BERTC_OK, "%s", err.msg);
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    NEED(j != NULL, "%s: bad JSON", p);
    int B = cJSON_GetObjectItem(j, "B")->valueint, T = cJSON_GetObjectItem(j, "T")->valueint;
    NEED(B > 0 && B <= 16 && T > 0 && T <= 64, "%s: batch %dx%d", p, B, T);
    bert_model m;
    NEED(bert_model_build(&m, &hf->cfg, hf->params_memory, B, T, BERT_TRAIN, &err) == BERTC_OK, "%s", err.msg);
    bertc_adamw_opts ao;
    bertc_adamw_opts_default(&ao);
    ao.weight_decay = cJSON_GetObjectItem(j, "weight_decay")->valuedouble;
    bertc_adamw opt = {0};
    NEED(bertc_adamw_init_bert(&opt, &hf->cfg, &ao, &err) == BERTC_OK, "%s", err.msg);
    bertc_sched sch = {BERTC_SCHED_LINEAR, cJSON_GetObjectItem(j, "lr")->valuedouble,
                       (long)cJSON_GetObjectItem(j, "warmup_steps")->valueint,
                       (long)cJSON_GetObjectItem(j, "total_steps")->valueint, 0.5};
    double max_norm = cJSON_GetObjectItem(j, "max_grad_norm")->valuedouble;
    int ids[16 * 64], tts[16 * 64], mask[16 * 64], labels[16 * 64], start[16], end[16];
    long k = 0;
    double worst = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItem(j, "steps")) {
        CHECK(get_ints(cJSON_GetObjectItem(s, "input_ids"), ids, B * T) == B * T &&
                  get_ints(cJSON_GetObjectItem(s, "token_type_ids"), tts, B * T) == B * T &&
                  get_ints(cJSON_GetObjectItem(s, "attention_mask"), mask, B * T) == B * T,
              "%s step %ld: batch shape", cs, k);
        bert_targets y = {0};
        if (qa) {
            CHECK(get_ints(cJSON_GetObjectItem(s, "start"), start, B) == B &&
                      get_ints(cJSON_GetObjectItem(s, "end"), end, B) == B, "%s step %ld: positions", cs, k);
            y.start = start, y.end = end;
        } else {
            CHECK(get_ints(cJSON_GetObjectItem(s, "labels"), labels, B * T) == B * T, "%s step %ld: labels", cs, k);
            y.labels = labels;
        }
        bert_zero_grad(&m);
        float loss = NAN;
        int rc = bert_forward(&m, ids, hf->cfg.type_vocab_size ? tts : NULL, mask, B, T, NULL, NULL, NULL, &err);
        if (rc == BERTC_OK) rc = bert_head_backward(&m, &y, &loss, &err);
        NEED(rc == BERTC_OK, "%s step %ld: %s", cs, k, err.msg);
        double want = cJSON_GetObjectItem(s, "loss")->valuedouble, dl = fabs((double)loss - want);
        if (dl > worst) worst = dl;
        CHECK(dl <= 1e-4, "%s step %ld: loss %.7f, PyTorch %.7f", cs, k, loss, want);
        double norm = bertc_clip_grad_norm(m.grads_memory, m.num_params, max_norm);
        double want_norm = cJSON_GetObjectItem(s, "grad_norm")->valuedouble;
        CHECK(fabs(norm - want_norm) <= 1e-4 * want_norm, "%s step %ld: grad norm %.7f, PyTorch %.7f", cs, k, norm,
              want_norm);
        bertc_adamw_step(&opt, hf->params_memory, m.grads_memory, bertc_sched_lr(&sch, k));
        k++;
    }
    CHECK(k == 10, "%s: %ld steps in the fixture", cs, k);
    const cJSON *fp = cJSON_GetObjectItem(j, "final_params"), *x;
    CHECK(cJSON_GetArraySize(fp) == (int)hf->num_params, "%s: final params %d, model %zu", cs, cJSON_GetArraySize(fp),
          hf->num_params);
    /* QA's two output biases shift every start (end) logit alike, which no
     * softmax over positions sees, and so does the last LayerNorm's bias
     * (W_qa times it is added to every position): their gradients are 0 up to
     * rounding (sums of softmax - onehot over T) and AdamW turns that noise
     * into steps of about lr. They are checked to stay within 10 such steps;
     * every other parameter within 1e-4. */
    size_t C = (size_t)hf->cfg.hidden_size;
    size_t ln_at = (size_t)(bert_param_tensor(&hf->params, BERT_LN2B) - hf->params_memory) +
                   (size_t)(hf->cfg.num_layers - 1) * C;
    double worst_p = 0;
    size_t i = 0, where = 0;
    cJSON_ArrayForEach(x, fp) {
        double dp = i < hf->num_params ? fabs((double)hf->params_memory[i] - x->valuedouble) : 0;
        if (qa && (i >= hf->num_params - 2 || (i >= ln_at && i < ln_at + C))) {
            CHECK(dp <= 10 * 1.01 * cJSON_GetObjectItem(j, "lr")->valuedouble, "%s: QA output bias [%zu] moved %.3g from PyTorch's", cs, i, dp);
            dp = 0;
        }
        if (dp > worst_p) worst_p = dp, where = i;
        i++;
    }
    CHECK(worst_p <= 1e-4, "%s: final parameter [%zu] differs by %.3g", cs, where, worst_p);
    printf("%-26s 10 AdamW steps: worst loss difference %.2e, final parameters %.2e\n", cs, worst, worst_p);
    bertc_adamw_free(&opt);
    bert_model_free(&m);
    cJSON_Delete(j);
}

/* save, reload: the same head, names and bits; the saved folder also gets
 * bertc_logits.f32, bertc's logits of the fixture batch, for the interop test */
static void round_trip(const char *cs, const char *dir, hf_model *hf) {
    bertc_err err = {0};
    const char *keep = getenv("BERTC_HEADS_SAVE");
    char out[4096];
    if (keep && *keep) snprintf(out, sizeof out, "%s/%s", keep, cs);
    else snprintf(out, sizeof out, "/tmp/bertc-test-heads-%ld-%s", (long)getpid(), cs);
    int rc = hf_model_save(hf, out, &err);
    CHECK(rc == BERTC_OK, "%s: save %s: %s", cs, out, err.msg);
    hf_model back = {0};
    hf_load_opts o;
    hf_load_opts_default(&o);
    rc = rc ? rc : hf_model_load(&back, out, &o, &err);
    CHECK(rc == BERTC_OK, "%s: reload %s: %s", cs, out, err.msg);
    if (rc == BERTC_OK) {
        CHECK(back.cfg.task == hf->cfg.task && back.folder_task == hf->cfg.task && !back.new_head && !back.new_pooler,
              "%s: reload: task %d (folder %d), new head %d", cs, back.cfg.task, back.folder_task, back.new_head);
        CHECK(back.num_params == hf->num_params &&
                  memcmp(back.params_memory, hf->params_memory, hf->num_params * sizeof(float)) == 0,
              "%s: reload: parameters differ", cs);
    }
    hf_model_free(&back);
    npy ids, tts, mask;
    load_npy(&ids, dir, "input_ids.npy", 'i');
    load_npy(&tts, dir, "token_type_ids.npy", 'i');
    load_npy(&mask, dir, "attention_mask.npy", 'i');
    bert_model m;
    int B = (int)ids.shape[0], T = (int)ids.shape[1];
    if (rc == BERTC_OK && ids.n && bert_model_build(&m, &hf->cfg, hf->params_memory, B, T, BERT_INFER, &err) == BERTC_OK) {
        rc = bert_forward(&m, ids.i, tts.n ? tts.i : NULL, mask.i, B, T, NULL, NULL, NULL, &err);
        CHECK(rc == BERTC_OK, "%s: forward after the steps: %s", cs, err.msg);
        char lp[4200];
        snprintf(lp, sizeof lp, "%s/bertc_logits.f32", out);
        FILE *f = fopen(lp, "wb");
        size_t n = (size_t)B * T * hf->cfg.num_labels;
        CHECK(f && fwrite(m.logits, sizeof(float), n, f) == n, "%s: cannot write", lp);
        if (f) fclose(f);
        bert_model_free(&m);
    }
    npy_free(&ids), npy_free(&tts), npy_free(&mask);
    if (!(keep && *keep)) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", out);
        CHECK(system(cmd) == 0, "rm %s", out);
    }
}

int main(void) {
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        const char *cs = CASES[c];
        int qa = strstr(cs, "_qa") != NULL;
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", test_fixture("heads"));
        snprintf(dir + strlen(dir), sizeof dir - strlen(dir), "/%s", cs);
        bertc_err err = {0};
        hf_model hf = {0};
        hf_load_opts lo;
        hf_load_opts_default(&lo);
        REQUIRE(hf_model_load(&hf, dir, &lo, &err) == BERTC_OK, "%s: load: %s (run make fixtures)", cs, err.msg);
        int want = qa ? BERT_TASK_QA : BERT_TASK_TOKEN_CLS;
        CHECK(hf.cfg.task == want && hf.folder_task == want && !hf.new_head && !hf.new_pooler,
              "%s: loaded as task %d (folder %d), new head %d, new pooler %d", cs, hf.cfg.task, hf.folder_task,
              hf.new_head, hf.new_pooler);
        CHECK(hf.cfg.num_labels == (qa ? 2 : 5), "%s: %d labels", cs, hf.cfg.num_labels);
        CHECK(strstr(hf.checks, bert_head_of(want)->arch_class[hf.cfg.model_type]) != NULL, "%s: checks say: %s", cs,
              hf.checks);
        parity(cs, dir, &hf, qa, 1);
        parity(cs, dir, &hf, qa, 0);
        hf_model_free(&hf);
        /* ten steps from the folder's weights, then save what they gave */
        REQUIRE(hf_model_load(&hf, dir, &lo, &err) == BERTC_OK, "%s: load: %s", cs, err.msg);
        ten_steps(cs, dir, &hf, qa);
        round_trip(cs, dir, &hf);
        hf_model_free(&hf);
        /* another task asked for: a new head of that task, the encoder kept */
        hf_load_opts other = lo;
        other.task = qa ? BERT_TASK_TOKEN_CLS : BERT_TASK_QA;
        int rc = hf_model_load(&hf, dir, &other, &err);
        CHECK(rc == BERTC_OK && hf.cfg.task == other.task && hf.new_head && hf.cfg.num_labels == 2,
              "%s: --task %s: rc %d task %d new head %d labels %d (%s)", cs, bert_head_of(other.task)->name, rc,
              hf.cfg.task, hf.new_head, hf.cfg.num_labels, err.msg);
        hf_model_free(&hf);
        other.task = BERT_TASK_TEXT_CLS;
        rc = hf_model_load(&hf, dir, &other, &err);
        CHECK(rc == BERTC_OK && hf.cfg.task == BERT_TASK_TEXT_CLS && hf.new_head && hf.new_pooler,
              "%s: --task text-classification: rc %d, new head %d, new pooler %d (%s)", cs, rc, hf.new_head,
              hf.new_pooler, err.msg);
        hf_model_free(&hf);
    }
    /* the head table */
    CHECK(bert_head_by_name("token-classification") == bert_head_of(BERT_TASK_TOKEN_CLS) &&
              bert_head_by_name("question-answering") == bert_head_of(BERT_TASK_QA) &&
              bert_head_by_name("text-classification") == bert_head_of(BERT_TASK_TEXT_CLS) &&
              bert_head_by_name("ner") == NULL,
          "bert_head_by_name");
    int mt = -1;
    CHECK(bert_head_by_class("DistilBertForQuestionAnswering", &mt) == bert_head_of(BERT_TASK_QA) &&
              mt == BERT_ARCH_DISTILBERT && bert_head_by_class("BertForMaskedLM", NULL) == NULL,
          "bert_head_by_class");
    return TEST_END();
}
