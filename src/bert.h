/* bert.h: the BERT model: its configuration, the layout of its parameters in one
 * allocation, and (section "Forward / backward" below) the forward and backward
 * passes of the encoder, pooler and classification head.
 *
 * Dimension letters used across bertc:
 *   B  batch size            T  tokens per sequence (padded length)
 *   C  hidden size           NH attention heads      HS head size = C / NH
 *   F  intermediate size     L  encoder layers       V  vocabulary size
 *   P  max positions         TT token types          NL number of labels
 *
 * Weight matrices keep PyTorch's nn.Linear layout (out, in): y = x W^T + b, the
 * same as the tensors in a Hugging Face checkpoint, so loading is a copy.
 * Q, K and V of a layer are stacked in one (3C, C) matrix: rows [0,C) query,
 * [C,2C) key, [2C,3C) value.
 *
 * Memory: bert_params only points into memory the caller owns (one allocation of
 * bert_num_params() floats). Gradients and the AdamW moments use the same layout,
 * so an optimizer is one flat loop over num_params floats.
 */
#ifndef BERTC_BERT_H
#define BERTC_BERT_H

#include <stddef.h>
#include "common.h"

#define BERT_MAX_LABELS 4096

/* Which transformers architecture the parameters come from (config.json's
 * model_type). Both run the same post-LN encoder; they differ in:
 *                         BERT_ARCH_BERT            BERT_ARCH_DISTILBERT
 *   token type embeddings  TT rows                    none (TT = 0)
 *   head on [CLS]          tanh(pooler) (pooler.*)    relu(pre_classifier)
 *   dropout after the attention output projection     yes / no
 *   LayerNorm eps          from config.json           fixed 1e-12
 * (docs/family.md). A zeroed config is BERT. */
enum { BERT_ARCH_BERT = 0, BERT_ARCH_DISTILBERT = 1 };

/* The task head on top of the encoder (heads.h owns each one; config.json's
 * architectures names it). A zeroed config is text classification. */
enum {
    BERT_TASK_TEXT_CLS = 0,  /* BertForSequenceClassification: pooler + classifier on [CLS], (B,NL) */
    BERT_TASK_TOKEN_CLS = 1, /* BertForTokenClassification: classifier on every token, (B,T,NL) */
    BERT_TASK_QA = 2,        /* BertForQuestionAnswering: qa_outputs on every token, (B,T,2) start|end */
    BERT_NUM_TASKS = 3
};

/* config.json's problem_type. A zeroed config is single-label. */
enum {
    BERT_PROBLEM_SINGLE_LABEL = 0, /* softmax + cross-entropy ("single_label_classification" or null) */
    BERT_PROBLEM_MULTI_LABEL = 1   /* sigmoid + BCE with logits ("multi_label_classification") */
};

typedef struct bert_config {
    int model_type;           /* BERT_ARCH_BERT or BERT_ARCH_DISTILBERT */
    int problem_type;         /* BERT_PROBLEM_SINGLE_LABEL or BERT_PROBLEM_MULTI_LABEL */
    int task;                 /* BERT_TASK_*: which head (heads.h) */
    int vocab_size;           /* V */
    int hidden_size;          /* C */
    int num_layers;           /* L  (num_hidden_layers) */
    int num_heads;            /* NH (num_attention_heads) */
    int intermediate_size;    /* F */
    int max_position;         /* P  (max_position_embeddings) */
    int type_vocab_size;      /* TT */
    int num_labels;           /* NL */
    int pad_token_id;
    float layer_norm_eps;     /* HF default 1e-12 */
    float hidden_dropout;     /* hidden_dropout_prob */
    float attention_dropout;  /* attention_probs_dropout_prob */
    float classifier_dropout; /* classifier_dropout, or hidden_dropout when null (DistilBERT:
                                 seq_classif_dropout); heads.h says which head uses it */
    float qa_dropout;         /* DistilBERT's qa_dropout (0.1); BERT's QA head has no dropout */
    float initializer_range;  /* std of new weights, HF default 0.02 */
    char **id2label;          /* NL malloc'd strings ("LABEL_0", ... when absent); owned */
} bert_config;

