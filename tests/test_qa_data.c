/* test_qa_data.c: SQuAD readers and run_qa.py's features against transformers
 * (fixtures from tools/gen_qa.py): the JSON Lines and SQuAD JSON forms of 200
 * generated examples read to the same examples; their features at max_length
 * 64 / stride 16 and 384 / 128, padded and not, equal the fast tokenizer's
 * output with run_qa's arguments token for token (ids, type ids, offsets,
 * sequence ids, word ids, overflow mapping) and run_qa's training labels and
 * validation offsets; malformed files and impossible windows fail with a
 * message naming the file and the line or question id. */
#include "tasks/qa_data.h"
#include "test.h"

#include <cjson/cJSON.h>

static cJSON *load_json(const char *name) {
    char *text = NULL;
    size_t len = 0;
    bertc_err err = {0};
    if (bertc_read_file(test_fixture(name), 256 << 20, &text, &len, &err)) return NULL;
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    return j;
}

static int int_at(const cJSON *a, int i) { return cJSON_GetArrayItem(a, i)->valueint; }

/* Compares one setting's features (padded or not) with the fixture's. */
static void check_setting(const bert_tokenizer *tok, const bertc_qa_set *set, const cJSON *setting, int padded) {
    bertc_err err = {0};
    bertc_qa_opts o;
    bertc_qa_opts_default(&o);
    o.max_length = cJSON_GetObjectItem(setting, "max_length")->valueint;
    o.stride = cJSON_GetObjectItem(setting, "stride")->valueint;
    o.pad_to_max_length = padded;
    bertc_qa_features f = {0};
    int rc = bertc_qa_features_build(&f, tok, set, &o, &err);
    CHECK(rc == BERTC_OK, "features M %d S %d: %s", o.max_length, o.stride, err.msg);
    const cJSON *feats = cJSON_GetObjectItem(setting, "features");
    int want = cJSON_GetArraySize(feats), bad_rows = 0, bad_labels = 0;
    CHECK(f.F == want, "M %d S %d: %d features, transformers %d", o.max_length, o.stride, f.F, want);
    for (int i = 0; rc == BERTC_OK && i < f.F && i < want; i++) {
        const cJSON *w = cJSON_GetArrayItem(feats, i);
        const cJSON *ids = cJSON_GetObjectItem(w, "input_ids"), *tt = cJSON_GetObjectItem(w, "token_type_ids");
        const cJSON *off = cJSON_GetObjectItem(w, "offsets"), *seq = cJSON_GetObjectItem(w, "sequence_ids");
        const cJSON *wid = cJSON_GetObjectItem(w, "word_ids"), *val = cJSON_GetObjectItem(w, "val_offsets");
        int n = cJSON_GetArraySize(ids), same = f.len[i] == n && f.example[i] == cJSON_GetObjectItem(w, "example")->valueint;
        size_t base = (size_t)i * f.M;
        for (int t = 0; same && t < f.M; t++) {
            int real = t < n;
            const cJSON *ot = real ? cJSON_GetArrayItem(off, t) : NULL;
            int vb = -1, ve = -1;
            if (real) vb = int_at(cJSON_GetArrayItem(val, t), 0), ve = int_at(cJSON_GetArrayItem(val, t), 1);
            if (f.input_ids[base + t] != (real ? int_at(ids, t) : 0) ||
                f.token_type_ids[base + t] != (real ? int_at(tt, t) : 0) || f.attention_mask[base + t] != real ||
                f.offsets[2 * (base + t)] != (real ? int_at(ot, 0) : 0) ||
                f.offsets[2 * (base + t) + 1] != (real ? int_at(ot, 1) : 0) ||
                f.sequence_ids[base + t] != (real ? int_at(seq, t) : -1) ||
                f.word_ids[base + t] != (real ? int_at(wid, t) : -1) || f.context_offsets[2 * (base + t)] != vb ||
                f.context_offsets[2 * (base + t) + 1] != ve)
                same = 0;
            if (!same)
                fprintf(stderr, "  M %d feature %d token %d: id %d/%d off (%d,%d)/(%d,%d) seq %d/%d word %d/%d\n",
                        o.max_length, i, t, f.input_ids[base + t], real ? int_at(ids, t) : 0,
                        f.offsets[2 * (base + t)], f.offsets[2 * (base + t) + 1], real ? int_at(ot, 0) : 0,
                        real ? int_at(ot, 1) : 0, f.sequence_ids[base + t], real ? int_at(seq, t) : -1,
                        f.word_ids[base + t], real ? int_at(wid, t) : -1);
        }
        bad_rows += !same;
        int ws = cJSON_GetObjectItem(w, padded ? "start_pad" : "start_nopad")->valueint;
        int we = cJSON_GetObjectItem(w, padded ? "end_pad" : "end_nopad")->valueint;
        if (f.start_positions[i] != ws || f.end_positions[i] != we) {
            bad_labels++;
            fprintf(stderr, "  M %d pad %d feature %d (example %d): labels %d..%d, run_qa %d..%d\n", o.max_length,
                    padded, i, f.example[i], f.start_positions[i], f.end_positions[i], ws, we);
        }
    }
    CHECK(bad_rows == 0, "M %d S %d pad %d: %d of %d features differ from transformers'", o.max_length, o.stride,
          padded, bad_rows, want);
    CHECK(bad_labels == 0, "M %d S %d pad %d: %d of %d label pairs differ from run_qa's", o.max_length, o.stride,
          padded, bad_labels, want);
    printf("qa_data: M %d S %d %s: %d features equal transformers' (ids, types, offsets, sequence/word ids, "
           "labels, validation offsets)\n", o.max_length, o.stride, padded ? "padded" : "unpadded", f.F);
    bertc_qa_features_free(&f);
}

