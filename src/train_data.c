/* train_data.c: encoded sets, batches and the batch order (split out of train.c; see train_internal.h). */
#include "train_internal.h"
#include "augment.h"
#include "heads.h"
#include "ops_bf16.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bert.h"
#include "checkpoint.h"
#include "data.h"
#include "dist.h"
#include "hfmodel.h"
#include "longtext.h"
#include "metrics.h"
#include "optim.h"
#include "report.h"
#include "rng.h"
#include "tokenizer.h"

/* ---- data and labels ---- */

/* ---- tokenization (once, up front) ---- */

/* Appends one sequence of n tokens to set, growing its arrays. */
int bertc_encset_push(encset *set, size_t *cap_tok, int *cap_seq, const int *ids, const int *types, const int *tags,
                      int n, const char *path, bertc_err *err) {
    size_t at = set->nseq > 0 ? set->off[set->nseq - 1] + (size_t)set->len[set->nseq - 1] : 0;
    if (at + (size_t)n > *cap_tok) {
        size_t c = *cap_tok * 2 + (size_t)n;
        int *a = realloc(set->ids, c * sizeof(int)), *b = a ? realloc(set->types, c * sizeof(int)) : NULL;
        if (a) set->ids = a;
        if (b) set->types = b;
        int *g = b && tags ? realloc(set->tags, c * sizeof(int)) : NULL;
        if (g) set->tags = g;
        if (!a || !b || (tags && !g)) return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory for the tokens", path);
        *cap_tok = c;
    }
    if (set->nseq == *cap_seq) {
        int c = *cap_seq * 2 + 16;
        size_t *o = realloc(set->off, (size_t)c * sizeof(size_t));
        if (o) set->off = o;
        int *l = o ? realloc(set->len, (size_t)c * sizeof(int)) : NULL;
        if (l) set->len = l;
        if (!o || !l) return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory for the tokens", path);
        *cap_seq = c;
    }
    for (int k = 0; k < n; k++) {
        set->ids[at + (size_t)k] = ids[k];
        set->types[at + (size_t)k] = types ? types[k] : 0;
        if (tags) set->tags[at + (size_t)k] = tags[k];
    }
    set->off[set->nseq] = at;
    set->len[set->nseq] = n;
    set->nseq++;
    return BERTC_OK;
}

void bertc_encset_free(encset *e) {
    free(e->ids);
    free(e->types);
    free(e->tags);
    free(e->off);
    free(e->len);
    free(e->labels);
    free(e->targets);
    free(e->win0);
    free(e->elen);
    free(e->start);
    free(e->end);
    memset(e, 0, sizeof *e);
}

/* Fills the batch buffers with examples idx[0..B) padded to T; returns T and
 * the number of sequences in *S (B, or with chunks their windows). Labels,
 * multi-hot targets, token tags and answer start/end are copied when set has them. */
int bertc_trainer_eval_stopped(const trainer *t, bertc_err *err) {
    /* several ranks: an evaluation is one collective that runs to its end; the
     * stop is agreed on after it, at the step's end */
    if (t->nranks > 1 || !(t->o->stop && *t->o->stop)) return BERTC_OK;
    return bertc_fail(err, BERTC_ERR_INTERRUPTED, "interrupted during the evaluation");
}

void bertc_trainer_eval_share(const trainer *t, int nb, int *lo, int *hi) {
    long R = t->nranks > 1 ? t->nranks : 1, r = t->rank;
    *lo = (int)((long)nb * r / R);
    *hi = (int)((long)nb * (r + 1) / R);
}

