/* text_train.c: text classification as the trainer asks it (train_task.h):
 * aclImdb/CSV/TSV/JSONL/fastText data through data.h, one label (or, with
 * --multi-label, a set of labels) per text, --labels and --class-weights,
 * truncation or --long-text chunks (windows whose logits are pooled before the
 * loss), and accuracy/F1 (or the multi-label metrics) at each evaluation.
 * BertForSequenceClassification's head (heads.h). */
#include "train_task.h"
#include "dist.h"
#include "heads.h"
#include "augment.h"
#include "longtext.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define info bertc_trainer_info
#define fill_batch bertc_trainer_fill_batch
#define es_push(set, ct, cs, ids, types, n, path, err) bertc_encset_push(set, ct, cs, ids, types, NULL, n, path, err)

static int split_labels(trainer *t, bertc_err *err) {
    const char *s = t->o->labels;
    if (!s) return BERTC_OK;
    int k = 1;
    for (const char *p = s; *p; p++) k += *p == ',';
    t->labels_given = calloc((size_t)k, sizeof *t->labels_given);
    if (!t->labels_given) return bertc_fail(err, BERTC_ERR_NOMEM, "--labels: out of memory");
    const char *p = s;
    for (int i = 0; i < k; i++) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        if (n == 0) return bertc_fail(err, BERTC_ERR_ARG, "--labels: empty label name in '%s'", s);
        t->labels_given[i] = strndup(p, n);
        if (!t->labels_given[i]) return bertc_fail(err, BERTC_ERR_NOMEM, "--labels: out of memory");
        t->num_labels_given++;
        for (int j = 0; j < i; j++)
            if (strcmp(t->labels_given[j], t->labels_given[i]) == 0)
                return bertc_fail(err, BERTC_ERR_ARG, "--labels: '%s' given twice", t->labels_given[i]);
        p = c ? c + 1 : p + n;
    }
    if (k < 2) return bertc_fail(err, BERTC_ERR_ARG, "--labels: need at least two labels");
    return BERTC_OK;
}

static int load_data(trainer *t, bertc_err *err) {
    const bertc_train_opts *o = t->o;
    bertc_data_opts d;
    bertc_data_opts_default(&d);
    d.format = o->format;
    if (o->text_column) d.text_column = o->text_column;
    d.text_pair_column = o->text_pair_column;
    if (o->label_column) d.label_column = o->label_column;
    d.multi_label = o->multi_label;
    d.label_separator = o->label_separator;
    if (t->labels_given) {
        d.labels = (const char *const *)t->labels_given;
        d.num_labels = t->num_labels_given;
    }
    if (bertc_data_load(&t->train, o->train, "train", &d, err)) return bertc_err_prefix(err, "--train");
    if (o->train_limit > 0 && bertc_data_shuffle_limit(&t->train, o->seed, o->train_limit, err))
        return bertc_err_prefix(err, "--train-limit");
    if (o->validation_split > 0) {
        bertc_dataset tr = {0};
        if (bertc_data_split(&t->train, o->validation_split, o->seed, &tr, &t->eval, err))
            return bertc_err_prefix(err, "--validation-split");
        bertc_data_free(&t->train);
        t->train = tr;
    }
    if (o->augment) {
        bertc_augment_opts a;
        bertc_augment_opts_default(&a);
        a.seed = o->seed; /* unless the spec names its own */
        int n0 = t->train.n;
        if (bertc_augment_parse(&a, o->augment, err)) return bertc_err_prefix(err, "--augment");
        if (a.method == BERTC_AUG_CONTEXTUAL && !a.model[0]) snprintf(a.model, sizeof a.model, "%s", o->model);
        if (bertc_augment_dataset(&t->train, &a, err)) return bertc_err_prefix(err, "--augment");
        bertc_trainer_info(t, BERTC_TRAIN_INFO, "augment: %d training examples -> %d (%s, %d copies each)", n0,
                           t->train.n, a.method == BERTC_AUG_CONTEXTUAL ? "contextual" : "EDA", a.n);
    }
    if (bertc_data_check_classes(&t->train, err)) return bertc_err_prefix(err, "--train");
    if (o->eval) {
        d.labels = (const char *const *)t->train.labels;
        d.num_labels = t->train.num_labels;
        if (bertc_data_load(&t->eval, o->eval, "test", &d, err))
            return bertc_err_prefix(err, "--eval (labels must be among the training labels)");
    }
    if (t->eval.n > 0 && o->eval_limit > 0 && bertc_data_shuffle_limit(&t->eval, o->seed, o->eval_limit, err))
        return bertc_err_prefix(err, "--eval-limit");
    t->has_eval = t->eval.n > 0;
    int NL = t->train.num_labels;
    if (o->class_weights) {
        t->class_w = calloc((size_t)NL, sizeof *t->class_w);
        if (!t->class_w) return bertc_fail(err, BERTC_ERR_NOMEM, "--class-weights: out of memory");
        if (strcmp(o->class_weights, "auto") == 0) {
            long *counts = calloc((size_t)NL, sizeof *counts);
            if (!counts) return bertc_fail(err, BERTC_ERR_NOMEM, "--class-weights: out of memory");
            bertc_data_label_counts(&t->train, counts);
            for (int k = 0; k < NL; k++) {
                if (counts[k] == 0) {
                    free(counts);
                    return bertc_fail(err, BERTC_ERR_ARG,
                                      "--class-weights: auto: label '%s' has no training examples", t->train.labels[k]);
                }
                /* scikit-learn's "balanced": n / (NL * count) */
                t->class_w[k] = (float)((double)t->train.n / ((double)NL * (double)counts[k]));
            }
            free(counts);
        } else {
            int k = 0;
            const char *p = o->class_weights;
            while (*p) {
                char *end;
                double w = strtod(p, &end);
                if (k < NL) t->class_w[k] = (float)w;
                k++;
                p = *end ? end + 1 : end;
            }
            if (k != NL)
                return bertc_fail(err, BERTC_ERR_ARG, "--class-weights: %d weights given for %d labels", k, NL);
        }
    }
    return BERTC_OK;
}

