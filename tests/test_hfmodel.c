/* test_hfmodel: model folders in and out.
 *
 * 1. The real all-MiniLM-L6-v2 folder (BertModel names, I64 position_ids buffer):
 *    dimensions, tokenizer options, a few tensors against the raw safetensors
 *    (word embedding row 0, stacked key/value slices), a new 2-label head that is
 *    deterministic for a seed and different for another, then an atomic save
 *    and reload that is bit-identical with the labels preserved, and a failed
 *    save that leaves the target untouched.
 * 2. Tiny random-weight folders written here with the safetensors writer (names
 *    spelt out independently of hfmodel.c): every tensor lands where bert.h says,
 *    "bert." prefix + classifier, no pooler, F16/BF16, TF-style LayerNorm names;
 *    and each rejection (config.json fields, tensors, shapes, vocab.txt, names)
 *    with its status and the field or tensor named in the message. */
#include <dirent.h>
#include <ftw.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../src/hfmodel.h"
#include "../src/safetensors.h"
#include "test.h"

static char tmpdir[64];

static int rm_entry(const char *p, const struct stat *s, int t, struct FTW *f) {
    (void)s; (void)t; (void)f;
    return remove(p);
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (!f) { CHECK(0, "cannot write %s", path); return; }
    fputs(text, f);
    fclose(f);
}

static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
    if (b) b[n] = '\0';
    fclose(f);
    return b;
}

/* Names in dir other than "." and "..", as one space-separated string. */
static void list_dir(char *out, size_t cap, const char *dir) {
    out[0] = '\0';
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            strncat(out, e->d_name, cap - strlen(out) - 2);
            strncat(out, " ", cap - strlen(out) - 1);
        }
    closedir(d);
}

static void expect_fail(int rc, const bertc_err *err, int want, const char *n1, const char *n2, const char *what) {
    CHECK(rc == want, "%s: status %d (%s), want %d; message: %s", what, rc, bertc_status_name(rc), want, err->msg);
    CHECK(!n1 || strstr(err->msg, n1), "%s: message lacks \"%s\": %s", what, n1, err->msg);
    CHECK(!n2 || strstr(err->msg, n2), "%s: message lacks \"%s\": %s", what, n2, err->msg);
}

/* ---- 1. The real MiniLM folder ---- */

/* Compares n floats of tensor name in the raw file, starting at element off, with got. */
static void check_raw(const st_file *f, const char *name, size_t off, const float *got, size_t n) {
    const st_tensor *t = st_find(f, name);
    CHECK(t && t->dtype == ST_F32 && off + n <= t->numel, "raw tensor %s missing or too small", name);
    if (!t || t->dtype != ST_F32 || off + n > t->numel) return;
    float *want = malloc(n * sizeof *want);
    memcpy(want, (const char *)t->data + off * 4, n * 4);
    CHECK(memcmp(want, got, n * 4) == 0, "%s[%zu..+%zu] differs from the file", name, off, n);
    free(want);
}