int bertc_trainer_fill_batch(trainer *t, const encset *set, const int *idx, int B, int *S) {
    int NL = t->hf.cfg.num_labels;
    int ns = 0;
    for (int b = 0; b < B; b++) {
        int i = idx[b];
        int j0 = set->win0 ? set->win0[i] : i, j1 = set->win0 ? set->win0[i + 1] : i + 1;
        t->b_nwin[b] = j1 - j0;
        ns += j1 - j0;
        if (set->labels) t->b_labels[b] = set->labels[i];
        if (set->targets) memcpy(t->b_targets + (size_t)b * NL, set->targets + (size_t)i * NL, (size_t)NL * sizeof(float));
    }
    int T = 0;
    if (t->o->pad_to_max_length) T = t->o->max_length;
    else
        for (int b = 0; b < B; b++) {
            int i = idx[b];
            int j0 = set->win0 ? set->win0[i] : i, j1 = set->win0 ? set->win0[i + 1] : i + 1;
            for (int j = j0; j < j1; j++)
                if (set->len[j] > T) T = set->len[j];
        }
    int r = 0;
    for (int b = 0; b < B; b++) {
        int i = idx[b];
        int j0 = set->win0 ? set->win0[i] : i, j1 = set->win0 ? set->win0[i + 1] : i + 1;
        for (int j = j0; j < j1; j++, r++) {
            int n = set->len[j];
            const int *ids = set->ids + set->off[j], *ty = set->types + set->off[j];
            int *oi = t->b_ids + (size_t)r * T, *ot = t->b_types + (size_t)r * T, *om = t->b_mask + (size_t)r * T;
            for (int k = 0; k < T; k++) {
                int real = k < n;
                oi[k] = real ? ids[k] : t->pad_id;
                ot[k] = real ? ty[k] : 0;
                om[k] = real;
            }
            if (set->start) t->b_start[r] = set->start[j], t->b_end[r] = set->end[j];
            if (set->tags) {
                const int *tg = set->tags + set->off[j];
                int *og = t->b_tags + (size_t)r * T;
                for (int k = 0; k < T; k++) og[k] = k < n ? tg[k] : -100;
            }
        }
    }
    *S = ns;
    return T;
}

int bertc_trainer_eval_forward(trainer *t, int st, int B, int *T, bertc_err *err) {
    if (bertc_trainer_eval_stopped(t, err)) return err->code;
    int idx[4096]; /* B <= --eval-batch-size <= 4096 */
    for (int b = 0; b < B; b++) idx[b] = st + b;
    int S, len = bertc_trainer_fill_batch(t, &t->eval_set, idx, B, &S);
    if (T) *T = len;
    return bert_forward(&t->eval_model, t->b_ids, t->b_types, t->b_mask, S, len, NULL, NULL, NULL, err);
}

/* ---- batch order ---- */

/* The order of epoch ep depends only on the seed and ep, so a resumed run needs
 * only the step to find its place. */
void bertc_trainer_make_perm(trainer *t, long ep) {
    int n = t->train_set.n;
    bertc_rng r;
    bertc_rng_seed(&r, t->o->seed ^ (0x9E3779B97F4A7C15ULL * (uint64_t)(ep + 1)));
    for (int i = 0; i < n; i++) t->perm[i] = i;
    bertc_rng_shuffle(&r, t->perm, n);
    if (t->o->group_by_length) {
        /* transformers' get_length_grouped_indices: megabatches of mult*B
         * examples, each sorted by length (longest first), and the longest
         * example's megabatch head swapped to the front. */
        int B = t->o->batch_size;
        int mult = n / (B * 4);
        if (mult > 50) mult = 50;
        if (mult < 1) mult = 1;
        int mb = mult * B;
        const int *len = t->train_set.elen;
        for (int s = 0; s < n; s += mb) {
            int e = s + mb < n ? s + mb : n;
            for (int i = s + 1; i < e; i++) { /* stable insertion sort, allocates nothing */
                int v = t->perm[i], j = i - 1;
                while (j >= s && len[t->perm[j]] < len[v]) {
                    t->perm[j + 1] = t->perm[j];
                    j--;
                }
                t->perm[j + 1] = v;
            }
        }
        int best = 0;
        for (int s = 0; s < n; s += mb)
            if (len[t->perm[s]] > len[t->perm[best]]) best = s;
        int tmp = t->perm[0];
        t->perm[0] = t->perm[best];
        t->perm[best] = tmp;
    }
    t->perm_epoch = ep;
}