/* Frees id2label and zeroes it. Harmless on a zeroed config. */
void bert_config_free(bert_config *cfg);

/* Checks the dimensions are positive, C divisible by NH, sizes not absurd.
 * Names the offending config.json field in the message. */
int bert_config_validate(const bert_config *cfg, bertc_err *err);

enum {
    BERT_WTE, BERT_WPE, BERT_WTT, BERT_LNEW, BERT_LNEB,
    BERT_QKVW, BERT_QKVB, BERT_ATTOW, BERT_ATTOB, BERT_LN1W, BERT_LN1B,
    BERT_FCW, BERT_FCB, BERT_FCPROJW, BERT_FCPROJB, BERT_LN2W, BERT_LN2B,
    BERT_POOLW, BERT_POOLB, BERT_CLSW, BERT_CLSB,
    BERT_NUM_PARAM_TENSORS
};

typedef struct bert_params {
    float *wte;     /* (V, C)     word embeddings */
    float *wpe;     /* (P, C)     position embeddings */
    float *wtt;     /* (TT, C)    token type embeddings */
    float *emb_lnw; /* (C)        embeddings LayerNorm weight */
    float *emb_lnb; /* (C)        embeddings LayerNorm bias */
    float *qkvw;    /* (L, 3C, C) self-attention query|key|value weights */
    float *qkvb;    /* (L, 3C)    self-attention query|key|value biases */
    float *attn_outw; /* (L, C, C) attention output dense weight */
    float *attn_outb; /* (L, C)    attention output dense bias */
    float *ln1w;    /* (L, C)     attention output LayerNorm weight */
    float *ln1b;    /* (L, C)     attention output LayerNorm bias */
    float *fcw;     /* (L, F, C)  intermediate dense weight */
    float *fcb;     /* (L, F)     intermediate dense bias */
    float *fc_outw; /* (L, C, F)  output dense weight */
    float *fc_outb; /* (L, C)     output dense bias */
    float *ln2w;    /* (L, C)     output LayerNorm weight */
    float *ln2b;    /* (L, C)     output LayerNorm bias */
    float *poolw;   /* (C, C)     pooler dense weight (DistilBERT: pre_classifier); empty (0
                                  floats) for heads without a pooler (heads.h) */
    float *poolb;   /* (C)        pooler dense bias (DistilBERT: pre_classifier); likewise */
    float *clsw;    /* (NL, C)    the head's output layer: classifier (qa_outputs for QA, NL = 2) */
    float *clsb;    /* (NL)       its bias */
} bert_params;

/* Element counts of the BERT_NUM_PARAM_TENSORS tensors, in the enum's order. */
void bert_param_sizes(size_t sizes[BERT_NUM_PARAM_TENSORS], const bert_config *cfg);

/* Total number of floats in the parameter block. */
size_t bert_num_params(const bert_config *cfg);

/* Points each field of p into memory (bert_num_params(cfg) floats), in the
 * enum's order. */
void bert_params_point(bert_params *p, float *memory, const bert_config *cfg);

/* The i-th tensor of p as an array (i in the enum above). */
float *bert_param_tensor(const bert_params *p, int i);

/* ---- Forward / backward: owned by the model module (bert.c). ---- */

