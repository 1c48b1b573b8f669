/* fuzz_config.c: hf_model_load on a folder whose config.json (or, when the
 * first byte is odd, tokenizer_config.json) is the fuzzer's input; the other
 * files are a valid tiny model written once (V=16, C=4, L=1, NH=2, F=8, P=8).
 * Exercises the JSON parser use, every field's type/range checks, label maps,
 * and the size checks that must come before any allocation. */
#include "../src/hfmodel.h"
#include "../src/safetensors.h"
#include "fuzz_util.h"

static char dir[512];
static const char good_config[] =
    "{\"model_type\": \"bert\", \"vocab_size\": 16, \"hidden_size\": 4, \"num_hidden_layers\": 1,"
    " \"num_attention_heads\": 2, \"intermediate_size\": 8, \"max_position_embeddings\": 8,"
    " \"type_vocab_size\": 2}";

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    snprintf(dir, sizeof dir, "%s", fuzz_path("model"));
    mkdir(dir, 0700);
    char p[600];
    snprintf(p, sizeof p, "%s/vocab.txt", dir);
    FILE *f = fopen(p, "wb");
    if (!f) abort();
    fputs("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\n", f);
    for (int i = 7; i < 16; i++) fprintf(f, "w%d\n", i);
    fclose(f);
    static float w[64];
    for (int i = 0; i < 64; i++) w[i] = 0.01f * (float)(i % 7);
    enum { V = 16, C = 4, F = 8, P = 8 };
    st_entry e[] = {
        {"embeddings.word_embeddings.weight", ST_F32, 2, {V, C}, w},
        {"embeddings.position_embeddings.weight", ST_F32, 2, {P, C}, w},
        {"embeddings.token_type_embeddings.weight", ST_F32, 2, {2, C}, w},
        {"embeddings.LayerNorm.weight", ST_F32, 1, {C}, w},
        {"embeddings.LayerNorm.bias", ST_F32, 1, {C}, w},
        {"encoder.layer.0.attention.self.query.weight", ST_F32, 2, {C, C}, w},
        {"encoder.layer.0.attention.self.query.bias", ST_F32, 1, {C}, w},
        {"encoder.layer.0.attention.self.key.weight", ST_F32, 2, {C, C}, w},
        {"encoder.layer.0.attention.self.key.bias", ST_F32, 1, {C}, w},
        {"encoder.layer.0.attention.self.value.weight", ST_F32, 2, {C, C}, w},
        {"encoder.layer.0.attention.self.value.bias", ST_F32, 1, {C}, w},
        {"encoder.layer.0.attention.output.dense.weight", ST_F32, 2, {C, C}, w},
        {"encoder.layer.0.attention.output.dense.bias", ST_F32, 1, {C}, w},
        {"encoder.layer.0.attention.output.LayerNorm.weight", ST_F32, 1, {C}, w},
        {"encoder.layer.0.attention.output.LayerNorm.bias", ST_F32, 1, {C}, w},
        {"encoder.layer.0.intermediate.dense.weight", ST_F32, 2, {F, C}, w},
        {"encoder.layer.0.intermediate.dense.bias", ST_F32, 1, {F}, w},
        {"encoder.layer.0.output.dense.weight", ST_F32, 2, {C, F}, w},
        {"encoder.layer.0.output.dense.bias", ST_F32, 1, {C}, w},
        {"encoder.layer.0.output.LayerNorm.weight", ST_F32, 1, {C}, w},
        {"encoder.layer.0.output.LayerNorm.bias", ST_F32, 1, {C}, w},
        {"classifier.weight", ST_F32, 2, {2, C}, w},
        {"classifier.bias", ST_F32, 1, {2}, w},
    };
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    bertc_err err = {0};
    if (st_write(p, e, (int)(sizeof e / sizeof e[0]), &err) != BERTC_OK) abort();
    /* The seed folder must load, or the harness tests nothing. */
    snprintf(p, sizeof p, "%s/config.json", dir);
    fuzz_write(p, good_config, sizeof good_config - 1);
    hf_model m = {0};
    if (hf_model_load(&m, dir, NULL, &err) != BERTC_OK) {
        fprintf(stderr, "fuzz_config: the seed model does not load: %s\n", err.msg);
        abort();
    }
    hf_model_free(&m);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    char cfg[600], tokcfg[600];
    snprintf(cfg, sizeof cfg, "%s/config.json", dir);
    snprintf(tokcfg, sizeof tokcfg, "%s/tokenizer_config.json", dir);
    if (data[0] & 1) {
        fuzz_write(cfg, good_config, sizeof good_config - 1);
        fuzz_write(tokcfg, data + 1, size - 1);
    } else {
        fuzz_write(cfg, data + 1, size - 1);
        unlink(tokcfg);
    }
    bertc_err err = {0};
    hf_model m = {0};
    hf_load_opts o;
    hf_load_opts_default(&o);
    o.num_labels = (data[0] >> 1) & 1 ? 3 : -1;
    int rc = hf_model_load(&m, dir, &o, &err);
    if (rc != BERTC_OK && (err.code == BERTC_OK || !err.msg[0])) abort();
    if (rc == BERTC_OK && (m.cfg.num_labels < 1 || !m.params_memory)) abort();
    hf_model_free(&m);
    bert_tokenizer *t = NULL;
    if (hf_tokenizer_load(&t, dir, &err) == BERTC_OK) bert_tokenizer_free(t);
    return 0;
}
