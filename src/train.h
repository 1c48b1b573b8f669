/* train.h: fine-tuning a BERT classifier, as transformers' Trainer does it for
 * single-label classification, on the CPU.
 *
 * What it does: loads the training (and evaluation) data and the model, maps
 * labels, tokenizes everything once, then runs the loop: seeded per-epoch batch
 * order, dynamic padding, forward with dropout, backward (optional class
 * weights), gradient accumulation, clipping, AdamW, lr schedule; logging to
 * OUT/log.jsonl, evaluation, Hugging Face checkpoints (checkpoint.h), best
 * model, early stopping, resume, interruption; at the end OUT/model/,
 * OUT/run.json and the HTML report (report.h). docs/train.md has the details.
 * What it does not: print, exit, install signal handlers (the caller sets
 * *stop from its handler), or evaluate on a separate test set afterwards
 * (`bertc eval`).
 *
 * Every check that can fail on bad input (flags, data, labels, model) runs
 * before OUT is created or changed. A training step allocates nothing: batches,
 * activations, gradients and moments are allocated once up front.
 *
 * Memory: bertc_train_opts holds only borrowed pointers; bertc_train frees
 * everything it allocates before it returns.
 *
 *     bertc_train_opts o; bertc_train_opts_default(&o);
 *     o.model = "all-MiniLM-L6-v2"; o.train = "aclImdb-text.tar.gz:train";
 *     o.eval = "aclImdb-text.tar.gz:test"; o.out = "runs/imdb";
 *     o.train_limit = 1000; o.eval_limit = 200; o.pad_to_max_length = 1;
 *     o.load_best = 1; o.stop = &flag_set_by_sigint;
 *     bertc_train_callbacks cb = {on_event, NULL};
 *     bertc_train_stats res;
 *     if (bertc_train_run(&o, &cb, &res, &err) != BERTC_OK) fprintf(stderr, "%s\n", err.msg);
 */
#ifndef BERTC_TRAIN_H
#define BERTC_TRAIN_H

#include <signal.h>
#include <stdint.h>
#include "common.h"

enum { BERTC_STRATEGY_NO = 0, BERTC_STRATEGY_STEPS, BERTC_STRATEGY_EPOCH, BERTC_STRATEGY_BEST };
enum { BERTC_METRIC_LOSS = 0, BERTC_METRIC_ACCURACY, BERTC_METRIC_F1 };

typedef struct bertc_train_opts {
    /* the task (heads.h): BERT_TASK_TEXT_CLS (default), BERT_TASK_TOKEN_CLS or BERT_TASK_QA */
    int task;
    int label_all_tokens;       /* token classification: every sub-word carries its word's tag
                                   (B- turned into I- after the first) instead of -100 */
    int doc_stride;             /* question answering: context tokens shared by consecutive windows (128) */
    /* inputs and output */
    const char *model;          /* folder or cached name (required) */
    const char *train;          /* data spec, data.h (required) */
    const char *eval;           /* data spec or NULL */
    const char *out;            /* run directory (required) */
    const char *format;         /* data format or NULL (auto) */
    const char *text_column;    /* "text" */
    const char *text_pair_column; /* NULL: single texts */
    const char *label_column;   /* "label" */
    const char *labels;         /* "a,b,c": explicit label set in id order, or NULL */
    long train_limit;           /* keep the first N after a seeded shuffle; -1 all */
    long eval_limit;            /* same for eval; -1 all */
    double validation_split;    /* 0: none; (0,1): carve eval out of train (needs eval NULL) */
    const char *augment;        /* NULL, or an EDA spec "eda[:alpha=0.1,n=4,...]" (augment.h): the
                                   training texts (after --train-limit and --validation-split)
                                   get n augmented copies each, made once in memory, seeded by
                                   the spec's seed or else seed; text classification only */
    /* tokenization and batching */
    int max_length;             /* tokens per text, specials included (128) */
    int truncation;             /* a bert_trunc (head) */
    int pad_to_max_length;      /* 1: every batch is max_length long; 0: batch's longest */
    int group_by_length;        /* 1: LengthGroupedSampler order */
    int batch_size;             /* 8 */
    int eval_batch_size;        /* 8 */
    int grad_accum;             /* micro-batches per optimizer step (1) */
    /* optimization */
    int epochs;                 /* 3 */
    long max_steps;             /* > 0: optimizer steps in the run, overrides epochs; -1 */
    double lr;                  /* 5e-5 */
    double weight_decay;        /* 0 */
    double adam_beta1, adam_beta2, adam_eps; /* 0.9, 0.999, 1e-8 */
    double max_grad_norm;       /* 1.0; <= 0 disables clipping */
    int sched_kind;             /* a bertc_sched_kind (linear) */
    double warmup_ratio;        /* 0 */
    long warmup_steps;          /* >= 0 overrides warmup_ratio; -1 */
    const char *class_weights;  /* NULL, "auto" (n / (NL * count)) or "w1,w2,..." */
    uint64_t seed;              /* 42: head, dropout, data order, shuffles */
    /* logging, evaluation, saving */
    long logging_steps;         /* 100 */
    int eval_strategy;          /* BERTC_STRATEGY_NO|STEPS|EPOCH (epoch) */
    long eval_steps;            /* for STEPS (defaults to logging_steps when <= 0) */
    int save_strategy;          /* BERTC_STRATEGY_NO|STEPS|EPOCH|BEST (epoch) */
    long save_steps;            /* for STEPS (500) */
    int save_total_limit;       /* <= 0: keep all */
    int load_best;              /* load_best_model_at_end */
    int metric;                 /* BERTC_METRIC_* for the best model (loss, as Trainer) */
    int early_stopping_patience;/* 0: off; else evaluations without improvement */
    int max_bad_steps;          /* consecutive non-finite steps that stop the run (5) */
    /* run control */
    const char *resume;         /* NULL, "latest" or a checkpoint folder */
    int overwrite;              /* 1: a fresh run may replace a previous run in out */
    volatile sig_atomic_t *stop;/* polled after each step; non-zero: checkpoint and stop */
    int threads;                /* recorded in run.json (the caller sets them) */
    int precision;              /* BERT_PREC_FP32 (default) or BERT_PREC_BF16: the encoder's dense
                                   layers multiply in bf16 (ops_bf16.h); master weights, gradients
                                   and AdamW stay fp32 */
    int gradient_checkpointing; /* 1: keep only each layer's input and recompute the layer in the
                                   backward (BERT_TRAIN_RECOMPUTE): far less activation memory for
                                   about one more forward per step; the same weights bit for bit */
    int report;                 /* 1: write OUT/report.html at the end (default) */
    /* multi-label (docs/family.md) */
    int multi_label;            /* 1: several labels per text: sigmoid + BCE, problem_type
                                   multi_label_classification in the saved config.json */
    const char *label_separator;/* multi-label CSV/TSV: separator inside the label field, or NULL */
    double threshold;           /* multi-label evaluation: a label is predicted when its
                                   probability >= threshold (0.5) */
    /* long texts */
    int long_text;              /* BERTC_LONG_TRUNCATE (--truncation applies), BERTC_LONG_HEAD_TAIL
                                   (= --truncation head+tail) or BERTC_LONG_CHUNKS */
    int stride;                 /* chunks: tokens shared by consecutive windows; -1: max_length / 4 */
    int pool;                   /* chunks: BERTC_POOL_MEAN or BERTC_POOL_MAX (longtext.h) */
    int max_windows;            /* chunks: keep at most this many windows per text (the first
                                   ones); 0: all. The model is built for the largest batch's
                                   total windows, so this bounds memory */
} bertc_train_opts;