static int same_examples(const bertc_qa_set *a, const bertc_qa_set *b) {
    if (a->n != b->n) return 0;
    for (int i = 0; i < a->n; i++) {
        const bertc_qa_example *x = &a->ex[i], *y = &b->ex[i];
        if (strcmp(x->id, y->id) || strcmp(x->question, y->question) || strcmp(x->context, y->context) ||
            x->n_answers != y->n_answers || x->context_chars != y->context_chars)
            return 0;
        for (int k = 0; k < x->n_answers; k++)
            if (strcmp(x->answer_text[k], y->answer_text[k]) || x->answer_start[k] != y->answer_start[k] ||
                x->answer_byte[k] != y->answer_byte[k])
                return 0;
    }
    return 1;
}

/* Parses text and expects code, with every string of `needles` in the message. */
static void expect_error(const char *text, int code, const char *n1, const char *n2) {
    bertc_qa_set s = {0};
    bertc_err err = {0};
    int rc = bertc_qa_parse(&s, "bad.json", text, strlen(text), &err);
    CHECK(rc == code && strstr(err.msg, n1) && (!n2 || strstr(err.msg, n2)) && !strchr(err.msg, '\n'),
          "error case: rc %d (want %d), message \"%s\" should name \"%s\"%s%s", rc, code, err.msg, n1,
          n2 ? " and " : "", n2 ? n2 : "");
    CHECK(s.n == 0 && s.ex == NULL, "a failed read leaves the set empty");
    bertc_qa_set_free(&s);
}