static void test_minilm(void) {
    const char *dir = test_model_dir();
    char cfgp[4200];
    snprintf(cfgp, sizeof cfgp, "%s/config.json", dir);
    if (access(cfgp, F_OK) != 0) {
        CHECK(0, "model folder %s missing: run tools/setup.sh model", dir);
        return;
    }
    bertc_err err = {0};
    hf_load_opts o;
    hf_load_opts_default(&o);
    hf_model m = {0}, m2 = {0}, m3 = {0};
    int rc = hf_model_load(&m, dir, &o, &err);
    CHECK(rc == BERTC_OK, "load MiniLM: %s", err.msg);
    if (rc != BERTC_OK) return;
    const bert_config *c = &m.cfg;
    CHECK(c->vocab_size == 30522 && c->hidden_size == 384 && c->num_layers == 6 && c->num_heads == 12 &&
              c->intermediate_size == 1536 && c->max_position == 512 && c->type_vocab_size == 2,
          "MiniLM dimensions");
    CHECK(c->layer_norm_eps == 1e-12f && c->hidden_dropout == 0.1f && c->classifier_dropout == 0.1f &&
              c->initializer_range == 0.02f && c->pad_token_id == 0,
          "MiniLM floats / classifier_dropout fallback");
    CHECK(c->num_labels == 2 && !strcmp(c->id2label[0], "LABEL_0") && !strcmp(c->id2label[1], "LABEL_1"),
          "default labels");
    CHECK(m.new_head == 1 && m.new_pooler == 0 && !strcmp(m.source_dtype, "F32"), "head/pooler/dtype flags");
    CHECK(m.tok.do_lower_case == 1 && m.tok.strip_accents == -1 && m.tok.tokenize_chinese_chars == 1 &&
              m.tok.model_max_length == 512 && m.tok.max_input_chars_per_word == 100,
          "tokenizer options");
    CHECK(m.num_params == bert_num_params(c), "num_params");
    CHECK(strstr(m.checks, "30522") && strstr(m.checks, "tile"), "checks line: %s", m.checks);
    CHECK(m.vocab_path && strstr(m.vocab_path, "vocab.txt"), "vocab_path");

    /* Against the raw file. */
    char stp[4200];
    snprintf(stp, sizeof stp, "%s/model.safetensors", dir);
    st_file *f = NULL;
    rc = st_open(&f, stp, &err);
    CHECK(rc == BERTC_OK, "raw open: %s", err.msg);
    if (f) {
        size_t C = 384, F = 1536;
        check_raw(f, "embeddings.word_embeddings.weight", 0, m.params.wte, C);
        check_raw(f, "embeddings.word_embeddings.weight", 2023 * C, m.params.wte + 2023 * C, C);
        check_raw(f, "encoder.layer.3.attention.self.key.weight", 5 * C, m.params.qkvw + 3 * 3 * C * C + C * C + 5 * C, C);
        check_raw(f, "encoder.layer.0.attention.self.query.weight", 0, m.params.qkvw, C * C);
        check_raw(f, "encoder.layer.5.attention.self.value.bias", 0, m.params.qkvb + 5 * 3 * C + 2 * C, C);
        check_raw(f, "encoder.layer.2.output.dense.weight", (C - 1) * F, m.params.fc_outw + 2 * C * F + (C - 1) * F, F);
        check_raw(f, "encoder.layer.5.output.LayerNorm.bias", 0, m.params.ln2b + 5 * C, C);
        check_raw(f, "pooler.dense.weight", 0, m.params.poolw, C * C);
        st_close(f);
    }

    /* The new head: normal(0, 0.02), zero bias, repeatable for a seed. */
    size_t ncls = 2 * 384;
    double s2 = 0;
    for (size_t i = 0; i < ncls; i++) s2 += (double)m.params.clsw[i] * m.params.clsw[i];
    double sd = sqrt(s2 / (double)ncls);
    CHECK(sd > 0.016 && sd < 0.024, "new head std %g, want about 0.02", sd);
    CHECK(m.params.clsb[0] == 0 && m.params.clsb[1] == 0, "new head bias zero");
    rc = hf_model_load(&m2, dir, &o, &err);
    CHECK(rc == BERTC_OK && memcmp(m.params.clsw, m2.params.clsw, ncls * 4) == 0, "same seed, same head");
    hf_model_free(&m2);
    o.seed = 7;
    rc = hf_model_load(&m2, dir, &o, &err);
    CHECK(rc == BERTC_OK && memcmp(m.params.clsw, m2.params.clsw, ncls * 4) != 0, "another seed, another head");
    CHECK(rc == BERTC_OK && memcmp(m.params_memory, m2.params_memory, (m.num_params - ncls - 2) * 4) == 0,
          "the encoder does not depend on the seed");
    hf_model_free(&m2);

    /* Save with three named labels, reload: bit-identical, labels kept. */
    hf_model_free(&m);
    char *names[3] = {"neg", "neutral", "pos"};
    o.num_labels = 3;
    o.labels = names;
    rc = hf_model_load(&m, dir, &o, &err);
    CHECK(rc == BERTC_OK && m.new_head && m.cfg.num_labels == 3 && !strcmp(m.cfg.id2label[2], "pos"),
          "3 named labels: %s", err.msg);
    if (rc != BERTC_OK) return;
    char out[256], parent[128], listing[1024];
    snprintf(parent, sizeof parent, "%s/save", tmpdir);
    mkdir(parent, 0755);
    snprintf(out, sizeof out, "%s/minilm-cls", parent);
    rc = hf_model_save(&m, out, &err);
    CHECK(rc == BERTC_OK, "save: %s", err.msg);
    hf_load_opts_default(&o);
    rc = hf_model_load(&m2, out, &o, &err);
    CHECK(rc == BERTC_OK, "reload: %s", err.msg);
    if (rc == BERTC_OK) {
        CHECK(m2.num_params == m.num_params && memcmp(m.params_memory, m2.params_memory, m.num_params * 4) == 0,
              "reloaded parameters are bit-identical");
        CHECK(m2.new_head == 0 && m2.new_pooler == 0 && m2.cfg.num_labels == 3, "reloaded head is the saved one");
        for (int i = 0; i < 3 && m2.cfg.num_labels == 3; i++)
            CHECK(!strcmp(m2.cfg.id2label[i], names[i]), "label %d: %s", i, m2.cfg.id2label[i]);
        CHECK(m2.cfg.layer_norm_eps == m.cfg.layer_norm_eps && m2.cfg.hidden_dropout == m.cfg.hidden_dropout &&
                  m2.cfg.attention_dropout == m.cfg.attention_dropout &&
                  m2.cfg.classifier_dropout == m.cfg.classifier_dropout &&
                  m2.cfg.initializer_range == m.cfg.initializer_range,
              "config floats round-trip");
        CHECK(memcmp(&m2.tok, &m.tok, sizeof m.tok) == 0, "tokenizer options round-trip");
        CHECK(strstr(m2.checks, "BertForSequenceClassification"), "saved names: %s", m2.checks);
    }
    /* Forcing another label count reinitialises the saved head. */
    o.num_labels = 2;
    rc = hf_model_load(&m3, out, &o, &err);
    CHECK(rc == BERTC_OK && m3.new_head == 1 && m3.cfg.num_labels == 2 && !strcmp(m3.cfg.id2label[1], "LABEL_1"),
          "num_labels 3 -> 2 gives a new head: %s", err.msg);
    hf_model_free(&m3);

    /* Saving over an existing folder replaces bertc's files, keeps the others
     * (a file, a folder, a link) and leaves nothing beside it. */
    char p1[400], p2[400], p3[400], p4[400];
    snprintf(p1, sizeof p1, "%s/README.md", out);
    snprintf(p2, sizeof p2, "%s/extra", out);
    snprintf(p3, sizeof p3, "%s/extra/notes.txt", out);
    snprintf(p4, sizeof p4, "%s/tokenizer_config.json", out);
    write_text(p1, "# my model\n");
    mkdir(p2, 0755);
    write_text(p3, "notes\n");
    char l1[400];
    snprintf(l1, sizeof l1, "%s/readme-link", out);
    CHECK(symlink("README.md", l1) == 0, "symlink");
    write_text(p4, "stale");
    rc = hf_model_save(&m2, out, &err);
    CHECK(rc == BERTC_OK, "save over existing folder: %s", err.msg);
    list_dir(listing, sizeof listing, parent);
    CHECK(!strcmp(listing, "minilm-cls "), "parent after replacing: \"%s\"", listing);
    char *r1 = read_text(p1), *r3 = read_text(p3), *r4 = read_text(p4);
    char target[64] = "";
    ssize_t tl = readlink(l1, target, sizeof target - 1);
    if (tl > 0) target[tl] = 0;
    CHECK(r1 && !strcmp(r1, "# my model\n"), "a file bertc did not write survives the save");
    CHECK(r3 && !strcmp(r3, "notes\n"), "a folder bertc did not write survives the save");
    CHECK(!strcmp(target, "README.md"), "a link bertc did not write survives the save: \"%s\"", target);
    CHECK(r4 && strcmp(r4, "stale") != 0, "bertc's own tokenizer_config.json is replaced");
    free(r1);
    free(r3);
    free(r4);
    rc = hf_model_load(&m3, out, &o, &err);
    CHECK(rc == BERTC_OK, "reload after keeping foreign files: %s", err.msg);
    hf_model_free(&m3);

    /* A failing save (vocab.txt gone) leaves the target untouched, no temp folder. */
    char cfgout[300];
    snprintf(cfgout, sizeof cfgout, "%s/config.json", out);
    char *before = read_text(cfgout);
    char *vp = m.vocab_path;
    m.vocab_path = (char *)"/nonexistent/vocab.txt";
    rc = hf_model_save(&m, out, &err);
    m.vocab_path = vp;
    CHECK(rc != BERTC_OK && strstr(err.msg, "vocab.txt"), "save with a missing vocab fails: %s", err.msg);
    char *after = read_text(cfgout);
    CHECK(before && after && !strcmp(before, after), "failed save left config.json untouched");
    list_dir(listing, sizeof listing, parent);
    CHECK(!strcmp(listing, "minilm-cls "), "parent after a failed save: \"%s\"", listing);
    free(before);
    free(after);
    hf_model_free(&m2);
    hf_model_free(&m);
}