/* A bert_model runs the encoder, pooler and classifier over a padded batch.
 * It points at a parameter block it does not own (e.g. hf_model.params) and
 * owns one activation arena sized at build time for at most Bmax sequences of
 * at most Tmax tokens, plus, when built for training, the gradients (one
 * allocation, the parameters' layout) and every layer's activations. Nothing
 * is allocated after bert_model_build.
 *
 *     bert_model m;
 *     if (bert_model_build(&m, &hf.cfg, hf.params_memory, 32, 128, 1, &err)) ...
 *     bert_zero_grad(&m);
 *     bert_forward(&m, ids, types, mask, B, T, &rng, NULL, NULL, &err);  // rng: dropout on
 *     float loss;
 *     bert_backward(&m, labels, NULL, &loss, &err);    // grads += dloss/dparams
 *     ... optimizer over m.grads_memory / hf.params_memory (m.num_params floats) ...
 *     bert_forward(&m, ids, NULL, mask, B, T, NULL, NULL, NULL, &err);  // eval
 *     ... m.probs[b * NL + i] ...
 *     bert_model_free(&m);
 *
 * Numerics: fp32 throughout; exact-erf GELU, LayerNorm eps from the config, the
 * attention mask added as torch.finfo(float32).min as transformers' eager
 * attention does (docs/numerics.md). The fast path (default) and the reference
 * path (ops = &bert_ops_ref) give the same results within the tolerances there;
 * each is bit-for-bit repeatable for the same inputs and thread count.
 */
#include <stdint.h>
#include "rng.h"

/* Precisions of the encoder's dense layers. AUTO is resolved before a model
 * runs (bert_precision_resolve, ops_bf16.h): bf16 where the CPU has
 * AVX512-BF16, else fp32. */
enum { BERT_PREC_AUTO = -1, BERT_PREC_FP32 = 0, BERT_PREC_BF16 = 1, BERT_PREC_INT8 = 2 };

typedef struct bert_model {
    bert_config cfg;        /* the dimensions (a copy; id2label is NULL, not owned) */
    bert_params params;     /* slices of the caller's parameter block (not owned) */
    size_t num_params;      /* floats in the parameter block and in grads_memory */
    int Bmax, Tmax;         /* the largest batch the arena holds */
    int training;           /* 1: built with gradients (and the activations the backward needs) */
    int recompute;          /* built as BERT_TRAIN_RECOMPUTE: keeps each layer's input (and its
                               hidden-state dropout masks) only and recomputes the layer's
                               activations in the backward, the attention dropout mask redrawn
                               from the rng state the forward drew it from (att_seed) */
    const struct bert_ops *ops; /* NULL: the production kernels (ops_cpu, or bf16 by precision);
                               tests set &bert_ops_ref (ops_ref.h) to run on the reference */
    int precision;          /* BERT_PREC_FP32 (0), or BERT_PREC_BF16: the encoder's dense layers
                               multiply bf16-rounded operands (ops_bf16.h; the caller checks
                               bert_bf16_available() first), or BERT_PREC_INT8 (inference only:
                               ops_int8.h; set it with bert_set_precision); ignored when ops is set */
    int nthreads;           /* OpenMP threads the attention scratch was sized for */
    struct bf16_state *bf16; /* owned (precision bf16): oneDNN primitives, scratch and, for
                               inference, the weights' rounded copies (ops_bf16.h); made by the
                               first bf16 forward, freed by bert_model_free */
    float *grads_memory;    /* num_params floats, params' layout (training only, else NULL) */
    bert_params grads;      /* slices of grads_memory */
    size_t arena_bytes;     /* activation arena size (bytes), for reporting */
    /* Called by the backward as it finishes the gradients of one part of the
     * model, in this order: the head (part = L), layer l (part = l, from L-1
     * down to 0), the embeddings (part = -1). NULL: not called. The trainer
     * starts each part's gradient allreduce here while the backward goes on
     * (dist.h); the callee may read, not write, the finished gradients. */
    void (*grad_ready)(void *ctx, int part);
    void *grad_ready_ctx;
    /* Where a forward and backward spend their time (bert_prof below); NULL
     * (the default): not measured. The caller owns it and zeroes it. */
    struct bert_prof *prof;

    /* Results of the last bert_forward, valid until the next one. Per-sequence
     * heads (text classification) give R = B rows; per-token heads (token
     * classification, question answering) R = B*T rows, row b*T+t for token t. */
    int B, T;               /* its batch size and padded length */
    float *logits;          /* (R,NL); QA: (B,T,2), [..,0] start and [..,1] end logits */
    float *probs;           /* (R,NL) softmax of each row (multi-label: sigmoid of each);
                               QA: the softmax of each token's two logits (not a span score) */
    float *pooled;          /* (B,C)  pooler output on [CLS]: tanh (BERT) or relu (DistilBERT);
                               text classification only */

    /* Private below: arena slices (see bert.c). */
    float *acts_memory;
    uint8_t *keep_memory;
    int *ids, *tts, *mask;  /* (B,T) copies of the last forward's inputs */
    int dropout_on;         /* the last forward drew dropout masks */
    float *emb, *emb_mean, *emb_rstd, *h; /* (B,T,C) pre-LN sum, (B,T) x2, (L+1 or 2, B,T,C) */
    float *qkv, *att, *atty, *res1, *ln1, *ln1_mean, *ln1_rstd; /* per layer (L or 1 copies) */
    float *fch, *fchg, *res2, *ln2_mean, *ln2_rstd;             /* per layer */
    float *proj, *cls_in, *scratch;
    float *cls_h, *tt_zero, *dtt_sink; /* (B,C) [CLS] rows; (C) zero type row, (C) its gradient sink (TT = 0) */
    uint8_t *emb_keep, *att_keep, *res1_keep, *res2_keep, *cls_keep;
    bertc_rng *att_seed;    /* (L) recomputing: the rng state each layer's attention mask came from */
    float *dres, *dtmp, *dln1, *dproj, *dfch, *dfchg, *datty, *dqkv;
    float *dpooled, *dcls_in, *dlogits;
} bert_model;