static int encode_all(trainer *t, const bertc_dataset *ds, encset *set, bertc_err *err) {
    const bertc_train_opts *o = t->o;
    int NL = ds->num_labels, M = o->max_length;
    size_t cap_tok;
    if (bertc_mul_size((size_t)ds->n, (size_t)M, &cap_tok))
        return bertc_fail(err, BERTC_ERR_NOMEM, "%s: too many tokens", ds->path);
    if (t->chunks) cap_tok = cap_tok / 2 + 16;
    int cap_seq = ds->n;
    set->n = ds->n;
    set->ids = malloc(cap_tok * sizeof(int));
    set->types = malloc(cap_tok * sizeof(int));
    set->off = malloc((size_t)cap_seq * sizeof(size_t));
    set->len = malloc((size_t)cap_seq * sizeof(int));
    set->labels = malloc((size_t)ds->n * sizeof(int));
    set->elen = malloc((size_t)ds->n * sizeof(int));
    if (t->ml) set->targets = malloc((size_t)ds->n * (size_t)NL * sizeof(float));
    if (t->chunks) set->win0 = malloc((size_t)(ds->n + 1) * sizeof(int));
    if (!set->ids || !set->types || !set->off || !set->len || !set->labels || !set->elen || (t->ml && !set->targets) ||
        (t->chunks && !set->win0))
        return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory for the tokens", ds->path);
    bert_trunc trunc = o->long_text == BERTC_LONG_HEAD_TAIL ? BERT_TRUNC_HEAD_TAIL : (bert_trunc)o->truncation;
    bert_special_ids sp = bert_tokenizer_special_ids(t->tok);
    int *row = t->chunks ? malloc((size_t)M * sizeof(int)) : NULL;
    if (t->chunks && !row) return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", ds->path);
    bert_encoding enc = {0};
    int rc = BERTC_OK;
    for (int i = 0; i < ds->n; i++) {
        const bertc_example *x = &ds->ex[i];
        if (t->chunks) {
            rc = bert_tokenize(t->tok, x->text, x->len, &enc, err);
            int nw = rc ? 0 : bertc_window_count(enc.n, M, t->stride);
            if (!rc && nw < 0) rc = bertc_fail(err, BERTC_ERR_ARG, "--stride: %d is out of range", t->stride);
            if (rc) {
                bertc_err_prefix(err, "%s: example %d", ds->path, i + 1);
                break;
            }
            if (o->max_windows > 0 && nw > o->max_windows) nw = o->max_windows;
            set->win0[i] = set->nseq;
            set->elen[i] = 0;
            for (int k = 0; k < nw && !rc; k++) {
                int b0, b1, n = 0;
                bertc_window_range(enc.n, M, t->stride, k, &b0, &b1);
                row[n++] = sp.cls;
                for (int j = b0; j < b1; j++) row[n++] = enc.ids[j];
                row[n++] = sp.sep;
                set->elen[i] += n;
                rc = es_push(set, &cap_tok, &cap_seq, row, NULL, n, ds->path, err);
            }
        } else {
            rc = bert_encode(t->tok, x->text, x->len, x->pair, x->pair_len, M, trunc, &enc, err);
            if (rc) {
                bertc_err_prefix(err, "%s: example %d", ds->path, i + 1);
                break;
            }
            set->elen[i] = enc.n;
            rc = es_push(set, &cap_tok, &cap_seq, enc.ids, enc.type_ids, enc.n, ds->path, err);
        }
        if (rc) break;
        set->labels[i] = x->label;
        if (t->ml) bertc_data_multi_hot(ds, x, set->targets + (size_t)i * NL);
        if ((i & 255) == 0 && o->stop && *o->stop) {
            rc = bertc_fail(err, BERTC_ERR_INTERRUPTED, "interrupted while tokenizing; nothing was written");
            break;
        }
    }
    if (t->chunks && rc == BERTC_OK) set->win0[ds->n] = set->nseq;
    free(row);
    bert_encoding_free(&enc);
    return rc;
}