/* ---- 2. Tiny folders ---- */

enum { V = 24, C = 8, L = 2, NH = 2, F = 16, P = 16, TT = 2 };

typedef struct tiny_spec {
    const char *prefix;     /* "" or "bert." */
    int pooler;             /* include pooler.dense.* */
    int cls_labels;         /* 0: no classifier */
    int dtype;              /* ST_F32, ST_F16, ST_BF16 */
    int tf_names;           /* LayerNorm.gamma/beta */
    int extras;             /* add embeddings.position_ids (I64) and cls.predictions.bias */
    const char *skip;       /* a tensor to leave out */
    const char *bad_shape;  /* a tensor written as (rows, cols + 1) */
    const char *extra_layer;/* an extra tensor name to add (F32, shape [C]) */
    int int_dtype;          /* write the word embeddings as I32 */
} tiny_spec;

typedef struct tiny_tensor {
    char name[96];
    int param;              /* BERT_* destination, -1 for extras */
    int layer, part, nparts;
    int64_t shape[2];
    int rank;
    float *vals;            /* the values as fp32 (after the dtype's rounding) */
    void *raw;              /* what was written */
} tiny_tensor;

static int n_tiny;
static tiny_tensor tiny[64];

static void add_tensor(const tiny_spec *s, const char *name, int param, int layer, int part, int nparts, int64_t r0,
                       int64_t r1) {
    tiny_tensor *t = &tiny[n_tiny++];
    int classifier = !strncmp(name, "classifier.", 11);
    snprintf(t->name, sizeof t->name, "%s%s", classifier ? "" : s->prefix, name);
    if (s->tf_names) {
        char *ln = strstr(t->name, "LayerNorm.weight");
        if (ln) strcpy(ln, "LayerNorm.gamma");
        ln = strstr(t->name, "LayerNorm.bias");
        if (ln) strcpy(ln, "LayerNorm.beta");
    }
    t->param = param;
    t->layer = layer;
    t->part = part;
    t->nparts = nparts;
    t->shape[0] = r0;
    t->shape[1] = r1;
    t->rank = r1 ? 2 : 1;
    if (s->bad_shape && !strcmp(name, s->bad_shape)) t->shape[1]++;
    size_t n = (size_t)t->shape[0] * (t->rank == 2 ? (size_t)t->shape[1] : 1);
    t->vals = malloc(n * sizeof(float) + 1);
    t->raw = malloc(n * sizeof(float) + 1);
    int dtype = (s->int_dtype && param == BERT_WTE) ? ST_I32 : s->dtype;
    for (size_t i = 0; i < n; i++) {
        /* distinct, sign-varying values per tensor */
        float v = (float)(((n_tiny * 7919 + (int)i * 104729) % 2001) - 1000) / 4096.0f;
        if (dtype == ST_F16) {
            /* k/4096 with |k| <= 1000 is a normal F16 number: rebias the exponent, keep 10 bits */
            uint32_t u;
            memcpy(&u, &v, 4);
            uint16_t h = 0;
            if (v != 0)
                h = (uint16_t)(((u >> 16) & 0x8000) | ((((u >> 23) & 0xff) - 127 + 15) << 10) | ((u >> 13) & 0x3ff));
            memcpy((char *)t->raw + 2 * i, &h, 2);
            t->vals[i] = st_f16_to_f32(h);
            CHECK(t->vals[i] == v, "test values must be exact in F16");
        } else if (dtype == ST_BF16) {
            uint32_t u;
            memcpy(&u, &v, 4);
            uint16_t h = (uint16_t)(u >> 16);
            memcpy((char *)t->raw + 2 * i, &h, 2);
            t->vals[i] = st_bf16_to_f32(h);
        } else {
            memcpy((char *)t->raw + 4 * i, &v, 4);
            t->vals[i] = v;
        }
    }
}