/* Wall seconds by kind of work, summed over calls while bert_model.prof points
 * here (bench/bench_model prints it: the profile behind a missed speed target).
 * Each kernel call is timed from the calling thread around the whole call (the
 * kernels parallelise inside), so kinds add up to the step. Dense layers
 * include their bias (and GELU, where it is fused into the product); the head
 * includes its pooler, classifier, dropout and loss. */
enum {
    BERT_PROF_EMBED,     /* embedding lookup / scatter-add */
    BERT_PROF_DENSE,     /* the encoder's four products per layer (bf16: with conversions) */
    BERT_PROF_ATTENTION, /* scores, masked softmax, dropout(P), P V, and their backward */
    BERT_PROF_GELU,      /* unfused GELU: the backward's recompute and gradient */
    BERT_PROF_NORM,      /* LayerNorm and residual + LayerNorm */
    BERT_PROF_DROPOUT,   /* mask draws and unfused dropout */
    BERT_PROF_ZERO,      /* zeroing and copying activation gradients */
    BERT_PROF_HEAD,      /* the task head, its loss and its backward */
    BERT_PROF_KINDS
};
enum { BERT_PROF_FORWARD, BERT_PROF_BACKWARD, BERT_PROF_PHASES };
typedef struct bert_prof {
    double sec[BERT_PROF_PHASES][BERT_PROF_KINDS];
    long calls[BERT_PROF_PHASES][BERT_PROF_KINDS];
    int phase; /* set by bert.c: the pass being timed */
} bert_prof;
/* The kinds' names, lower case ("dense", "attention", ...). */
const char *bert_prof_kind_name(int kind);

/* What bert_model_build builds (its training argument). */
enum {
    BERT_INFER = 0,          /* inference: one layer's activations, no gradients */
    BERT_TRAIN = 1,          /* training: gradients and every layer's activations */
    BERT_TRAIN_RECOMPUTE = 2 /* training that keeps only each layer's input and hidden-state
                                dropout masks (attention masks are redrawn from a stored rng state) and
                                recomputes the layer in the backward (transformers'
                                gradient_checkpointing): about one more forward per step for
                                roughly L times fewer activations; gradients are bit-identical */
};

