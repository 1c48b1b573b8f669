/* test_token_decode.c: token-classification decoding (src/tasks/token_decode.c)
 * against transformers' TokenClassificationPipeline.postprocess.
 *
 * Fixture: $BERTC_FIXTURES/token_decode/cases.json from tools/gen_token_decode.py
 * (44 texts x seeded logits (n, 9), the pipeline's entities for none, simple,
 * first, average, max, and none/simple with ignore_labels=[]; then 12 of the texts
 * with labels outside plain BIO: "PER", "E-LOC", "B-X-Y"). For each: bertc's
 * encoding must have the pipeline's input_ids, then the entities must match in
 * number and order, strings exactly, start/end/index exactly and scores within
 * SCORE_TOL; bertc_token_entities_json must equal json.dumps with the scores
 * masked (scores compared as numbers), and the cJSON tree must have the same keys
 * in the same order. Then unit checks: the WordPiece decoder's cleanup, Python's
 * float repr, the strategy names and the refusals.
 *
 * Tolerances:
 *   SCORE_TOL 1e-5  numpy computes the softmax (and the means of the groups) in
 *                   float32, bertc in double: they differ by ~1e-7. */
#include "test.h"

#include <cjson/cJSON.h>

#include "hfmodel.h"
#include "tasks/token_decode.h"

#define SCORE_TOL 1e-5

static const char *const STRATS[] = {"none", "simple", "first", "average", "max", "none:keep", "simple:keep"};

