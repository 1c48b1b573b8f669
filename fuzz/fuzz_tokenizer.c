/* fuzz_tokenizer.c: bert_tokenize and bert_encode on arbitrary bytes (invalid
 * UTF-8, NULs, special tokens, long words) with a fixed vocabulary. Layout of
 * an input: byte 0 options, byte 1 max_length, then text A, optionally
 * "\xff\xfe" and text B (a pair). Checks the documented invariants: ids in the
 * vocabulary, at most max_length tokens, offsets inside their text and ordered,
 * and padding. */
#include "../src/tokenizer.h"
#include "fuzz_util.h"

static bert_tokenizer *toks[8];

static const char *const vocab_words[] = {
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "a", "hello", "world", "un", "##aff", "##able",
    "##ing", "##s", "run", "caf", "##e", "cafe", "\xc3\xa9", "e", "!", ",", ".", "'", "-", "\xe4\xb8\xad",
    "\xe6\x96\x87", "##\xe6\x96\x87", "x", "##x", "##y", "y", "1", "##1", "2", "\xce\xb1", "##\xce\xb2",
    "\xf0\x9f\x98\x80", "\xe2\x82\xac", "\xc3\x9f", "ss", "##ss", "i", "##i", "\xc4\xb1", "[SEP]x", "",
};

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    const char *path = fuzz_path("tok_vocab.txt");
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    for (size_t i = 0; i < sizeof vocab_words / sizeof vocab_words[0]; i++) fprintf(f, "%s\n", vocab_words[i]);
    fclose(f);
    for (int k = 0; k < 8; k++) {
        bert_tokenizer_opts o;
        bert_tokenizer_opts_default(&o);
        o.do_lower_case = k & 1;
        o.strip_accents = (k >> 1 & 1) ? (k & 1) ^ 1 : -1;
        o.tokenize_chinese_chars = !(k >> 2 & 1);
        o.max_input_chars_per_word = (k & 4) ? 5 : 100;
        bertc_err err = {0};
        if (bert_tokenizer_load(&toks[k], path, &o, &err) != BERTC_OK) abort();
    }
    return 0;
}

static void check(const bert_encoding *e, int max_length, int nvocab, size_t alen, size_t blen, int pair) {
    if (e->n < 0 || (max_length > 0 && e->n > max_length)) abort();
    for (int i = 0; i < e->n; i++) {
        if (e->ids[i] < 0 || e->ids[i] >= nvocab) abort();
        if (e->type_ids[i] != 0 && !(pair && e->type_ids[i] == 1)) abort();
        size_t len = e->type_ids[i] ? blen : alen;
        int32_t b0 = e->byte_offsets[2 * i], b1 = e->byte_offsets[2 * i + 1];
        int32_t c0 = e->offsets[2 * i], c1 = e->offsets[2 * i + 1];
        if (b0 < 0 || b1 < b0 || (size_t)b1 > len || c0 < 0 || c1 < c0 || c1 > b1) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    bert_tokenizer *t = toks[data[0] & 7];
    int nvocab = bert_tokenizer_vocab_size(t);
    bert_trunc trunc = (bert_trunc)((data[0] >> 3) % 3);
    int max_length = data[1] < 8 ? 0 : data[1];
    const char *a = (const char *)data + 2, *b = NULL;
    size_t alen = size - 2, blen = 0;
    for (size_t i = 0; i + 1 < alen; i++)
        if ((uint8_t)a[i] == 0xff && (uint8_t)a[i + 1] == 0xfe) {
            b = a + i + 2;
            blen = alen - i - 2;
            alen = i;
            break;
        }
    bertc_err err = {0};
    bert_encoding e = {0};
    if (bert_tokenize(t, a, alen, &e, &err) != BERTC_OK) abort();
    check(&e, 0, nvocab, alen, 0, 0);
    if (bert_encode(t, a, alen, b, blen, max_length, trunc, &e, &err) != BERTC_OK) abort();
    check(&e, max_length, nvocab, alen, blen, b != NULL);
    int32_t ids[256], types[256], mask[256];
    if (max_length > 0 && bert_pad_batch(ids, types, mask, t, &e, 1, max_length, &err) != BERTC_OK) abort();
    bert_encoding_free(&e);
    return 0;
}