static void free_tiny(void) {
    for (int i = 0; i < n_tiny; i++) {
        free(tiny[i].vals);
        free(tiny[i].raw);
    }
    n_tiny = 0;
}

static const char *tiny_vocab(int extra) {
    static char buf[1024];
    strcpy(buf, "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n");
    for (int i = 5; i < V + extra; i++) {
        char w[16];
        snprintf(w, sizeof w, "w%d\n", i);
        strcat(buf, w);
    }
    return buf;
}

/* config.json for the tiny dimensions; extra is spliced in before the closing brace. */
static const char *tiny_config(const char *extra) {
    static char buf[2048];
    snprintf(buf, sizeof buf,
             "{\"architectures\": [\"BertModel\"], \"model_type\": \"bert\", \"hidden_act\": \"gelu\", "
             "\"vocab_size\": %d, \"hidden_size\": %d, \"num_hidden_layers\": %d, \"num_attention_heads\": %d, "
             "\"intermediate_size\": %d, \"max_position_embeddings\": %d, \"type_vocab_size\": %d, "
             "\"layer_norm_eps\": 1e-12, \"hidden_dropout_prob\": 0.1, \"attention_probs_dropout_prob\": 0.1, "
             "\"initializer_range\": 0.02, \"pad_token_id\": 0%s%s}",
             V, C, L, NH, F, P, TT, extra && *extra ? ", " : "", extra ? extra : "");
    return buf;
}

