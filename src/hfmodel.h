/* hfmodel.h: Hugging Face model folders: config.json, tokenizer_config.json,
 * tokenizer.json and/or vocab.txt (tokenizer_json.h; tokenizer.json wins) and
 * model.safetensors in, the same (both vocabulary files) out.
 *
 * Loading validates everything before use (see safetensors.h for the file rules),
 * maps transformers' tensor names (BertModel: no prefix; BertForSequenceClassification
 * and pre-training checkpoints: "bert." prefix; "cls.*" heads ignored; DistilBertModel /
 * DistilBertForSequenceClassification: "distilbert." prefix, pre_classifier as the
 * pooler) onto the bert_params layout, converts F16/BF16 to fp32, and gives a
 * checkpoint without a classifier a new head initialised as transformers does.
 * config.json's model_type ("bert" or "distilbert") and problem_type
 * ("multi_label_classification" or single-label) land in bert_config and are
 * written back on save, with the architecture's own field and tensor names.
 *
 * Memory: hf_model owns its config strings and its parameter block; hf_model_free
 * releases them (harmless on a zeroed struct).
 *
 *     hf_load_opts o; hf_load_opts_default(&o);
 *     hf_model m = {0};
 *     if (hf_model_load(&m, "/path/to/folder", &o, &err) != BERTC_OK) ...
 *     ... m.cfg, m.params ...
 *     hf_model_free(&m);
 */
#ifndef BERTC_HFMODEL_H
#define BERTC_HFMODEL_H

#include <stdint.h>
#include "bert.h"
#include "tokenizer.h"

typedef struct hf_load_opts {
    int num_labels;       /* -1: keep the folder's (or 2 for a new head); else force this many */
    int task;             /* -1: the head config.json's architectures names (text classification
                             when it names none); else a BERT_TASK_* (heads.h): a folder trained
                             for another task then gets a new head of this one */
    char **labels;        /* optional label names for a new head (num_labels of them), or NULL */
    uint64_t seed;        /* seeds a new classifier head (normal(0, initializer_range)) */
    int allow_download;   /* 1: a Hub id missing from the cache may be downloaded (hub.h);
                             default hub_downloads_allowed(): 0 in the library, 1 in the CLI */
} hf_load_opts;
/* Details of the contract above, as hfmodel.c implements it:
 * - Labels: with labels != NULL and num_labels > 0 the names are used (new head
 *   or kept one); otherwise config.json's id2label when its count is the final
 *   label count, else "LABEL_i". labels is ignored when num_labels is -1.
 * - A checkpoint classifier is kept when its rows equal the final label count;
 *   num_labels forcing another count reinitialises it (new_head = 1), as
 *   from_pretrained(ignore_mismatched_sizes=True) would. Without num_labels, a
 *   classifier whose rows differ from config.json's labels is an error.
 * - New weights: classifier from bertc_rng seeded with seed; a new pooler from
 *   seed ^ 0x9E3779B97F4A7C15, so the head does not depend on the pooler.
 * - config.json must give model_type "bert" and the sizes (vocab_size,
 *   hidden_size, num_hidden_layers, num_attention_heads, intermediate_size,
 *   max_position_embeddings); every other field has BertConfig's default.
 *   model_type "distilbert" needs vocab_size, dim, n_layers, n_heads, hidden_dim,
 *   max_position_embeddings (others: DistilBertConfig's defaults; activation must
 *   be "gelu", sinusoidal_pos_embds false). */

void hf_load_opts_default(hf_load_opts *o);

typedef struct hf_model {
    bert_config cfg;          /* dimensions, dropout, labels */
    bert_tokenizer_opts tok;  /* from tokenizer_config.json (defaults where absent) */
    char *dir;                /* the folder it was loaded from */
    char *vocab_path;         /* dir/tokenizer.json, or dir/vocab.txt without one (hf_vocab_path) */
    float *params_memory;     /* bert_num_params(&cfg) floats, one allocation */
    size_t num_params;
    bert_params params;       /* slices of params_memory */
    int new_head;             /* 1: no classifier in the checkpoint, initialised from seed */
    int new_pooler;           /* 1: no pooler in the checkpoint, initialised from seed (only heads
                                 with a pooler have one) */
    int folder_task;          /* the task config.json's architectures names, or -1 (none) */
    char source_dtype[8];     /* "F32", "F16" or "BF16": the checkpoint's float type */
    char checks[1024];        /* what was validated, one human-readable line for `bertc info` */
} hf_model;