static int hexval(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Copies s into a malloc'd string with every score number replaced by "S";
 * the numbers go to nums (capacity cap), their count to *nn. */
static char *mask_scores(const char *s, double *nums, int cap, int *nn) {
    size_t n = strlen(s);
    char *o = malloc(n + 1), *p = o;
    const char *key = "\"score\": ";
    size_t kl = strlen(key);
    *nn = 0;
    while (*s) {
        if (strncmp(s, key, kl) == 0) {
            memcpy(p, key, kl); p += kl; s += kl;
            char *end;
            double v = strtod(s, &end);
            if (*nn < cap) nums[*nn] = v;
            (*nn)++;
            s = end;
            *p++ = 'S';
        } else *p++ = *s++;
    }
    *p = '\0';
    return o;
}

static void check_case(const bert_tokenizer *tok, const cJSON *c, const char *const *labels, int NL, int ci) {
    const char *hex = cJSON_GetObjectItem(c, "text_hex")->valuestring;
    size_t len = strlen(hex) / 2;
    char *text = malloc(len + 1);
    for (size_t i = 0; i < len; i++) text[i] = (char)(hexval(hex[2 * i]) * 16 + hexval(hex[2 * i + 1]));
    text[len] = '\0';
    bertc_err err = {0};
    bert_encoding enc = {0};
    int rc = bert_encode(tok, text, len, NULL, 0, 512, BERT_TRUNC_HEAD, &enc, &err);
    CHECK(rc == BERTC_OK, "case %d: bert_encode: %s", ci, err.msg);
    const cJSON *ids = cJSON_GetObjectItem(c, "input_ids"), *lg = cJSON_GetObjectItem(c, "logits");
    int n = cJSON_GetArraySize(ids);
    int same = rc == BERTC_OK && enc.n == n;
    for (int i = 0; same && i < n; i++) same = enc.ids[i] == cJSON_GetArrayItem(ids, i)->valueint;
    CHECK(same, "case %d (%s): bertc's %d ids differ from transformers' %d", ci, text, enc.n, n);
    if (!same) { free(text); bert_encoding_free(&enc); return; }
    float *logits = malloc((size_t)n * NL * sizeof *logits);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < NL; j++)
            logits[i * NL + j] = (float)cJSON_GetArrayItem(cJSON_GetArrayItem(lg, i), j)->valuedouble;

    for (size_t si = 0; si < sizeof STRATS / sizeof STRATS[0]; si++) {
        const char *key = STRATS[si];
        int strategy = -1;
        char name[16];
        snprintf(name, sizeof name, "%s", key);
        char *colon = strchr(name, ':');
        if (colon) *colon = '\0';
        CHECK(bertc_token_strategy_parse(&strategy, name, &err) == BERTC_OK, "parse %s", name);
        static const char *const keep_all[1] = {NULL};
        bertc_entity *ents = NULL;
        int ne = -1;
        rc = bertc_token_decode(&ents, &ne, tok, text, len, &enc, logits, NL, labels, strategy,
                                colon ? keep_all : NULL, 0, &err);
        CHECK(rc == BERTC_OK, "case %d %s: %s", ci, key, err.msg);
        if (rc != BERTC_OK) continue;
        const cJSON *exp = cJSON_GetObjectItem(cJSON_GetObjectItem(c, "expected"), key);
        int nx = cJSON_GetArraySize(exp);
        CHECK(ne == nx, "case %d (%s) %s: %d entities, transformers %d", ci, text, key, ne, nx);
        for (int k = 0; k < ne && k < nx; k++) {
            const cJSON *x = cJSON_GetArrayItem(exp, k);
            const bertc_entity *e = &ents[k];
            const char *xe = cJSON_GetObjectItem(x, strategy == BERTC_TOKEN_NONE ? "entity" : "entity_group")->valuestring;
            const char *xw = cJSON_GetObjectItem(x, "word")->valuestring;
            double xs = cJSON_GetObjectItem(x, "score")->valuedouble;
            int xst = cJSON_GetObjectItem(x, "start")->valueint, xen = cJSON_GetObjectItem(x, "end")->valueint;
            CHECK(strcmp(e->entity, xe) == 0, "case %d %s #%d: entity %s, transformers %s", ci, key, k, e->entity, xe);
            CHECK(strcmp(e->word, xw) == 0, "case %d %s #%d: word \"%s\", transformers \"%s\"", ci, key, k, e->word, xw);
            CHECK(fabs(e->score - xs) <= SCORE_TOL, "case %d %s #%d: score %.9g, transformers %.9g", ci, key, k, e->score, xs);
            CHECK(e->start == xst && e->end == xen, "case %d %s #%d: [%d, %d), transformers [%d, %d)", ci, key, k,
                  e->start, e->end, xst, xen);
            if (strategy == BERTC_TOKEN_NONE)
                CHECK(e->index == cJSON_GetObjectItem(x, "index")->valueint, "case %d %s #%d: index %d, transformers %d",
                      ci, key, k, e->index, cJSON_GetObjectItem(x, "index")->valueint);
        }
        /* the JSON text, scores masked, then the scores as numbers */
        char *js = bertc_token_entities_json(ents, ne, strategy);
        const char *xjs = cJSON_GetObjectItem(cJSON_GetObjectItem(c, "json"), key)->valuestring;
        double s1[2048], s2[2048];
        int n1, n2;
        char *m1 = mask_scores(js, s1, 2048, &n1), *m2 = mask_scores(xjs, s2, 2048, &n2);
        CHECK(strcmp(m1, m2) == 0, "case %d %s: JSON differs:\n  bertc        %s\n  transformers %s", ci, key, m1, m2);
        int close = n1 == n2;
        for (int k = 0; close && k < n1 && k < 2048; k++) close = fabs(s1[k] - s2[k]) <= SCORE_TOL;
        CHECK(close, "case %d %s: JSON scores differ", ci, key);
        /* the cJSON tree: same keys in the same order, and it parses back */
        cJSON *tree = bertc_token_entities_cjson(ents, ne, strategy);
        char *flat = tree ? cJSON_PrintUnformatted(tree) : NULL;
        cJSON *back = flat ? cJSON_Parse(flat) : NULL;
        int keys_ok = back && cJSON_GetArraySize(back) == nx;
        for (int k = 0; keys_ok && k < nx; k++) {
            const cJSON *a = cJSON_GetArrayItem(back, k)->child, *b = cJSON_GetArrayItem(exp, k)->child;
            for (; keys_ok && a && b; a = a->next, b = b->next) keys_ok = strcmp(a->string, b->string) == 0;
            keys_ok = keys_ok && !a && !b;
        }
        CHECK(keys_ok, "case %d %s: the cJSON tree's keys differ from the pipeline's", ci, key);
        cJSON_Delete(back);
        cJSON_free(flat);
        cJSON_Delete(tree);
        free(m1); free(m2); free(js);
        bertc_token_entities_free(ents, ne);
    }
    free(logits);
    free(text);
    bert_encoding_free(&enc);
}

