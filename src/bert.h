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

typedef struct bert_config {
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
    float classifier_dropout; /* classifier_dropout, or hidden_dropout when null */
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
    float *lnew;    /* (C)        embeddings LayerNorm weight */
    float *lneb;    /* (C)        embeddings LayerNorm bias */
    float *qkvw;    /* (L, 3C, C) self-attention query|key|value weights */
    float *qkvb;    /* (L, 3C)    self-attention query|key|value biases */
    float *attow;   /* (L, C, C)  attention output dense weight */
    float *attob;   /* (L, C)     attention output dense bias */
    float *ln1w;    /* (L, C)     attention output LayerNorm weight */
    float *ln1b;    /* (L, C)     attention output LayerNorm bias */
    float *fcw;     /* (L, F, C)  intermediate dense weight */
    float *fcb;     /* (L, F)     intermediate dense bias */
    float *fcprojw; /* (L, C, F)  output dense weight */
    float *fcprojb; /* (L, C)     output dense bias */
    float *ln2w;    /* (L, C)     output LayerNorm weight */
    float *ln2b;    /* (L, C)     output LayerNorm bias */
    float *poolw;   /* (C, C)     pooler dense weight */
    float *poolb;   /* (C)        pooler dense bias */
    float *clsw;    /* (NL, C)    classifier weight */
    float *clsb;    /* (NL)       classifier bias */
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

#endif /* BERTC_BERT_H */
