/* hfmodel.c: Hugging Face model folders in and out (see hfmodel.h).
 *
 * Sections: JSON helpers; config.json (one parser per model_type, chosen from a
 * table so "distilbert" can be added beside "bert"); tokenizer_config.json and
 * vocab.txt; tensor names; loading; resolving names; saving. */
#include "hfmodel.h"
#include "heads.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hub.h"
#include "rng.h"
#include "safetensors.h"
#include "tokenizer_json.h"

#define HF_MAX_JSON (16u << 20)    /* config.json / tokenizer_config.json size limit */
#define HF_MAX_VOCAB (256u << 20)  /* vocab.txt size limit */
/* The pooler's new weights come from a second stream so that the classifier head
 * for a given seed is the same whether or not the checkpoint had a pooler. */
#define HF_POOLER_SEED_XOR 0x9E3779B97F4A7C15ULL

void hf_load_opts_default(hf_load_opts *o) {
    o->num_labels = -1;
    o->task = -1;
    o->labels = NULL;
    o->seed = 42;
    o->allow_download = hub_downloads_allowed();
}

/* BertTokenizerFast's defaults (the same as bert_tokenizer_opts_default). */
static void tok_defaults(bert_tokenizer_opts *t) {
    t->do_lower_case = 1;
    t->strip_accents = -1;
    t->tokenize_chinese_chars = 1;
    t->max_input_chars_per_word = 100;
    t->model_max_length = 0;
}

/* ---- JSON helpers ---- */

/* Refuses duplicate keys (bertc_json_duplicate_key says why). */
static int json_check_dups(const cJSON *obj, const char *path, const char *what, bertc_err *err) {
    int nomem = 0;
    const char *dup = bertc_json_duplicate_key(obj, &nomem);
    if (nomem) return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", path);
    if (dup) return bertc_fail(err, BERTC_ERR_FORMAT, "%s: %s: duplicate key \"%s\"", path, what, dup);
    return BERTC_OK;
}

/* Reads path as a JSON object. */
static int json_load(cJSON **out, const char *path, bertc_err *err) {
    cJSON *j = NULL;
    int rc = bertc_json_read(&j, path, HF_MAX_JSON, err);
    *out = NULL;
    if (rc != BERTC_OK) return rc;
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: not a JSON object", path);
    }
    if ((rc = json_check_dups(j, path, "top level", err)) != BERTC_OK) {
        cJSON_Delete(j);
        return rc;
    }
    *out = j;
    return BERTC_OK;
}

static const char *json_type(const cJSON *j) {
    if (cJSON_IsNull(j)) return "null";
    if (cJSON_IsBool(j)) return "a boolean";
    if (cJSON_IsNumber(j)) return "a number";
    if (cJSON_IsString(j)) return "a string";
    if (cJSON_IsArray(j)) return "an array";
    return "an object";
}

/* An integer field. Absent or null: def when !required, else an error. */
static int json_int(const cJSON *root, const char *path, const char *key, int required, int def, int *out,
                    bertc_err *err) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!j || cJSON_IsNull(j)) {
        if (required) return bertc_fail(err, BERTC_ERR_FORMAT, "%s: %s: missing (required)", path, key);
        *out = def;
        return BERTC_OK;
    }
    if (!cJSON_IsNumber(j))
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: %s: expected an integer, got %s", path, key, json_type(j));
    double v = j->valuedouble;
    if (v != floor(v) || v < INT_MIN || v > INT_MAX)
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: %s: expected an integer in the int range, got %g", path,
                          key, v);
    *out = (int)v;
    return BERTC_OK;
}

/* A finite number field; absent gives def. *was_null (if given) is set when the
 * value is JSON null, else null is a type error. */
static int json_float(const cJSON *root, const char *path, const char *key, float def, float *out, int *was_null,
                      bertc_err *err) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);
    if (was_null) *was_null = 0;
    if (!j) { *out = def; return BERTC_OK; }
    if (cJSON_IsNull(j) && was_null) { *was_null = 1; *out = def; return BERTC_OK; }
    if (!cJSON_IsNumber(j) || !isfinite(j->valuedouble))
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: %s: expected a number, got %s", path, key, json_type(j));
    *out = (float)j->valuedouble;
    return BERTC_OK;
}

/* A string field; absent gives def (which may be NULL). */
static int json_str(const cJSON *root, const char *path, const char *key, const char *def, const char **out,
                    bertc_err *err) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!j) { *out = def; return BERTC_OK; }
    if (!cJSON_IsString(j))
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: %s: expected a string, got %s", path, key, json_type(j));
    *out = j->valuestring;
    return BERTC_OK;
}

/* A boolean field; absent gives def; null gives null_val when null_val != -2. */
static int json_bool(const cJSON *root, const char *path, const char *key, int def, int null_val, int *out,
                     bertc_err *err) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!j) { *out = def; return BERTC_OK; }
    if (cJSON_IsNull(j) && null_val != -2) { *out = null_val; return BERTC_OK; }
    if (!cJSON_IsBool(j))
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: %s: expected true or false, got %s", path, key,
                          json_type(j));
    *out = cJSON_IsTrue(j) ? 1 : 0;
    return BERTC_OK;
}

/* ---- config.json ---- */

static char **labels_default(int n) {
    char **l = calloc((size_t)n, sizeof *l);
    if (!l) return NULL;
    for (int i = 0; i < n; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "LABEL_%d", i);
        if (!(l[i] = strdup(buf))) {
            for (int k = 0; k < i; k++) free(l[k]);
            free(l);
            return NULL;
        }
    }
    return l;
}

static void labels_free(char **l, int n) {
    if (!l) return;
    for (int i = 0; i < n; i++) free(l[i]);
    free(l);
}

/* id2label / label2id / num_labels into cfg->num_labels and cfg->id2label, as
 * PretrainedConfig reads them: id2label keys are strings of 0..NL-1; label2id,
 * when present, must agree with it; neither gives NL = num_labels or 2. */
static int parse_labels(bert_config *cfg, const cJSON *root, const char *path, bertc_err *err) {
    const cJSON *i2l = cJSON_GetObjectItemCaseSensitive(root, "id2label");
    const cJSON *l2i = cJSON_GetObjectItemCaseSensitive(root, "label2id");
    if (i2l && cJSON_IsNull(i2l)) i2l = NULL;
    if (l2i && cJSON_IsNull(l2i)) l2i = NULL;
    int nl_key = -1, rc;
    if ((rc = json_int(root, path, "num_labels", 0, -1, &nl_key, err)) != BERTC_OK) return rc;
    if (nl_key != -1 && (nl_key < 1 || nl_key > BERT_MAX_LABELS))
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: num_labels: must be in 1..%d (got %d)", path,
                          BERT_MAX_LABELS, nl_key);
    if (i2l && !cJSON_IsObject(i2l))
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: id2label: expected an object, got %s", path, json_type(i2l));
    if (l2i && !cJSON_IsObject(l2i))
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: label2id: expected an object, got %s", path, json_type(l2i));
    if (i2l && (rc = json_check_dups(i2l, path, "id2label", err)) != BERTC_OK) return rc;
    if (l2i && (rc = json_check_dups(l2i, path, "label2id", err)) != BERTC_OK) return rc;

    const cJSON *src = i2l ? i2l : l2i;
    if (!src) {
        cfg->num_labels = nl_key > 0 ? nl_key : 2;
        cfg->id2label = labels_default(cfg->num_labels);
        return cfg->id2label ? BERTC_OK : bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", path);
    }
    int n = cJSON_GetArraySize(src);
    const char *field = i2l ? "id2label" : "label2id";
    if (n < 1 || n > BERT_MAX_LABELS)
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: %s: has %d labels, expected 1..%d", path, field, n,
                          BERT_MAX_LABELS);
    if (nl_key > 0 && nl_key != n)
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: num_labels: is %d but %s has %d labels", path, nl_key,
                          field, n);
    char **names = calloc((size_t)n, sizeof *names);
    if (!names) return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", path);
    rc = BERTC_OK;
    if (i2l) {
        for (const cJSON *c = i2l->child; c && rc == BERTC_OK; c = c->next) {
            long id;
            if (bertc_parse_long(c->string, 0, n - 1, &id) != 0)
                rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: id2label: key \"%.40s\" is not an integer in 0..%d",
                                path, c->string, n - 1);
            else if (!cJSON_IsString(c))
                rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: id2label: value for %ld is not a string", path, id);
            else if (names[id])
                rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: id2label: id %ld given twice", path, id);
            else if (!(names[id] = strdup(c->valuestring)))
                rc = bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", path);
        }
        /* label2id must map each name back to its id (it may omit duplicated names). */
        for (const cJSON *c = l2i ? l2i->child : NULL; c && rc == BERTC_OK; c = c->next) {
            double v = cJSON_IsNumber(c) ? c->valuedouble : -1;
            if (v != floor(v) || v < 0 || v >= n || strcmp(names[(int)v], c->string) != 0)
                rc = bertc_fail(err, BERTC_ERR_FORMAT,
                                "%s: label2id: \"%.40s\" does not map to its id in id2label", path, c->string);
        }
    } else {
        for (const cJSON *c = l2i->child; c && rc == BERTC_OK; c = c->next) {
            double v = cJSON_IsNumber(c) ? c->valuedouble : -1;
            if (v != floor(v) || v < 0 || v >= n)
                rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: label2id: id of \"%.40s\" is not an integer in 0..%d",
                                path, c->string, n - 1);
            else if (names[(int)v])
                rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: label2id: id %d given twice", path, (int)v);
            else if (!(names[(int)v] = strdup(c->string)))
                rc = bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", path);
        }
    }
    if (rc != BERTC_OK) {
        labels_free(names, n);
        return rc;
    }
    cfg->num_labels = n;
    cfg->id2label = names;
    return BERTC_OK;
}

/* BertConfig. Sizes are required (a folder without them is not a BERT folder we
 * can check); everything else has transformers' BertConfig default. */
