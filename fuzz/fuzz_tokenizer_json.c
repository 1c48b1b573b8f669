/* fuzz_tokenizer_json.c: bert_tokenizer_json_load on an arbitrary tokenizer.json;
 * what it accepts must encode with ids in range and survive a round trip
 * through bert_tokenizer_json_write with the same vocabulary and options. The
 * first byte picks normalizer_options (bit 0). */
#include "../src/tokenizer_json.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const char *path = fuzz_path("tokenizer.json"), *back = fuzz_path("back.json");
    if (fuzz_write(path, data + 1, size - 1) != 0) return 0;
    bert_tokenizer_opts o;
    bert_tokenizer_opts_default(&o);
    bertc_err err = {0};
    bert_tokenizer *t = NULL;
    if (bert_tokenizer_json_load(&t, &o, path, data[0] & 1, &err) != BERTC_OK) {
        if (t || err.code == BERTC_OK || strchr(err.msg, '\n')) abort();
        return 0;
    }
    int n = bert_tokenizer_vocab_size(t);
    bert_special_ids sp = bert_tokenizer_special_ids(t);
    if (sp.cls < 0 || sp.cls >= n || sp.sep < 0 || sp.sep >= n || sp.pad < 0 || sp.unk < 0) abort();
    static const char text[] = "Hello, WORLD! unaffable [SEP] caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 ##ing";
    bert_encoding e = {0};
    if (bert_encode(t, text, sizeof text - 1, "pair", 4, 16, BERT_TRUNC_HEAD, &e, &err) != BERTC_OK) abort();
    for (int i = 0; i < e.n; i++)
        if (e.ids[i] < 0 || e.ids[i] >= n) abort();
    bert_encoding_free(&e);
    /* round trip: what bertc writes it reads back to the same tokenizer */
    if (bert_tokenizer_json_write(t, back, &err) != BERTC_OK) abort();
    bert_tokenizer_opts o2;
    bert_tokenizer_opts_default(&o2);
    bert_tokenizer *t2 = NULL;
    if (bert_tokenizer_json_load(&t2, &o2, back, 1, &err) != BERTC_OK) abort();
    if (bert_tokenizer_vocab_size(t2) != n || o2.do_lower_case != o.do_lower_case ||
        o2.strip_accents != o.strip_accents || o2.tokenize_chinese_chars != o.tokenize_chinese_chars ||
        o2.max_input_chars_per_word != o.max_input_chars_per_word)
        abort();
    for (int id = 0; id < n; id++)
        if (strcmp(bert_tokenizer_id_to_token(t, id), bert_tokenizer_id_to_token(t2, id)) != 0) abort();
    bert_tokenizer_free(t2);
    bert_tokenizer_free(t);
    return 0;
}
