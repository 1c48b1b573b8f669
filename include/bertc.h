/* bertc.h: the public C API of libbertc, BERT fine-tuning and serving in C:
 * text classification and token classification (named entities).
 *
 * What it does: loads Hugging Face BERT model folders (config.json, vocab.txt,
 * tokenizer_config.json, model.safetensors), tokenizes text exactly as
 * transformers' BertTokenizerFast does, and runs the encoder and classification
 * head on the CPU.
 *
 * Conventions (SQLite-style): every function that can fail returns an int status
 * (BERTC_OK on success) and leaves a one-line, human-readable message naming the
 * file/field/flag on the bertc_err passed in (which may be NULL) and, for a call
 * on an open bertc_classifier, on the handle too (bertc_errmsg). Library code never
 * prints and never exits. Freeing NULL is harmless. Memory returned by the library
 * is owned by the handle it came from unless a comment says otherwise.
 *
 * Usage (after `make install`: cc app.c $(pkg-config --cflags --libs bertc);
 * in the tree: link build/libbertc.a and the libraries the Makefile lists;
 * examples/classify.c is this example whole):
 *
 *     bertc_err err = {0};
 *     bertc_classifier *c = NULL;
 *     if (bertc_open(&c, "runs/imdb/model", NULL, &err) != BERTC_OK) {
 *         fprintf(stderr, "bertc: %s\n", err.msg); return 1;
 *     }
 *     const char *texts[] = {"A wonderful film.", "Dull and far too long."};
 *     size_t lens[] = {17, 22};
 *     float probs[2 * 2];                                  // (n, num_labels)
 *     if (bertc_classify(c, texts, lens, 2, probs, &err) != BERTC_OK) ...
 *     printf("%s %.3f\n", bertc_label(c, probs[1] > probs[0]), probs[1]);
 *     bertc_close(c);
 *
 * Training and evaluation are bertc_train and bertc_evaluate, attention maps
 * bertc_attend (below); reports and serving are reached through the `bertc`
 * command (cli/).
 * Python: the bertc package in python/ calls this API through ctypes
 * (docs/python.md).
 *
 * Threads: bertc runs its work on OpenMP (omp_set_num_threads or OMP_NUM_THREADS
 * sets how many). It leaves the program's OpenBLAS thread count as it found it:
 * each of its matrix steps sets OpenBLAS to 1 thread (it calls OpenBLAS from its
 * own OpenMP threads) and puts the program's count back when it returns.
 * Names: libbertc.so exports only this header's functions; in libbertc.a every
 * other global name starts with bertc_ (internal ones with bertc__).
 */
#ifndef BERTC_H
#define BERTC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The functions of this header are the only symbols libbertc.so exports: the
 * library is built with -fvisibility=hidden and these carry default visibility. */
#if defined(__GNUC__) || defined(__clang__)
#define BERTC_API __attribute__((visibility("default")))
#else
#define BERTC_API
#endif

/* Status codes. */
typedef enum bertc_status {
    BERTC_OK = 0,              /* success */
    BERTC_ERR_IO = 1,          /* a file could not be opened, read, written or renamed */
    BERTC_ERR_FORMAT = 2,      /* malformed input: safetensors, JSON, vocab, data files */
    BERTC_ERR_UNSUPPORTED = 3, /* well-formed but not something bertc can run */
    BERTC_ERR_ARG = 4,         /* a bad argument, flag or option value */
    BERTC_ERR_NOMEM = 5,       /* an allocation failed or a size would overflow */
    BERTC_ERR_NOTFOUND = 6,    /* a model name, file, tensor or label was not found */
    BERTC_ERR_NUMERIC = 7,     /* non-finite values where finite ones are required */
    BERTC_ERR_INTERRUPTED = 8  /* stopped by a signal or a caller's request */
} bertc_status;

/* An error slot: a status and the message that goes with it. Zero-initialise it. */
typedef struct bertc_err {
    int code;        /* a bertc_status; BERTC_OK when nothing failed */
    char msg[1024];  /* one line, no trailing newline, names the file/field and the fix */
} bertc_err;