static int parse_bert_config(bert_config *c, const cJSON *root, const char *path, bertc_err *err) {
    int rc;
    const char *act = NULL, *pos = NULL;
    if ((rc = json_str(root, path, "hidden_act", "gelu", &act, err)) != BERTC_OK) return rc;
    if (strcmp(act, "gelu") != 0)
        return bertc_fail(err, BERTC_ERR_UNSUPPORTED,
                          "%s: hidden_act: \"%.40s\" is not supported (bertc runs BERT's exact erf \"gelu\")", path,
                          act);
    if ((rc = json_str(root, path, "position_embedding_type", "absolute", &pos, err)) != BERTC_OK) return rc;
    if (strcmp(pos, "absolute") != 0)
        return bertc_fail(err, BERTC_ERR_UNSUPPORTED,
                          "%s: position_embedding_type: \"%.40s\" is not supported (only \"absolute\")", path, pos);
    int is_decoder = 0, add_cross = 0;
    if ((rc = json_bool(root, path, "is_decoder", 0, -2, &is_decoder, err)) != BERTC_OK) return rc;
    if ((rc = json_bool(root, path, "add_cross_attention", 0, -2, &add_cross, err)) != BERTC_OK) return rc;
    if (is_decoder || add_cross)
        return bertc_fail(err, BERTC_ERR_UNSUPPORTED, "%s: %s: decoder BERT models are not supported", path,
                          is_decoder ? "is_decoder" : "add_cross_attention");
    if ((rc = json_int(root, path, "vocab_size", 1, 0, &c->vocab_size, err)) ||
        (rc = json_int(root, path, "hidden_size", 1, 0, &c->hidden_size, err)) ||
        (rc = json_int(root, path, "num_hidden_layers", 1, 0, &c->num_layers, err)) ||
        (rc = json_int(root, path, "num_attention_heads", 1, 0, &c->num_heads, err)) ||
        (rc = json_int(root, path, "intermediate_size", 1, 0, &c->intermediate_size, err)) ||
        (rc = json_int(root, path, "max_position_embeddings", 1, 0, &c->max_position, err)) ||
        (rc = json_int(root, path, "type_vocab_size", 0, 2, &c->type_vocab_size, err)) ||
        (rc = json_int(root, path, "pad_token_id", 0, 0, &c->pad_token_id, err)) ||
        (rc = json_float(root, path, "layer_norm_eps", 1e-12f, &c->layer_norm_eps, NULL, err)) ||
        (rc = json_float(root, path, "hidden_dropout_prob", 0.1f, &c->hidden_dropout, NULL, err)) ||
        (rc = json_float(root, path, "attention_probs_dropout_prob", 0.1f, &c->attention_dropout, NULL, err)) ||
        (rc = json_float(root, path, "initializer_range", 0.02f, &c->initializer_range, NULL, err)))
        return rc;
    int cd_null = 0;
    if ((rc = json_float(root, path, "classifier_dropout", c->hidden_dropout, &c->classifier_dropout, &cd_null,
                         err)) != BERTC_OK)
        return rc;
    if (!(c->initializer_range >= 0 && c->initializer_range < 10))
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: initializer_range: must be in [0, 10) (got %g)", path,
                          c->initializer_range);
    return BERTC_OK;
}

/* DistilBertConfig: its own field names (dim, n_layers, n_heads, hidden_dim,
 * dropout, attention_dropout, seq_classif_dropout); no token types; LayerNorm
 * eps is fixed at 1e-12 in transformers' code, not in config.json. */
static int parse_distilbert_config(bert_config *c, const cJSON *root, const char *path, bertc_err *err) {
    int rc, sinus = 0;
    const char *act = NULL;
    if ((rc = json_str(root, path, "activation", "gelu", &act, err)) != BERTC_OK) return rc;
    if (strcmp(act, "gelu") != 0)
        return bertc_fail(err, BERTC_ERR_UNSUPPORTED,
                          "%s: activation: \"%.40s\" is not supported (bertc runs the exact erf \"gelu\")", path, act);
    if ((rc = json_bool(root, path, "sinusoidal_pos_embds", 0, -2, &sinus, err)) != BERTC_OK) return rc;
    if (sinus)
        return bertc_fail(err, BERTC_ERR_UNSUPPORTED,
                          "%s: sinusoidal_pos_embds: true is not supported (bertc trains position embeddings; "
                          "transformers keeps sinusoidal ones frozen)", path);
    c->model_type = BERT_ARCH_DISTILBERT;
    c->type_vocab_size = 0;
    c->layer_norm_eps = 1e-12f;
    if ((rc = json_int(root, path, "vocab_size", 1, 0, &c->vocab_size, err)) ||
        (rc = json_int(root, path, "dim", 1, 0, &c->hidden_size, err)) ||
        (rc = json_int(root, path, "n_layers", 1, 0, &c->num_layers, err)) ||
        (rc = json_int(root, path, "n_heads", 1, 0, &c->num_heads, err)) ||
        (rc = json_int(root, path, "hidden_dim", 1, 0, &c->intermediate_size, err)) ||
        (rc = json_int(root, path, "max_position_embeddings", 1, 0, &c->max_position, err)) ||
        (rc = json_int(root, path, "pad_token_id", 0, 0, &c->pad_token_id, err)) ||
        (rc = json_float(root, path, "dropout", 0.1f, &c->hidden_dropout, NULL, err)) ||
        (rc = json_float(root, path, "attention_dropout", 0.1f, &c->attention_dropout, NULL, err)) ||
        (rc = json_float(root, path, "seq_classif_dropout", 0.2f, &c->classifier_dropout, NULL, err)) ||
        (rc = json_float(root, path, "qa_dropout", 0.1f, &c->qa_dropout, NULL, err)) ||
        (rc = json_float(root, path, "initializer_range", 0.02f, &c->initializer_range, NULL, err)))
        return rc;
    if (!(c->initializer_range >= 0 && c->initializer_range < 10))
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: initializer_range: must be in [0, 10) (got %g)", path,
                          c->initializer_range);
    return BERTC_OK;
}

/* problem_type: null/absent or "single_label_classification" -> single label;
 * "multi_label_classification" -> multi-label; "regression" is not supported. */
static int parse_problem_type(bert_config *c, const cJSON *root, const char *path, bertc_err *err) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, "problem_type");
    c->problem_type = BERT_PROBLEM_SINGLE_LABEL;
    if (!j || cJSON_IsNull(j)) return BERTC_OK;
    if (!cJSON_IsString(j))
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: problem_type: expected a string or null, got %s", path,
                          json_type(j));
    if (strcmp(j->valuestring, "single_label_classification") == 0) return BERTC_OK;
    if (strcmp(j->valuestring, "multi_label_classification") == 0) {
        c->problem_type = BERT_PROBLEM_MULTI_LABEL;
        return BERTC_OK;
    }
    return bertc_fail(err, BERTC_ERR_UNSUPPORTED,
                      "%s: problem_type: \"%.40s\" is not supported (single_label_classification or "
                      "multi_label_classification)", path, j->valuestring);
}

/* ---- Tensor names ---- */

enum { HF_ENCODER = 0, HF_POOLER = 1, HF_CLASSIFIER = 2 };

/* One checkpoint tensor and where it lands in bert_params. */
typedef struct hf_tensor_map {
    int param;          /* BERT_* */
    int layered;        /* 1: one per layer ("%d" in name) */
    int nparts, part;   /* stacked tensors (Q|K|V): nparts slices, this is slot part */
    int group;          /* HF_ENCODER (required), HF_POOLER, HF_CLASSIFIER */
    const char *name;   /* under the model prefix (except the classifier) */
    const char *alt;    /* older TF-converted name, or NULL */
    int at_root;        /* 1: beside the base model, never under its prefix (DistilBERT's
                           pre_classifier); the classifier always is */
} hf_tensor_map;

static const hf_tensor_map bert_tensors[] = {
    {BERT_WTE, 0, 1, 0, HF_ENCODER, "embeddings.word_embeddings.weight", NULL, 0},
    {BERT_WPE, 0, 1, 0, HF_ENCODER, "embeddings.position_embeddings.weight", NULL, 0},
    {BERT_WTT, 0, 1, 0, HF_ENCODER, "embeddings.token_type_embeddings.weight", NULL, 0},
    {BERT_LNEW, 0, 1, 0, HF_ENCODER, "embeddings.LayerNorm.weight", "embeddings.LayerNorm.gamma", 0},
    {BERT_LNEB, 0, 1, 0, HF_ENCODER, "embeddings.LayerNorm.bias", "embeddings.LayerNorm.beta", 0},
    {BERT_QKVW, 1, 3, 0, HF_ENCODER, "encoder.layer.%d.attention.self.query.weight", NULL, 0},
    {BERT_QKVW, 1, 3, 1, HF_ENCODER, "encoder.layer.%d.attention.self.key.weight", NULL, 0},
    {BERT_QKVW, 1, 3, 2, HF_ENCODER, "encoder.layer.%d.attention.self.value.weight", NULL, 0},
    {BERT_QKVB, 1, 3, 0, HF_ENCODER, "encoder.layer.%d.attention.self.query.bias", NULL, 0},
    {BERT_QKVB, 1, 3, 1, HF_ENCODER, "encoder.layer.%d.attention.self.key.bias", NULL, 0},
    {BERT_QKVB, 1, 3, 2, HF_ENCODER, "encoder.layer.%d.attention.self.value.bias", NULL, 0},
    {BERT_ATTOW, 1, 1, 0, HF_ENCODER, "encoder.layer.%d.attention.output.dense.weight", NULL, 0},
    {BERT_ATTOB, 1, 1, 0, HF_ENCODER, "encoder.layer.%d.attention.output.dense.bias", NULL, 0},
    {BERT_LN1W, 1, 1, 0, HF_ENCODER, "encoder.layer.%d.attention.output.LayerNorm.weight",
     "encoder.layer.%d.attention.output.LayerNorm.gamma", 0},
    {BERT_LN1B, 1, 1, 0, HF_ENCODER, "encoder.layer.%d.attention.output.LayerNorm.bias",
     "encoder.layer.%d.attention.output.LayerNorm.beta", 0},
    {BERT_FCW, 1, 1, 0, HF_ENCODER, "encoder.layer.%d.intermediate.dense.weight", NULL, 0},
    {BERT_FCB, 1, 1, 0, HF_ENCODER, "encoder.layer.%d.intermediate.dense.bias", NULL, 0},
    {BERT_FCPROJW, 1, 1, 0, HF_ENCODER, "encoder.layer.%d.output.dense.weight", NULL, 0},
    {BERT_FCPROJB, 1, 1, 0, HF_ENCODER, "encoder.layer.%d.output.dense.bias", NULL, 0},
    {BERT_LN2W, 1, 1, 0, HF_ENCODER, "encoder.layer.%d.output.LayerNorm.weight",
     "encoder.layer.%d.output.LayerNorm.gamma", 0},
    {BERT_LN2B, 1, 1, 0, HF_ENCODER, "encoder.layer.%d.output.LayerNorm.bias",
     "encoder.layer.%d.output.LayerNorm.beta", 0},
    {BERT_POOLW, 0, 1, 0, HF_POOLER, "pooler.dense.weight", NULL, 0},
    {BERT_POOLB, 0, 1, 0, HF_POOLER, "pooler.dense.bias", NULL, 0},
    {BERT_CLSW, 0, 1, 0, HF_CLASSIFIER, "classifier.weight", NULL, 0},
    {BERT_CLSB, 0, 1, 0, HF_CLASSIFIER, "classifier.bias", NULL, 0},
};
#define N_BERT_TENSORS ((int)(sizeof bert_tensors / sizeof bert_tensors[0]))