/* Loads a model folder. name_or_path may be a folder or a name in the model
 * cache (see hf_model_resolve). */
int hf_model_load(hf_model *m, const char *name_or_path, const hf_load_opts *opts, bertc_err *err);
void hf_model_free(hf_model *m);

/* The task config.json's architectures names (heads.h: BERT_TASK_*), or -1
 * when it names no head, without loading anything else (the CLI picks a
 * command's task this way). Errors as hf_model_load's for config.json. */
int hf_model_peek_task(const char *name_or_path, int *task, bertc_err *err);

/* Loads only the tokenizer of a model folder or cached name: tokenizer_config.json
 * (defaults where absent) and tokenizer.json or vocab.txt (hf_vocab_path), no
 * weights. *out is set on success. */
int hf_tokenizer_load(bert_tokenizer **out, const char *name_or_path, bertc_err *err);

/* The tokenizer of a loaded model: m->vocab_path (tokenizer.json or vocab.txt)
 * with m->tok. What every command uses instead of bert_tokenizer_load, so that
 * tokenizer.json-only folders (transformers 5.x save_pretrained) work. */
int hf_model_tokenizer(bert_tokenizer **out, const hf_model *m, bertc_err *err);

/* The file folder dir's vocabulary is read from, into out (capacity cap):
 * dir/tokenizer.json when it exists (it wins over vocab.txt, as AutoTokenizer's
 * fast tokenizer does; docs/tokenizer.md), else dir/vocab.txt. BERTC_ERR_NOTFOUND
 * when neither exists. */
int hf_vocab_path(char *out, size_t cap, const char *dir, bertc_err *err);

/* Finds the model folder name_or_path names, into out (capacity cap), as
 * transformers resolves from_pretrained's argument (docs/models.md):
 *   1. an existing folder is used as it is;
 *   2. anything that cannot be a Hub id ("owner/name" or "name", hub_valid_name),
 *      or whose first part is an existing folder ("models/bert-base" with a
 *      models/ here), is a missing path: "no such folder", nothing else tried;
 *   3. a bare NAME installed as CACHE/NAME (tools/setup.sh: all-MiniLM-L6-v2);
 *   4. a Hub id that CACHE/aliases.json maps to such a local NAME;
 *   5. the Hub id in the cache under its full id at revision main
 *      (CACHE/models--OWNER--NAME/snapshots/(refs/main));
 *   6. a download (hub_download) when allow_download is 1 and HF_HUB_OFFLINE
 *      is not set.
 * Never by a last path component: "owner/name" is never a cached "name".
 * BERTC_ERR_NOTFOUND names what was tried; download errors keep their codes. */
int hf_model_find(const char *name_or_path, int allow_download, char *out, size_t cap, bertc_err *err);

/* hf_model_find with the process default for downloads (hub_downloads_allowed). */
int hf_model_resolve(const char *name_or_path, char *out, size_t cap, bertc_err *err);

/* Writes the model as a Hugging Face BertForSequenceClassification (or, for
 * DistilBERT, DistilBertForSequenceClassification) folder into an
 * existing directory dir (config.json with architectures, id2label, label2id;
 * model.safetensors under transformers' names; vocab.txt; tokenizer.json;
 * tokenizer_config.json;
 * special_tokens_map.json). Files are fsync'd; dir is not renamed. */
int hf_model_save_into(const hf_model *m, const char *dir, bertc_err *err);

/* Atomic save: writes into "dir.tmp-PID" beside dir, fsyncs, renames onto dir
 * (replacing an existing folder), fsyncs the parent. On failure dir is untouched.
 * An existing dir's files that hf_model_save_into does not write (a README.md,
 * pytorch_model.bin, subfolders, links) are kept: hard-linked into the new folder
 * before the swap; one that cannot be (a socket, a link refused) fails the save
 * with a message naming it. */
int hf_model_save(const hf_model *m, const char *dir, bertc_err *err);

#endif /* BERTC_HFMODEL_H */