/* Builds a model over the parameter block params_memory (bert_num_params(cfg)
 * floats in the bert_params layout; it must outlive the model) for batches of at
 * most Bmax x Tmax (Tmax <= max_position). training = BERT_TRAIN (1) also
 * allocates the gradients (zeroed) and keeps every layer's activations for
 * bert_backward; BERT_TRAIN_RECOMPUTE (2) allocates the gradients and keeps
 * less (above); BERT_INFER (0) keeps one layer's (inference). On failure m is
 * zeroed and BERTC_ERR_ARG / BERTC_ERR_NOMEM is returned. */
int bert_model_build(bert_model *m, const bert_config *cfg, float *params_memory,
                     int Bmax, int Tmax, int training, bertc_err *err);
/* Frees what build allocated and zeroes m. Harmless on a zeroed model. */
void bert_model_free(bert_model *m);
/* The parameter block was written since the last forward (an optimizer step by
 * another model sharing it): drops what was derived from it (bf16's rounded
 * weights), so the next forward multiplies the new values. */
void bert_model_params_changed(bert_model *m);

/* Sets m->precision and readies it: BERT_PREC_INT8 quantizes the encoder's
 * dense weights now (ops_int8.h), the moment the model is loaded, and is
 * refused for a model built for training. BERTC_ERR_ARG (training int8, an
 * unknown precision) or BERTC_ERR_NOMEM, m->precision unchanged then. */
int bert_set_precision(bert_model *m, int precision, bertc_err *err);

/* Runs the model on a padded batch: input_ids, token_type_ids and attention_mask
 * are row-major (B,T) (B <= Bmax, T <= Tmax); token_type_ids NULL means all 0,
 * attention_mask NULL all 1 (mask values must be 0 or 1). A model without token
 * types (TT = 0, DistilBERT) takes NULL or all-0 token_type_ids and adds no
 * type embedding. Fills m->logits, m->probs and m->pooled.
 * dropout_rng: NULL = eval mode (no dropout); otherwise dropout as in training
 * (embeddings, attention probabilities, both sub-layer outputs, classifier
 * input), masks drawn from it in a fixed order.
 * hidden_states: NULL, or ((L+1),B,T,C) to receive every layer's output (index
 * 0 = the embeddings' output), as transformers' output_hidden_states.
 * attentions: NULL, or (L,B,NH,T,T) to receive every layer's attention
 * probabilities (before dropout), as transformers' output_attentions.
 * Returns BERTC_ERR_ARG (ids, types, mask or sizes out of range) or BERTC_OK. */
int bert_forward(bert_model *m, const int *input_ids, const int *token_type_ids,
                 const int *attention_mask, int B, int T, bertc_rng *dropout_rng,
                 float *hidden_states, float *attentions, bertc_err *err);

/* The classification loss of the last forward: cross-entropy averaged over the
 * batch, with optional class weights (NL of them, >= 0) reduced as PyTorch's
 * weighted mean sum(w[y] l) / sum(w[y]). labels: (B) in [0,NL). */
int bert_loss(const bert_model *m, const int *labels, const float *class_weights,
              float *loss, bertc_err *err);

/* Computes the loss of the last forward (as bert_loss) into *loss (may be NULL)
 * and *adds* its gradient with respect to every parameter to m->grads_memory.
 * Needs a model built for training; uses the dropout masks of that forward.
 * Refused for a multi-label model (use bert_backward_multilabel). */
int bert_backward(bert_model *m, const int *labels, const float *class_weights,
                  float *loss, bertc_err *err);

/* Multi-label loss of the last forward: binary cross-entropy with logits, the
 * mean over all B x NL elements as PyTorch's BCEWithLogitsLoss() (what
 * BertForSequenceClassification uses for problem_type
 * "multi_label_classification"):
 *     l = max(x, 0) - x y + log(1 + exp(-|x|)),  x = logit, y = target.
 * targets: (B,NL) floats in [0,1] (1 = the example has label i). */