/* Writes folder tmpdir/name with config text cfg and the tensors spec describes. */
static const char *make_tiny(const char *name, const tiny_spec *s, const char *cfg) {
    static char dir[256];
    char path[320];
    snprintf(dir, sizeof dir, "%s/%s", tmpdir, name);
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/config.json", dir);
    write_text(path, cfg ? cfg : tiny_config(NULL));
    snprintf(path, sizeof path, "%s/vocab.txt", dir);
    write_text(path, tiny_vocab(0));
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    write_text(path, "{\"do_lower_case\": false, \"strip_accents\": true, \"model_max_length\": 1e30, "
                     "\"tokenizer_class\": \"BertTokenizer\"}");

    free_tiny();
    add_tensor(s, "embeddings.word_embeddings.weight", BERT_WTE, 0, 0, 1, V, C);
    add_tensor(s, "embeddings.position_embeddings.weight", BERT_WPE, 0, 0, 1, P, C);
    add_tensor(s, "embeddings.token_type_embeddings.weight", BERT_WTT, 0, 0, 1, TT, C);
    add_tensor(s, "embeddings.LayerNorm.weight", BERT_LNEW, 0, 0, 1, C, 0);
    add_tensor(s, "embeddings.LayerNorm.bias", BERT_LNEB, 0, 0, 1, C, 0);
    static const char *qkv[3] = {"query", "key", "value"};
    for (int l = 0; l < L; l++) {
        char n[96];
#define LAYER(fmt, ...) (snprintf(n, sizeof n, "encoder.layer.%d." fmt, l, ##__VA_ARGS__), n)
        for (int q = 0; q < 3; q++) {
            add_tensor(s, LAYER("attention.self.%s.weight", qkv[q]), BERT_QKVW, l, q, 3, C, C);
            add_tensor(s, LAYER("attention.self.%s.bias", qkv[q]), BERT_QKVB, l, q, 3, C, 0);
        }
        add_tensor(s, LAYER("attention.output.dense.weight"), BERT_ATTOW, l, 0, 1, C, C);
        add_tensor(s, LAYER("attention.output.dense.bias"), BERT_ATTOB, l, 0, 1, C, 0);
        add_tensor(s, LAYER("attention.output.LayerNorm.weight"), BERT_LN1W, l, 0, 1, C, 0);
        add_tensor(s, LAYER("attention.output.LayerNorm.bias"), BERT_LN1B, l, 0, 1, C, 0);
        add_tensor(s, LAYER("intermediate.dense.weight"), BERT_FCW, l, 0, 1, F, C);
        add_tensor(s, LAYER("intermediate.dense.bias"), BERT_FCB, l, 0, 1, F, 0);
        add_tensor(s, LAYER("output.dense.weight"), BERT_FCPROJW, l, 0, 1, C, F);
        add_tensor(s, LAYER("output.dense.bias"), BERT_FCPROJB, l, 0, 1, C, 0);
        add_tensor(s, LAYER("output.LayerNorm.weight"), BERT_LN2W, l, 0, 1, C, 0);
        add_tensor(s, LAYER("output.LayerNorm.bias"), BERT_LN2B, l, 0, 1, C, 0);
#undef LAYER
    }
    if (s->pooler) {
        add_tensor(s, "pooler.dense.weight", BERT_POOLW, 0, 0, 1, C, C);
        add_tensor(s, "pooler.dense.bias", BERT_POOLB, 0, 0, 1, C, 0);
    }
    if (s->cls_labels) {
        add_tensor(s, "classifier.weight", BERT_CLSW, 0, 0, 1, s->cls_labels, C);
        add_tensor(s, "classifier.bias", BERT_CLSB, 0, 0, 1, s->cls_labels, 0);
    }
    st_entry e[80];
    int n = 0;
    for (int i = 0; i < n_tiny; i++) {
        if (s->skip && strstr(tiny[i].name, s->skip)) continue;
        int dt = (s->int_dtype && tiny[i].param == BERT_WTE) ? ST_I32 : s->dtype;
        e[n++] = (st_entry){tiny[i].name, dt, tiny[i].rank, {tiny[i].shape[0], tiny[i].shape[1]}, tiny[i].raw};
    }
    static int64_t pos_ids[P];
    static float extra_vals[C], cls_bias[V];
    for (int i = 0; i < P; i++) pos_ids[i] = i;
    if (s->extras) {
        e[n++] = (st_entry){"embeddings.position_ids", ST_I64, 2, {1, P}, pos_ids};
        e[n++] = (st_entry){"cls.predictions.bias", ST_F32, 1, {V}, cls_bias};
    }
    if (s->extra_layer) e[n++] = (st_entry){s->extra_layer, ST_F32, 1, {C}, extra_vals};
    bertc_err err = {0};
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    int rc = st_write(path, e, n, &err);
    CHECK(rc == BERTC_OK, "writing %s: %s", path, err.msg);
    return dir;
}

/* Every tensor written lands in its slice of bert_params. */
static void check_mapping(const hf_model *m, const char *what) {
    for (int i = 0; i < n_tiny; i++) {
        const tiny_tensor *t = &tiny[i];
        if (t->param == BERT_CLSW || t->param == BERT_CLSB) {
            if (m->new_head) continue;
        }
        size_t slice = (size_t)t->shape[0] * (t->rank == 2 ? (size_t)t->shape[1] : 1);
        const float *dst = bert_param_tensor(&m->params, t->param) +
                           ((size_t)t->layer * (size_t)t->nparts + (size_t)t->part) * slice;
        CHECK(memcmp(dst, t->vals, slice * 4) == 0, "%s: %s is not where bert.h puts it", what, t->name);
    }
}

static int load(hf_model *m, const char *dir, int num_labels, bertc_err *err) {
    hf_load_opts o;
    hf_load_opts_default(&o);
    o.num_labels = num_labels;
    return hf_model_load(m, dir, &o, err);
}