/* DistilBertModel / DistilBertForSequenceClassification ("distilbert." prefix).
 * No token types; pre_classifier plays the pooler (relu instead of tanh, see
 * bert.c) and sits beside "distilbert.", as the classifier does. */
static const hf_tensor_map distilbert_tensors[] = {
    {BERT_WTE, 0, 1, 0, HF_ENCODER, "embeddings.word_embeddings.weight", NULL, 0},
    {BERT_WPE, 0, 1, 0, HF_ENCODER, "embeddings.position_embeddings.weight", NULL, 0},
    {BERT_LNEW, 0, 1, 0, HF_ENCODER, "embeddings.LayerNorm.weight", NULL, 0},
    {BERT_LNEB, 0, 1, 0, HF_ENCODER, "embeddings.LayerNorm.bias", NULL, 0},
    {BERT_QKVW, 1, 3, 0, HF_ENCODER, "transformer.layer.%d.attention.q_lin.weight", NULL, 0},
    {BERT_QKVW, 1, 3, 1, HF_ENCODER, "transformer.layer.%d.attention.k_lin.weight", NULL, 0},
    {BERT_QKVW, 1, 3, 2, HF_ENCODER, "transformer.layer.%d.attention.v_lin.weight", NULL, 0},
    {BERT_QKVB, 1, 3, 0, HF_ENCODER, "transformer.layer.%d.attention.q_lin.bias", NULL, 0},
    {BERT_QKVB, 1, 3, 1, HF_ENCODER, "transformer.layer.%d.attention.k_lin.bias", NULL, 0},
    {BERT_QKVB, 1, 3, 2, HF_ENCODER, "transformer.layer.%d.attention.v_lin.bias", NULL, 0},
    {BERT_ATTOW, 1, 1, 0, HF_ENCODER, "transformer.layer.%d.attention.out_lin.weight", NULL, 0},
    {BERT_ATTOB, 1, 1, 0, HF_ENCODER, "transformer.layer.%d.attention.out_lin.bias", NULL, 0},
    {BERT_LN1W, 1, 1, 0, HF_ENCODER, "transformer.layer.%d.sa_layer_norm.weight", NULL, 0},
    {BERT_LN1B, 1, 1, 0, HF_ENCODER, "transformer.layer.%d.sa_layer_norm.bias", NULL, 0},
    {BERT_FCW, 1, 1, 0, HF_ENCODER, "transformer.layer.%d.ffn.lin1.weight", NULL, 0},
    {BERT_FCB, 1, 1, 0, HF_ENCODER, "transformer.layer.%d.ffn.lin1.bias", NULL, 0},
    {BERT_FCPROJW, 1, 1, 0, HF_ENCODER, "transformer.layer.%d.ffn.lin2.weight", NULL, 0},
    {BERT_FCPROJB, 1, 1, 0, HF_ENCODER, "transformer.layer.%d.ffn.lin2.bias", NULL, 0},
    {BERT_LN2W, 1, 1, 0, HF_ENCODER, "transformer.layer.%d.output_layer_norm.weight", NULL, 0},
    {BERT_LN2B, 1, 1, 0, HF_ENCODER, "transformer.layer.%d.output_layer_norm.bias", NULL, 0},
    {BERT_POOLW, 0, 1, 0, HF_POOLER, "pre_classifier.weight", NULL, 1},
    {BERT_POOLB, 0, 1, 0, HF_POOLER, "pre_classifier.bias", NULL, 1},
    {BERT_CLSW, 0, 1, 0, HF_CLASSIFIER, "classifier.weight", NULL, 0},
    {BERT_CLSB, 0, 1, 0, HF_CLASSIFIER, "classifier.bias", NULL, 0},
};
#define N_DISTILBERT_TENSORS ((int)(sizeof distilbert_tensors / sizeof distilbert_tensors[0]))

/* The shape of one checkpoint tensor (a slice of a bert_params tensor) as
 * config implies it. Returns the rank. */
static int expected_shape(int64_t shape[2], int param, const bert_config *c) {
    int64_t V = c->vocab_size, C = c->hidden_size, F = c->intermediate_size;
    int64_t P = c->max_position, TT = c->type_vocab_size, NL = c->num_labels;
    switch (param) {
    case BERT_WTE: shape[0] = V; shape[1] = C; return 2;
    case BERT_WPE: shape[0] = P; shape[1] = C; return 2;
    case BERT_WTT: shape[0] = TT; shape[1] = C; return 2;
    case BERT_QKVW: case BERT_ATTOW: case BERT_POOLW: shape[0] = C; shape[1] = C; return 2;
    case BERT_FCW: shape[0] = F; shape[1] = C; return 2;
    case BERT_FCB: shape[0] = F; return 1;
    case BERT_FCPROJW: shape[0] = C; shape[1] = F; return 2;
    case BERT_CLSW: shape[0] = NL; shape[1] = C; return 2;
    case BERT_CLSB: shape[0] = NL; return 1;
    default: shape[0] = C; return 1; /* LayerNorms and C-sized biases */
    }
}

/* Where the slice for (map entry, layer) starts in p. */
static float *slice_ptr(const bert_params *p, const hf_tensor_map *t, int layer, size_t slice) {
    return bert_param_tensor(p, t->param) + ((size_t)layer * (size_t)t->nparts + (size_t)t->part) * slice;
}

static void fmt_name(char *out, size_t cap, const char *prefix, const hf_tensor_map *t, const char *pattern,
                     int layer, const bert_head *head) {
    char base[120];
    if (t->layered) snprintf(base, sizeof base, pattern, layer);
    else if (t->group == HF_CLASSIFIER) /* "classifier.weight" -> the head's own name ("qa_outputs.weight") */
        snprintf(base, sizeof base, "%s%s", head->out_tensor, strchr(pattern, '.'));
    else snprintf(base, sizeof base, "%s", pattern);
    /* The classifier sits beside the "bert." module, never under it. */
    if (snprintf(out, cap, "%s%s", (t->group == HF_CLASSIFIER || t->at_root) ? "" : prefix, base) >= (int)cap)
        out[0] = '\0';
}

/* ---- Model types ---- */

typedef struct hf_arch {
    const char *model_type;
    int arch;            /* BERT_ARCH_* (bert_config.model_type) */
    int (*parse_config)(bert_config *cfg, const cJSON *root, const char *path, bertc_err *err);
    const hf_tensor_map *tensors;
    int num_tensors;
    const char *prefix;  /* the base model's prefix in *For* checkpoints */
    const char *encoder; /* the layer stack under the prefix ("encoder.", "transformer.") */
    const char *base_class, *seq_class; /* transformers' class names, for messages and config.json */
} hf_arch;

static const hf_arch hf_archs[] = {
    {"bert", BERT_ARCH_BERT, parse_bert_config, bert_tensors, N_BERT_TENSORS, "bert.", "encoder.", "BertModel",
     "BertForSequenceClassification"},
    {"distilbert", BERT_ARCH_DISTILBERT, parse_distilbert_config, distilbert_tensors, N_DISTILBERT_TENSORS,
     "distilbert.", "transformer.", "DistilBertModel", "DistilBertForSequenceClassification"},
};

static const hf_arch *arch_of(const bert_config *c) {
    for (size_t i = 0; i < sizeof hf_archs / sizeof hf_archs[0]; i++)
        if (hf_archs[i].arch == c->model_type) return &hf_archs[i];
    return &hf_archs[0];
}

/* ---- tokenizer_config.json and vocab.txt ---- */

static int load_tokenizer_config(bert_tokenizer_opts *t, const char *dir, bertc_err *err) {
    char path[PATH_MAX];
    tok_defaults(t);
    if (bertc_path_join(path, sizeof path, dir, "tokenizer_config.json") != 0)
        return bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", dir);
    if (!bertc_is_file(path)) return BERTC_OK;  /* optional */
    cJSON *j = NULL;
    int rc = json_load(&j, path, err);
    if (rc != BERTC_OK) return rc;
    if ((rc = json_bool(j, path, "do_lower_case", 1, -2, &t->do_lower_case, err)) ||
        (rc = json_bool(j, path, "strip_accents", -1, -1, &t->strip_accents, err)) ||
        (rc = json_bool(j, path, "tokenize_chinese_chars", 1, -2, &t->tokenize_chinese_chars, err))) {
        cJSON_Delete(j);
        return rc;
    }
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "model_max_length");
    if (m && !cJSON_IsNull(m)) {
        if (!cJSON_IsNumber(m)) {
            rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: model_max_length: expected a number, got %s", path,
                            json_type(m));
        } else {
            /* transformers writes int(1e30) for "no limit": keep only plausible lengths. */
            double v = m->valuedouble;
            t->model_max_length = (v >= 1 && v <= (1 << 24) && v == floor(v)) ? (int)v : 0;
        }
    }
    cJSON_Delete(j);
    return rc;
}