/* Chunks: pools each text's window logits (m.logits, S rows) into b_pooled (B
 * rows) and computes the loss on the pooled logits: cross-entropy (with class
 * weights as PyTorch's weighted mean) or BCE with logits (mean over B x NL).
 * With dlogits, also the gradient: d loss / d window logits (S, NL). probs (B,
 * NL) gets softmax/sigmoid of the pooled logits when not NULL. m: the model
 * whose last forward ran the windows. */
static double pooled_loss(trainer *t, const bert_model *m, int B, float *probs, float *dlogits) {
    int NL = t->hf.cfg.num_labels;
    const float *wl = m->logits;
    double loss = 0, wsum = 0;
    int r = 0;
    for (int b = 0; b < B; b++) {
        float *pl = t->b_pooled + (size_t)b * NL;
        bertc_pool_logits(pl, wl + (size_t)r * NL, t->b_nwin[b], NL, t->o->pool);
        r += t->b_nwin[b];
    }
    for (int b = 0; b < B; b++) {
        const float *x = t->b_pooled + (size_t)b * NL;
        float *d = t->b_dpooled + (size_t)b * NL;
        float *p = probs ? probs + (size_t)b * NL : NULL;
        if (t->ml) {
            const float *y = t->b_targets + (size_t)b * NL;
            for (int k = 0; k < NL; k++) {
                double xv = x[k], sg = 1.0 / (1.0 + exp(-xv));
                loss += (xv > 0 ? xv : 0) - xv * y[k] + log1p(exp(-fabs(xv)));
                d[k] = (float)((sg - y[k]) / ((double)B * NL));
                if (p) p[k] = (float)sg;
            }
        } else {
            double mx = x[0];
            for (int k = 1; k < NL; k++)
                if (x[k] > mx) mx = x[k];
            double z = 0;
            for (int k = 0; k < NL; k++) z += exp(x[k] - mx);
            int y = t->b_labels[b];
            double w = t->class_w ? t->class_w[y] : 1.0;
            loss += w * (log(z) + mx - x[y]);
            wsum += w;
            for (int k = 0; k < NL; k++) {
                double pk = exp(x[k] - mx) / z;
                d[k] = (float)(w * (pk - (k == y)));
                if (p) p[k] = (float)pk;
            }
        }
    }
    if (t->ml) loss /= (double)B * NL;
    else {
        loss = wsum > 0 ? loss / wsum : NAN;
        for (size_t k = 0; k < (size_t)B * NL; k++) t->b_dpooled[k] = wsum > 0 ? (float)(t->b_dpooled[k] / wsum) : 0;
    }
    if (dlogits) {
        r = 0;
        for (int b = 0; b < B; b++) {
            bertc_pool_logits_backward(dlogits + (size_t)r * NL, t->b_dpooled + (size_t)b * NL, wl + (size_t)r * NL,
                                       t->b_nwin[b], NL, t->o->pool);
            r += t->b_nwin[b];
        }
    }
    return loss;
}

