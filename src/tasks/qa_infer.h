/* qa_infer.h: a question-answering model at work: the start and end logits of
 * windows (qa_data.h features), and the answers transformers 4.57's
 * QuestionAnsweringPipeline gives for one question on one context, which
 * bertc_answer (include/bertc.h), `bertc predict` and `bertc serve` share.
 *
 * What it does: (a) pads each batch of features (to the batch's longest window,
 * or to M when the features are padded), runs bert_forward in eval mode and
 * copies the QA head's logits (B,T,2) into rows of width M; (b) for one
 * question/context pair on a loaded QA model (a bertc_classifier opened on a
 * BertForQuestionAnswering folder): the pipeline's windows (no question
 * stripping, no padding), (a), then qa_decode.h's pipeline decoder, and the
 * answers as the JSON the pipeline prints.
 * What it does not: load the model or tokenizer (classifier.h / hfmodel.h),
 * read SQuAD files (qa_data.h), run_qa's postprocessing (qa_decode.h).
 *
 * Memory: the caller owns the logits arrays, the answer array and the model;
 * everything else is allocated and freed inside each call.
 *
 *     bertc_qa_predict_opts po; bertc_qa_predict_opts_default(&po);
 *     bertc_qa_answer a[1]; int n;
 *     if (bertc_qa_answers(a, &n, c, "Who?", 4, ctx, strlen(ctx), &po, NULL, &err)) fail(err.msg);
 *     char *json = bertc_qa_answers_json(a, n, ctx);   // {"score":..,"start":..,"end":..,"answer":".."}
 */
#ifndef BERTC_QA_INFER_H
#define BERTC_QA_INFER_H

#include "bert.h"
#include "classifier.h"
#include "qa_data.h"
#include "qa_decode.h"

/* start_logits, end_logits: (count, f->M) row-major; row r gets feature first + r
 * (positions at or beyond the forward's width T are 0; decoding reads only a
 * row's len tokens, or all M when padded, where T = M). m: a QA model
 * (cfg.task BERT_TASK_QA) built for Tmax >= the longest row used (f->M when
 * padded); batches hold m->Bmax windows. pad_id: the tokenizer's [PAD]. */
int bertc_qa_logits(float *start_logits, float *end_logits, bert_model *m, const bertc_qa_features *f, int first,
                    int count, int pad_id, bertc_err *err);

/* BERTC_OK when c's head is question answering, else BERTC_ERR_UNSUPPORTED
 * naming the folder and the head it has. */
int bertc_qa_check_model(const bertc_classifier *c, bertc_err *err);

/* The pipeline's settings (its defaults in brackets). */
typedef struct bertc_qa_predict_opts {
    bertc_qa_pipeline_opts decode;   /* top_k [1], max_answer_len [15], handle_impossible_answer [0],
                                        align_to_words [1] (qa_decode.h) */
    int max_seq_len;                 /* tokens per window incl. [CLS]/[SEP]s; 0 [] = min(384, the
                                        classifier's max_length), as min(model_max_length, 384) */
    int doc_stride;                  /* context tokens shared by consecutive windows; -1 [] =
                                        min(max_seq_len / 2, 128) */
    int max_question_len;            /* [64] checked (>= 1) and otherwise unused: the pipeline
                                        reads it only with a slow (Python) tokenizer */
} bertc_qa_predict_opts;

void bertc_qa_predict_opts_default(bertc_qa_predict_opts *o);

/* Checks o against c (top_k 1..BERTC_QA_MAX_TOP_K, max_answer_len >= 1,
 * max_seq_len 4..c's max_length, 0 <= doc_stride <= max_seq_len as the
 * pipeline's own check) and resolves max_seq_len and doc_stride into *out.
 * BERTC_ERR_ARG names the field. */
enum { BERTC_QA_MAX_TOP_K = 10000 };
int bertc_qa_predict_opts_resolve(bertc_qa_predict_opts *out, const bertc_qa_predict_opts *o,
                                  const bertc_classifier *c, bertc_err *err);

/* The answers to question (qlen bytes) on context (clen bytes), both valid,
 * non-empty UTF-8, as the pipeline gives them: at most o->decode.top_k into out
 * (the caller's array of that many), their number in *n_out (0 when no span
 * qualifies). Offsets are into context (code points and bytes). o NULL = the
 * defaults. id names the question in messages (NULL: its first words). Errors:
 * BERTC_ERR_UNSUPPORTED for a model of another task, BERTC_ERR_ARG for an empty
 * or invalid text, a bad option, or a question that leaves the context no room
 * in max_seq_len (transformers' "Sequence to truncate too short"). */
int bertc_qa_answers(bertc_qa_answer *out, int *n_out, bertc_classifier *c, const char *question, size_t qlen,
                     const char *context, size_t clen, const bertc_qa_predict_opts *o, const char *id,
                     bertc_err *err);

/* The answers as the pipeline prints them: one {"score", "start", "end",
 * "answer"} object when there is exactly one, else a list of them (also when
 * top_k is larger, or [] for none). A malloc'd string, or NULL when out of
 * memory. context: the text the answers' byte offsets point into. */
char *bertc_qa_answers_json(const bertc_qa_answer *a, int n, const char *context);

#endif /* BERTC_QA_INFER_H */