/* A cheap look at vocab.txt: its token count (lines) and the four special tokens
 * BERT cannot run without. The tokenizer module does the real parsing. */
static int check_vocab(const char *path, int vocab_size, int *ntok, bertc_err *err) {
    if (!bertc_is_file(path))
        return bertc_fail(err, BERTC_ERR_NOTFOUND,
                          "%s: missing: a BERT model folder needs its WordPiece vocabulary vocab.txt", path);
    char *text = NULL;
    size_t len = 0;
    int rc = bertc_read_file(path, HF_MAX_VOCAB, &text, &len, err);
    if (rc != BERTC_OK) return rc;
    static const char *need[4] = {"[CLS]", "[SEP]", "[PAD]", "[UNK]"};
    int have[4] = {0, 0, 0, 0};
    size_t lines = 0;
    for (size_t i = 0; i < len;) {
        size_t e = i;
        while (e < len && text[e] != '\n') e++;
        size_t l = e - i;
        if (l > 0 && text[i + l - 1] == '\r') l--;
        for (int k = 0; k < 4; k++)
            if (l == strlen(need[k]) && memcmp(text + i, need[k], l) == 0) have[k] = 1;
        lines++;
        i = e + 1;
    }
    free(text);
    if (lines == 0) return bertc_fail(err, BERTC_ERR_FORMAT, "%s: empty vocabulary", path);
    if (lines > (size_t)vocab_size)
        return bertc_fail(err, BERTC_ERR_FORMAT,
                          "%s: has %zu tokens but config.json vocab_size is %d: ids past the embedding matrix "
                          "(use the vocab.txt that came with the model)",
                          path, lines, vocab_size);
    for (int k = 0; k < 4; k++)
        if (!have[k])
            return bertc_fail(err, BERTC_ERR_FORMAT, "%s: special token %s is not in the vocabulary", path,
                              need[k]);
    *ntok = (int)lines;
    return BERTC_OK;
}

/* transformers 5.24 rebuilds a BertTokenizer's normaliser from tokenizer_config.json
 * (its defaults where a key is absent) and takes only the vocabulary from
 * tokenizer.json; a generic tokenizer_class (PreTrainedTokenizerFast,
 * TokenizersBackend) uses tokenizer.json as it is. 1 for the generic case. */
static int tokenizer_json_options(const char *dir) {
    char path[PATH_MAX];
    cJSON *j = NULL;
    bertc_err ignored = {0};
    if (bertc_path_join(path, sizeof path, dir, "tokenizer_config.json") != 0 || !bertc_is_file(path) ||
        json_load(&j, path, &ignored) != BERTC_OK)
        return 0;
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "tokenizer_class");
    int generic = cJSON_IsString(c) && (strcmp(c->valuestring, "PreTrainedTokenizerFast") == 0 ||
                                        strcmp(c->valuestring, "TokenizersBackend") == 0);
    cJSON_Delete(j);
    return generic;
}

int hf_vocab_path(char *out, size_t cap, const char *dir, bertc_err *err) {
    if (bertc_path_join(out, cap, dir, "tokenizer.json") != 0) return bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", dir);
    if (bertc_is_file(out)) return BERTC_OK;  /* tokenizer.json wins, as in AutoTokenizer */
    if (bertc_path_join(out, cap, dir, "vocab.txt") != 0) return bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", dir);
    if (!bertc_is_file(out))
        return bertc_fail(err, BERTC_ERR_NOTFOUND,
                          "%s: missing, and no tokenizer.json: a BERT model folder needs its WordPiece vocabulary", out);
    return BERTC_OK;
}

static int is_tokenizer_json(const char *path) {
    size_t n = strlen(path);
    return n >= 14 && strcmp(path + n - 14, "tokenizer.json") == 0;
}

/* Loads the tokenizer at vocab_path (tokenizer.json or vocab.txt) of folder dir;
 * *o comes in with tokenizer_config.json's options and leaves with those in force. */
static int load_vocab_file(bert_tokenizer **out, bert_tokenizer_opts *o, const char *vocab_path, const char *dir,
                           bertc_err *err) {
    if (is_tokenizer_json(vocab_path))
        return bert_tokenizer_json_load(out, o, vocab_path, tokenizer_json_options(dir), err);
    return bert_tokenizer_load(out, vocab_path, o, err);
}

/* hf_model_load's look at tokenizer.json: it parses and checks (a vocabulary
 * with the four required specials, no larger than the embedding matrix) and
 * gives m->tok the options in force. */
static int check_tokenizer_json(hf_model *m, const char *dir, int *ntok, bertc_err *err) {
    bert_tokenizer *t = NULL;
    int rc = load_vocab_file(&t, &m->tok, m->vocab_path, dir, err);
    if (rc != BERTC_OK) return rc;
    *ntok = bert_tokenizer_vocab_size(t);
    bert_tokenizer_free(t);
    if (*ntok > m->cfg.vocab_size)
        return bertc_fail(err, BERTC_ERR_FORMAT,
                          "%s: has %d tokens but config.json vocab_size is %d: ids past the embedding matrix "
                          "(use the tokenizer.json that came with the model)",
                          m->vocab_path, *ntok, m->cfg.vocab_size);
    return BERTC_OK;
}

int hf_model_tokenizer(bert_tokenizer **out, const hf_model *m, bertc_err *err) {
    if (!m->vocab_path) return bertc_fail(err, BERTC_ERR_ARG, "model has no vocabulary (not loaded)");
    bert_tokenizer_opts o = m->tok;
    return load_vocab_file(out, &o, m->vocab_path, m->dir ? m->dir : ".", err);
}

/* ---- Loading ---- */

/* config.json's architectures: the head a folder was trained with, as
 * transformers' class names say it (BertForTokenClassification, ...): its
 * task into *task, or -1 when no entry names a head (BertModel,
 * BertForPreTraining, BertForMaskedLM, none). A head class of the other model
 * type (DistilBertFor... in a "bert" config) is an error. */
static int parse_architectures(int *task, const cJSON *root, const char *path, int model_type, bertc_err *err) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "architectures");
    *task = -1;
    if (!a || cJSON_IsNull(a)) return BERTC_OK;
    if (!cJSON_IsArray(a))
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: architectures: expected a list of class names, got %s", path,
                          json_type(a));
    for (const cJSON *e = a->child; e; e = e->next) {
        if (!cJSON_IsString(e))
            return bertc_fail(err, BERTC_ERR_FORMAT, "%s: architectures: expected strings, got %s", path, json_type(e));
        int mt = -1;
        const bert_head *h = bert_head_by_class(e->valuestring, &mt);
        if (!h) continue;
        if (mt != model_type)
            return bertc_fail(err, BERTC_ERR_FORMAT, "%s: architectures: %.60s does not match model_type \"%s\"", path,
                              e->valuestring, model_type == BERT_ARCH_DISTILBERT ? "distilbert" : "bert");
        *task = h->task;
        return BERTC_OK;
    }
    return BERTC_OK;
}

static int load_config(hf_model *m, const hf_arch **arch, const char *dir, const hf_load_opts *opts, bertc_err *err) {
    char path[PATH_MAX];
    if (bertc_path_join(path, sizeof path, dir, "config.json") != 0)
        return bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", dir);
    if (!bertc_is_file(path))
        return bertc_fail(err, BERTC_ERR_NOTFOUND, "%s: missing: not a Hugging Face model folder", path);
    cJSON *j = NULL;
    int rc = json_load(&j, path, err);
    if (rc != BERTC_OK) return rc;
    const char *mt = NULL;
    if ((rc = json_str(j, path, "model_type", NULL, &mt, err)) != BERTC_OK) goto done;
    if (!mt) {
        rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: model_type: missing (expected \"bert\" or \"distilbert\")", path);
        goto done;
    }
    *arch = NULL;
    for (size_t i = 0; i < sizeof hf_archs / sizeof hf_archs[0]; i++)
        if (strcmp(mt, hf_archs[i].model_type) == 0) *arch = &hf_archs[i];
    if (!*arch) {
        rc = bertc_fail(err, BERTC_ERR_UNSUPPORTED, "%s: model_type: \"%.40s\" is not supported (bertc runs \"bert\" and \"distilbert\")",
                        path, mt);
        goto done;
    }
    if ((rc = (*arch)->parse_config(&m->cfg, j, path, err)) != BERTC_OK) goto done;
    if ((rc = parse_problem_type(&m->cfg, j, path, err)) != BERTC_OK) goto done;
    if ((rc = parse_labels(&m->cfg, j, path, err)) != BERTC_OK) goto done;
    if ((rc = parse_architectures(&m->folder_task, j, path, m->cfg.model_type, err)) != BERTC_OK) goto done;
    /* the head to run: the caller's (--task), else the folder's, else text classification */
    m->cfg.task = opts->task >= 0 ? opts->task : m->folder_task >= 0 ? m->folder_task : BERT_TASK_TEXT_CLS;
    const bert_head *head = bert_head_of(m->cfg.task);
    if (m->cfg.task != BERT_TASK_TEXT_CLS && m->cfg.problem_type != BERT_PROBLEM_SINGLE_LABEL) {
        if (m->folder_task == m->cfg.task) {
            rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: problem_type: multi_label_classification with a %s head", path,
                            head->name);
            goto done;
        }
        m->cfg.problem_type = BERT_PROBLEM_SINGLE_LABEL; /* the other task's setting, not this head's */
    }
    if (head->fixed_labels && m->cfg.num_labels != head->fixed_labels) {
        /* QA's two outputs (start, end) are not labels a config could change */
        char **two = labels_default(head->fixed_labels);
        if (!two) { rc = bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", path); goto done; }
        labels_free(m->cfg.id2label, m->cfg.num_labels);
        m->cfg.id2label = two;
        m->cfg.num_labels = head->fixed_labels;
    }
    if ((rc = bert_config_validate(&m->cfg, err)) != BERTC_OK) bertc_err_prefix(err, "%s", dir);
done:
    cJSON_Delete(j);
    return rc;
}