static void test_tiny_loads(void) {
    bertc_err err = {0};
    hf_model m = {0}, m2 = {0};
    tiny_spec base = {.prefix = "", .pooler = 1, .dtype = ST_F32, .extras = 1};

    const char *d = make_tiny("plain", &base, NULL);
    int rc = load(&m, d, -1, &err);
    CHECK(rc == BERTC_OK, "tiny BertModel: %s", err.msg);
    if (rc == BERTC_OK) {
        check_mapping(&m, "tiny BertModel");
        CHECK(m.new_head && !m.new_pooler && m.cfg.num_labels == 2, "tiny BertModel flags");
        CHECK(m.tok.do_lower_case == 0 && m.tok.strip_accents == 1 && m.tok.model_max_length == 0,
              "tokenizer_config: lower-case off, strip on, 1e30 ignored");
    }

    /* No pooler: a new one; the classifier head is the same as with a pooler. */
    tiny_spec s = base;
    s.pooler = 0;
    d = make_tiny("nopooler", &s, NULL);
    rc = load(&m2, d, -1, &err);
    CHECK(rc == BERTC_OK && m2.new_pooler == 1 && m2.new_head == 1, "no pooler: %s", err.msg);
    if (rc == BERTC_OK && m.params_memory) {
        CHECK(memcmp(m.params.clsw, m2.params.clsw, 2 * C * 4) == 0, "head independent of the pooler");
        CHECK(m2.params.poolw[0] != 0 && m2.params.poolb[0] == 0, "new pooler initialised");
        check_mapping(&m2, "no pooler");
    }
    hf_model_free(&m);
    hf_model_free(&m2);

    /* BertForSequenceClassification names with a 3-label head and id2label. */
    s = base;
    s.prefix = "bert.";
    s.cls_labels = 3;
    d = make_tiny("cls3", &s,
                  tiny_config("\"id2label\": {\"0\": \"a\", \"2\": \"c\", \"1\": \"b\"}, "
                              "\"label2id\": {\"a\": 0, \"b\": 1, \"c\": 2}"));
    rc = load(&m, d, -1, &err);
    CHECK(rc == BERTC_OK && !m.new_head && m.cfg.num_labels == 3, "bert. prefix + classifier: %s", err.msg);
    if (rc == BERTC_OK) {
        check_mapping(&m, "bert. prefix");
        CHECK(!strcmp(m.cfg.id2label[0], "a") && !strcmp(m.cfg.id2label[1], "b") && !strcmp(m.cfg.id2label[2], "c"),
              "id2label order");
    }
    hf_model_free(&m);
    rc = load(&m, d, 2, &err);
    CHECK(rc == BERTC_OK && m.new_head && m.cfg.num_labels == 2 && !strcmp(m.cfg.id2label[0], "LABEL_0"),
          "forcing 2 labels on a 3-label checkpoint gives a new head: %s", err.msg);
    hf_model_free(&m);
    /* The head does not match id2label: the classifier's shape is named. */
    d = make_tiny("cls3-cfg2", &s, tiny_config("\"id2label\": {\"0\": \"a\", \"1\": \"b\"}"));
    rc = load(&m, d, -1, &err);
    expect_fail(rc, &err, BERTC_ERR_FORMAT, "classifier.weight", "[3, 8]", "classifier rows != id2label");
    hf_model_free(&m);

    /* F16 and BF16 checkpoints convert exactly. */
    for (int k = 0; k < 2; k++) {
        s = base;
        s.dtype = k ? ST_BF16 : ST_F16;
        d = make_tiny(k ? "bf16" : "f16", &s, NULL);
        rc = load(&m, d, -1, &err);
        CHECK(rc == BERTC_OK && !strcmp(m.source_dtype, k ? "BF16" : "F16"), "%s: %s", k ? "BF16" : "F16", err.msg);
        if (rc == BERTC_OK) check_mapping(&m, k ? "BF16" : "F16");
        hf_model_free(&m);
    }

    /* TF-converted LayerNorm names. */
    s = base;
    s.tf_names = 1;
    d = make_tiny("tfnames", &s, NULL);
    rc = load(&m, d, -1, &err);
    CHECK(rc == BERTC_OK, "gamma/beta names: %s", err.msg);
    if (rc == BERTC_OK) check_mapping(&m, "gamma/beta");
    hf_model_free(&m);
}

