/* token_metrics.h: entity-level scores for token classification, equal to
 * seqeval 1.2.2 in its default mode (what run_ner.py and `evaluate`'s
 * "seqeval" metric report), and seqeval's classification_report text.
 *
 * What it does: finds the entities of gold and predicted tag sequences with
 * seqeval's get_entities (conlleval rules, invalid sequences included: I-X
 * after O starts an entity, a type change ends one, E-/S- prefixes work as in
 * IOBES); counts an entity as correct when type, first and last word are all
 * equal; gives per-type precision, recall, F1 and support, the micro, macro and
 * weighted averages, the overall (micro) scores, token accuracy (seqeval's
 * accuracy_score), and classification_report(y_true, y_pred, digits=D) byte for
 * byte. Same values as seqeval's float64 numpy arithmetic, summation order
 * included (numpy's pairwise sum for the macro and weighted means).
 * What it does not: strict mode (mode="strict" with a scheme), suffix tags,
 * sample weights, zero_division other than seqeval's default "warn" (0.0; the
 * caller prints the warning, see types_no_pred/types_no_gold).
 *
 * Tag semantics: a label's first character (code point) is its prefix, the
 * rest after the first '-' its type ("B-PER": B, PER; "B": B, "_"; "PER": P,
 * "ER" exactly as seqeval reads it); "O" and "." end entities.
 * Words the model never saw (cut by truncation) are scored with the predicted
 * tag "O": give them the id -1 in pred. (run_ner.py's compute_metrics instead
 * drops them from both gold and predictions; counting them as "O" keeps the
 * gold entities, so recall cannot be raised by truncating.)
 *
 * Memory: bertc_token_scores owns its per-type array and names; free with
 * bertc_token_scores_free (harmless on a zeroed struct). bertc_token_report
 * returns a malloc'd string the caller frees.
 *
 *     bertc_token_scores sc = {0};
 *     // gold[s], pred[s]: (lens[s]) tag ids per sentence; pred -1 = "O"
 *     if (bertc_token_metrics(&sc, gold, pred, lens, n_sent, labels, num_labels, &err)) ...
 *     printf("f1 %.4f over %d types\n", sc.f1, sc.num_types);
 *     char *text = NULL;
 *     if (bertc_token_report(&text, &sc, 4, &err) == BERTC_OK) fputs(text, stdout);
 *     free(text); bertc_token_scores_free(&sc);
 */
#ifndef BERTC_TOKEN_METRICS_H
#define BERTC_TOKEN_METRICS_H

#include <stdint.h>
#include "common.h"

/* Precision, recall and F1 (fractions in [0, 1]) with the entity count they rest on. */
typedef struct bertc_token_prf {
    double precision; /* correct / predicted; 0 when nothing was predicted */
    double recall;    /* correct / gold; 0 when there is no gold entity */
    double f1;        /* 2 p r / (p + r); 0 when p + r = 0 */
    long support;     /* gold entities */
} bertc_token_prf;

typedef struct bertc_token_type_score {
    const char *name;  /* entity type, e.g. "PER" (owned by the scores) */
    bertc_token_prf s; /* this type's scores */
    long predicted;    /* predicted entities of this type */
    long correct;      /* predicted entities equal to a gold one (type, start, end) */
} bertc_token_type_score;

typedef struct bertc_token_scores {
    int num_types;                 /* types seen in gold or predictions */
    bertc_token_type_score *types; /* (num_types) sorted by name, code point order */
    bertc_token_prf micro;         /* counts pooled over types */
    bertc_token_prf macro;         /* unweighted mean over types (0 when num_types = 0) */
    bertc_token_prf weighted;      /* mean weighted by support (all 0 when there is no gold entity) */
    double precision, recall, f1;  /* overall = micro, as evaluate's seqeval reports it */
    double accuracy;               /* tokens whose tag names are equal / tokens; 0 when no tokens */
    long tokens;                   /* words scored */
    long tokens_correct;           /* words whose predicted tag equals the gold tag */
    int types_no_pred;             /* types with no predicted entity: seqeval warns
                                      "Precision and F-score are ill-defined ..." */
    int types_no_gold;             /* types with no gold entity: seqeval warns for recall */
    char *names_;                  /* private: storage of the type names */
} bertc_token_scores;

/* Scores n_sent sentences: gold[s] and pred[s] hold lens[s] tag ids each, into
 * labels[0..num_labels). Gold ids must be in [0, num_labels) and pred ids in
 * [-1, num_labels), -1 meaning "O" (a word the model never saw); otherwise
 * BERTC_ERR_ARG naming sentence and word. Label names must be non-empty (seqeval
 * fails on ""). Sentences are joined as seqeval does (an "O" between them), so
 * no entity crosses a sentence end. *out is zeroed first. */
int bertc_token_metrics(bertc_token_scores *out, const int32_t *const *gold,
                        const int32_t *const *pred, const int *lens, int n_sent,
                        const char *const *labels, int num_labels, bertc_err *err);

/* seqeval.metrics.classification_report(y_true, y_pred, digits=digits) as text
 * (malloc'd into *text, ending in "\n"): a header, one row per type, a blank
 * line, the micro/macro/weighted rows, with the name column as wide as the
 * longest type name (in code points), "weighted avg" or digits. digits in
 * [0, 20] (BERTC_ERR_ARG otherwise). With no type at all seqeval raises; this
 * prints the header and the three average rows of zeros. */
int bertc_token_report(char **text, const bertc_token_scores *s, int digits, bertc_err *err);

/* Releases what s owns and zeroes it; a zeroed s is harmless. */
void bertc_token_scores_free(bertc_token_scores *s);

#endif /* BERTC_TOKEN_METRICS_H */