/* Finds tensor pattern (or its alt) for layer; NULL when absent. */
static const st_tensor *find_mapped(const st_file *f, const char *prefix, const hf_tensor_map *t, int layer,
                                    char *name, size_t cap, const bert_head *head) {
    fmt_name(name, cap, prefix, t, t->name, layer, head);
    const st_tensor *s = st_find(f, name);
    if (!s && t->alt) {
        char alt[300];
        fmt_name(alt, sizeof alt, prefix, t, t->alt, layer, head);
        s = st_find(f, alt);
        if (s) snprintf(name, cap, "%s", alt);
    }
    return s;
}

static int check_shape(const st_file *f, const st_tensor *s, const int64_t *want, int rank, const char *why,
                       bertc_err *err) {
    int ok = s->rank == rank;
    for (int i = 0; ok && i < rank; i++) ok = s->shape[i] == want[i];
    if (ok) return BERTC_OK;
    char got[200], exp[200];
    bertc_shape_str(got, sizeof got, s->shape, s->rank);
    bertc_shape_str(exp, sizeof exp, want, rank);
    return bertc_fail(err, BERTC_ERR_FORMAT, "%s: tensor %s: shape %s in the file, config.json implies %s%s",
                      st_path(f), s->name, got, exp, why);
}

static int init_normal(float *w, size_t n, float std, uint64_t seed) {
    bertc_rng r;
    bertc_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) w[i] = std * bertc_rng_normal(&r);
    return BERTC_OK;
}

/* Maps the checkpoint in f onto m->params. m->cfg is set, num_labels still the
 * config's. */
static int load_tensors(hf_model *m, const st_file *f, const hf_arch *arch, const hf_load_opts *opts,
                        char *summary, size_t cap, bertc_err *err) {
    bert_config *cfg = &m->cfg;
    const char *path = st_path(f);
    int n_file = st_num_tensors(f);
    unsigned char *used = calloc((size_t)n_file + 1, 1);
    if (!used) return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", path);
    const st_tensor *first = st_tensor_at(f, 0);
    int rc = BERTC_OK;
    char name[300];

    /* The base model's prefix: BertModel has none, *For* models use "bert.". */
    const char *prefix = "";
    char probe[300];
    snprintf(probe, sizeof probe, "%s%s", arch->prefix, arch->tensors[0].name);
    if (st_find(f, probe)) prefix = arch->prefix;

    /* The head of cfg->task names the output layer and says whether a pooler
     * belongs to it; a head trained for another task (architectures) is not
     * this one's. */
    const bert_head *head = bert_head_of(cfg->task);
    char wname[64], bname[64];
    snprintf(wname, sizeof wname, "%s.weight", head->out_tensor);
    snprintf(bname, sizeof bname, "%s.bias", head->out_tensor);
    int other_task = m->folder_task >= 0 && m->folder_task != cfg->task;

    /* Which optional groups are present (both tensors or neither). */
    int have[3] = {1, 0, 0};
    for (int g = HF_POOLER; g <= HF_CLASSIFIER; g++) {
        if ((g == HF_POOLER && !head->has_pooler) || (g == HF_CLASSIFIER && other_task)) continue;
        int found = 0, total = 0;
        const char *missing = NULL;
        for (int i = 0; i < arch->num_tensors; i++) {
            if (arch->tensors[i].group != g) continue;
            total++;
            if (find_mapped(f, prefix, &arch->tensors[i], 0, name, sizeof name, head)) found++;
            else missing = arch->tensors[i].name;
        }
        if (found && found != total) {
            rc = bertc_fail(err, BERTC_ERR_NOTFOUND, "%s: tensor %s%s is missing (its pair is present)", path,
                            g == HF_CLASSIFIER ? "" : prefix, missing);
            goto done;
        }
        have[g] = found > 0;
    }

    /* The classifier: keep it, or give a new head (no classifier, or the caller
     * asks for another label count, as from_pretrained(ignore_mismatched_sizes)). */
    int want_nl = opts->num_labels;
    int ckpt_nl = -1;
    if (have[HF_CLASSIFIER]) {
        const st_tensor *w = st_find(f, wname);
        if (w->rank == 2 && w->shape[1] == cfg->hidden_size && w->shape[0] >= 1 && w->shape[0] <= BERT_MAX_LABELS)
            ckpt_nl = (int)w->shape[0];
        if (ckpt_nl < 0 || (want_nl < 0 && ckpt_nl != cfg->num_labels)) {
            int64_t exp[2];
            int rank = expected_shape(exp, BERT_CLSW, cfg);
            rc = check_shape(f, w, exp, rank, " (from id2label / num_labels)", err);
            if (rc == BERTC_OK) rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: %s: bad shape", path, wname);
            goto done;
        }
    }
    int final_nl = want_nl > 0 ? want_nl : cfg->num_labels;
    m->new_head = !have[HF_CLASSIFIER] || ckpt_nl != final_nl;
    m->new_pooler = head->has_pooler && !have[HF_POOLER];

    /* Labels: the caller's, else the config's when the count still fits, else LABEL_i. */
    char **labels = NULL;
    if (opts->labels && want_nl > 0) {
        labels = calloc((size_t)final_nl, sizeof *labels);
        for (int i = 0; labels && i < final_nl; i++)
            if (!(labels[i] = strdup(opts->labels[i] ? opts->labels[i] : ""))) {
                labels_free(labels, final_nl);
                labels = NULL;
            }
    } else if (final_nl != cfg->num_labels) {
        labels = labels_default(final_nl);
    }
    if ((opts->labels && want_nl > 0) || final_nl != cfg->num_labels) {
        if (!labels) { rc = bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", path); goto done; }
        labels_free(cfg->id2label, cfg->num_labels);
        cfg->id2label = labels;
        cfg->num_labels = final_nl;
    }

    /* Pass 1: every tensor present with the shape config.json implies, before
     * allocating anything sized by the config. */
    for (int i = 0; i < arch->num_tensors; i++) {
        const hf_tensor_map *t = &arch->tensors[i];
        if (!have[t->group] || (t->group == HF_CLASSIFIER && m->new_head)) continue;
        for (int l = 0; l < (t->layered ? cfg->num_layers : 1); l++) {
            const st_tensor *s = find_mapped(f, prefix, t, l, name, sizeof name, head);
            if (!s) {
                rc = bertc_fail(err, BERTC_ERR_NOTFOUND,
                                "%s: tensor %s is missing (config.json: %d layers; names %s)", path, name,
                                cfg->num_layers, *prefix ? "with the model prefix" : "without a prefix");
                goto done;
            }
            int64_t exp[2];
            int rank = expected_shape(exp, t->param, cfg);
            if ((rc = check_shape(f, s, exp, rank, "", err)) != BERTC_OK) goto done;
            if (s->dtype != ST_F32 && s->dtype != ST_F16 && s->dtype != ST_BF16) {
                rc = bertc_fail(err, BERTC_ERR_UNSUPPORTED,
                                "%s: tensor %s: dtype %s is not supported (F32, F16 or BF16)", path, s->name,
                                st_dtype_name(s->dtype));
                goto done;
            }
            used[s - first] = 1;
        }
    }
    if (have[HF_CLASSIFIER] && m->new_head) {
        used[st_find(f, wname) - first] = 1;
        used[st_find(f, bname) - first] = 1;
    }
    /* A tensor of the encoder that we would not use means the config and the
     * checkpoint disagree (more layers, or another attention): refuse. */
    int ignored = 0;
    char enc[300];
    snprintf(enc, sizeof enc, "%s%s", prefix, arch->encoder);
    for (int i = 0; i < n_file; i++) {
        if (used[i]) continue;
        const char *nm = st_tensor_at(f, i)->name;
        if (strncmp(nm, enc, strlen(enc)) == 0) {
            rc = bertc_fail(err, BERTC_ERR_FORMAT,
                            "%s: tensor %s is not part of the encoder config.json describes "
                            "(%s = %d)",
                            path, nm, arch->arch == BERT_ARCH_DISTILBERT ? "n_layers" : "num_hidden_layers",
                            cfg->num_layers);
            goto done;
        }
        ignored++;
    }

    /* Pass 2: allocate and convert. */
    m->num_params = bert_num_params(cfg);
    size_t bytes;
    if (bertc_mul_size(m->num_params, sizeof(float), &bytes) != 0 || !(m->params_memory = calloc(1, bytes))) {
        rc = bertc_fail(err, BERTC_ERR_NOMEM, "%s: cannot allocate %zu parameters", path, m->num_params);
        goto done;
    }
    bert_params_point(&m->params, m->params_memory, cfg);
    int src_dtype = -1;
    for (int i = 0; i < arch->num_tensors; i++) {
        const hf_tensor_map *t = &arch->tensors[i];
        if (!have[t->group] || (t->group == HF_CLASSIFIER && m->new_head)) continue;
        int64_t exp[2];
        int rank = expected_shape(exp, t->param, cfg);
        size_t slice = (size_t)exp[0] * (rank == 2 ? (size_t)exp[1] : 1);
        for (int l = 0; l < (t->layered ? cfg->num_layers : 1); l++) {
            const st_tensor *s = find_mapped(f, prefix, t, l, name, sizeof name, head);
            if ((rc = st_tensor_to_f32(slice_ptr(&m->params, t, l, slice), slice, f, s, err)) != BERTC_OK)
                goto done;
            if (src_dtype == -1) src_dtype = s->dtype;
            else if (src_dtype != s->dtype) src_dtype = -2;
        }
    }
    snprintf(m->source_dtype, sizeof m->source_dtype, "%s", src_dtype == -2 ? "mixed" : st_dtype_name(src_dtype));

    /* New weights as transformers' _init_weights: normal(0, initializer_range), zero bias. */
    size_t C = (size_t)cfg->hidden_size;
    if (m->new_pooler) init_normal(m->params.poolw, C * C, cfg->initializer_range, opts->seed ^ HF_POOLER_SEED_XOR);
    if (m->new_head) init_normal(m->params.clsw, (size_t)cfg->num_labels * C, cfg->initializer_range, opts->seed);

    int k = snprintf(summary, cap, "%d tensors tile %.1f MB exactly, %s, shapes match config.json (%s names%s)",
                     n_file, (double)st_data_len(f) / 1e6, m->source_dtype,
                     *prefix ? head->arch_class[arch->arch] : arch->base_class,
                     ignored ? ", buffers/pre-training heads ignored" : "");
    if (m->new_pooler && k > 0 && (size_t)k < cap)
        k += snprintf(summary + k, cap - (size_t)k, "; new pooler (seed %llu)", (unsigned long long)opts->seed);
    if (m->new_head && k > 0 && (size_t)k < cap)
        snprintf(summary + k, cap - (size_t)k, "; new %d-label %s head (seed %llu)", cfg->num_labels, head->name,
                 (unsigned long long)opts->seed);
done:
    free(used);
    return rc;
}

void hf_model_free(hf_model *m) {
    if (!m) return;
    bert_config_free(&m->cfg);
    free(m->dir);
    free(m->vocab_path);
    free(m->params_memory);
    memset(m, 0, sizeof *m);
}

int hf_model_load(hf_model *m, const char *name_or_path, const hf_load_opts *opts, bertc_err *err) {
    memset(m, 0, sizeof *m);
    hf_load_opts defaults;
    if (!opts) {
        hf_load_opts_default(&defaults);
        opts = &defaults;
    }
    if (opts->num_labels != -1 && (opts->num_labels < 1 || opts->num_labels > BERT_MAX_LABELS))
        return bertc_fail(err, BERTC_ERR_ARG, "num_labels: must be -1 (keep) or 1..%d (got %d)", BERT_MAX_LABELS,
                          opts->num_labels);
    char dir[PATH_MAX], path[PATH_MAX];
    int rc = hf_model_find(name_or_path, opts->allow_download, dir, sizeof dir, err);
    if (rc != BERTC_OK) return rc;
    const hf_arch *arch = NULL;
    st_file *f = NULL;
    int ntok = 0;
    char summary[700] = "";
    if (!(m->dir = strdup(dir))) { rc = bertc_fail(err, BERTC_ERR_NOMEM, "out of memory"); goto fail; }
    if (opts->task < -1 || opts->task >= BERT_NUM_TASKS)
        return bertc_fail(err, BERTC_ERR_ARG, "task: must be -1 (the folder's) or a BERT_TASK_* (got %d)", opts->task);
    if ((rc = load_config(m, &arch, dir, opts, err)) != BERTC_OK) goto fail;
    if ((rc = load_tokenizer_config(&m->tok, dir, err)) != BERTC_OK) goto fail;
    if ((rc = hf_vocab_path(path, sizeof path, dir, err)) != BERTC_OK) goto fail;
    if (!(m->vocab_path = strdup(path))) {
        rc = bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", dir);
        goto fail;
    }
    if ((rc = is_tokenizer_json(path) ? check_tokenizer_json(m, dir, &ntok, err)
                                      : check_vocab(m->vocab_path, m->cfg.vocab_size, &ntok, err)) != BERTC_OK)
        goto fail;
    if (bertc_path_join(path, sizeof path, dir, "model.safetensors") != 0) {
        rc = bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", dir);
        goto fail;
    }
    if (!bertc_is_file(path)) {
        rc = bertc_fail(err, BERTC_ERR_NOTFOUND,
                        "%s: missing (bertc reads safetensors only; convert pytorch_model.bin with "
                        "save_pretrained(safe_serialization=True))",
                        path);
        goto fail;
    }
    if ((rc = st_open(&f, path, err)) != BERTC_OK) goto fail;
    if ((rc = load_tensors(m, f, arch, opts, summary, sizeof summary, err)) != BERTC_OK) goto fail;
    st_close(f);
    snprintf(m->checks, sizeof m->checks, "safetensors header ok, %s, vocab %d <= %d (%s)", summary, ntok,
             m->cfg.vocab_size, is_tokenizer_json(m->vocab_path) ? "tokenizer.json" : "vocab.txt");
    return BERTC_OK;
fail:
    st_close(f);
    hf_model_free(m);
    return rc;
}

int hf_tokenizer_load(bert_tokenizer **out, const char *name_or_path, bertc_err *err) {
    char dir[PATH_MAX], path[PATH_MAX];
    bert_tokenizer_opts o;
    int rc = hf_model_resolve(name_or_path, dir, sizeof dir, err);
    if (rc != BERTC_OK) return rc;
    if ((rc = load_tokenizer_config(&o, dir, err)) != BERTC_OK) return rc;
    if ((rc = hf_vocab_path(path, sizeof path, dir, err)) != BERTC_OK) return rc;
    return load_vocab_file(out, &o, path, dir, err);
}

/* ---- Resolving names ---- */

/* The local name that CACHE/aliases.json gives Hub id `id`, into out; 0 when none.
 * The file is an object of strings, {"owner/name": "NAME"}, written by
 * tools/setup.sh so that a model installed under a local name also answers to
 * its Hub id (all-MiniLM-L6-v2 for sentence-transformers/all-MiniLM-L6-v2). */
static int alias_for(const char *root, const char *id, char *out, size_t cap) {
    char path[PATH_MAX], *text = NULL;
    size_t len;
    bertc_err e = {0};
    if (bertc_path_join(path, sizeof path, root, "aliases.json") != 0 || !bertc_is_file(path) ||
        bertc_read_file(path, 1u << 20, &text, &len, &e) != BERTC_OK)
        return 0;
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *v = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, id) : NULL;
    int ok = cJSON_IsString(v) && hub_valid_name(v->valuestring) && !strchr(v->valuestring, '/') &&
             (size_t)snprintf(out, cap, "%s", v->valuestring) < cap;
    cJSON_Delete(j);
    return ok;
}