/* A short name for a status code ("format error", ...). Never NULL. */
BERTC_API const char *bertc_status_name(int code);

/* bertc's version, "MAJOR.MINOR.PATCH". */
BERTC_API const char *bertc_version(void);

/* A loaded model ready to classify text: a Hugging Face model folder (or a name
 * in ~/.cache/bertc/models, resolved as docs/models.md says; bertc_open never
 * downloads), its tokenizer and an inference arena for one batch.
 * Not thread-safe: use one per thread. */
typedef struct bertc_classifier bertc_classifier;

/* The arithmetic of the encoder's dense layers (docs/numerics.md). */
typedef enum bertc_precision {
    BERTC_PRECISION_FP32 = 0, /* fp32, the reference (the library's default) */
    BERTC_PRECISION_BF16 = 1, /* bf16 products, fp32 sums; needs AVX512-BF16, else BERTC_ERR_ARG */
    BERTC_PRECISION_INT8 = 2, /* int8 weights (per output channel) and activations (per token),
                                 quantized when the model is opened; inference only */
    BERTC_PRECISION_AUTO = 3  /* bf16 where the CPU has AVX512-BF16 (or AMX), else fp32
                                 (the default of the bertc command's predict, eval and serve) */
} bertc_precision;

typedef struct bertc_options {
    int batch_size;         /* sequences per forward pass; 0 = 32 */
    int max_length;         /* tokens per sequence incl. [CLS]/[SEP]; 0 = the model's maximum */
    int truncation;         /* 0 head (transformers), 1 tail, 2 head+tail (first 128 + last max_length-130) */
    int pad_to_max_length;  /* 1: pad every batch to max_length (padding="max_length") */
    int allow_download;     /* 1: a Hub id missing from the cache may be downloaded (docs/models.md);
                               0: folders and the cache only, no network I/O (and the default) */
    int precision;          /* a bertc_precision; 0 = fp32 */
} bertc_options;

/* Opens a model. opts NULL = the defaults above. A folder without a trained
 * classifier gets a new head initialised with seed 42 (see bertc_has_trained_head).
 * *out is set on success only; bertc_close(NULL) is harmless. */
BERTC_API int bertc_open(bertc_classifier **out, const char *model, const bertc_options *opts, bertc_err *err);
BERTC_API void bertc_close(bertc_classifier *c);

BERTC_API int bertc_num_labels(const bertc_classifier *c);
/* The precision an opened model runs in (a bertc_precision; AUTO resolved). */
BERTC_API int bertc_model_precision(const bertc_classifier *c);
/* The name of label i (config.json id2label), or NULL when i is out of range. */
BERTC_API const char *bertc_label(const bertc_classifier *c, int i);
/* 1 if the folder held a classifier head, 0 if a new one was initialised. */
BERTC_API int bertc_has_trained_head(const bertc_classifier *c);
/* 1 for problem_type multi_label_classification (probabilities are sigmoids). */
BERTC_API int bertc_is_multi_label(const bertc_classifier *c);

/* Classifies n UTF-8 texts (lens[i] bytes each; invalid UTF-8 is cleaned as
 * transformers does) into probs, (n, num_labels) row-major: softmax
 * probabilities, or per-label sigmoids for a multi-label model. texts_b/lens_b
 * (bertc_classify_pairs) are the second texts of sentence pairs. */
BERTC_API int bertc_classify(bertc_classifier *c, const char *const *texts, const size_t *lens, int n, float *probs,
                   bertc_err *err);
BERTC_API int bertc_classify_pairs(bertc_classifier *c, const char *const *texts, const size_t *lens,
                         const char *const *texts_b, const size_t *lens_b, int n, float *probs, bertc_err *err);

/* The raw classifier outputs, (n, num_labels) row-major logits, for callers that
 * apply their own function (transformers' function_to_apply: softmax, sigmoid
 * or none). texts_b/lens_b NULL for single texts, else the second texts of pairs. */
BERTC_API int bertc_classify_logits(bertc_classifier *c, const char *const *texts, const size_t *lens,
                                    const char *const *texts_b, const size_t *lens_b, int n, float *logits,
                                    bertc_err *err);