static void check_units(const bert_tokenizer *tok) {
    /* tokenizers' WordPiece decoder, answers from decoders.WordPiece(cleanup=True).decode */
    static const struct { const char *tok[4]; int n; const char *want; } dec[] = {
        {{"a", "'", "s"}, 3, "a ' s"},   {{"x", "do not"}, 2, "x don't"}, {{"a", "'s"}, 2, "a's"},
        {{"a", "n't"}, 2, "an't"},       {{"a", " ' "}, 2, "a '"},        {{"a", ".", ".", "."}, 4, "a..."},
        {{"##a", "##b"}, 2, "##ab"},     {{"a", "x .y"}, 2, "a x.y"},     {{"a ."}, 1, "a."},
        {{"a", "##"}, 2, "a"},           {{"a", "####b"}, 2, "a##b"},     {{"do", "not"}, 2, "do not"},
        {{"new york", "city"}, 2, "new york city"}, {{"a", "?", "!", ","}, 4, "a?!,"}, {{NULL}, 0, ""},
    };
    for (size_t i = 0; i < sizeof dec / sizeof dec[0]; i++) {
        char *s = bertc_token_decode_words(dec[i].tok, dec[i].n);
        CHECK(s && strcmp(s, dec[i].want) == 0, "decode_words #%zu: \"%s\", want \"%s\"", i, s ? s : "(null)", dec[i].want);
        free(s);
    }
    /* Python's repr(float) */
    static const struct { double v; const char *want; } fr[] = {
        {0.5, "0.5"}, {1.0, "1.0"}, {0.1, "0.1"}, {1e-05, "1e-05"}, {0.0001, "0.0001"}, {1.5e-7, "1.5e-07"},
        {1e16, "1e+16"}, {1234567890123456.0, "1234567890123456.0"}, {0.30000000000000004, "0.30000000000000004"},
        {0.9876543283462524, "0.9876543283462524"}, {-2.5, "-2.5"}, {100.0, "100.0"}, {0.0, "0.0"},
        {123.456, "123.456"}, {0.00012, "0.00012"},
    };
    for (size_t i = 0; i < sizeof fr / sizeof fr[0]; i++) {
        char buf[48];
        bertc_token_float_repr(buf, sizeof buf, fr[i].v);
        CHECK(strcmp(buf, fr[i].want) == 0, "float repr of %.17g: %s, want %s", fr[i].v, buf, fr[i].want);
    }
    /* names */
    bertc_err err = {0};
    int s = -1;
    CHECK(bertc_token_strategy_parse(&s, "AVERAGE", &err) == BERTC_OK && s == BERTC_TOKEN_AVERAGE, "AVERAGE parses");
    CHECK(bertc_token_strategy_parse(&s, "mean", &err) == BERTC_ERR_ARG && strstr(err.msg, "simple"),
          "\"mean\" is refused, naming the choices: %s", err.msg);
    CHECK(strcmp(bertc_token_strategy_name(BERTC_TOKEN_MAX), "max") == 0 && strcmp(bertc_token_strategy_name(9), "?") == 0,
          "strategy names");
    /* refusals, and an empty answer */
    const char *labels[3] = {"O", "B-X", "I-X"};
    bert_encoding enc = {0};
    const char *text = "hello world";
    CHECK(bert_encode(tok, text, strlen(text), NULL, 0, 0, BERT_TRUNC_HEAD, &enc, &err) == BERTC_OK, "encode");
    float lg[4 * 3] = {0};
    for (int i = 0; i < 4; i++) lg[i * 3] = 5; /* all O */
    bertc_entity *ents = (bertc_entity *)1;
    int ne = -1;
    CHECK(bertc_token_decode(&ents, &ne, tok, text, strlen(text), &enc, lg, 3, labels, BERTC_TOKEN_SIMPLE, NULL, 0,
                             &err) == BERTC_OK && ne == 0 && ents == NULL, "all-O text: no entities (%d)", ne);
    lg[4] = NAN; /* token 1, label 1 */
    int rc = bertc_token_decode(&ents, &ne, tok, text, strlen(text), &enc, lg, 3, labels, 0, NULL, 0, &err);
    CHECK(rc == BERTC_ERR_NUMERIC && strstr(err.msg, "token 1") && strstr(err.msg, "B-X"), "NaN logit refused: %s", err.msg);
    lg[4] = 0;
    rc = bertc_token_decode(&ents, &ne, tok, text, strlen(text), &enc, lg, 3, labels, 7, NULL, 0, &err);
    CHECK(rc == BERTC_ERR_ARG && strstr(err.msg, "strategy 7"), "strategy 7 refused: %s", err.msg);
    rc = bertc_token_decode(&ents, &ne, tok, text, 3, &enc, lg, 3, labels, 0, NULL, 0, &err);
    CHECK(rc == BERTC_ERR_ARG && strstr(err.msg, "not of this text"), "an encoding of another text refused: %s", err.msg);
    const char *bad_labels[3] = {"O", NULL, "I-X"};
    rc = bertc_token_decode(&ents, &ne, tok, text, strlen(text), &enc, lg, 3, bad_labels, 0, NULL, 0, &err);
    CHECK(rc == BERTC_ERR_ARG && strstr(err.msg, "id2label[1]"), "a NULL label refused: %s", err.msg);
    bertc_token_entities_free(NULL, 0);
    char *empty = bertc_token_entities_json(NULL, 0, 0);
    CHECK(empty && strcmp(empty, "[]") == 0, "no entities: []");
    free(empty);
    bert_encoding_free(&enc);
}