/* 1 when root/name/config.json exists (the folder into out). */
static int local_model(const char *root, const char *name, char *out, size_t cap) {
    char cand[PATH_MAX], cfgp[PATH_MAX];
    if (bertc_path_join(cand, sizeof cand, root, name) != 0 || bertc_path_join(cfgp, sizeof cfgp, cand, "config.json") != 0 ||
        !bertc_is_file(cfgp))
        return 0;
    return (size_t)snprintf(out, cap, "%s", cand) < cap;
}

int hf_model_find(const char *name_or_path, int allow_download, char *out, size_t cap, bertc_err *err) {
    const char *s = name_or_path;
    if (!s || !*s) return bertc_fail(err, BERTC_ERR_ARG, "model: empty name or path");
    if (bertc_is_dir(s)) {
        if ((size_t)snprintf(out, cap, "%s", s) >= cap) return bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", s);
        return BERTC_OK;
    }
    /* A path, not a Hub id: neither the cache nor the network is asked. Like
     * transformers, "a/b" is a Hub id unless it cannot be one; unlike it, an
     * "a/b" whose "a" is an existing folder is taken as a missing path. */
    const char *slash = strchr(s, '/');
    char first[PATH_MAX];
    int first_is_dir = slash && (size_t)(slash - s) < sizeof first &&
                       (snprintf(first, sizeof first, "%.*s", (int)(slash - s), s), bertc_is_dir(first));
    if (!hub_valid_name(s) || first_is_dir)
        return bertc_fail(err, BERTC_ERR_NOTFOUND, "model \"%s\": no such folder%s", s,
                          first_is_dir ? "" : " (and not a Hub id: owner/name of letters, digits, '.', '_', '-')");
    char root[PATH_MAX], local[256], repo[PATH_MAX];
    if (hub_cache_root(root, sizeof root) != 0) return bertc_fail(err, BERTC_ERR_ARG, "model cache path too long");
    /* A local name (one part): the folder a tool installed as CACHE/NAME. */
    if (!slash && local_model(root, s, out, cap)) return BERTC_OK;
    /* A Hub id a local name stands for (CACHE/aliases.json). */
    if (alias_for(root, s, local, sizeof local) && local_model(root, local, out, cap)) return BERTC_OK;
    /* The Hub id under its full id and revision (main). */
    if (hub_cache_find(s, NULL, root, out, cap)) return BERTC_OK;
    int rn = slash ? snprintf(repo, sizeof repo, "%s/models--%.*s--%s", root, (int)(slash - s), s, slash + 1)
                   : snprintf(repo, sizeof repo, "%s/models--%s", root, s);
    if (rn < 0 || (size_t)rn >= sizeof repo) memcpy(repo, "(path too long)", 16);
    if (!allow_download || hub_offline())
        return bertc_fail(err, BERTC_ERR_NOTFOUND,
                          "model \"%s\": no such folder, and the Hub id is not in the cache (%s); %s "
                          "(tools/setup.sh model installs the default all-MiniLM-L6-v2)",
                          s, repo,
                          hub_offline() ? "HF_HUB_OFFLINE is set, no download tried"
                                        : "downloads are off for this caller (allow_download)");
    hub_opts o;
    hub_opts_default(&o);
    bertc_err e2 = {0};
    int rc = hub_download(s, root, &o, out, cap, &e2);
    if (rc == BERTC_OK) return BERTC_OK;
    if (rc == BERTC_ERR_NOTFOUND) return bertc_fail(err, rc, "model \"%s\": no such folder, and %s", s, e2.msg);
    return bertc_fail(err, rc, "model \"%s\": %s", s, e2.msg);
}

int hf_model_resolve(const char *name_or_path, char *out, size_t cap, bertc_err *err) {
    return hf_model_find(name_or_path, hub_downloads_allowed(), out, cap, err);
}

/* ---- Saving ---- */

