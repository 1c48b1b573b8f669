/* fuzz_vocab.c: bert_tokenizer_load on an arbitrary vocab.txt, then a few
 * lookups and one encoding with what it accepted. The first byte picks the
 * tokenizer options. */
#include "../src/tokenizer.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    bert_tokenizer_opts o;
    bert_tokenizer_opts_default(&o);
    o.do_lower_case = data[0] & 1;
    o.strip_accents = (int)((data[0] >> 1) % 3) - 1;
    o.tokenize_chinese_chars = (data[0] >> 3) & 1;
    const char *path = fuzz_path("vocab.txt");
    if (fuzz_write(path, data + 1, size - 1) != 0) return 0;
    bertc_err err = {0};
    bert_tokenizer *t = NULL;
    if (bert_tokenizer_load(&t, path, &o, &err) != BERTC_OK) {
        if (t || err.code == BERTC_OK) abort();
        return 0;
    }
    int n = bert_tokenizer_vocab_size(t);
    bert_special_ids sp = bert_tokenizer_special_ids(t);
    if (sp.cls < 0 || sp.cls >= n || sp.sep < 0 || sp.sep >= n || sp.pad < 0 || sp.unk < 0) abort();
    for (int id = 0; id < n && id < 64; id++) { /* a token read back maps to a valid id */
        const char *tok = bert_tokenizer_id_to_token(t, id);
        if (tok) {
            int back = bert_tokenizer_token_to_id(t, tok, strlen(tok));
            if (back < -1 || back >= n) abort();
        }
    }
    static const char text[] = "Hello, WORLD! unaffable [SEP] caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 ##ing";
    bert_encoding e = {0};
    if (bert_encode(t, text, sizeof text - 1, "pair", 4, 16, BERT_TRUNC_HEAD, &e, &err) != BERTC_OK) abort();
    for (int i = 0; i < e.n; i++)
        if (e.ids[i] < 0 || e.ids[i] >= n) abort();
    bert_encoding_free(&e);
    bert_tokenizer_free(t);
    return 0;
}
