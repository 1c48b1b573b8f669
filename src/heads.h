/* heads.h: the task heads on top of the BERT encoder, one unit each.
 *
 * A head owns what sits between the encoder's last hidden state h (B,T,C) and
 * the loss: its parameters (a pooler or none, and one output layer clsw/clsb
 * in bert_params), its forward and backward, its loss, its transformers class
 * and tensor names, and how new weights are initialised. The model (bert.c)
 * asks the head of cfg.task and never branches on the task itself; the task's
 * data alignment, metrics and output decoding live in src/tasks/ (task.h).
 *
 *   task                 transformers class (BERT / DistilBERT)       head on h                       logits
 *   text-classification  Bert/DistilBertForSequenceClassification   tanh pooler (relu pre_classifier)
 *                                                                     on [CLS], dropout, classifier    (B,NL)
 *   token-classification Bert/DistilBertForTokenClassification       dropout, classifier on each token (B,T,NL)
 *   question-answering   Bert/DistilBertForQuestionAnswering         (DistilBERT: dropout) qa_outputs  (B,T,2)
 *
 * Dropout of the head (transformers' choices): text classification
 * classifier_dropout (DistilBERT seq_classif_dropout), token classification
 * classifier_dropout (DistilBERT: dropout), question answering none (DistilBERT:
 * qa_dropout).
 *
 * Memory: the descriptors are static and read-only.
 *
 *     const bert_head *h = bert_head_by_name("token-classification");
 *     if (!h) ... unknown --task ...
 *     cfg.task = h->task;
 */
#ifndef BERTC_HEADS_H
#define BERTC_HEADS_H

#include "bert.h"

typedef struct bert_head {
    int task;                  /* BERT_TASK_* */
    const char *name;          /* the --task name: "text-classification", ... */
    const char *arch_class[2]; /* config.json architectures for BERT_ARCH_BERT / BERT_ARCH_DISTILBERT */
    const char *out_tensor;    /* the output layer's tensor prefix: "classifier" or "qa_outputs" */
    int has_pooler;            /* 1: pooler.dense (BERT) / pre_classifier (DistilBERT) is part of it */
    int per_token;             /* 1: logits for every token, (B,T,NL); 0: one row per sequence */
    int fixed_labels;          /* QA: 2 (start, end); 0: the labels come from config.json / the data */
    /* The head's dropout probability for this config. */
    float (*dropout)(const bert_config *c);
    /* h: the encoder's output (B,T,C) of the forward in progress; rng: NULL in
     * eval mode. Fills m->logits and m->probs (and m->pooled when pooled). */
    void (*forward)(bert_model *m, const float *h, bertc_rng *rng);
    /* From m->dlogits: adds the head's gradients to m->grads and writes
     * d(loss)/d(h) into m->dres (B,T,C), overwriting it. h as in forward. */
    void (*backward)(bert_model *m, const float *h);
    /* The loss of the last forward against y; with dlogits != NULL also writes
     * d(loss)/d(logits) there (m->logits' shape). */
    int (*loss)(const bert_model *m, const bert_targets *y, float *loss, float *dlogits, bertc_err *err);
} bert_head;

/* The head of a task (BERT_TASK_*); the text-classification head for anything else. */
const bert_head *bert_head_of(int task);

/* The head whose --task name is name, or NULL. */
const bert_head *bert_head_by_name(const char *name);

/* The head whose transformers class (for either architecture) is cls, or NULL;
 * *model_type (may be NULL) gets BERT_ARCH_BERT or BERT_ARCH_DISTILBERT. */
const bert_head *bert_head_by_class(const char *cls, int *model_type);

/* "text-classification|token-classification|question-answering", for messages. */
const char *bert_head_names(void);

#endif /* BERTC_HEADS_H */