/* The evaluation's counts summed over the ranks: the metrics of the whole set
 * exactly (the loss sums are added in another order than one process's: the
 * same to about 1e-15 relative). */
static int sum_over_ranks(trainer *t, bertc_err *err) {
    if (t->ml) {
        bertc_mlmetrics *m = &t->mlmet;
        size_t NL = (size_t)m->num_labels;
        int64_t c[4] = {m->n, m->exact, m->mismatches, m->loss_count};
        double d[4] = {m->sum_p, m->sum_r, m->sum_f, m->loss_sum};
        if (bertc_dist_sum_i64(m->tp, NL, err) || bertc_dist_sum_i64(m->fp, NL, err) ||
            bertc_dist_sum_i64(m->fn, NL, err) || bertc_dist_sum_i64(c, 4, err) || bertc_dist_sum_f64(d, 4, err))
            return err->code;
        m->n = c[0], m->exact = c[1], m->mismatches = c[2], m->loss_count = c[3];
        m->sum_p = d[0], m->sum_r = d[1], m->sum_f = d[2], m->loss_sum = d[3];
        return BERTC_OK;
    }
    bertc_metrics *m = &t->met;
    size_t NL = (size_t)m->num_labels;
    int64_t c[2] = {m->n, m->loss_count};
    if (bertc_dist_sum_i64(m->cm, NL * NL, err) || bertc_dist_sum_i64(c, 2, err) ||
        bertc_dist_sum_f64(&m->loss_sum, 1, err))
        return err->code;
    m->n = c[0], m->loss_count = c[1];
    return BERTC_OK;
}

static int evaluate(trainer *t, double *loss, double *acc, double *f1, double *hamming, bertc_err *err) {
    int EB = t->o->eval_batch_size, NL = t->hf.cfg.num_labels;
    bert_model *m = &t->eval_model;
    /* bf16: the inference model keeps rounded weights between its calls; the
     * weights have changed since the last evaluation (steps, the best model) */
    bert_model_params_changed(m);
    if (t->ml) bertc_mlmetrics_reset(&t->mlmet);
    else bertc_metrics_reset(&t->met);
    /* several ranks: this rank's batches, the counts summed below */
    int lo, hi;
    bertc_trainer_eval_share(t, (t->eval_set.n + EB - 1) / EB, &lo, &hi);
    for (int s = lo * EB; s < t->eval_set.n && s < hi * EB; s += EB) {
        int B = t->eval_set.n - s < EB ? t->eval_set.n - s : EB;
        if (bertc_trainer_eval_forward(t, s, B, NULL, err)) return err->code;
        float l;
        const float *lg = m->logits, *pr = m->probs;
        if (t->chunks) {
            l = (float)pooled_loss(t, m, B, t->b_probs, NULL);
            lg = t->b_pooled;
            pr = t->b_probs;
        } else if (t->ml) {
            if (bert_loss_multilabel(m, t->b_targets, &l, err)) return err->code;
        } else if (bert_loss(m, t->b_labels, NULL, &l, err)) {
            return err->code;
        }
        if (t->ml) {
            for (size_t k = 0; k < (size_t)B * NL; k++) t->b_truth[k] = t->b_targets[k] > 0.5f;
            bertc_mlmetrics_threshold(t->b_mlpred, pr, (size_t)B * NL, (float)t->o->threshold);
            if (bertc_mlmetrics_add(&t->mlmet, t->b_truth, t->b_mlpred, B, err)) return err->code;
            bertc_mlmetrics_add_loss(&t->mlmet, (double)l * B, B);
            continue;
        }
        for (int b = 0; b < B; b++) {
            const float *x = lg + (size_t)b * NL;
            int best = 0;
            for (int k = 1; k < NL; k++)
                if (x[k] > x[best]) best = k;
            t->b_pred[b] = best;
        }
        if (bertc_metrics_add(&t->met, t->b_labels, t->b_pred, B, err)) return err->code;
        bertc_metrics_add_loss(&t->met, (double)l * B, B);
    }
    if (t->nranks > 1 && sum_over_ranks(t, err)) return err->code;
    if (t->ml) {
        *loss = bertc_mlmetrics_loss(&t->mlmet);
        *acc = bertc_mlmetrics_subset_accuracy(&t->mlmet);
        *f1 = bertc_mlmetrics_micro(&t->mlmet).f1;
        *hamming = bertc_mlmetrics_hamming(&t->mlmet);
    } else {
        *loss = bertc_metrics_loss(&t->met);
        *acc = bertc_metrics_accuracy(&t->met);
        *f1 = bertc_metrics_best_f1(&t->met);
        *hamming = NAN;
    }
    return BERTC_OK;
}