/* ---- Tasks ----
 * A model folder's head decides what it does (config.json architectures):
 * bertc_classify for text classification, bertc_entities for token
 * classification (named-entity recognition), bertc_answer for extractive
 * question answering. */
typedef enum bertc_task {
    BERTC_TASK_TEXT_CLASSIFICATION = 0,  /* BertForSequenceClassification: bertc_classify */
    BERTC_TASK_TOKEN_CLASSIFICATION = 1, /* BertForTokenClassification: bertc_entities */
    BERTC_TASK_QUESTION_ANSWERING = 2    /* BertForQuestionAnswering: bertc_answer */
} bertc_task;

/* The task of an opened model (a bertc_task). bertc_classify on a model of
 * another task fails with BERTC_ERR_UNSUPPORTED. */
BERTC_API int bertc_model_task(const bertc_classifier *c);

/* Entities of one text, as transformers' pipeline("token-classification",
 * aggregation_strategy=...) returns them. Owned by the caller: free with
 * bertc_entities_free (NULL is harmless). */
typedef struct bertc_entity_list bertc_entity_list;
typedef struct bertc_entity_view {
    const char *entity; /* entity_group ("PER"); with aggregation "none" the token's tag ("B-PER") */
    double score;       /* probability (mean over the group's tokens) */
    int start, end;     /* [start, end) in Unicode code points of the text */
    const char *word;   /* the entity's text as the tokenizer decodes it */
} bertc_entity_view;

/* Tags text (len bytes; invalid UTF-8 is cleaned as transformers does) with a
 * token-classification model and groups the tokens by aggregation: "none",
 * "simple", "first", "average" or "max" (NULL = "simple"). *out is set on
 * success only. BERTC_ERR_UNSUPPORTED for a model of another task. */
BERTC_API int bertc_entities(bertc_classifier *c, const char *text, size_t len, const char *aggregation,
                   bertc_entity_list **out, bertc_err *err);
BERTC_API int bertc_entity_count(const bertc_entity_list *l);
/* Entity i (0 <= i < count), valid until bertc_entities_free; a zeroed view when out of range. */
BERTC_API bertc_entity_view bertc_entity_at(const bertc_entity_list *l, int i);
/* The list as the JSON the pipeline prints (malloc'd; the caller frees it), or NULL. */
BERTC_API char *bertc_entities_json(const bertc_entity_list *l);
BERTC_API void bertc_entities_free(bertc_entity_list *l);

/* Extractive question answering, as transformers 4.57's
 * pipeline("question-answering") answers (its defaults in brackets):
 *
 *     bertc_answer_list *a = NULL;
 *     if (bertc_answer(c, "Who?", 4, ctx, strlen(ctx), NULL, &a, &err) != BERTC_OK) ... err.msg
 *     bertc_answer_view v = bertc_answer_at(a, 0);   // v.answer, v.score, v.start, v.end
 *     bertc_answers_free(a);
 */
typedef struct bertc_qa_options {
    int top_k;                    /* answers at most, best first (1..10000) [1] */
    int doc_stride;               /* context tokens shared by consecutive windows of a long context;
                                     -1 = min(max_seq_len / 2, 128) [-1]; at most max_seq_len */
    int max_answer_len;           /* tokens an answer may span (>= 1) [15] */
    int max_seq_len;              /* tokens per window, [CLS] question [SEP] context part [SEP];
                                     0 = min(384, the model's max length) [0]; at most the
                                     bertc_options.max_length the model was opened with */
    int max_question_len;         /* >= 1 [64]; checked and otherwise unused, as in the pipeline,
                                     which reads it only with a slow (Python) tokenizer */
    int handle_impossible_answer; /* 1: the empty answer ("" at 0..0, the [CLS] score) competes [0] */
    int align_to_words;           /* 1: an answer covers whole words; 0: exact token offsets [1] */
} bertc_qa_options;

/* Fills o with the pipeline's defaults above (what a NULL options pointer means). */
BERTC_API void bertc_qa_options_default(bertc_qa_options *o);

