/* qa_decode.h: start/end logits to answer spans, two ways transformers does it.
 *
 * What it does:
 * (a) bertc_qa_postprocess: run_qa.py's postprocess_qa_predictions (utils_qa.py)
 *     for a whole set: for every feature of an example, the n_best_size highest
 *     start and end logits; every pair (s, e) with both tokens in the context
 *     (context_offsets != -1), e >= s and e - s + 1 <= max_answer_length is a
 *     candidate with score start_logit[s] + end_logit[e] (float32, as numpy) and
 *     text context[offsets[s].begin : offsets[e].end]; candidates of all the
 *     example's windows sorted by score (stable), the best n_best_size kept.
 *     SQuAD v2 (version_2_with_negative): the null answer scores the minimum over
 *     windows of start_logit[0] + end_logit[0] and joins the list (and is added
 *     back if it fell off); the answer is "" when null_score - best non-null
 *     (start_logit + end_logit) > null_score_diff_threshold. With no candidate at
 *     all run_qa inserts the placeholder text "empty" (score 0); so does this.
 *     Probabilities are the softmax of the kept scores.
 *     Positions searched per row: all M when the features are padded (as run_qa
 *     with pad_to_max_length), else the row's len tokens.
 * (b) bertc_qa_pipeline_decode: transformers 4.57's QuestionAnsweringPipeline
 *     postprocess for one example's windows: per window, logits of tokens that
 *     are neither context nor [CLS] set to -10000, softmax over the window's
 *     tokens, null score = p_start[0] p_end[0] (minimum over windows), [CLS]
 *     zeroed, span score p_start[s] p_end[e] for context tokens with
 *     0 <= e - s < max_answer_len, the top (top_k * 2 + 10 with align_to_words,
 *     else top_k) spans of the window; each span becomes characters (the whole
 *     first and last word, words as the tokenizer's word_ids within the window,
 *     with align_to_words; the tokens' offsets without); an answer whose text
 *     equals an earlier one ignoring case adds its score to that one; with
 *     handle_impossible_answer the null answer {min null score, 0, 0, ""} is
 *     appended; the top_k by score (stable) are returned.
 * What it does not: the pipeline's quirks when a window has fewer valid spans
 *   than it keeps (it then returns zero-score spans, even ones with end < start,
 *   from its argpartition of the masked matrix): bertc returns valid spans only;
 *   the case-insensitive match lowers code point by code point (utf8proc), where
 *   Python's str.lower() differs only for U+0130 and final sigma; beam-search
 *   heads (XLNet); scores are computed in double (the pipeline uses float32:
 *   differences ~1e-7 relative).
 *
 * Memory: bertc_qa_prediction's nbest array is malloc'd (free with
 * bertc_qa_predictions_free); texts point into the set's contexts or to static
 * strings ("" and "empty") and live as long as the set. The pipeline decoder
 * writes into the caller's array.
 *
 *     bertc_qa_postprocess_opts o; bertc_qa_postprocess_opts_default(&o);
 *     o.version_2_with_negative = 1;
 *     bertc_qa_prediction *p = calloc(set.n, sizeof *p);
 *     bertc_qa_postprocess(p, &set, &feat, start_logits, end_logits, &o, &err);  // logits (F, M)
 *     printf("%s: %.*s\n", set.ex[0].id, (int)p[0].text_len, p[0].text);
 *     bertc_qa_predictions_free(p, set.n); free(p);
 */
#ifndef BERTC_QA_DECODE_H
#define BERTC_QA_DECODE_H

#include "qa_data.h"

typedef struct bertc_qa_postprocess_opts {
    int version_2_with_negative;     /* 0 */
    int n_best_size;                 /* 20 */
    int max_answer_length;           /* 30 tokens */
    float null_score_diff_threshold; /* 0 */
} bertc_qa_postprocess_opts;

void bertc_qa_postprocess_opts_default(bertc_qa_postprocess_opts *o);

/* One n-best entry. The null answer has start = end = 0 and empty text; the
 * "empty" placeholder has start = end = -1. */
typedef struct bertc_qa_candidate {
    int start, end;                  /* [start, end) code points of the context */
    int byte_start, byte_end;        /* the same in bytes (-1 for the placeholder) */
    float start_logit, end_logit;
    float score;                     /* start_logit + end_logit */
    double probability;              /* softmax of the n-best scores */
} bertc_qa_candidate;

typedef struct bertc_qa_prediction {
    const char *text;                /* the answer (not NUL-terminated within the context) */
    size_t text_len;                 /* bytes */
    int start, end;                  /* code points; 0, 0 for "" and -1, -1 for "empty" */
    float score_diff;                /* v2: null score - best non-null start+end logits; 0 for v1 */
    int n_best;
    bertc_qa_candidate *nbest;       /* (n_best), best first */
} bertc_qa_prediction;

/* (a) Predictions for all set->n examples into out (n entries, zeroed) from
 * features f of that set and logits (f->F, f->M) row-major. */
int bertc_qa_postprocess(bertc_qa_prediction *out, const bertc_qa_set *set, const bertc_qa_features *f,
                         const float *start_logits, const float *end_logits, const bertc_qa_postprocess_opts *o,
                         bertc_err *err);
void bertc_qa_predictions_free(bertc_qa_prediction *p, int n);

typedef struct bertc_qa_pipeline_opts {
    int top_k;                       /* 1 */
    int max_answer_len;              /* 15 tokens */
    int handle_impossible_answer;    /* 0 */
    int align_to_words;              /* 1 */
} bertc_qa_pipeline_opts;

void bertc_qa_pipeline_opts_default(bertc_qa_pipeline_opts *o);

typedef struct bertc_qa_answer {
    double score;
    int start, end;                  /* [start, end) code points of the context; 0, 0 for "" */
    int byte_start, byte_end;        /* the same in bytes: text = context + byte_start */
} bertc_qa_answer;

/* (b) The pipeline's answers for example ex from its count features starting at
 * row `first` of f (built with pad_to_max_length 0 and, as the pipeline,
 * lstrip_question 0; padding is ignored anyway: each row's len tokens count) and
 * logits (f->F, f->M). Writes at most o->top_k answers into out and their
 * number into *n_out. */
int bertc_qa_pipeline_decode(bertc_qa_answer *out, int *n_out, const bertc_qa_example *ex,
                             const bertc_qa_features *f, int first, int count, const float *start_logits,
                             const float *end_logits, const bertc_qa_pipeline_opts *o, bertc_err *err);

#endif /* BERTC_QA_DECODE_H */