static int cmp_int_desc(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x < y) - (x > y);
}

/* Chunks: the most windows B texts of set can hold together; -1 out of memory. */
static long max_windows_sum(const encset *set, int B) {
    int *c = malloc((size_t)(set->n > 0 ? set->n : 1) * sizeof *c);
    if (!c) return -1;
    for (int i = 0; i < set->n; i++) c[i] = set->win0[i + 1] - set->win0[i];
    qsort(c, (size_t)set->n, sizeof *c, cmp_int_desc);
    long s = 0;
    for (int i = 0; i < B && i < set->n; i++) s += c[i];
    free(c);
    return s;
}

/* ---- the table ---- */

static int text_load(trainer *t, bertc_err *err) {
    const bertc_train_opts *o = t->o;
    t->ml = o->multi_label;
    t->chunks = o->long_text == BERTC_LONG_CHUNKS;
    t->stride = o->stride >= 0 ? o->stride : o->max_length / 4;
    if (split_labels(t, err) || load_data(t, err)) return err->code;
    t->labels = t->train.labels;
    t->num_labels = t->train.num_labels;
    t->n_train = t->train.n;
    t->n_eval = t->eval.n;
    t->train_path = t->train.path;
    t->text_bytes = t->train.text_bytes + t->eval.text_bytes;
    return BERTC_OK;
}

/* single- vs multi-label: the data (loaded with or without --multi-label) must
 * match a model that already has a trained classifier */
static int text_check_model(trainer *t, bertc_err *err) {
    if (!t->hf.new_head && t->hf.cfg.problem_type != (t->ml ? BERT_PROBLEM_MULTI_LABEL : BERT_PROBLEM_SINGLE_LABEL))
        return bertc_fail(err, BERTC_ERR_ARG,
                          t->ml ? "--multi-label: %s has a single-label classifier (problem_type single_label_classification); "
                                  "fine-tune its base model, or train without --multi-label"
                                : "--multi-label: %s is a multi-label model (problem_type multi_label_classification); "
                                  "train it with --multi-label",
                          t->resumed ? t->resume_dir : t->hf.dir);
    t->hf.cfg.problem_type = t->ml ? BERT_PROBLEM_MULTI_LABEL : BERT_PROBLEM_SINGLE_LABEL;
    return BERTC_OK;
}

static int text_encode(trainer *t, int eval, encset *set, bertc_err *err) {
    return encode_all(t, eval ? &t->eval : &t->train, set, err);
}

/* With chunks, a batch is its texts' windows: the model is built for the
 * batch_size (eval_batch_size) texts with the most windows. */