/* The answers to one question on one context. Owned by the caller: free with
 * bertc_answers_free (NULL is harmless). */
typedef struct bertc_answer_list bertc_answer_list;
typedef struct bertc_answer_view {
    const char *answer;         /* the answer's text (NUL-terminated; "" for the empty answer) */
    double score;               /* the pipeline's score: p(start) x p(end), summed over equal texts */
    int start, end;             /* [start, end) in Unicode code points of the context (Python
                                   str indices, as the pipeline's "start"/"end"); 0, 0 for "" */
    size_t byte_start, byte_end;/* the same span in bytes of the context */
} bertc_answer_view;

/* Answers question (qlen bytes) from context (clen bytes), both non-empty,
 * valid UTF-8 without NUL bytes, with a question-answering model (a
 * BertForQuestionAnswering / DistilBertForQuestionAnswering folder). A context
 * longer than a window is read in overlapping windows and the best spans of all
 * of them compete. o NULL = the pipeline's defaults. *out is set on success
 * only; it may hold no answer (every span longer than max_answer_len).
 * Errors: BERTC_ERR_ARG for a NULL or empty text, invalid UTF-8, an option out
 * of range (the message names the field), or a question so long it leaves the
 * context no room in max_seq_len; BERTC_ERR_UNSUPPORTED for a model of another
 * task. */
BERTC_API int bertc_answer(bertc_classifier *c, const char *question, size_t qlen, const char *context, size_t clen,
                 const bertc_qa_options *o, bertc_answer_list **out, bertc_err *err);
BERTC_API int bertc_answer_count(const bertc_answer_list *l);
/* Answer i (0 <= i < count), best first, valid until bertc_answers_free; a
 * zeroed view when out of range. */
BERTC_API bertc_answer_view bertc_answer_at(const bertc_answer_list *l, int i);
/* The answers as the JSON the pipeline prints: {"score", "start", "end",
 * "answer"} when there is exactly one, else a list of them (malloc'd; the
 * caller frees it), or NULL. */
BERTC_API char *bertc_answers_json(const bertc_answer_list *l);
BERTC_API void bertc_answers_free(bertc_answer_list *l);

/* ---- Attention ----
 * One layer's attention probabilities for one text (what `bertc attention`
 * draws; the seed notebook's output_attentions heat map). Owned by the caller:
 * free with bertc_attention_map_free (NULL is harmless). */
typedef struct bertc_attention_map bertc_attention_map;

/* Runs a text-classification model on text (len bytes) and keeps layer's
 * attention: layer 0-based, negative counts from the end (-1 = the last); head
 * 0..heads-1, or -1 for the mean over the heads. A text longer than the model's
 * max_length is BERTC_ERR_ARG unless truncate is 1; max_tokens > 0 crops the map
 * to the first max_tokens tokens. *out is set on success only. */
BERTC_API int bertc_attend(bertc_classifier *c, const char *text, size_t len, int layer, int head, int truncate,
                              int max_tokens, bertc_attention_map **out, bertc_err *err);
/* T, the tokens in the map ([CLS] and [SEP] included). */
BERTC_API int bertc_attention_size(const bertc_attention_map *m);
/* Token i (0 <= i < T) as the tokenizer spells it ("[CLS]", "##ing"), or NULL. */
BERTC_API const char *bertc_attention_token(const bertc_attention_map *m, int i);
/* (T, T) row-major: weights[i*T + j] is how much query token i attends to key j; rows sum to 1. */
BERTC_API const float *bertc_attention_weights(const bertc_attention_map *m);
BERTC_API void bertc_attention_map_free(bertc_attention_map *m);

/* ---- Errors on the handle ----
 * Every call on an open bertc_classifier also leaves its status and message on
 * the handle (SQLite's sqlite3_errcode/sqlite3_errmsg), whether or not the
 * bertc_err argument was NULL: a binding may pass NULL and read them here.
 * A successful call resets them to BERTC_OK and "". The text is valid until the
 * next call on the handle. bertc_errmsg(NULL) is "out of memory or no handle"
 * (bertc_open, which has no handle yet, reports through its bertc_err). */