int bert_loss_multilabel(const bert_model *m, const float *targets, float *loss, bertc_err *err);

/* As bert_backward for the multi-label loss: dlogits = (sigmoid(x) - y) / (B NL),
 * then the same backward through the head and the encoder. Works on either
 * problem_type (the loss is computed from the logits). */
int bert_backward_multilabel(bert_model *m, const float *targets, float *loss, bertc_err *err);

/* The backward for a loss computed by the caller (e.g. over logits pooled across
 * a long text's windows, longtext.h): dlogits (B,NL) = dloss/dlogits of the last
 * forward; *adds* dloss/dparams to m->grads_memory. */
int bert_backward_dlogits(bert_model *m, const float *dlogits, bertc_err *err);

/* What a head's loss is taken against (heads.h): fill the fields of the
 * model's task, leave the others NULL. */
typedef struct bert_targets {
    const int *labels;          /* text classification: (B) class ids in [0,NL);
                                   token classification: (B,T) tag ids, -100 = not scored
                                   (special tokens, padding, later sub-words), as PyTorch's
                                   CrossEntropyLoss(ignore_index=-100) */
    const float *multi_hot;     /* text classification, multi-label: (B,NL) targets in [0,1] */
    const float *class_weights; /* text classification, single-label: (NL) or NULL */
    const int *start, *end;     /* question answering: (B) token positions of the answer's
                                   first and last token; clamped to [0,T] and T is not scored,
                                   as BertForQuestionAnswering does */
} bert_targets;

/* The loss of the last forward for the model's head (cfg.task): into *loss
 * (may be NULL). Text classification: bert_loss / bert_loss_multilabel; token
 * classification: mean cross-entropy over the scored tokens; QA: (CE(start) +
 * CE(end)) / 2 over the batch, the softmax taken over all T positions as
 * transformers does (padding included). BERTC_ERR_NUMERIC when it is not finite
 * (e.g. a token batch in which nothing is scored: 0/0, as in PyTorch). */
int bert_head_loss(const bert_model *m, const bert_targets *y, float *loss, bertc_err *err);

/* As bert_head_loss, and *adds* its gradient with respect to every parameter
 * to m->grads_memory (a model built for training; the dropout masks of the last
 * forward). Text classification does what bert_backward or
 * bert_backward_multilabel does, bit for bit. */
int bert_head_backward(bert_model *m, const bert_targets *y, float *loss, bertc_err *err);

/* ---- Memory planning ---- */

/* What a run will hold at its peak, in bytes, computed from the config alone
 * (nothing allocated), for the CLI to print before loading or training:
 *   params    bert_num_params floats (the hf_model parameter block)
 *   grads     the same again (training only)
 *   adam      the two AdamW moments, 2 x params (training only)
 *   arena     bert_model's activation arena for Bmax x Tmax: exactly
 *             bert_model.arena_bytes of the model bert_model_build would make
 *   data      data_bytes as given by the caller (tokenized data: 8 bytes per
 *             token for ids + types, 16 per example, plus the texts)
 *   overhead  a fixed allowance for the process, libraries and thread stacks
 *   total     their sum */
typedef struct bert_memory_plan {
    size_t params, grads, adam, arena, data, overhead, total;
} bert_memory_plan;

#define BERT_MEMORY_OVERHEAD ((size_t)64 << 20)

/* Fills *plan; BERTC_ERR_ARG on a bad config or sizes, BERTC_ERR_NOMEM when the
 * sizes overflow size_t. training takes bert_model_build's values; BERT_INFER (0)
 * plans inference (params + arena). */
int bert_memory_estimate(bert_memory_plan *plan, const bert_config *cfg, int Bmax, int Tmax, int training,
                         size_t data_bytes, bertc_err *err);

/* Sets every gradient to 0 (no-op for an inference model). */
void bert_zero_grad(bert_model *m);


#endif /* BERTC_BERT_H */
