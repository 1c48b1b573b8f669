/* evaluate.c: eval over a data set, data summaries and attention maps. */
#include "evaluate.h"
#include "longtext.h"
#include "ops_cpu.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- eval ---- */

static int is_default_labels(const bertc_classifier *c) {
    int NL = bertc_classifier_num_labels(c);
    char buf[32];
    for (int i = 0; i < NL; i++) {
        snprintf(buf, sizeof buf, "LABEL_%d", i);
        if (strcmp(bertc_classifier_label(c, i), buf) != 0) return 0;
    }
    return 1;
}

int bertc_eval_map_labels(bertc_dataset *ds, const bertc_classifier *c, int *by_position, bertc_err *err) {
    int NL = bertc_classifier_num_labels(c);
    *by_position = 0;
    int rc = bertc_data_map_labels(ds, (const char *const *)c->hf.cfg.id2label, NL, err);
    if (rc == BERTC_OK || rc == BERTC_ERR_NOMEM) return rc;
    if (is_default_labels(c) && ds->num_labels == NL) {
        *by_position = 1;
        err->code = BERTC_OK;
        err->msg[0] = '\0';
        return BERTC_OK;
    }
    if (is_default_labels(c))
        return bertc_fail(err, BERTC_ERR_NOTFOUND,
                          "%s: the data has %d labels but %s has %d unnamed ones (LABEL_0..LABEL_%d); "
                          "labels can be matched by position only when the counts are equal",
                          ds->path, ds->num_labels, c->hf.dir, NL, NL - 1);
    return rc;
}

/* A JSON-lines file written to PATH.tmp.PID and renamed onto PATH at the end. */
typedef struct jsonl_out {
    FILE *f;
    char path[PATH_MAX];
    char tmp[PATH_MAX + 32];
} jsonl_out;

static int jsonl_open(jsonl_out *o, const char *path, bertc_err *err) {
    if (snprintf(o->path, sizeof o->path, "%s", path) >= (int)sizeof o->path)
        return bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", path);
    snprintf(o->tmp, sizeof o->tmp, "%s.tmp.%ld", path, (long)getpid());
    o->f = fopen(o->tmp, "w");
    if (!o->f) return bertc_fail(err, BERTC_ERR_IO, "%s: cannot create: %s", o->tmp, strerror(errno));
    return BERTC_OK;
}

static void jsonl_abort(jsonl_out *o) {
    if (!o->f) return;
    fclose(o->f);
    o->f = NULL;
    unlink(o->tmp);
}