BERTC_API int bertc_errcode(const bertc_classifier *c);
BERTC_API const char *bertc_errmsg(const bertc_classifier *c);

/* ---- Training and evaluation ----
 * What `bertc train` and `bertc eval` do, as calls (docs/train.md, docs/python.md).
 *
 *     bertc_train_options o;
 *     bertc_train_options_init(&o);
 *     o.model = "all-MiniLM-L6-v2"; o.train_file = "train.jsonl";
 *     o.eval_file = "eval.jsonl"; o.output_dir = "runs/x"; o.max_steps = 100;
 *     bertc_train_result r; bertc_err err = {0};
 *     int rc = bertc_train(&o, on_progress, NULL, &r, &err);
 *     // BERTC_OK: runs/x/model is the trained model; BERTC_ERR_INTERRUPTED: the
 *     // callback asked to stop, runs/x/checkpoint-N is complete and
 *     // o.resume_from_checkpoint = "latest" continues the run.
 *
 * Strings in the options are borrowed for the call. Field names are those of
 * transformers' TrainingArguments where one exists (and the CLI flag with '-'
 * for '_' otherwise); every field is checked before anything is written, and a
 * bad one is BERTC_ERR_ARG naming it (with its `bertc train` flag name). */
typedef struct bertc_train_options {
    const char *model;            /* folder or cached name ("all-MiniLM-L6-v2") */
    const char *train_file;       /* data spec (docs/data.md): aclImdb folder/.tar.gz[:split], .csv, .tsv,
                                     .jsonl, fastText .txt; CoNLL for token classification (required) */
    const char *eval_file;        /* data spec, or NULL: no evaluation */
    const char *output_dir;       /* run directory: checkpoint-N/, model/, log.jsonl, run.json (required) */
    int task;                     /* a bertc_task (text classification) */
    const char *format;           /* NULL: from the file name; else imdb|csv|tsv|jsonl|fasttext|conll */
    const char *text_column;      /* "text" */
    const char *text_pair_column; /* NULL: single texts */
    const char *label_column;     /* "label" */
    long train_limit;             /* > 0: the first N examples after a seeded shuffle; 0 all */
    long eval_limit;              /* same for the evaluation data */
    int max_length;               /* tokens per text, specials included (128; question answering: 384 when left at 128) */
    int pad_to_max_length;        /* 1: every batch is max_length long */
    double num_train_epochs;      /* 3 (a whole number of epochs) */
    long max_steps;               /* > 0: optimizer steps in the run, overrides epochs; 0 */
    int per_device_train_batch_size; /* 8 */
    int per_device_eval_batch_size;  /* 8 */
    int gradient_accumulation_steps; /* 1 */
    double learning_rate;         /* 5e-5 */
    double weight_decay;          /* 0 */
    double max_grad_norm;         /* 1.0; 0 disables clipping */
    const char *lr_scheduler_type;/* "linear" | "cosine" | "constant" | "constant_with_warmup" */
    double warmup_ratio;          /* 0 */
    long warmup_steps;            /* >= 0 overrides warmup_ratio; -1 */
    unsigned long long seed;      /* 42: the new head, dropout, shuffles, batch order */
    long logging_steps;           /* 100; 0: no loss lines in log.jsonl */
    const char *eval_strategy;    /* "epoch" | "steps" | "no" */
    long eval_steps;              /* with "steps": every N steps; 0: logging_steps */
    const char *save_strategy;    /* "epoch" | "steps" | "best" | "no" */
    long save_steps;              /* with "steps": every N steps (500) */
    int save_total_limit;         /* keep at most N checkpoints; 0 all */
    int load_best_model_at_end;   /* output_dir/model is the best checkpoint */
    const char *metric_for_best_model; /* "loss" | "accuracy" | "f1" */
    int early_stopping_patience;  /* stop after N evaluations without improvement; 0 off */
    const char *resume_from_checkpoint; /* NULL, "latest" or a checkpoint folder */
    int overwrite_output_dir;     /* 1: a fresh run may replace a previous one in output_dir */
    const char *precision;        /* "fp32" (default) | "bf16" (where the CPU has AVX512-BF16) | "auto"
                                     (bf16 where it has, else fp32: the CLI's default) */
    int gradient_checkpointing;   /* 1: recompute each layer in the backward */
    int threads;                  /* CPU threads for this process; 0: leave as they are */
    int report;                   /* 1: write output_dir/report.html at the end (default) */
    const char *augment;          /* NULL, or an augmentation of the training texts made once before
                                     training (text classification): "eda[:KEY=V,...]" or
                                     "contextual[:KEY=V,...]" (the masked-LM head of model=, else of
                                     model; docs/experiments.md) */
} bertc_train_options;

