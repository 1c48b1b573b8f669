/* qa_data.h: extractive question answering data: SQuAD files into examples,
 * examples into model features (windows), as transformers' run_qa.py does.
 *
 * What it does:
 * - reads SQuAD v1.1 / v2.0 JSON (data[].paragraphs[].context,
 *   qas[].id/question/answers[].text/answer_start, is_impossible) and the flat
 *   JSON Lines form Hugging Face datasets give (one object a line: id, question,
 *   context, answers: {text: [...], answer_start: [...]}), checking every answer:
 *   answer_start counts code points of the context (Python str indices) and the
 *   context's substring there must equal the answer text.
 * - builds features exactly as run_qa.py's prepare_train_features /
 *   prepare_validation_features with a fast BERT tokenizer:
 *   tokenizer(question.lstrip(), context, truncation="only_second",
 *   max_length=M, stride=S, return_overflowing_tokens=True,
 *   return_offsets_mapping=True, padding="max_length" or False).
 *   Window arithmetic (the `tokenizers` library's overflow): with nq question
 *   pieces and nc context pieces, a pair that fits (nq + nc + 3 <= M) is one
 *   feature; otherwise the context gets W = M - 3 - nq pieces a window and
 *   window k holds context pieces [k (W - S), k (W - S) + W) clipped to nc:
 *   consecutive windows share S pieces; windows are added while the previous one
 *   ends before nc. W <= 0 is transformers' "Sequence to truncate too short to
 *   respect the provided max_length" error; S >= W is the `tokenizers` panic
 *   "`stride` must be strictly less than `max_len`"; both are BERTC_ERR_ARG here.
 *   Each feature: [CLS] question [SEP] context-window [SEP], token types 0/1,
 *   offsets in code points (question tokens into the stripped question, context
 *   tokens into the context, (0, 0) for [CLS]/[SEP]/[PAD]), sequence ids
 *   (-1 for None, 0 question, 1 context), word ids (tokenizers' word_ids), the
 *   example index (overflow_to_sample_mapping), run_qa's training labels and
 *   the validation offsets (-1 where run_qa puts None).
 * What it does not: run the model, decode answers (qa_decode.h), score them
 *   (qa_metrics.h), question-after-context models (padding_side "left").
 *
 * run_qa's label rule, reproduced as is: the first answer only; [CLS] (0) when
 * there is no answer or it is not wholly inside the window's context; otherwise
 * the start walks right while offsets[t].begin <= start_char. When the answer
 * starts in the window's last context token that walk runs over [SEP] and the
 * padding (their offsets are (0, 0)) to the end of the row, so the start label is
 * the row's last index (run_qa's comment: "we could go after the last offset if
 * the answer is the last word (edge case)"); with padding the label therefore
 * depends on max_length. bertc reproduces it for parity; see docs/tasks-qa.md.
 *
 * Memory: a bertc_qa_set owns its examples and their strings
 * (bertc_qa_set_free); bertc_qa_features owns its arrays (bertc_qa_features_free).
 * Both are harmless to free when zeroed. Nothing is printed.
 *
 *     bertc_qa_set set = {0};
 *     if (bertc_qa_read(&set, "dev-v2.0.json", &err)) fail(err.msg);
 *     bertc_qa_opts o; bertc_qa_opts_default(&o);      // 384 / 128, padded
 *     bertc_qa_features f = {0};
 *     if (bertc_qa_features_build(&f, tok, &set, &o, &err)) fail(err.msg);
 *     // f.input_ids + i * f.M: feature i, (M) ids; f.example[i]: its example
 *     bertc_qa_features_free(&f); bertc_qa_set_free(&set);
 */
#ifndef BERTC_QA_DATA_H
#define BERTC_QA_DATA_H

#include <stddef.h>
#include <stdint.h>
#include "common.h"
#include "tokenizer.h"

/* One question on one context. Strings are NUL-terminated UTF-8 (valid: the
 * reader rejects invalid UTF-8); lengths are bytes. */
typedef struct bertc_qa_example {
    char *id;
    char *question;              /* as in the file (features strip its leading whitespace) */
    char *context;
    size_t question_len, context_len;
    int context_chars;           /* code points in the context */
    int n_answers;               /* 0: no answer (SQuAD v2 is_impossible) */
    char **answer_text;          /* (n_answers) */
    size_t *answer_len;          /* (n_answers) bytes */
    int *answer_start;           /* (n_answers) code points into the context */
    size_t *answer_byte;         /* (n_answers) the same start in bytes */
    int line;                    /* 1-based line of a JSON Lines file; 0 for SQuAD JSON */
} bertc_qa_example;