static int jsonl_close(jsonl_out *o, bertc_err *err) {
    int bad = ferror(o->f) || fflush(o->f) != 0 || fsync(fileno(o->f)) != 0;
    int e = errno;
    if (fclose(o->f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    o->f = NULL;
    if (bad || rename(o->tmp, o->path) != 0) {
        if (!bad) e = errno;
        unlink(o->tmp);
        return bertc_fail(err, BERTC_ERR_IO, "%s: write failed: %s", o->path, strerror(e));
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", o->path);
    char *slash = strrchr(dir, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == dir) dir[1] = '\0';
    else *slash = '\0';
    return bertc_fsync_dir(dir, err);
}

void bertc_eval_opts_default(bertc_eval_opts *o) {
    memset(o, 0, sizeof *o);
    o->stride = -1;
    o->pool = BERTC_POOL_MEAN;
    o->threshold = 0.5;
}

/* One predictions.jsonl line: the cJSON object o (text and labels filled in
 * by the caller) plus "probs", printed unformatted, then deleted. */
static int write_line(FILE *f, cJSON *o, const float *p, int NL) {
    cJSON *probs = cJSON_AddArrayToObject(o, "probs");
    for (int k = 0; probs && k < NL; k++) cJSON_AddItemToArray(probs, cJSON_CreateNumber((double)p[k]));
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s) return -1;
    int rc = fputs(s, f) < 0 || fputc('\n', f) == EOF ? -1 : 0;
    free(s);
    return rc;
}

static cJSON *line_start(const bertc_example *ex) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddItemToObject(o, "text", cJSON_CreateString(ex->text));
    if (ex->pair) cJSON_AddItemToObject(o, "text_pair", cJSON_CreateString(ex->pair));
    return o;
}

/* The names of the labels whose row entry is 1, in label order. */
static cJSON *name_list(const uint8_t *row, const char *const *names, int NL) {
    cJSON *a = cJSON_CreateArray();
    for (int k = 0; a && k < NL; k++)
        if (row[k]) cJSON_AddItemToArray(a, cJSON_CreateString(names[k]));
    return a;
}

/* The batch loop both kinds of model share: exactly one of m (single-label)
 * and ml (multi-label) is set. */
static int eval_loop(bertc_classifier *c, const bertc_dataset *ds, const bertc_eval_opts *o, bertc_metrics *m,
                     bertc_mlmetrics *ml, bertc_err *err) {
    bertc_eval_opts defaults;
    if (!o) {
        bertc_eval_opts_default(&defaults);
        o = &defaults;
    }
    int NL = bertc_classifier_num_labels(c);
    int Bmax = c->opts.batch_size, M = c->opts.max_length;
    int model_ml = bertc_classifier_multi_label(c);
    if (ml && !model_ml)
        return bertc_fail(err, BERTC_ERR_ARG,
                          "%s is a single-label model (problem_type single_label_classification); evaluate it with "
                          "bertc_eval_run",
                          c->hf.dir);
    if (!ml && model_ml)
        return bertc_fail(err, BERTC_ERR_ARG,
                          "%s is a multi-label model (problem_type multi_label_classification); evaluate it with "
                          "bertc_eval_run_multilabel",
                          c->hf.dir);
    if (!ml && ds->multi_label)
        return bertc_fail(err, BERTC_ERR_ARG, "%s: the data was loaded as multi-label, but %s is a single-label model",
                          ds->path, c->hf.dir);
    if ((ml ? ml->num_labels : m->num_labels) != NL)
        return bertc_fail(err, BERTC_ERR_ARG, "metrics have %d labels, the model %d",
                          ml ? ml->num_labels : m->num_labels, NL);
    if (ds->num_labels > NL)
        return bertc_fail(err, BERTC_ERR_ARG, "%s: %d labels, the model has %d", ds->path, ds->num_labels, NL);
    for (int i = 0; i < ds->n; i++) {
        const bertc_example *ex = &ds->ex[i];
        int bad = ds->multi_label ? 0 : ex->label < 0 || ex->label >= NL;
        for (int k = 0; ds->multi_label && k < ex->num_label_ids; k++)
            bad |= ex->label_ids[k] < 0 || ex->label_ids[k] >= NL;
        if (bad)
            return bertc_fail(err, BERTC_ERR_ARG, "%s: example %d has a label id outside the model's %d labels", ds->path,
                              i + 1, NL);
    }
    int stride = o->stride;
    if (o->chunks) {
        if (ds->has_pair)
            return bertc_fail(err, BERTC_ERR_ARG, "%s: long-text chunks are for single texts; this data has text pairs",
                              ds->path);
        if (stride < 0) stride = M / 4;
        if (M < 3 || stride > M - 3)
            return bertc_fail(err, BERTC_ERR_ARG, "stride %d: must be in 0..%d for max length %d", stride, M - 3, M);
        if (o->pool != BERTC_POOL_MEAN && o->pool != BERTC_POOL_MAX)
            return bertc_fail(err, BERTC_ERR_ARG, "pool %d: expected BERTC_POOL_MEAN or BERTC_POOL_MAX", o->pool);
    }
    if (ml && !(o->threshold >= 0 && o->threshold <= 1))
        return bertc_fail(err, BERTC_ERR_ARG, "threshold %g: must be in 0..1", o->threshold);
    const char *const *names = o->names ? o->names : (const char *const *)c->hf.cfg.id2label;
    const char **ta = malloc((size_t)Bmax * sizeof *ta), **tb = malloc((size_t)Bmax * sizeof *tb);
    size_t *la = malloc((size_t)Bmax * sizeof *la), *lb = malloc((size_t)Bmax * sizeof *lb);
    float *probs = malloc((size_t)Bmax * NL * sizeof *probs), *logits = malloc((size_t)Bmax * NL * sizeof *logits);
    float *hot = ml ? malloc((size_t)NL * sizeof *hot) : NULL;
    uint8_t *truth = ml ? malloc((size_t)Bmax * NL) : NULL, *pred = ml ? malloc((size_t)Bmax * NL) : NULL;
    int *yt = malloc((size_t)Bmax * sizeof *yt), *yp = malloc((size_t)Bmax * sizeof *yp);
    jsonl_out out = {0};
    int rc = BERTC_OK;
    if (!ta || !tb || !la || !lb || !probs || !logits || !yt || !yp || (ml && (!hot || !truth || !pred))) {
        rc = bertc_fail(err, BERTC_ERR_NOMEM, "out of memory for a batch of %d", Bmax);
        goto done;
    }
    if (o->predictions_path && (rc = jsonl_open(&out, o->predictions_path, err))) goto done;
    for (int start = 0; start < ds->n; start += Bmax) {
        if (o->stop && *o->stop) {
            rc = bertc_fail(err, BERTC_ERR_INTERRUPTED, "stopped by a signal after %d of %d examples; nothing written",
                            start, ds->n);
            goto done;
        }
        int B = ds->n - start < Bmax ? ds->n - start : Bmax;
        for (int b = 0; b < B; b++) {
            const bertc_example *ex = &ds->ex[start + b];
            ta[b] = ex->text;
            la[b] = ex->len;
            tb[b] = ex->pair;
            lb[b] = ex->pair_len;
            yt[b] = ex->label;
        }
        rc = o->chunks ? bertc_classifier_run_long(c, ta, la, B, stride, o->pool, probs, logits, err)
                       : bertc_classifier_run(c, ta, la, ds->has_pair ? tb : NULL, ds->has_pair ? lb : NULL, B, probs,
                                              logits, err);
        if (rc) {
            bertc_err_prefix(err, "%s: example %d", ds->path, start + 1);
            goto done;
        }
        double loss = 0;
        for (int b = 0; b < B; b++) {
            const float *z = logits + (size_t)b * NL, *p = probs + (size_t)b * NL;
            const bertc_example *ex = &ds->ex[start + b];
            cJSON *line = out.f ? line_start(ex) : NULL;
            if (ml) {
                uint8_t *t = truth + (size_t)b * NL, *q = pred + (size_t)b * NL;
                memset(hot, 0, (size_t)NL * sizeof *hot); /* multi_hot fills ds's labels only */
                bertc_data_multi_hot(ds, ex, hot);
                double l = 0;
                for (int k = 0; k < NL; k++) {
                    double x = z[k], y = hot[k];
                    t[k] = hot[k] > 0.5f;
                    l += (x > 0 ? x : 0) - x * y + log1p(exp(-fabs(x))); /* BCE with logits */
                }
                loss += l / NL;
                bertc_mlmetrics_threshold(q, p, (size_t)NL, (float)o->threshold);
                if (line) {
                    cJSON_AddItemToObject(line, "label", name_list(t, names, NL));
                    cJSON_AddItemToObject(line, "pred", name_list(q, names, NL));
                }
            } else {
                int best = 0;
                for (int k = 1; k < NL; k++)
                    if (p[k] > p[best]) best = k;
                loss += cpu_crossentropy_row(z, NL, 1, yt[b], NULL, 0.0); /* -log softmax(z)[y] */
                yp[b] = best;
                if (line) {
                    cJSON_AddStringToObject(line, "label", names[ex->label]);
                    cJSON_AddStringToObject(line, "pred", names[best]);
                    cJSON_AddNumberToObject(line, "score", (double)p[best]);
                }
            }
            if (out.f && (!line || write_line(out.f, line, p, NL))) {
                rc = bertc_fail(err, BERTC_ERR_IO, "%s: write failed: %s", out.path, line ? strerror(errno) : "out of memory");
                goto done;
            }
        }
        if (ml) {
            if ((rc = bertc_mlmetrics_add(ml, truth, pred, B, err))) goto done;
            bertc_mlmetrics_add_loss(ml, loss, B);
        } else {
            if ((rc = bertc_metrics_add(m, yt, yp, B, err))) goto done;
            bertc_metrics_add_loss(m, loss, B);
        }
        if (o->progress) o->progress(o->ctx, start + B, ds->n);
    }
    if (out.f) rc = jsonl_close(&out, err);
done:
    jsonl_abort(&out);
    free(ta);
    free(tb);
    free(la);
    free(lb);
    free(probs);
    free(logits);
    free(hot);
    free(truth);
    free(pred);
    free(yt);
    free(yp);
    return rc;
}

int bertc_eval_run(bertc_classifier *c, const bertc_dataset *ds, const bertc_eval_opts *o, bertc_metrics *m,
                   bertc_err *err) {
    return eval_loop(c, ds, o, m, NULL, err);
}

int bertc_eval_run_multilabel(bertc_classifier *c, const bertc_dataset *ds, const bertc_eval_opts *o,
                              bertc_mlmetrics *m, bertc_err *err) {
    return eval_loop(c, ds, o, NULL, m, err);
}

/* Adds the report text to j (NULL: out of memory, j deleted). */
static cJSON *with_report(cJSON *j, char *text, bertc_err *err) {
    if (!j || !cJSON_AddStringToObject(j, "report_text", text)) {
        cJSON_Delete(j);
        j = NULL;
        bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    }
    free(text);
    return j;
}

cJSON *bertc_eval_json(const bertc_metrics *m, const char *const *names, int digits, bertc_err *err) {
    char *text = NULL;
    if (bertc_metrics_report(m, names, digits, &text, err)) return NULL;
    return with_report(bertc_metrics_json(m, names), text, err);
}

cJSON *bertc_eval_json_multilabel(const bertc_mlmetrics *m, const char *const *names, int digits, double threshold,
                                  bertc_err *err) {
    char *text = NULL;
    if (bertc_mlmetrics_report(m, names, digits, &text, err)) return NULL;
    cJSON *j = with_report(bertc_mlmetrics_json(m, names), text, err);
    if (j && !cJSON_AddNumberToObject(j, "threshold", threshold)) {
        cJSON_Delete(j);
        bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return j;
}

int bertc_json_write(const char *path, const cJSON *j, bertc_err *err) {
    char *s = cJSON_Print(j);
    if (!s) return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", path);
    size_t n = strlen(s);
    char *t = realloc(s, n + 2);
    if (!t) {
        free(s);
        return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", path);
    }
    t[n] = '\n';
    int rc = bertc_write_file_atomic(path, t, n + 1, err);
    free(t);
    return rc;
}

/* ---- data ---- */

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* numpy.percentile(x, q) with the default linear method on sorted x. */
static double percentile(const int *x, long n, double q) {
    if (n == 0) return NAN;
    double pos = q / 100.0 * (double)(n - 1);
    long lo = (long)floor(pos);
    long hi = lo + 1 < n ? lo + 1 : lo;
    double f = pos - (double)lo;
    return (double)x[lo] + f * (double)(x[hi] - x[lo]);
}

void bertc_data_summary_free(bertc_data_summary *s) {
    if (!s) return;
    free(s->counts);
    free(s->edges);
    free(s->bins);
    memset(s, 0, sizeof *s);
}

int bertc_data_summarize(const bertc_dataset *ds, const bert_tokenizer *tok, int max_length,
                         bertc_data_summary *s, bertc_err *err) {
    memset(s, 0, sizeof *s);
    if (ds->n < 1) return bertc_fail(err, BERTC_ERR_FORMAT, "%s: no examples", ds->path);
    s->num_labels = ds->num_labels;
    s->n = ds->n;
    s->max_length = max_length;
    s->counts = calloc((size_t)(ds->num_labels > 0 ? ds->num_labels : 1), sizeof *s->counts);
    int *len = malloc((size_t)ds->n * sizeof *len);
    bert_encoding enc = {0};
    int rc = BERTC_OK;
    if (!s->counts || !len) {
        rc = bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
        goto done;
    }
    bertc_data_label_counts(ds, s->counts);
    double sum = 0;
    long over = 0;
    for (int i = 0; i < ds->n; i++) {
        const bertc_example *ex = &ds->ex[i];
        if ((rc = bert_encode(tok, ex->text, ex->len, ex->pair, ex->pair_len, 0, BERT_TRUNC_HEAD, &enc, err))) {
            bertc_err_prefix(err, "%s: example %d", ds->path, i + 1);
            goto done;
        }
        len[i] = enc.n;
        sum += enc.n;
        if (enc.n > max_length) over++;
    }
    qsort(len, (size_t)ds->n, sizeof *len, cmp_int);
    s->mean = sum / ds->n;
    s->p50 = percentile(len, ds->n, 50);
    s->p90 = percentile(len, ds->n, 90);
    s->p99 = percentile(len, ds->n, 99);
    s->min_len = len[0];
    s->max_len = len[ds->n - 1];
    s->truncated_share = (double)over / ds->n;
    int width = 1;
    while ((s->max_len + 1 + width - 1) / width > 40) width *= 2;
    s->nbins = (s->max_len + 1 + width - 1) / width;
    s->edges = malloc((size_t)(s->nbins + 1) * sizeof *s->edges);
    s->bins = calloc((size_t)s->nbins, sizeof *s->bins);
    if (!s->edges || !s->bins) {
        rc = bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int b = 0; b <= s->nbins; b++) s->edges[b] = (double)b * width;
    for (int i = 0; i < ds->n; i++) s->bins[len[i] / width] += 1;
done:
    bert_encoding_free(&enc);
    free(len);
    if (rc) bertc_data_summary_free(s);
    return rc;
}

static cJSON *num_array(const double *v, int n) {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
    return a;
}

cJSON *bertc_data_json(const bertc_data_summary *s, const bertc_dataset *ds, int nsamples) {
    cJSON *j = cJSON_CreateObject();
    if (!j) return NULL;
    cJSON *labels = cJSON_AddArrayToObject(j, "labels"), *counts = cJSON_AddArrayToObject(j, "counts");
    for (int k = 0; k < s->num_labels; k++) {
        cJSON_AddItemToArray(labels, cJSON_CreateString(ds->labels[k]));
        cJSON_AddItemToArray(counts, cJSON_CreateNumber((double)s->counts[k]));
    }
    cJSON_AddNumberToObject(j, "n", (double)s->n);
    cJSON_AddStringToObject(j, "path", ds->path ? ds->path : "");
    cJSON_AddStringToObject(j, "format", ds->format);
    cJSON *samples = cJSON_AddArrayToObject(j, "samples");
    for (int i = 0; i < nsamples && i < ds->n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "text", ds->ex[i].text);
        cJSON_AddStringToObject(o, "label", ds->labels[ds->ex[i].label]);
        cJSON_AddItemToArray(samples, o);
    }
    cJSON *l = cJSON_AddObjectToObject(j, "lengths");
    cJSON_AddItemToObject(l, "bin_edges", num_array(s->edges, s->nbins + 1));
    cJSON_AddItemToObject(l, "counts", num_array(s->bins, s->nbins));
    cJSON_AddNumberToObject(l, "mean", s->mean);
    cJSON_AddNumberToObject(l, "p50", s->p50);
    cJSON_AddNumberToObject(l, "p90", s->p90);
    cJSON_AddNumberToObject(l, "p99", s->p99);
    cJSON_AddNumberToObject(l, "min", s->min_len);
    cJSON_AddNumberToObject(l, "max", s->max_len);
    cJSON_AddNumberToObject(l, "max_length", s->max_length);
    cJSON_AddNumberToObject(l, "truncated_share", s->truncated_share);
    return j;
}

/* ---- attention ---- */

void bertc_attention_free(bertc_attention *a) {
    if (!a) return;
    if (a->tokens)
        for (int i = 0; i < a->T; i++) free(a->tokens[i]);
    free(a->tokens);
    free(a->weights);
    free(a->probs);
    memset(a, 0, sizeof *a);
}

int bertc_attention_compute(bertc_classifier *c, const char *text, size_t len, int layer, int head,
                            int truncate, int max_tokens, bertc_attention *a, bertc_err *err) {
    memset(a, 0, sizeof *a);
    const bert_config *cfg = &c->hf.cfg;
    int L = cfg->num_layers, NH = cfg->num_heads, NL = cfg->num_labels;
    if (layer < 0 || layer >= L)
        return bertc_fail(err, BERTC_ERR_ARG, "layer %d is out of range: %s has %d layers (0..%d)", layer, c->hf.dir,
                          L, L - 1);
    if (head < -1 || head >= NH)
        return bertc_fail(err, BERTC_ERR_ARG, "head %d is out of range: %s has %d heads per layer (0..%d, or mean)",
                          head, c->hf.dir, NH, NH - 1);
    /* The whole text's length first, to say when it would be cut. */
    bert_encoding full = {0};
    int rc = bert_encode(c->tok, text, len, NULL, 0, 0, c->opts.trunc, &full, err);
    a->n_text_tokens = full.n;
    bert_encoding_free(&full);
    if (rc) return rc;
    if (a->n_text_tokens > c->opts.max_length && !truncate)
        return bertc_fail(err, BERTC_ERR_ARG,
                          "the text has %d tokens, more than the max length %d (this model takes at most %d)",
                          a->n_text_tokens, c->opts.max_length, cfg->max_position);
    a->truncated = a->n_text_tokens > c->opts.max_length;
    int T = 0;
    const char *texts[1] = {text};
    size_t lens[1] = {len};
    if ((rc = bertc_classifier_encode(c, texts, lens, NULL, NULL, 1, &T, err))) return rc;
    T = c->enc[0].n; /* no padding for a single text */
    size_t TT = (size_t)T * T, per_layer = (size_t)NH * TT;
    float *att = malloc((size_t)L * per_layer * sizeof *att); /* (L,1,NH,T,T) */
    if (!att) return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory for %d x %d attention maps", T, T);
    if ((rc = bert_forward(&c->model, c->ids, c->types, c->mask, 1, T, NULL, NULL, att, err))) {
        free(att);
        return rc;
    }
    int Tc = max_tokens > 0 && max_tokens < T ? max_tokens : T;
    a->T = Tc;
    a->T_full = T;
    a->layer = layer;
    a->head = head;
    a->num_labels = NL;
    a->tokens = calloc((size_t)Tc, sizeof *a->tokens);
    a->weights = malloc((size_t)Tc * Tc * sizeof *a->weights);
    a->probs = malloc((size_t)NL * sizeof *a->probs);
    if (!a->tokens || !a->weights || !a->probs) {
        free(att);
        bertc_attention_free(a);
        return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    }
    const float *lay = att + (size_t)layer * per_layer;
    for (int i = 0; i < Tc; i++)
        for (int j = 0; j < Tc; j++) {
            float v;
            if (head >= 0) v = lay[(size_t)head * TT + (size_t)i * T + j];
            else {
                double s = 0;
                for (int h = 0; h < NH; h++) s += lay[(size_t)h * TT + (size_t)i * T + j];
                v = (float)(s / NH);
            }
            a->weights[(size_t)i * Tc + j] = v;
        }
    free(att);
    for (int i = 0; i < Tc; i++) {
        const char *tk = bert_tokenizer_id_to_token(c->tok, c->ids[i]);
        a->tokens[i] = strdup(tk ? tk : "");
        if (!a->tokens[i]) {
            bertc_attention_free(a);
            return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
        }
    }
    memcpy(a->probs, c->model.probs, (size_t)NL * sizeof *a->probs);
    a->pred = 0;
    for (int k = 1; k < NL; k++)
        if (a->probs[k] > a->probs[a->pred]) a->pred = k;
    a->score = a->probs[a->pred];
    return BERTC_OK;
}

cJSON *bertc_attention_json(const bertc_attention *a, const bertc_classifier *c, const char *text, size_t len) {
    cJSON *j = cJSON_CreateObject();
    if (!j) return NULL;
    char *t = malloc(len + 1);
    if (!t) {
        cJSON_Delete(j);
        return NULL;
    }
    memcpy(t, text, len);
    t[len] = '\0';
    cJSON_AddStringToObject(j, "text", t);
    free(t);
    cJSON *tokens = cJSON_AddArrayToObject(j, "tokens");
    for (int i = 0; i < a->T; i++) cJSON_AddItemToArray(tokens, cJSON_CreateString(a->tokens[i]));
    cJSON_AddNumberToObject(j, "layer", a->layer);
    if (a->head >= 0) cJSON_AddNumberToObject(j, "head", a->head);
    else {
        cJSON_AddNullToObject(j, "head");
        cJSON_AddStringToObject(j, "head_reduction", "mean");
    }
    cJSON *w = cJSON_AddArrayToObject(j, "weights");
    for (int i = 0; i < a->T; i++) {
        cJSON *row = cJSON_CreateArray();
        for (int k = 0; k < a->T; k++) cJSON_AddItemToArray(row, cJSON_CreateNumber((double)a->weights[(size_t)i * a->T + k]));
        cJSON_AddItemToArray(w, row);
    }
    cJSON_AddStringToObject(j, "pred", bertc_classifier_label(c, a->pred));
    cJSON_AddNumberToObject(j, "score", (double)a->score);
    cJSON *labels = cJSON_AddArrayToObject(j, "labels"), *probs = cJSON_AddArrayToObject(j, "probs");
    for (int k = 0; k < a->num_labels; k++) {
        cJSON_AddItemToArray(labels, cJSON_CreateString(bertc_classifier_label(c, k)));
        cJSON_AddItemToArray(probs, cJSON_CreateNumber((double)a->probs[k]));
    }
    cJSON_AddNumberToObject(j, "tokens_in_model", a->T_full);
    cJSON_AddNumberToObject(j, "tokens_in_text", a->n_text_tokens);
    cJSON_AddBoolToObject(j, "truncated", a->truncated);
    return j;
}
