/* train_task.h: private to the trainer (train*.c) and the tasks' trainer parts
 * (src/tasks/NAME_train.c). Not API.
 *
 * The trainer runs the loop: batch order, forward with dropout, gradient
 * accumulation, clipping, AdamW, schedule, logging, evaluation points,
 * checkpoints, resume, the final model and report. Everything that depends on
 * the task it asks its train_task: which data it reads and how labels are
 * set, how an example becomes token sequences and targets, the loss of a
 * training batch, and the metrics of an evaluation. The model's head (heads.h)
 * comes from the task too.
 *
 *   trainer                         asks the task
 *   setup: data                     load
 *          model loaded             check_model
 *          tokenization             encode (train, eval)
 *          arenas                   batch_rows, then prepare
 *   step:  after the forward        backward
 *   eval:  per evaluation           evaluate
 *   end                             release
 *
 * A task keeps its own state in trainer.task_state (text classification, the
 * first task, keeps its fields in the trainer itself, marked below).
 */
#ifndef BERTC_TRAIN_TASK_H
#define BERTC_TRAIN_TASK_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "bert.h"
#include "checkpoint.h"
#include "data.h"
#include "hfmodel.h"
#include "metrics.h"
#include "optim.h"
#include "rng.h"
#include "tokenizer.h"
#include "train.h"

/* The encoded examples of one data set: token sequences back to back and
 * what the loss is taken against. A task fills what it uses; fill_batch copies
 * whatever is present into the batch. */
typedef struct encset {
    int n;              /* examples */
    int *ids, *types;   /* (sum len) tokens of every sequence, back to back */
    int *tags;          /* token classification: (sum len) target per token, -100 = not scored; else NULL */
    size_t *off;        /* (nseq) start of sequence j */
    int *len;           /* (nseq) tokens of sequence j */
    int *labels;        /* text classification: (n); else NULL */
    float *targets;     /* multi-label: (n, NL) multi-hot rows; else NULL */
    int nseq;           /* sequences: n, or with chunks every window of every example */
    int *win0;          /* chunks: (n + 1) example i's windows are sequences [win0[i], win0[i+1]); else NULL */
    int *elen;          /* (n) example length for group_by_length: its tokens (all windows) */
    int *start, *end;   /* question answering: (nseq) answer's first/last token of sequence j; else NULL */
} encset;

/* One evaluation's numbers. loss, accuracy and f1 go into log.jsonl as
 * eval_loss, eval_accuracy, eval_f1 (what --metric-for-best-model picks from);
 * extra[] are logged beside them under their keys. */
typedef struct train_eval {
    double loss, accuracy, f1;
    int nextra;
    struct { const char *key; double value; } extra[4];
} train_eval;

typedef struct trainer trainer;

typedef struct train_task {
    int task; /* BERT_TASK_*: the head the model gets */
    /* Reads the training and evaluation data (o->train, o->eval,
     * --validation-split, limits) and sets the label set: fills t->labels,
     * t->num_labels, t->n_train, t->n_eval, t->has_eval, t->train_path and
     * t->text_bytes. Nothing is written. */
    int (*load)(trainer *t, bertc_err *err);
    /* The model is loaded (t->hf): refuse one that cannot do the task. May be NULL. */
    int (*check_model)(trainer *t, bertc_err *err);
    /* Tokenizes the training (eval = 0) or evaluation (eval = 1) data into set. */
    int (*encode)(trainer *t, int eval, encset *set, bertc_err *err);
    /* Sequences per forward for the training and the evaluation batches. */
    int (*batch_rows)(trainer *t, int *train_rows, int *eval_rows, bertc_err *err);
    /* The task's own buffers and metrics, once t->Bmax is known. */
    int (*prepare)(trainer *t, bertc_err *err);
    /* After the forward of a training batch of `examples` examples (fill_batch's rows):
     * the loss into *loss and its gradient added to t->m.grads_memory. */
    int (*backward)(trainer *t, int examples, float *loss, bertc_err *err);
    /* Evaluates t->eval_model over t->eval_set. */
    int (*evaluate)(trainer *t, train_eval *ev, bertc_err *err);
    /* Frees the task's state. */
    void (*release)(trainer *t);
} train_task;

extern const train_task bertc_text_train_task;  /* src/tasks/text_train.c */
extern const train_task bertc_token_train_task; /* src/tasks/token_train.c */
extern const train_task bertc_qa_train_task;    /* src/tasks/qa_train.c */

