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
 * file/field/flag on the handle or on the bertc_err passed in. Library code never
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
 * Training, evaluation, reports and serving are reached through the `bertc`
 * command (cli/); their library modules live in src/ and are not yet API.
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
 * in ~/.cache/bertc/models), its tokenizer and an inference arena for one batch.
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

/* ---- Tasks ----
 * A model folder's head decides what it does (config.json architectures):
 * bertc_classify for text classification, bertc_entities for token
 * classification (named-entity recognition). Question answering is reached
 * through the `bertc` command for now. */
typedef enum bertc_task {
    BERTC_TASK_TEXT_CLASSIFICATION = 0,  /* BertForSequenceClassification: bertc_classify */
    BERTC_TASK_TOKEN_CLASSIFICATION = 1, /* BertForTokenClassification: bertc_entities */
    BERTC_TASK_QUESTION_ANSWERING = 2    /* BertForQuestionAnswering */
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

#ifdef __cplusplus
}
#endif
#endif /* BERTC_H */