typedef struct bertc_qa_set {
    int n;                       /* examples */
    bertc_qa_example *ex;        /* (n) */
    int format;                  /* 1: SQuAD JSON, 2: JSON Lines */
} bertc_qa_set;

/* Reads a SQuAD JSON file (an object with "data") or a JSON Lines file (one
 * object per non-blank line), told apart by the first non-blank character and
 * whether the first line is a whole object with "id". Errors are one line naming the file and the line
 * (and the question id where there is one): bad JSON, a missing or mistyped
 * field, an empty context, an answer whose text is not the context at
 * answer_start, is_impossible true with answers, invalid UTF-8, duplicate ids.
 * *out must be zeroed; it is filled on success only. */
int bertc_qa_read(bertc_qa_set *out, const char *path, bertc_err *err);
/* Same, from a buffer of len bytes; `name` is used in messages. */
int bertc_qa_parse(bertc_qa_set *out, const char *name, const char *text, size_t len, bertc_err *err);
void bertc_qa_set_free(bertc_qa_set *s);

/* Python's str.isspace() for one code point: category Zs or bidirectional class
 * WS, B or S (what str.lstrip() and str.split() use). */
int bertc_qa_py_isspace(int32_t cp);

typedef struct bertc_qa_opts {
    int max_length;          /* M, tokens per feature incl. [CLS]/[SEP]s; run_qa 384 */
    int stride;              /* S, context pieces shared by consecutive windows; run_qa 128 */
    int pad_to_max_length;   /* 1: padding="max_length" (run_qa's default), 0: no padding */
    int lstrip_question;     /* 1: strip leading whitespace as run_qa does (the pipeline does not) */
} bertc_qa_opts;

void bertc_qa_opts_default(bertc_qa_opts *o);

/* Features of a set. Every per-token array is (F, M) row-major (offsets
 * (F, M, 2)); row i has len[i] real tokens and, after them, [PAD] with type 0,
 * mask 0, offsets (0, 0), sequence id -1, word id -1. */
typedef struct bertc_qa_features {
    int F;                       /* features (windows) */
    int M;                       /* row width = max_length */
    int padded;                  /* opts.pad_to_max_length */
    int32_t *len;                /* (F) tokens before padding */
    int32_t *example;            /* (F) example index (overflow_to_sample_mapping) */
    int32_t *input_ids;          /* (F, M) */
    int32_t *token_type_ids;     /* (F, M) */
    int32_t *attention_mask;     /* (F, M) */
    int32_t *offsets;            /* (F, M, 2) [begin, end) code points (tokenizer's offset_mapping) */
    int32_t *context_offsets;    /* (F, M, 2) offsets of context tokens, -1 elsewhere (validation) */
    int32_t *context_bytes;      /* (F, M, 2) the context tokens' spans in bytes, -1 elsewhere */
    int8_t *sequence_ids;        /* (F, M) -1 None, 0 question, 1 context */
    int32_t *word_ids;           /* (F, M) word index within its sequence, -1 for None */
    int32_t *start_positions;    /* (F) training labels (run_qa's rule, above) */
    int32_t *end_positions;      /* (F) */
    int cap;                     /* rows allocated */
} bertc_qa_features;

/* Appends the features of all examples of set to out (zeroed, or earlier
 * output of this function with the same opts). A question too long for
 * max_length, or a stride that leaves no room, is BERTC_ERR_ARG naming the
 * question id and the numbers. opts NULL = the defaults. */
int bertc_qa_features_build(bertc_qa_features *out, const bert_tokenizer *tok, const bertc_qa_set *set,
                            const bertc_qa_opts *opts, bertc_err *err);
/* The same for one example (ex_index is stored in out->example). */
int bertc_qa_features_add(bertc_qa_features *out, const bert_tokenizer *tok, const bertc_qa_example *ex,
                          int ex_index, const bertc_qa_opts *opts, bertc_err *err);
void bertc_qa_features_free(bertc_qa_features *f);

#endif /* BERTC_QA_DATA_H */