/* A float as the shortest decimal that reads back as the same float (0.1, 1e-12). */
static cJSON *json_float_num(float v) {
    char buf[48];
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, (double)v);
        if ((float)strtod(buf, NULL) == v) break;
    }
    return cJSON_CreateRaw(buf);
}

static int write_json(const char *dir, const char *file, cJSON *j, bertc_err *err) {
    char path[PATH_MAX];
    if (!j) return bertc_fail(err, BERTC_ERR_NOMEM, "%s/%s: out of memory", dir, file);
    if (bertc_path_join(path, sizeof path, dir, file) != 0) {
        cJSON_Delete(j);
        return bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", dir);
    }
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    if (!text) return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", path);
    size_t len = strlen(text);
    char *nl = realloc(text, len + 2);
    if (!nl) { cJSON_free(text); return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", path); }
    nl[len] = '\n';
    nl[len + 1] = '\0';
    int rc = bertc_write_file_atomic(path, nl, len + 1, err);
    cJSON_free(nl);
    return rc;
}

/* DistilBertConfig's fields (to_json_string of transformers 5.24). */
static cJSON *distilbert_config_json(const hf_model *m, cJSON *j, cJSON *arch, cJSON *i2l, cJSON *l2i) {
    const bert_config *c = &m->cfg;
    cJSON_AddStringToObject(j, "activation", "gelu");
    cJSON_AddItemToObject(j, "architectures", arch);
    cJSON_AddItemToArray(arch, cJSON_CreateString(bert_head_of(c->task)->arch_class[BERT_ARCH_DISTILBERT]));
    cJSON_AddItemToObject(j, "attention_dropout", json_float_num(c->attention_dropout));
    cJSON_AddNumberToObject(j, "dim", c->hidden_size);
    cJSON_AddItemToObject(j, "dropout", json_float_num(c->hidden_dropout));
    cJSON_AddStringToObject(j, "dtype", "float32");
    cJSON_AddNumberToObject(j, "hidden_dim", c->intermediate_size);
    cJSON_AddItemToObject(j, "id2label", i2l);
    cJSON_AddItemToObject(j, "initializer_range", json_float_num(c->initializer_range));
    cJSON_AddItemToObject(j, "label2id", l2i);
    cJSON_AddNumberToObject(j, "max_position_embeddings", c->max_position);
    cJSON_AddStringToObject(j, "model_type", "distilbert");
    cJSON_AddNumberToObject(j, "n_heads", c->num_heads);
    cJSON_AddNumberToObject(j, "n_layers", c->num_layers);
    cJSON_AddNumberToObject(j, "pad_token_id", c->pad_token_id);
    if (c->problem_type == BERT_PROBLEM_MULTI_LABEL)
        cJSON_AddStringToObject(j, "problem_type", "multi_label_classification");
    cJSON_AddItemToObject(j, "qa_dropout", json_float_num(c->qa_dropout));
    cJSON_AddItemToObject(j, "seq_classif_dropout", json_float_num(c->classifier_dropout));
    cJSON_AddBoolToObject(j, "sinusoidal_pos_embds", 0);
    cJSON_AddBoolToObject(j, "tie_word_embeddings", 1);
    cJSON_AddStringToObject(j, "transformers_version", "5.24.0");
    cJSON_AddNumberToObject(j, "vocab_size", c->vocab_size);
    return j;
}

static cJSON *config_json(const hf_model *m) {
    const bert_config *c = &m->cfg;
    cJSON *j = cJSON_CreateObject(), *arch = cJSON_CreateArray(), *i2l = cJSON_CreateObject(),
          *l2i = cJSON_CreateObject();
    if (!j || !arch || !i2l || !l2i) goto fail;
    if (c->model_type == BERT_ARCH_DISTILBERT) {
        distilbert_config_json(m, j, arch, i2l, l2i);
        goto labels;
    }
    cJSON_AddItemToObject(j, "architectures", arch);
    cJSON_AddItemToArray(arch, cJSON_CreateString(bert_head_of(c->task)->arch_class[BERT_ARCH_BERT]));
    cJSON_AddItemToObject(j, "attention_probs_dropout_prob", json_float_num(c->attention_dropout));
    cJSON_AddItemToObject(j, "classifier_dropout", json_float_num(c->classifier_dropout));
    cJSON_AddStringToObject(j, "dtype", "float32");
    cJSON_AddStringToObject(j, "hidden_act", "gelu");
    cJSON_AddItemToObject(j, "hidden_dropout_prob", json_float_num(c->hidden_dropout));
    cJSON_AddNumberToObject(j, "hidden_size", c->hidden_size);
    cJSON_AddItemToObject(j, "id2label", i2l);
    cJSON_AddItemToObject(j, "initializer_range", json_float_num(c->initializer_range));
    cJSON_AddNumberToObject(j, "intermediate_size", c->intermediate_size);
    cJSON_AddItemToObject(j, "label2id", l2i);
    cJSON_AddItemToObject(j, "layer_norm_eps", json_float_num(c->layer_norm_eps));
    cJSON_AddNumberToObject(j, "max_position_embeddings", c->max_position);
    cJSON_AddStringToObject(j, "model_type", "bert");
    cJSON_AddNumberToObject(j, "num_attention_heads", c->num_heads);
    cJSON_AddNumberToObject(j, "num_hidden_layers", c->num_layers);
    cJSON_AddNumberToObject(j, "pad_token_id", c->pad_token_id);
    cJSON_AddStringToObject(j, "position_embedding_type", "absolute");
    if (c->problem_type == BERT_PROBLEM_MULTI_LABEL)
        cJSON_AddStringToObject(j, "problem_type", "multi_label_classification");
    cJSON_AddStringToObject(j, "torch_dtype", "float32");
    cJSON_AddStringToObject(j, "transformers_version", "5.24.0");
    cJSON_AddNumberToObject(j, "type_vocab_size", c->type_vocab_size);
    cJSON_AddBoolToObject(j, "use_cache", 1);
    cJSON_AddNumberToObject(j, "vocab_size", c->vocab_size);
labels:
    for (int i = 0; i < c->num_labels; i++) {
        char key[16];
        const char *name = c->id2label ? c->id2label[i] : "";
        snprintf(key, sizeof key, "%d", i);
        if (!cJSON_AddStringToObject(i2l, key, name)) goto fail;
        /* label2id keeps the first id of a repeated name (no duplicate keys). */
        if (!cJSON_GetObjectItemCaseSensitive(l2i, name) && !cJSON_AddNumberToObject(l2i, name, i)) goto fail;
    }
    return j;
fail:
    if (!j) { cJSON_Delete(arch); cJSON_Delete(i2l); cJSON_Delete(l2i); }
    cJSON_Delete(j);
    return NULL;
}

static cJSON *tokenizer_config_json(const hf_model *m) {
    const bert_tokenizer_opts *t = &m->tok;
    cJSON *j = cJSON_CreateObject();
    if (!j) return NULL;
    cJSON_AddBoolToObject(j, "clean_up_tokenization_spaces", 1);
    cJSON_AddStringToObject(j, "cls_token", "[CLS]");
    cJSON_AddBoolToObject(j, "do_basic_tokenize", 1);
    cJSON_AddBoolToObject(j, "do_lower_case", t->do_lower_case);
    cJSON_AddStringToObject(j, "mask_token", "[MASK]");
    cJSON_AddNumberToObject(j, "model_max_length", t->model_max_length > 0 ? t->model_max_length
                                                                           : m->cfg.max_position);
    cJSON_AddNullToObject(j, "never_split");
    cJSON_AddStringToObject(j, "pad_token", "[PAD]");
    cJSON_AddStringToObject(j, "sep_token", "[SEP]");
    if (t->strip_accents < 0) cJSON_AddNullToObject(j, "strip_accents");
    else cJSON_AddBoolToObject(j, "strip_accents", t->strip_accents);
    cJSON_AddBoolToObject(j, "tokenize_chinese_chars", t->tokenize_chinese_chars);
    /* DistilBertTokenizer: the same WordPiece, without token_type_ids in its outputs */
    cJSON_AddStringToObject(j, "tokenizer_class",
                            m->cfg.model_type == BERT_ARCH_DISTILBERT ? "DistilBertTokenizer" : "BertTokenizer");
    cJSON_AddStringToObject(j, "unk_token", "[UNK]");
    return j;
}

static cJSON *special_tokens_json(void) {
    cJSON *j = cJSON_CreateObject();
    if (!j) return NULL;
    cJSON_AddStringToObject(j, "cls_token", "[CLS]");
    cJSON_AddStringToObject(j, "mask_token", "[MASK]");
    cJSON_AddStringToObject(j, "pad_token", "[PAD]");
    cJSON_AddStringToObject(j, "sep_token", "[SEP]");
    cJSON_AddStringToObject(j, "unk_token", "[UNK]");
    return j;
}

/* model.safetensors under transformers' BertForSequenceClassification names,
 * Q/K/V split back; streamed straight from the parameter block. */
static int write_weights(const hf_model *m, const char *dir, bertc_err *err) {
    const bert_config *c = &m->cfg;
    const hf_arch *arch = arch_of(c);
    const hf_tensor_map *map = arch->tensors;
    int n = 0;
    const bert_head *head = bert_head_of(c->task);
    for (int i = 0; i < arch->num_tensors; i++)
        if (map[i].group != HF_POOLER || head->has_pooler) n += map[i].layered ? c->num_layers : 1;
    st_entry *e = calloc((size_t)n, sizeof *e);
    char *names = calloc((size_t)n, 128);
    char path[PATH_MAX], tmp[PATH_MAX];
    if (!e || !names) {
        free(e);
        free(names);
        return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", dir);
    }
    int k = 0;
    for (int i = 0; i < arch->num_tensors; i++) {
        const hf_tensor_map *t = &map[i];
        if (t->group == HF_POOLER && !head->has_pooler) continue; /* a per-token head has none */
        int64_t shape[2];
        int rank = expected_shape(shape, t->param, c);
        size_t slice = (size_t)shape[0] * (rank == 2 ? (size_t)shape[1] : 1);
        for (int l = 0; l < (t->layered ? c->num_layers : 1); l++, k++) {
            fmt_name(names + (size_t)k * 128, 128, arch->prefix, t, t->name, l, head);
            e[k].name = names + (size_t)k * 128;
            e[k].dtype = ST_F32;
            e[k].rank = rank;
            e[k].shape[0] = shape[0];
            e[k].shape[1] = shape[1];
            e[k].data = slice_ptr(&m->params, t, l, slice);
        }
    }
    int rc;
    if (bertc_path_join(path, sizeof path, dir, "model.safetensors") != 0 ||
        snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp) {
        rc = bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", dir);
    } else if ((rc = st_write(tmp, e, n, err)) == BERTC_OK && rename(tmp, path) != 0) {
        rc = bertc_fail(err, BERTC_ERR_IO, "%s: rename failed: %s", path, strerror(errno));
        unlink(tmp);
    }
    free(e);
    free(names);
    return rc;
}

int hf_model_save_into(const hf_model *m, const char *dir, bertc_err *err) {
    if (!m->params_memory || !m->cfg.id2label)
        return bertc_fail(err, BERTC_ERR_ARG, "%s: nothing to save (model not loaded)", dir);
    if (!bertc_is_dir(dir)) return bertc_fail(err, BERTC_ERR_IO, "%s: not a directory", dir);
    int rc;
    if ((rc = write_json(dir, "config.json", config_json(m), err)) != BERTC_OK) return rc;
    if ((rc = write_weights(m, dir, err)) != BERTC_OK) return rc;
    /* vocab.txt: copied from the source (written atomically, so saving into the
     * folder the model came from is safe), or written from a tokenizer.json
     * source; tokenizer.json: written from the tokenizer, as transformers 5.x
     * writes it, so AutoTokenizer and older readers agree on the ids. */
    char *vocab = NULL;
    size_t len = 0;
    char path[PATH_MAX];
    bert_tokenizer *tok = NULL;
    if (!m->vocab_path) return bertc_fail(err, BERTC_ERR_ARG, "%s: model has no vocab.txt to copy", dir);
    if (!is_tokenizer_json(m->vocab_path) &&
        (rc = bertc_read_file(m->vocab_path, HF_MAX_VOCAB, &vocab, &len, err)) != BERTC_OK)
        return rc;
    if ((rc = hf_model_tokenizer(&tok, m, err)) != BERTC_OK) { free(vocab); return rc; }
    if (bertc_path_join(path, sizeof path, dir, "vocab.txt") != 0)
        rc = bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", dir);
    else
        rc = vocab ? bertc_write_file_atomic(path, vocab, len, err) : bert_tokenizer_write_vocab_txt(tok, path, err);
    free(vocab);
    if (rc == BERTC_OK && bertc_path_join(path, sizeof path, dir, "tokenizer.json") != 0)
        rc = bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", dir);
    else if (rc == BERTC_OK)
        rc = bert_tokenizer_json_write(tok, path, err);
    bert_tokenizer_free(tok);
    if (rc != BERTC_OK) return rc;
    if ((rc = write_json(dir, "tokenizer_config.json", tokenizer_config_json(m), err)) != BERTC_OK) return rc;
    if ((rc = write_json(dir, "special_tokens_map.json", special_tokens_json(), err)) != BERTC_OK) return rc;
    return bertc_fsync_dir(dir, err);
}

/* The files hf_model_save_into writes (and their ".tmp." leftovers); anything
 * else in a folder being replaced is someone else's and is kept. */
static int own_file(const char *name) {
    static const char *const own[] = {"config.json",           "model.safetensors",     "vocab.txt",
                                      "tokenizer.json",        "tokenizer_config.json", "special_tokens_map.json"};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
        size_t n = strlen(own[i]);
        if (strncmp(name, own[i], n) == 0 && (name[n] == '\0' || strncmp(name + n, ".tmp.", 5) == 0)) return 1;
    }
    return 0;
}