struct trainer {
    const bertc_train_opts *o;
    const bertc_train_callbacks *cb;
    bertc_err *err;
    const train_task *task;
    void *task_state;               /* the task's own (token classification) */
    /* what the task's load sets */
    char **labels;                  /* (num_labels) label names in id order (owned by the task) */
    int num_labels;
    int n_train, n_eval;
    int has_eval;
    const char *train_path;
    size_t text_bytes;
    /* the model and the loop */
    hf_model hf;
    bert_tokenizer *tok;
    int pad_id;
    encset train_set, eval_set; /* the tokenized training and evaluation data */
    bert_model m;
    bertc_adamw opt;
    bertc_sched sched;
    long batches_per_epoch;
    long steps_per_epoch;           /* optimizer steps */
    long total;                     /* optimizer steps in the run */
    int rank, nranks;               /* this process in a data-parallel job (dist.h); 0 and 1 alone */
    long ga;                        /* micro-batches per optimizer step, all ranks together:
                                       --gradient-accumulation-steps x nranks */
    double comm_s, step_s;          /* seconds in the gradient allreduce and in whole steps */
    int agreed_stop;                /* every rank stops together (MPI can be finalized) */
    int parts_started;              /* gradient parts whose allreduce has started this step */
    bertc_err comm_err;             /* the first failure to start one (grads_ready) */
    long eval_steps;
    int *perm;                      /* (n) this epoch's order */
    long perm_epoch;
    int *b_ids, *b_types, *b_mask;  /* (Bmax, T) the batch's tokens */
    int *b_tags;                    /* (Bmax, T) token targets, -100 on padding (encsets with tags) */
    int *b_labels;                  /* (Bmax) example labels (encsets with labels) */
    int *b_start, *b_end;           /* (Bmax) answer start/end token per sequence (encsets with start/end) */
    float *b_targets;               /* multi-label: (B texts, NL) */
    int b_nwin[4096];               /* windows of each example of the batch */
    int Bmax;                       /* sequences per forward the batch buffers hold */
    bert_model eval_model;          /* evaluation: an inference model over the same parameters
                                       (no gradients, one layer's activations), when there is
                                       evaluation data; the training model m is sized for the
                                       training batch alone */
    bertc_rng drop_rng;
    bertc_ckpt_state st;
    char resume_dir[4096];
    int resumed;
    int logfd;
    int lockfd;                     /* OUT/.lock, flock'd for the whole run; -1 before */
    long log_bytes, log_lines;
    char *args_json;
    cJSON *args;
    double t0;
    long samples_done, steps_done;
    int patience;
    long last_saved;
    /* text classification's own (src/tasks/text_train.c) */
    char **labels_given;            /* --labels split, or NULL */
    int num_labels_given;
    bertc_dataset train, eval;
    float *class_w;                 /* (NL) or NULL */
    int *b_pred;                    /* (Bmax) */
    float *b_pooled, *b_dpooled, *b_probs, *b_dlogits; /* chunks: (B, NL) x 3, (Bmax windows, NL) */
    uint8_t *b_truth, *b_mlpred;    /* multi-label evaluation: (B, NL) */
    bertc_metrics met;
    bertc_mlmetrics mlmet;
    int ml;                         /* multi-label run */
    int chunks;                     /* --long-text chunks */
    int stride;                     /* resolved --stride */
};

/* Services of the trainer (train*.c) for the tasks. */

/* An INFO/WARN line for the caller's progress display. */
void bertc_trainer_info(trainer *t, int kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Appends one sequence of n tokens (types and tags may be NULL) to set. */
int bertc_encset_push(encset *set, size_t *cap_tok, int *cap_seq, const int *ids, const int *types, const int *tags,
                      int n, const char *path, bertc_err *err);
void bertc_encset_free(encset *e);
/* Fills the batch buffers with examples idx[0..B) of set padded to T; returns T
 * and the number of sequences in *S. */
int bertc_trainer_fill_batch(trainer *t, const encset *set, const int *idx, int B, int *S);
/* One evaluation batch: examples [st, st + B) of t->eval_set filled into the
 * batch buffers (bertc_trainer_fill_batch) and run forward on t->eval_model,
 * whose logits then hold them; *T (when T is not NULL) is their padded
 * length. First
 * bertc_trainer_eval_stopped: BERTC_ERR_INTERRUPTED once o->stop is set. Returns
 * BERTC_OK or the error (on err). */
int bertc_trainer_eval_forward(trainer *t, int st, int B, int *T, bertc_err *err);
/* Between evaluation batches: BERTC_ERR_INTERRUPTED (with a message) once
 * o->stop is set, else BERTC_OK. An evaluate returns it as is; the trainer then
 * writes a checkpoint that runs this evaluation again on resume. */
int bertc_trainer_eval_stopped(const trainer *t, bertc_err *err);
/* Data parallelism (docs/distributed.md): an evaluation of nb batches is split
 * across the ranks; this rank takes batches [*lo, *hi) (all of them alone). A
 * task that splits its evaluation sums its counts over the ranks afterwards
 * with bertc_dist_sum_i64/_f64 (dist.h); one that does not evaluates the whole
 * set on every rank, which gives the same numbers. */
void bertc_trainer_eval_share(const trainer *t, int nb, int *lo, int *hi);

#endif /* BERTC_TRAIN_TASK_H */