static void test_tiny_rejections(void) {
    bertc_err err = {0};
    hf_model m = {0};
    tiny_spec base = {.prefix = "", .pooler = 1, .dtype = ST_F32};
    char path[320];
    int rc;
    const char *d;

#define REJECT(dirname, spec, cfg, want, n1, n2, what)     \
    do {                                                  \
        d = make_tiny(dirname, spec, cfg);                \
        rc = load(&m, d, -1, &err);                       \
        expect_fail(rc, &err, want, n1, n2, what);        \
        hf_model_free(&m);                                \
    } while (0)

    REJECT("malformed", &base, "{\"model_type\": \"bert\", \"hidden_size\": ", BERTC_ERR_FORMAT, "config.json",
           "JSON", "malformed config.json");
    REJECT("notobject", &base, "[1, 2]", BERTC_ERR_FORMAT, "config.json", "object", "config.json not an object");
    REJECT("roberta", &base, "{\"model_type\": \"roberta\"}", BERTC_ERR_UNSUPPORTED, "config.json", "model_type",
           "model_type roberta");
    REJECT("notype", &base, "{\"hidden_size\": 8}", BERTC_ERR_FORMAT, "config.json", "model_type",
           "model_type missing");
    REJECT("relu", &base, tiny_config("\"hidden_act\": \"relu\""), BERTC_ERR_FORMAT, "duplicate", "hidden_act",
           "duplicate hidden_act key");
    char cfg[2048];
    snprintf(cfg, sizeof cfg, "%s", tiny_config(NULL));
    char *act = strstr(cfg, "\"gelu\"");
    memcpy(act, "\"relu\"", 6);
    REJECT("relu2", &base, cfg, BERTC_ERR_UNSUPPORTED, "config.json", "hidden_act", "hidden_act relu");
    memcpy(act, "\"gelu\"", 6);
    REJECT("relkey", &base, tiny_config("\"position_embedding_type\": \"relative_key\""), BERTC_ERR_UNSUPPORTED,
           "config.json", "position_embedding_type", "position_embedding_type relative_key");
    char *hs = strstr(cfg, "\"hidden_size\": 8");
    char cfg2[2048];
    snprintf(cfg2, sizeof cfg2, "%.*s\"hidden_size\": \"8\"%s", (int)(hs - cfg), cfg, hs + 16);
    REJECT("hsstring", &base, cfg2, BERTC_ERR_FORMAT, "config.json", "hidden_size", "hidden_size as a string");
    char *nl = strstr(cfg, "\"num_hidden_layers\": 2, ");
    snprintf(cfg2, sizeof cfg2, "%.*s%s", (int)(nl - cfg), cfg, nl + 24);
    REJECT("nolayers", &base, cfg2, BERTC_ERR_FORMAT, "config.json", "num_hidden_layers", "num_hidden_layers missing");
    char *nh = strstr(cfg, "\"num_attention_heads\": 2");
    snprintf(cfg2, sizeof cfg2, "%.*s\"num_attention_heads\": 3%s", (int)(nh - cfg), cfg, nh + 24);
    REJECT("heads3", &base, cfg2, BERTC_ERR_FORMAT, "config.json", "num_attention_heads", "heads do not divide C");
    REJECT("badid", &base, tiny_config("\"id2label\": {\"0\": \"a\", \"5\": \"b\"}"), BERTC_ERR_FORMAT, "config.json",
           "id2label", "id2label key out of range");
    REJECT("badl2i", &base, tiny_config("\"id2label\": {\"0\": \"a\", \"1\": \"b\"}, \"label2id\": {\"a\": 1}"),
           BERTC_ERR_FORMAT, "config.json", "label2id", "label2id inconsistent");

    /* Tensors. */
    tiny_spec s = base;
    s.skip = "encoder.layer.1.output.dense.weight";
    REJECT("missing", &s, NULL, BERTC_ERR_NOTFOUND, "encoder.layer.1.output.dense.weight", "model.safetensors",
           "missing tensor");
    s = base;
    s.bad_shape = "encoder.layer.1.intermediate.dense.weight";
    REJECT("shape", &s, NULL, BERTC_ERR_FORMAT, "encoder.layer.1.intermediate.dense.weight",
           "shape [16, 9] in the file, config.json implies [16, 8]", "wrong shape");
    s = base;
    s.extra_layer = "encoder.layer.2.output.LayerNorm.bias";
    REJECT("extralayer", &s, NULL, BERTC_ERR_FORMAT, "encoder.layer.2.output.LayerNorm.bias", "num_hidden_layers",
           "a third layer in a 2-layer config");
    s = base;
    s.int_dtype = 1;
    REJECT("i32", &s, NULL, BERTC_ERR_UNSUPPORTED, "embeddings.word_embeddings.weight", "I32", "I32 weights");
    s = base;
    s.skip = "pooler.dense.bias";
    REJECT("halfpooler", &s, NULL, BERTC_ERR_NOTFOUND, "pooler.dense.bias", NULL, "pooler weight without bias");

    /* vocab.txt. */
    d = make_tiny("longvocab", &base, NULL);
    snprintf(path, sizeof path, "%s/vocab.txt", d);
    write_text(path, tiny_vocab(3));
    rc = load(&m, d, -1, &err);
    expect_fail(rc, &err, BERTC_ERR_FORMAT, "vocab.txt", "27 tokens", "vocab longer than vocab_size");
    hf_model_free(&m);
    write_text(path, "[PAD]\n[UNK]\n[SEP]\nhello\n");
    rc = load(&m, d, -1, &err);
    expect_fail(rc, &err, BERTC_ERR_FORMAT, "vocab.txt", "[CLS]", "vocab without [CLS]");
    hf_model_free(&m);
    write_text(path, "");
    rc = load(&m, d, -1, &err);
    expect_fail(rc, &err, BERTC_ERR_FORMAT, "vocab.txt", "empty", "empty vocab");
    hf_model_free(&m);
    unlink(path);
    rc = load(&m, d, -1, &err);
    expect_fail(rc, &err, BERTC_ERR_NOTFOUND, "vocab.txt", NULL, "missing vocab.txt");
    hf_model_free(&m);

    /* tokenizer_config.json with a wrong type. */
    d = make_tiny("badtok", &base, NULL);
    snprintf(path, sizeof path, "%s/tokenizer_config.json", d);
    write_text(path, "{\"do_lower_case\": \"yes\"}");
    rc = load(&m, d, -1, &err);
    expect_fail(rc, &err, BERTC_ERR_FORMAT, "tokenizer_config.json", "do_lower_case", "do_lower_case a string");
    hf_model_free(&m);

    /* A corrupt model.safetensors is named. */
    d = make_tiny("corrupt", &base, NULL);
    snprintf(path, sizeof path, "%s/model.safetensors", d);
    CHECK(truncate(path, 100) == 0, "truncate %s", path);
    rc = load(&m, d, -1, &err);
    expect_fail(rc, &err, BERTC_ERR_FORMAT, "model.safetensors", NULL, "truncated model.safetensors");
    hf_model_free(&m);

    /* Options. */
    d = make_tiny("opts", &base, NULL);
    rc = load(&m, d, 0, &err);
    expect_fail(rc, &err, BERTC_ERR_ARG, "num_labels", NULL, "num_labels 0");
    hf_model_free(&m);
#undef REJECT
}