/* Puts what src holds besides bertc's own files (all of it below the top) into
 * dst: hard links for files, the same target for symbolic links, folders made
 * anew. Nothing in src changes. */
static int keep_foreign(const char *src, const char *dst, int top, const char *what, bertc_err *err) {
    DIR *d = opendir(src);
    if (!d) return bertc_fail(err, BERTC_ERR_IO, "%s: cannot read: %s", src, strerror(errno));
    struct dirent *e;
    int rc = BERTC_OK;
    while (rc == BERTC_OK && (e = readdir(d)) != NULL) {
        const char *n = e->d_name;
        if (!strcmp(n, ".") || !strcmp(n, "..") || (top && own_file(n))) continue;
        char from[PATH_MAX], to[PATH_MAX];
        struct stat sb;
        if (bertc_path_join(from, sizeof from, src, n) || bertc_path_join(to, sizeof to, dst, n)) {
            rc = bertc_fail(err, BERTC_ERR_ARG, "%s/%s: path too long", src, n);
        } else if (lstat(from, &sb) != 0) {
            rc = bertc_fail(err, BERTC_ERR_IO, "%s: cannot stat: %s", from, strerror(errno));
        } else if (S_ISDIR(sb.st_mode)) {
            if (mkdir(to, sb.st_mode & 07777) != 0)
                rc = bertc_fail(err, BERTC_ERR_IO, "%s: cannot create: %s", to, strerror(errno));
            else
                rc = keep_foreign(from, to, 0, what, err);
        } else if (S_ISLNK(sb.st_mode)) {
            char target[PATH_MAX];
            ssize_t k = readlink(from, target, sizeof target - 1);
            if (k < 0 || (target[k] = '\0', symlink(target, to) != 0))
                rc = bertc_fail(err, BERTC_ERR_IO, "%s: cannot keep this link: %s; move it out of %s and save again", from,
                                strerror(errno), what);
        } else if (!S_ISREG(sb.st_mode) || link(from, to) != 0) {
            rc = bertc_fail(err, BERTC_ERR_IO, "%s: not written by bertc and cannot be kept (%s); move it out of %s and save again",
                            from, S_ISREG(sb.st_mode) ? strerror(errno) : "not a file, folder or link", what);
        }
    }
    closedir(d);
    return rc;
}

int hf_model_save(const hf_model *m, const char *dir_in, bertc_err *err) {
    char dir[PATH_MAX], tmp[PATH_MAX], old[PATH_MAX], parent[PATH_MAX];
    size_t dl = strlen(dir_in);
    while (dl > 1 && dir_in[dl - 1] == '/') dl--;
    if (dl == 0 || dl >= sizeof dir - 32) return bertc_fail(err, BERTC_ERR_ARG, "%s: bad or too long path", dir_in);
    memcpy(dir, dir_in, dl);
    dir[dl] = '\0';
    struct stat st;
    int exists = lstat(dir, &st) == 0;
    if (exists && !S_ISDIR(st.st_mode))
        return bertc_fail(err, BERTC_ERR_IO, "%s: exists and is not a folder; not replacing it", dir);
    if (snprintf(tmp, sizeof tmp, "%s.tmp-%ld", dir, (long)getpid()) >= (int)sizeof tmp ||
        snprintf(old, sizeof old, "%s.old-%ld", dir, (long)getpid()) >= (int)sizeof old)
        return bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", dir);
    snprintf(parent, sizeof parent, "%s", dir);
    char *slash = strrchr(parent, '/');
    if (!slash) snprintf(parent, sizeof parent, ".");
    else if (slash == parent) parent[1] = '\0';
    else *slash = '\0';

    bertc_rmtree(tmp);  /* a leftover of an earlier crash with the same pid */
    if (mkdir(tmp, 0755) != 0) return bertc_fail(err, BERTC_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    int rc = hf_model_save_into(m, tmp, err);
    /* files bertc did not write (a README, another framework's weights) stay */
    if (rc == BERTC_OK && exists) rc = keep_foreign(dir, tmp, 1, dir, err);
    if (rc == BERTC_OK) rc = bertc_fsync_dir(tmp, err);
    if (rc != BERTC_OK) {
        bertc_rmtree(tmp);
        return rc;
    }
    if (exists) {
        bertc_rmtree(old);
        if (rename(dir, old) != 0) {
            rc = bertc_fail(err, BERTC_ERR_IO, "%s: cannot move the old folder aside: %s", dir, strerror(errno));
            bertc_rmtree(tmp);
            return rc;
        }
    }
    if (rename(tmp, dir) != 0) {
        rc = bertc_fail(err, BERTC_ERR_IO, "%s: rename from %s failed: %s", dir, tmp, strerror(errno));
        if (exists) rename(old, dir);
        bertc_rmtree(tmp);
        return rc;
    }
    rc = bertc_fsync_dir(parent, err);
    if (exists) {
        bertc_rmtree(old);
        if (rc == BERTC_OK) rc = bertc_fsync_dir(parent, err);
    }
    return rc;
}

/* ---- Peeking at the task ---- */

int hf_model_peek_task(const char *name_or_path, int *task, bertc_err *err) {
    char dir[PATH_MAX], path[PATH_MAX];
    *task = -1;
    int rc = hf_model_resolve(name_or_path, dir, sizeof dir, err);
    if (rc != BERTC_OK) return rc;
    if (bertc_path_join(path, sizeof path, dir, "config.json") != 0)
        return bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", dir);
    if (!bertc_is_file(path))
        return bertc_fail(err, BERTC_ERR_NOTFOUND, "%s: missing: not a Hugging Face model folder", path);
    cJSON *j = NULL;
    if ((rc = json_load(&j, path, err)) != BERTC_OK) return rc;
    const char *mt = NULL;
    rc = json_str(j, path, "model_type", NULL, &mt, err);
    if (rc == BERTC_OK)
        rc = parse_architectures(task, j, path, mt && strcmp(mt, "distilbert") == 0 ? BERT_ARCH_DISTILBERT : BERT_ARCH_BERT,
                                 err);
    cJSON_Delete(j);
    return rc;
}
