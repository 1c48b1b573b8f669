/* bert_layout.c: the parameter layout and config checks shared by the loader,
 * the model and the optimizer. */
#include "bert.h"
#include "heads.h"

#include <stdlib.h>
#include <string.h>

void bert_config_free(bert_config *cfg) {
    if (!cfg) return;
    if (cfg->id2label) {
        for (int i = 0; i < cfg->num_labels; i++) free(cfg->id2label[i]);
        free(cfg->id2label);
    }
    cfg->id2label = NULL;
}

int bert_config_validate(const bert_config *c, bertc_err *err) {
#define NEED(cond, field, ...) \
    if (!(cond)) return bertc_fail(err, BERTC_ERR_FORMAT, "config.json: " field " " __VA_ARGS__)
    NEED(c->model_type == BERT_ARCH_BERT || c->model_type == BERT_ARCH_DISTILBERT, "model_type",
         "must be \"bert\" or \"distilbert\" (got %d)", c->model_type);
    NEED(c->task >= 0 && c->task < BERT_NUM_TASKS, "architectures", "names no head bertc has (task %d)", c->task);
    NEED(c->task != BERT_TASK_QA || c->num_labels == 2, "num_labels",
         "must be 2 for question answering (start and end; got %d)", c->num_labels);
    NEED(c->task == BERT_TASK_TEXT_CLS || c->problem_type == BERT_PROBLEM_SINGLE_LABEL, "problem_type",
         "multi_label_classification is for text classification only");
    NEED(c->problem_type == BERT_PROBLEM_SINGLE_LABEL || c->problem_type == BERT_PROBLEM_MULTI_LABEL, "problem_type",
         "must be single_label_classification or multi_label_classification (got %d)", c->problem_type);
    NEED(c->model_type != BERT_ARCH_DISTILBERT || c->type_vocab_size == 0, "type_vocab_size",
         "must be 0 for distilbert (got %d)", c->type_vocab_size);
    NEED(c->vocab_size > 0 && c->vocab_size <= 10000000, "vocab_size", "must be in 1..10000000 (got %d)", c->vocab_size);
    NEED(c->hidden_size > 0 && c->hidden_size <= 65536, "hidden_size", "must be in 1..65536 (got %d)", c->hidden_size);
    NEED(c->num_layers > 0 && c->num_layers <= 1024, "num_hidden_layers", "must be in 1..1024 (got %d)", c->num_layers);
    NEED(c->num_heads > 0 && c->num_heads <= c->hidden_size, "num_attention_heads", "must be in 1..hidden_size (got %d)", c->num_heads);
    NEED(c->hidden_size % c->num_heads == 0, "num_attention_heads", "(%d) must divide hidden_size (%d)", c->num_heads, c->hidden_size);
    NEED(c->intermediate_size > 0 && c->intermediate_size <= 1 << 20, "intermediate_size", "must be in 1..1048576 (got %d)", c->intermediate_size);
    NEED(c->max_position > 0 && c->max_position <= 1 << 20, "max_position_embeddings", "must be in 1..1048576 (got %d)", c->max_position);
    NEED(c->type_vocab_size >= 0 && c->type_vocab_size <= 1024, "type_vocab_size", "must be in 0..1024 (got %d)", c->type_vocab_size);
    NEED(c->num_labels > 0 && c->num_labels <= BERT_MAX_LABELS, "num_labels", "must be in 1..%d (got %d)", BERT_MAX_LABELS, c->num_labels);
    NEED(c->layer_norm_eps > 0 && c->layer_norm_eps < 1, "layer_norm_eps", "must be in (0, 1) (got %g)", c->layer_norm_eps);
    NEED(c->hidden_dropout >= 0 && c->hidden_dropout < 1, "hidden_dropout_prob", "must be in [0, 1) (got %g)", c->hidden_dropout);
    NEED(c->attention_dropout >= 0 && c->attention_dropout < 1, "attention_probs_dropout_prob", "must be in [0, 1) (got %g)", c->attention_dropout);
    NEED(c->classifier_dropout >= 0 && c->classifier_dropout < 1, "classifier_dropout", "must be in [0, 1) (got %g)", c->classifier_dropout);
    NEED(c->qa_dropout >= 0 && c->qa_dropout < 1, "qa_dropout", "must be in [0, 1) (got %g)", c->qa_dropout);
#undef NEED
    return BERTC_OK;
}

void bert_param_sizes(size_t s[BERT_NUM_PARAM_TENSORS], const bert_config *cfg) {
    size_t V = cfg->vocab_size, C = cfg->hidden_size, L = cfg->num_layers;
    size_t F = cfg->intermediate_size, P = cfg->max_position, TT = cfg->type_vocab_size;
    size_t NL = cfg->num_labels;
    s[BERT_WTE] = V * C;
    s[BERT_WPE] = P * C;
    s[BERT_WTT] = TT * C;
    s[BERT_LNEW] = C;
    s[BERT_LNEB] = C;
    s[BERT_QKVW] = L * 3 * C * C;
    s[BERT_QKVB] = L * 3 * C;
    s[BERT_ATTOW] = L * C * C;
    s[BERT_ATTOB] = L * C;
    s[BERT_LN1W] = L * C;
    s[BERT_LN1B] = L * C;
    s[BERT_FCW] = L * F * C;
    s[BERT_FCB] = L * F;
    s[BERT_FCPROJW] = L * C * F;
    s[BERT_FCPROJB] = L * C;
    s[BERT_LN2W] = L * C;
    s[BERT_LN2B] = L * C;
    int pooled = bert_head_of(cfg->task)->has_pooler;
    s[BERT_POOLW] = pooled ? C * C : 0;
    s[BERT_POOLB] = pooled ? C : 0;
    s[BERT_CLSW] = NL * C;
    s[BERT_CLSB] = NL;
}

size_t bert_num_params(const bert_config *cfg) {
    size_t s[BERT_NUM_PARAM_TENSORS], n = 0;
    bert_param_sizes(s, cfg);
    for (int i = 0; i < BERT_NUM_PARAM_TENSORS; i++) n += s[i];
    return n;
}

void bert_params_point(bert_params *p, float *memory, const bert_config *cfg) {
    size_t s[BERT_NUM_PARAM_TENSORS];
    bert_param_sizes(s, cfg);
    float **ptrs[BERT_NUM_PARAM_TENSORS] = {
        &p->wte, &p->wpe, &p->wtt, &p->emb_lnw, &p->emb_lnb,
        &p->qkvw, &p->qkvb, &p->attn_outw, &p->attn_outb, &p->ln1w, &p->ln1b,
        &p->fcw, &p->fcb, &p->fc_outw, &p->fc_outb, &p->ln2w, &p->ln2b,
        &p->poolw, &p->poolb, &p->clsw, &p->clsb,
    };
    float *m = memory;
    for (int i = 0; i < BERT_NUM_PARAM_TENSORS; i++) {
        *ptrs[i] = m;
        m += s[i];
    }
}

float *bert_param_tensor(const bert_params *p, int i) {
    float *const t[BERT_NUM_PARAM_TENSORS] = {
        p->wte, p->wpe, p->wtt, p->emb_lnw, p->emb_lnb,
        p->qkvw, p->qkvb, p->attn_outw, p->attn_outb, p->ln1w, p->ln1b,
        p->fcw, p->fcb, p->fc_outw, p->fc_outb, p->ln2w, p->ln2b,
        p->poolw, p->poolb, p->clsw, p->clsb,
    };
    return (i >= 0 && i < BERT_NUM_PARAM_TENSORS) ? t[i] : NULL;
}