static void test_resolve(void) {
    bertc_err err = {0};
    char out[4096], path[320];
    /* Names resolve under $XDG_CACHE_HOME/bertc/models. */
    char cache[200];
    snprintf(cache, sizeof cache, "%s/cache", tmpdir);
    const char *old = getenv("XDG_CACHE_HOME");
    char *saved = old ? strdup(old) : NULL;
    setenv("XDG_CACHE_HOME", cache, 1);
    snprintf(path, sizeof path, "%s/cache", tmpdir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/cache/bertc", tmpdir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/cache/bertc/models", tmpdir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/cache/bertc/models/tiny", tmpdir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/cache/bertc/models/tiny/config.json", tmpdir);
    write_text(path, "{}");
    int rc = hf_model_resolve("tiny", out, sizeof out, &err);
    CHECK(rc == BERTC_OK && strstr(out, "/cache/bertc/models/tiny"), "resolve a cached name: %s", err.msg);
    /* Never by the last component (docs/models.md): owner/name is the Hub id
     * owner/name, looked up as models--owner--name; a missing path is a missing path. */
    rc = hf_model_resolve("someone/tiny", out, sizeof out, &err);
    expect_fail(rc, &err, BERTC_ERR_NOTFOUND, "models--someone--tiny", "no such folder", "owner/name is not a cached name");
    snprintf(path, sizeof path, "%s/tiny", tmpdir); /* tmpdir exists, tmpdir/tiny does not */
    rc = hf_model_resolve(path, out, sizeof out, &err);
    expect_fail(rc, &err, BERTC_ERR_NOTFOUND, "no such folder", NULL, "a missing path is not a cached name");
    rc = hf_model_resolve(tmpdir, out, sizeof out, &err);
    CHECK(rc == BERTC_OK && !strcmp(out, tmpdir), "resolve a folder path");
    rc = hf_model_resolve("no-such-model-xyz", out, sizeof out, &err);
    expect_fail(rc, &err, BERTC_ERR_NOTFOUND, "no-such-model-xyz", "tools/setup.sh model", "unknown model name");
    hf_model m = {0};
    rc = hf_model_load(&m, "no-such-model-xyz", NULL, &err);
    expect_fail(rc, &err, BERTC_ERR_NOTFOUND, "no-such-model-xyz", "tools/setup.sh model", "load an unknown name");
    hf_model_free(&m);
    if (saved) { setenv("XDG_CACHE_HOME", saved, 1); free(saved); }
    else unsetenv("XDG_CACHE_HOME");
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/bertc-hf-XXXXXX");
    int made = mkdtemp(tmpdir) != NULL;  /* REQUIRE evaluates its condition twice */
    REQUIRE(made, "mkdtemp failed");
    test_tiny_loads();
    test_tiny_rejections();
    test_resolve();
    test_minilm();
    free_tiny();
    nftw(tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    return TEST_END();
}