int main(void) {
    bertc_err err = {0};
    char *buf = NULL;
    size_t blen = 0;
    REQUIRE(bertc_read_file(test_fixture("token_decode/cases.json"), 64u << 20, &buf, &blen, &err) == BERTC_OK,
            "%s (run make build/fixtures/token_decode.stamp)", err.msg);
    cJSON *root = cJSON_Parse(buf);
    free(buf);
    REQUIRE(root, "cases.json does not parse");
    bert_tokenizer *tok = NULL;
    REQUIRE(hf_tokenizer_load(&tok, test_model_dir(), &err) == BERTC_OK, "tokenizer: %s", err.msg);
    static const char *const sets[2][2] = {{"labels", "cases"}, {"labels_odd", "cases_odd"}};
    for (int set = 0; set < 2; set++) {
        const cJSON *jl = cJSON_GetObjectItem(root, sets[set][0]);
        int NL = cJSON_GetArraySize(jl);
        const char *labels[16];
        REQUIRE(NL > 0 && NL <= 16, "%s: %d labels", sets[set][0], NL);
        for (int j = 0; j < NL; j++) labels[j] = cJSON_GetArrayItem(jl, j)->valuestring;
        const cJSON *cases = cJSON_GetObjectItem(root, sets[set][1]);
        int nc = cJSON_GetArraySize(cases);
        printf("token_decode: %d texts x 7 decodings, labels %s ... %s, against transformers %s (scores within %g)\n",
               nc, labels[0], labels[NL - 1], cJSON_GetObjectItem(root, "transformers")->valuestring, SCORE_TOL);
        REQUIRE(nc >= (set ? 10 : 40), "only %d cases in %s", nc, sets[set][1]);
        for (int ci = 0; ci < nc; ci++) check_case(tok, cJSON_GetArrayItem(cases, ci), labels, NL, ci);
    }
    printf("token_decode: decoder cleanup, float repr, names and refusals\n");
    check_units(tok);
    bert_tokenizer_free(tok);
    cJSON_Delete(root);
    return TEST_END();
}