int main(void) {
    bertc_err err = {0};
    char vocab[4200];
    snprintf(vocab, sizeof vocab, "%s/vocab.txt", test_model_dir());
    bert_tokenizer *tok = NULL;
    REQUIRE(bert_tokenizer_load(&tok, vocab, NULL, &err) == BERTC_OK, "%s: %s", vocab, err.msg);
    bertc_qa_set jl = {0}, sq = {0};
    REQUIRE(bertc_qa_read(&jl, test_fixture("qa/train.jsonl"), &err) == BERTC_OK, "%s (run `make fixtures`)", err.msg);
    REQUIRE(bertc_qa_read(&sq, test_fixture("qa/squad.json"), &err) == BERTC_OK, "%s", err.msg);
    CHECK(jl.n == 200 && jl.format == 2 && sq.format == 1, "200 examples (%d), formats %d/%d", jl.n, jl.format,
          sq.format);
    CHECK(same_examples(&jl, &sq), "JSON Lines and SQuAD JSON give the same examples");
    CHECK(jl.ex[3].line == 4 && sq.ex[3].line == 0, "JSON Lines line numbers");
    cJSON *fx = load_json("qa/features.json");
    REQUIRE(fx, "qa/features.json missing: run `make build/fixtures/qa.stamp`");
    printf("qa_data: reference transformers %s, tokenizers %s\n", cJSON_GetObjectItem(fx, "transformers")->valuestring,
           cJSON_GetObjectItem(fx, "tokenizers")->valuestring);
    const cJSON *st;
    cJSON_ArrayForEach(st, cJSON_GetObjectItem(fx, "settings")) {
        check_setting(tok, &jl, st, 1);
        check_setting(tok, &jl, st, 0);
    }
    cJSON_Delete(fx);

    /* window arithmetic limits: no room for the context, stride too large */
    bertc_qa_example e = jl.ex[0];
    const char *longq = "what is the name of the river that runs through the old city north of the museum "
                        "built during the nineteenth century by the people of the region?";
    e.question = (char *)longq, e.question_len = strlen(longq);
    bertc_qa_opts o;
    bertc_qa_opts_default(&o);
    o.max_length = 20, o.stride = 2;
    bertc_qa_features f = {0};
    int rc = bertc_qa_features_add(&f, tok, &e, 0, &o, &err);
    CHECK(rc == BERTC_ERR_ARG && strstr(err.msg, e.id) && strstr(err.msg, "too short"),
          "too long a question: %d %s", rc, err.msg);
    o.max_length = 64, o.stride = 60;
    rc = bertc_qa_features_add(&f, tok, &jl.ex[1], 1, &o, &err);
    CHECK(rc == BERTC_ERR_ARG && strstr(err.msg, "stride"), "stride too large: %d %s", rc, err.msg);
    bertc_qa_features_free(&f);

    /* malformed files */
    expect_error("{\"id\": \"a\", \"question\": \"q\", \"context\": \"c d\", \"answers\": {\"text\": [\"d\"], "
                 "\"answer_start\": [2]}}\n{\"id\": \"b\", \"question\": \"q\"",
                 BERTC_ERR_FORMAT, "bad.json:2", "JSON");
    expect_error("{\"id\": \"a\", \"question\": \"q\", \"answers\": {\"text\": [], \"answer_start\": []}}\n",
                 BERTC_ERR_FORMAT, "bad.json:1", "context");
    expect_error("{\"id\": \"a\", \"question\": \"q\", \"context\": \"\", \"answers\": {\"text\": [], "
                 "\"answer_start\": []}}\n",
                 BERTC_ERR_FORMAT, "\"a\"", "empty context");
    expect_error("{\"id\": \"x1\", \"question\": \"q\", \"context\": \"caf\\u00e9 au lait\", \"answers\": "
                 "{\"text\": [\"au\"], \"answer_start\": [6]}}\n",
                 BERTC_ERR_FORMAT, "\"x1\"", "answer_start 6");
    expect_error("{\"id\": \"x1\", \"question\": \"q\", \"context\": \"caf\\u00e9 au lait\", \"answers\": "
                 "{\"text\": [\"au\"], \"answer_start\": [5]}}\n{\"id\": \"x1\", \"question\": \"q\", \"context\": "
                 "\"c\", \"answers\": {\"text\": [], \"answer_start\": []}}\n",
                 BERTC_ERR_FORMAT, "x1", "twice");
    expect_error("{\"data\": [{\"paragraphs\": [{\"context\": \"abc def\", \"qas\": [{\"id\": \"s1\", \"question\": "
                 "\"q\", \"answers\": [{\"text\": \"def\", \"answer_start\": 3}]}]}]}]}",
                 BERTC_ERR_FORMAT, "bad.json", "\"s1\"");
    expect_error("{\"data\": [{\"paragraphs\": [{\"context\": \"abc def\", \"qas\": [{\"id\": \"s2\", \"question\": "
                 "\"q\", \"is_impossible\": true, \"answers\": [{\"text\": \"def\", \"answer_start\": 4}]}]}]}]}",
                 BERTC_ERR_FORMAT, "\"s2\"", "is_impossible");
    expect_error("{\"data\": [{\"paragraphs\": [{\"context\": \"abc def\", \"qas\": [{\"id\": \"s3\", "
                 "\"answers\": []}]}]}]}",
                 BERTC_ERR_FORMAT, "bad.json", "question");
    expect_error("{\"data\": [\n{\"paragraphs\": [}\n]}", BERTC_ERR_FORMAT, "bad.json:2", "bad JSON");
    /* a good SQuAD v1.1-style file with code point offsets after multi-byte characters */
    const char *good = "{\"data\": [{\"paragraphs\": [{\"context\": \"\\u5317\\u4eac caf\\u00e9 \\ud83d\\ude00 ok\", "
                       "\"qas\": [{\"id\": \"g\", \"question\": \"q\", \"answers\": [{\"text\": \"ok\", "
                       "\"answer_start\": 10}]}]}]}]}";
    bertc_qa_set g = {0};
    rc = bertc_qa_parse(&g, "good.json", good, strlen(good), &err);
    CHECK(rc == BERTC_OK && g.n == 1 && g.ex[0].answer_byte[0] == 18 && g.ex[0].context_chars == 12,
          "code point offsets: %d %s", rc, err.msg);
    bertc_qa_set_free(&g);

    bertc_qa_set_free(&jl), bertc_qa_set_free(&sq);
    bert_tokenizer_free(tok);
    return TEST_END();
}