static int text_batch_rows(trainer *t, int *train_rows, int *eval_rows, bertc_err *err) {
    const bertc_train_opts *o = t->o;
    if (!t->chunks) return BERTC_OK;
    long a = max_windows_sum(&t->train_set, o->batch_size), b = t->has_eval ? max_windows_sum(&t->eval_set, o->eval_batch_size) : 0;
    long w = a > b ? a : b;
    if (a < 0 || b < 0) return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    if (w > 65536)
        return bertc_fail(err, BERTC_ERR_ARG,
                          "--long-text chunks: a batch may hold %ld windows; lower --batch-size or set --max-windows", w);
    *train_rows = (int)a, *eval_rows = (int)b;
    info(t, BERTC_TRAIN_INFO, "chunks: %d training windows for %d texts (stride %d, %s pooling); up to %d windows per forward",
         t->train_set.nseq, t->train_set.n, t->stride, o->pool == BERTC_POOL_MAX ? "max" : "mean", (int)w);
    return BERTC_OK;
}

static int text_prepare(trainer *t, bertc_err *err) {
    const bertc_train_opts *o = t->o;
    int NL = t->num_labels;
    int Bt = o->batch_size > o->eval_batch_size ? o->batch_size : o->eval_batch_size;
    if (bertc_metrics_init(&t->met, NL, err)) return err->code;
    if (t->ml && bertc_mlmetrics_init(&t->mlmet, NL, err)) return err->code;
    size_t bnl = (size_t)Bt * (size_t)NL;
    t->b_pred = malloc((size_t)Bt * sizeof(int));
    if (!t->b_pred) return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    if (t->ml) {
        t->b_truth = malloc(bnl);
        t->b_mlpred = malloc(bnl);
        if (!t->b_truth || !t->b_mlpred) return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    }
    if (t->chunks) {
        t->b_pooled = malloc(bnl * sizeof(float));
        t->b_dpooled = malloc(bnl * sizeof(float));
        t->b_probs = malloc(bnl * sizeof(float));
        t->b_dlogits = malloc((size_t)t->Bmax * (size_t)NL * sizeof(float));
        if (!t->b_pooled || !t->b_dpooled || !t->b_probs || !t->b_dlogits)
            return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    }
    return BERTC_OK;
}

static int text_backward(trainer *t, int examples, float *loss, bertc_err *err) {
    if (t->chunks) {
        *loss = (float)pooled_loss(t, &t->m, examples, NULL, t->b_dlogits);
        return bert_backward_dlogits(&t->m, t->b_dlogits, err);
    }
    bert_targets y = {.labels = t->b_labels, .class_weights = t->class_w};
    if (t->ml) y = (bert_targets){.multi_hot = t->b_targets};
    return bert_head_backward(&t->m, &y, loss, err);
}

static int text_evaluate(trainer *t, train_eval *ev, bertc_err *err) {
    double ham = NAN;
    if (evaluate(t, &ev->loss, &ev->accuracy, &ev->f1, &ham, err)) return err->code;
    if (t->ml) {
        ev->extra[0].key = "eval_hamming_loss";
        ev->extra[0].value = ham;
        ev->nextra = 1;
    }
    return BERTC_OK;
}

static void text_release(trainer *t) {
    free(t->b_pred);
    free(t->b_truth);
    free(t->b_mlpred);
    free(t->b_pooled);
    free(t->b_dpooled);
    free(t->b_probs);
    free(t->b_dlogits);
    bertc_mlmetrics_free(&t->mlmet);
    bertc_metrics_free(&t->met);
    free(t->class_w);
    bertc_data_free(&t->train);
    bertc_data_free(&t->eval);
    for (int i = 0; i < t->num_labels_given; i++) free(t->labels_given[i]);
    free(t->labels_given);
}

const train_task bertc_text_train_task = {
    .task = BERT_TASK_TEXT_CLS,
    .load = text_load,
    .check_model = text_check_model,
    .encode = text_encode,
    .batch_rows = text_batch_rows,
    .prepare = text_prepare,
    .backward = text_backward,
    .evaluate = text_evaluate,
    .release = text_release,
};