/* Fills o with the defaults above (those of `bertc train`). */
BERTC_API void bertc_train_options_init(bertc_train_options *o);

/* What a progress callback is told. */
typedef enum bertc_progress_kind {
    BERTC_PROGRESS_INFO = 0, /* message: a line of information (data, model, resume) */
    BERTC_PROGRESS_STEP = 1, /* after every optimizer step (loss: this step's) */
    BERTC_PROGRESS_LOG = 2,  /* a loss line was logged (loss: the mean since the last) */
    BERTC_PROGRESS_EVAL = 3, /* an evaluation finished (eval_*) */
    BERTC_PROGRESS_SAVE = 4, /* a checkpoint or the final model was written (message: folder) */
    BERTC_PROGRESS_WARN = 5, /* message: something that does not stop the run (a skipped step) */
    BERTC_PROGRESS_BATCH = 6 /* bertc_evaluate: step examples of total_steps done */
} bertc_progress_kind;

typedef struct bertc_progress {
    int kind;                     /* a bertc_progress_kind */
    long step, total_steps;       /* optimizer steps done / in the run */
    double epoch;                 /* fractional epochs done */
    double loss;                  /* STEP: the step's loss; LOG: the interval's mean */
    double learning_rate;         /* of the next step, as Trainer logs it */
    double grad_norm;             /* pre-clip gradient norm of the last step */
    double samples_per_second;    /* training throughput so far */
    double elapsed, eta;          /* seconds since the start / left (estimated) */
    double eval_loss, eval_accuracy, eval_f1; /* EVAL; NaN otherwise */
    const char *message;          /* INFO/SAVE/WARN; else NULL. Valid during the call */
} bertc_progress;

/* Called on the thread that called bertc_train/bertc_evaluate. Returning
 * non-zero cancels: training stops after the current step (or evaluation
 * batch) with a complete checkpoint of that step, as Ctrl-C does in `bertc
 * train`, and bertc_train returns BERTC_ERR_INTERRUPTED; evaluation stops
 * before its next batch and writes nothing. */
typedef int (*bertc_progress_fn)(const bertc_progress *p, void *user);

typedef struct bertc_train_result {
    long global_step;             /* optimizer steps done (also when cancelled) */
    long skipped_steps;           /* steps skipped for a non-finite loss or gradient */
    double train_runtime;         /* seconds this call trained */
    double train_samples_per_second;
    int has_eval;                 /* 1: eval_* hold the last evaluation */
    double eval_loss, eval_accuracy, eval_f1;
    int has_best;                 /* 1: best_metric/best_step hold the best evaluation */
    double best_metric;
    long best_step;
    int stopped_early;            /* early stopping ended the run */
} bertc_train_result;

/* Fine-tunes o->model on o->train_file into o->output_dir (what `bertc train`
 * does; docs/train.md). progress may be NULL. res (may be NULL) is filled on
 * BERTC_OK and, global_step only, on BERTC_ERR_INTERRUPTED. Returns BERTC_OK
 * (output_dir/model written), BERTC_ERR_INTERRUPTED (cancelled: a checkpoint
 * of the last step was written; resume_from_checkpoint "latest" continues),
 * BERTC_ERR_NUMERIC (too many non-finite steps), or another status with its
 * message on err. Sets the process's thread count when o->threads > 0. */