enum { BERTC_LONG_TRUNCATE = 0, BERTC_LONG_HEAD_TAIL = 1, BERTC_LONG_CHUNKS = 2 };

/* Fills o with Trainer's defaults (above); model/train/out are NULL. */
void bertc_train_opts_default(bertc_train_opts *o);

/* Checks the options alone (ranges, combinations) without touching any file;
 * the message names the CLI flag (e.g. "--lr: must be ..."). bertc_train calls
 * it first. */
int bertc_train_check_opts(const bertc_train_opts *o, bertc_err *err);

/* What happened, for the caller's progress display. */
typedef enum bertc_train_event_kind {
    BERTC_TRAIN_INFO = 0,   /* msg: a line of information (data, model, resume) */
    BERTC_TRAIN_STEP,       /* after every optimizer step */
    BERTC_TRAIN_LOG,        /* a logging line was written (loss = interval mean) */
    BERTC_TRAIN_EVAL,       /* an evaluation finished */
    BERTC_TRAIN_SAVE,       /* a checkpoint or the final model was written (msg: folder) */
    BERTC_TRAIN_SKIP,       /* a step was skipped for a non-finite loss or gradient */
    BERTC_TRAIN_WARN        /* msg: something went wrong that does not stop the run */
} bertc_train_event_kind;

typedef struct bertc_train_event {
    int kind;                  /* a bertc_train_event_kind */
    long step, total_steps;    /* optimizer steps done / in the run */
    double epoch;              /* fractional epochs done */
    double loss;               /* STEP: this step's loss; LOG: mean over the interval */
    double lr;                 /* learning rate of the next step (as Trainer logs it) */
    double grad_norm;          /* pre-clip norm of the last step */
    double samples_per_sec;    /* training throughput since this process started */
    double elapsed;            /* seconds since this process started training */
    double eta;                /* seconds left, estimated */
    double eval_loss, eval_accuracy, eval_f1;  /* EVAL (multi-label: BCE, subset accuracy,
                                                  micro F1) */
    double eval_hamming;       /* EVAL, multi-label only (else NaN): Hamming loss */
    const char *msg;           /* INFO/SAVE/SKIP/WARN */
} bertc_train_event;

typedef struct bertc_train_callbacks {
    void (*on_event)(const bertc_train_event *e, void *user); /* may be NULL */
    void *user;
} bertc_train_callbacks;

typedef struct bertc_train_stats {
    long steps;                /* optimizer steps done */
    long skipped_steps;        /* steps skipped for non-finite values */
    double wall_seconds;       /* this process's training time */
    double train_samples_per_second;
    int has_eval;              /* 1: the fields below hold the last evaluation */
    double eval_loss, eval_accuracy, eval_f1;
    int has_best;
    double best_metric;
    long best_step;
    int stopped_early;         /* early stopping ended the run */
} bertc_train_stats;

/* Runs the whole training. Returns BERTC_OK (OUT/model written),
 * BERTC_ERR_INTERRUPTED (*stop was set: a checkpoint of the last step was
 * written), BERTC_ERR_NUMERIC (too many non-finite steps in a row: the last
 * good checkpoint is kept, nothing non-finite is written), or the error of the
 * failing step with its message on err. res may be NULL. */
int bertc_train_run(const bertc_train_opts *o, const bertc_train_callbacks *cb,
                bertc_train_stats *res, bertc_err *err);

#endif /* BERTC_TRAIN_H */
