/* qa_metrics.h: the official SQuAD evaluation: exact match and token F1.
 *
 * What it does: SQuAD v1.1's evaluate-v1.1.py and v2.0's evaluate-v2.0.py
 * (as the `evaluate` library's "squad" and "squad_v2" metrics wrap them):
 * normalize_answer (lower-case; drop ASCII punctuation, i.e. Python's
 * string.punctuation only, so "«" or "…" stay; replace the words a/an/the with a
 * space, words as Python's re \b sees them; collapse whitespace), exact match,
 * F1 over the multiset of normalized tokens, the max over gold answers and the
 * mean x 100 over questions.
 *   v1.1: every question needs a gold answer; result exact_match, f1.
 *   v2.0: gold answers that normalize to "" are dropped and a question left with
 *   none is a no-answer question whose only correct prediction is "" (F1 is 1 if
 *   both are empty, else 0); HasAns_/NoAns_ split by whether the question lists
 *   any answer at all; result exact, f1, total and the splits. The no-answer
 *   probability threshold is not applied (run_qa passes no_answer_probability 0,
 *   which leaves every prediction as it is).
 * Python semantics reproduced: str.lower() (full mapping: U+0130 becomes "i" +
 * U+0307, and capital sigma becomes final sigma at the end of a word),
 * str.split() whitespace (bertc_qa_py_isspace), re's Unicode \w (letters,
 * numbers and '_'; approximated by the L* and N* categories). Unicode tables are
 * utf8proc's, which may be a Unicode version apart from Python's.
 * What it does not: produce predictions (qa_decode.h).
 *
 * Memory: bertc_qa_normalize returns a malloc'd string the caller frees;
 * everything else writes into caller structs.
 *
 *     bertc_qa_totals t;
 *     if (bertc_qa_evaluate(&t, &set, preds, pred_lens, 1, &err)) fail(err.msg);  // v2.0
 *     printf("exact %.2f f1 %.2f (HasAns %.2f, NoAns %.2f)\n", t.exact, t.f1, t.has_f1, t.no_f1);
 */
#ifndef BERTC_QA_METRICS_H
#define BERTC_QA_METRICS_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include "qa_data.h"

/* normalize_answer(s) into *out (malloc'd, NUL-terminated, *out_len bytes). */
int bertc_qa_normalize(char **out, size_t *out_len, const char *s, size_t len, bertc_err *err);

typedef struct bertc_qa_score {
    double exact; /* 0 or 1 */
    double f1;    /* 0..1 */
} bertc_qa_score;

/* One question, max over ngold gold answers. v1.1 needs ngold >= 1
 * (BERTC_ERR_ARG otherwise); v2.0 takes ngold 0 as a no-answer question. */
int bertc_qa_score_v1(bertc_qa_score *out, const char *pred, size_t pred_len, const char *const *golds,
                      const size_t *gold_lens, int ngold, bertc_err *err);
int bertc_qa_score_v2(bertc_qa_score *out, const char *pred, size_t pred_len, const char *const *golds,
                      const size_t *gold_lens, int ngold, bertc_err *err);

typedef struct bertc_qa_totals {
    int version;                 /* 1: v1.1, 2: v2.0 */
    double exact, f1;            /* mean x 100 over all questions (v1.1: exact_match, f1) */
    int total;
    double has_exact, has_f1;    /* v2.0: questions that list an answer (HasAns_) */
    int has_total;
    double no_exact, no_f1;      /* v2.0: questions that list none (NoAns_) */
    int no_total;
} bertc_qa_totals;

/* Scores preds[i] (pred_lens[i] bytes) against set->ex[i]'s answers, for all
 * set->n questions (n >= 1). v2 0: SQuAD v1.1 (an unanswerable question is
 * BERTC_ERR_ARG naming its id), 1: SQuAD v2.0. Sums run in question order as
 * the official scripts' do. */
int bertc_qa_evaluate(bertc_qa_totals *out, const bertc_qa_set *set, const char *const *preds,
                      const size_t *pred_lens, int v2, bertc_err *err);

/* The official scripts' JSON: {"exact_match", "f1"} for v1.1; {"exact", "f1",
 * "total", "HasAns_exact", "HasAns_f1", "HasAns_total", "NoAns_..."} for v2.0
 * (a split only when it has questions). NULL when out of memory. */
cJSON *bertc_qa_totals_json(const bertc_qa_totals *t);

#endif /* BERTC_QA_METRICS_H */