BERTC_API int bertc_train(const bertc_train_options *o, bertc_progress_fn progress, void *user,
                          bertc_train_result *res, bertc_err *err);

typedef struct bertc_eval_options {
    const char *model;            /* a fine-tuned folder with a classifier (required) */
    const char *eval_file;        /* labelled data spec (required; an aclImdb spec's default split is test) */
    const char *format;           /* NULL: from the file name */
    const char *text_column;      /* "text" */
    const char *text_pair_column; /* NULL: single texts */
    const char *label_column;     /* "label" */
    long limit;                   /* > 0: the first N examples after a shuffle with seed; 0 all */
    unsigned long long seed;      /* 42 */
    int per_device_eval_batch_size; /* 32 */
    int max_length;               /* 0: the model's maximum */
    const char *output_dir;       /* NULL, or a folder for eval.json and predictions.jsonl */
    const char *precision;        /* "fp32" (default) | "bf16" | "auto" */
    int threads;                  /* 0: leave as they are */
} bertc_eval_options;

/* Fills o with the defaults above (those of `bertc eval`). */
BERTC_API void bertc_eval_options_init(bertc_eval_options *o);

/* Scores o->model on o->eval_file as `bertc eval --json` does and sets *metrics
 * to that JSON object as text (malloc'd; free with bertc_free): accuracy, loss,
 * per-class precision/recall/f1, macro and weighted averages, the confusion
 * matrix, labels and report_text; multi-label models: their figures (docs/cli.md).
 * progress (may be NULL) gets BERTC_PROGRESS_BATCH calls; returning non-zero
 * stops with BERTC_ERR_INTERRUPTED and nothing written. Text-classification
 * models only (BERTC_ERR_UNSUPPORTED otherwise). */
BERTC_API int bertc_evaluate(const bertc_eval_options *o, bertc_progress_fn progress, void *user, char **metrics,
                             bertc_err *err);

/* ---- Augmentation (`bertc augment`) ---- */

typedef struct bertc_augment_options {
    const char *data_file;        /* data spec (docs/data.md; required); the default split is test */
    const char *output_file;      /* where the examples and their copies go (required), written atomically */
    const char *output_format;    /* NULL or "auto": from output_file's extension, else the input's;
                                     "csv" | "tsv" | "jsonl" | "fasttext" */
    const char *method;           /* "eda" (default) | "eda:KEY=V,..." | "contextual[:KEY=V,...]"
                                     (keys: docs/experiments.md) */
    const char *model;            /* contextual: the masked-LM folder or cached name when method names
                                     no model= (NULL: an error) */
    int n;                        /* > 0: copies per example, over the method's (4); 0: the method's */
    unsigned long long seed;      /* 42: the augmentation (a seed= in method wins) and limit's shuffle */
    const char *format;           /* NULL: from the path; else imdb|csv|tsv|jsonl|fasttext */
    const char *text_column;      /* "text" (also written) */
    const char *text_pair_column; /* NULL: single texts; else copied as it is */
    const char *label_column;     /* "label" (also written) */
    long limit;                   /* > 0: the first N examples after a shuffle with seed; 0 all, in order */
    int threads;                  /* 0: leave as they are */
} bertc_augment_options;

/* Fills o with the defaults above (those of `bertc augment`). */
BERTC_API void bertc_augment_options_init(bertc_augment_options *o);

/* Writes each example of o->data_file followed by its n augmented copies (labels
 * and second texts kept) to o->output_file, as `bertc augment` does. *examples_in
 * and *examples_out (either may be NULL) get the counts. EDA without WordNet:
 * BERTC_ERR_NOTFOUND; contextual with a folder without a masked-LM head:
 * BERTC_ERR_ARG, "... not available ..."; nothing is written on failure. */
BERTC_API int bertc_augment(const bertc_augment_options *o, int *examples_in, int *examples_out, bertc_err *err);

/* Frees memory the library returned to the caller (bertc_evaluate's metrics). */
BERTC_API void bertc_free(void *p);

#ifdef __cplusplus
}
#endif
#endif /* BERTC_H */
