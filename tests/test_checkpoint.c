/* test_checkpoint.c: crash-safe checkpoints.
 *
 *   round trip    save -> load gives the parameters, AdamW moments, step and
 *                 trainer state back bit for bit (memcmp)
 *   damage        a checkpoint without COMPLETE, with a truncated file, with a
 *                 flipped byte, or a leftover temporary folder is skipped by
 *                 find_latest, which falls back to the newest complete one;
 *                 --resume of a damaged folder is an error naming it
 *   rotation      which checkpoints survive save_total_limit, as computed by
 *                 transformers' rotate_checkpoints (tools/gen_checkpoint.py)
 *   refusal       non-finite parameters or moments: BERTC_ERR_NUMERIC and
 *                 nothing written
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../src/checkpoint.h"
#include "../src/rng.h"
#include "test.h"

static char root[256];

/* A tiny random BERT classifier with its own vocab.txt. */
static int make_model(hf_model *m, uint64_t seed) {
    memset(m, 0, sizeof *m);
    bert_config *c = &m->cfg;
    *c = (bert_config){.vocab_size = 32, .hidden_size = 8, .num_layers = 2, .num_heads = 2,
                       .intermediate_size = 16, .max_position = 16, .type_vocab_size = 2,
                       .num_labels = 3, .pad_token_id = 0, .layer_norm_eps = 1e-12f,
                       .hidden_dropout = 0.1f, .attention_dropout = 0.1f, .classifier_dropout = 0.1f,
                       .initializer_range = 0.02f};
    c->id2label = calloc(3, sizeof(char *));
    c->id2label[0] = strdup("neg");
    c->id2label[1] = strdup("neutral");
    c->id2label[2] = strdup("pos");
    bert_tokenizer_opts_default(&m->tok);
    char vocab[600];
    snprintf(vocab, sizeof vocab, "%s/vocab.txt", root);
    if (!bertc_is_file(vocab)) {
        FILE *f = fopen(vocab, "w");
        if (!f) return -1;
        fputs("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n", f);
        for (int i = 5; i < 30; i++) fprintf(f, "w%d\n", i);
        fclose(f);
    }
    m->vocab_path = strdup(vocab);
    m->dir = strdup(root);
    m->num_params = bert_num_params(c);
    m->params_memory = malloc(m->num_params * sizeof(float));
    bert_params_point(&m->params, m->params_memory, c);
    snprintf(m->source_dtype, sizeof m->source_dtype, "F32");
    bertc_rng r;
    bertc_rng_seed(&r, seed);
    for (size_t i = 0; i < m->num_params; i++) m->params_memory[i] = bertc_rng_normal(&r) * 0.05f;
    return 0;
}

/* AdamW for m with a few steps taken, so the moments are not zero. */
static void make_opt(bertc_adamw *o, const hf_model *m, uint64_t seed) {
    bertc_adamw_opts ao;
    bertc_adamw_opts_default(&ao);
    ao.weight_decay = 0.01;
    bertc_err err = {0};
    if (bertc_adamw_init_bert(o, &m->cfg, &ao, &err) != BERTC_OK) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
    float *g = malloc(m->num_params * sizeof(float));
    float *p = malloc(m->num_params * sizeof(float));
    memcpy(p, m->params_memory, m->num_params * sizeof(float));
    bertc_rng r;
    bertc_rng_seed(&r, seed);
    for (int k = 0; k < 3; k++) {
        for (size_t i = 0; i < m->num_params; i++) g[i] = bertc_rng_normal(&r);
        bertc_adamw_step(o, p, g, 1e-3);
    }
    free(g);
    free(p);
}

static void make_state(bertc_ckpt_state *st, long step) {
    bertc_ckpt_state_init(st);
    st->global_step = step;
    st->epoch = step / 7.0;
    st->max_steps = 1000;
    st->sched = (bertc_sched){BERTC_SCHED_COSINE, 3e-5, 60, 1000, 0.5};
    st->data_seed = 0xfedcba9876543210ULL;
    st->data_epoch = step / 7;
    st->data_batch = step % 7;
    st->has_best = 1;
    snprintf(st->best_metric_name, sizeof st->best_metric_name, "eval_f1");
    st->best_metric = 0.1 + 1.0 / 3.0;
    st->best_step = step > 10 ? step - 10 : step;
    snprintf(st->best_checkpoint, sizeof st->best_checkpoint, "%s/out/checkpoint-%ld", root, st->best_step);
    st->log_lines = 3 * step;
    st->log_bytes = 250 * step + 17;
    st->skipped_steps = 2;
    st->eval_pending = 1;
    bertc_rng a, b;
    bertc_rng_seed(&a, 42 + (uint64_t)step);
    bertc_rng_seed(&b, 0xffffffffffffffffULL);
    bertc_rng_next(&a);
    bertc_ckpt_set_rng(st, "dropout", &a, NULL);
    bertc_ckpt_set_rng(st, "data", &b, NULL);
}

static int run(const char *cmd) {
    int rc = system(cmd);
    return rc;
}

/* Number of entries in a directory (including hidden ones, excluding . and ..). */
static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static void test_round_trip(const char *out) {
    hf_model m;
    bertc_adamw o = {0};
    bertc_ckpt_state st;
    bertc_err err = {0};
    make_model(&m, 1);
    make_opt(&o, &m, 2);
    make_state(&st, 10);
    const char *args = "{\"learning_rate\": 3e-05, \"lr_scheduler_type\": \"cosine\", \"seed\": 42}";
    int rc = bertc_ckpt_save(out, &m, &o, &st, args, &err);
    CHECK(rc == BERTC_OK, "save: %s", err.msg);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/checkpoint-10", out);
    const char *files[] = {"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json",
                           "optimizer.safetensors", "trainer_state.json", "training_args.json", "COMPLETE"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char p[1200];
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        CHECK(bertc_is_file(p), "checkpoint lacks %s", files[i]);
    }
    CHECK(count_entries(out) == 1, "only checkpoint-10 in %s (no temporary folder left): %d entries", out,
          count_entries(out));
    CHECK(bertc_ckpt_verify(dir, 1, &err) == BERTC_OK, "verify: %s", err.msg);

    hf_model m2;
    bertc_adamw o2 = {0};
    bertc_ckpt_state st2;
    bertc_adamw_opts ao = o.opts;
    CHECK(bertc_adamw_init_bert(&o2, &m.cfg, &ao, &err) == BERTC_OK, "%s", err.msg);
    rc = bertc_ckpt_load(dir, &m2, NULL, &o2, &st2, &err);
    CHECK(rc == BERTC_OK, "load: %s", err.msg);
    if (rc == BERTC_OK) {
        CHECK(m2.num_params == m.num_params &&
              memcmp(m2.params_memory, m.params_memory, m.num_params * sizeof(float)) == 0,
              "parameters differ after the round trip");
        CHECK(m2.cfg.num_labels == 3 && strcmp(m2.cfg.id2label[2], "pos") == 0, "labels survive");
        CHECK(!m2.new_head, "the classifier is loaded, not new");
        CHECK(o2.step == o.step && o2.step == 3, "optimizer step %ld, want %ld", o2.step, o.step);
        CHECK(memcmp(o2.m, o.m, o.n * sizeof(float)) == 0, "exp_avg differs after the round trip");
        CHECK(memcmp(o2.v, o.v, o.n * sizeof(float)) == 0, "exp_avg_sq differs after the round trip");
        CHECK(st2.global_step == 10 && st2.epoch == st.epoch && st2.max_steps == 1000, "step/epoch");
        CHECK(st2.sched.kind == BERTC_SCHED_COSINE && st2.sched.base_lr == 3e-5 && st2.sched.warmup_steps == 60 &&
              st2.sched.total_steps == 1000 && st2.sched.num_cycles == 0.5, "schedule");
        CHECK(st2.data_seed == st.data_seed && st2.data_epoch == 1 && st2.data_batch == 3, "data position");
        CHECK(st2.has_best && st2.best_metric == st.best_metric && st2.best_step == 10 &&
              strcmp(st2.best_checkpoint, st.best_checkpoint) == 0 &&
              strcmp(st2.best_metric_name, "eval_f1") == 0 && st2.greater_is_better == 1, "best");
        CHECK(st2.log_lines == 30 && st2.log_bytes == 2517 && st2.skipped_steps == 2, "log position");
        CHECK(st2.eval_pending == 1, "eval_pending survives");
        bertc_rng a, b;
        CHECK(bertc_ckpt_get_rng(&st2, "dropout", &a, &err) == BERTC_OK &&
              memcmp(&a, &st.rng[0].state, sizeof a) == 0, "dropout rng");
        CHECK(bertc_ckpt_get_rng(&st2, "data", &b, &err) == BERTC_OK &&
              memcmp(&b, &st.rng[1].state, sizeof b) == 0, "data rng");
        CHECK(bertc_ckpt_get_rng(&st2, "nope", &b, &err) == BERTC_ERR_NOTFOUND, "missing rng");
        CHECK(memcmp(&st, &st2, sizeof st) == 0, "trainer state differs after the round trip");
        hf_model_free(&m2);
    }
    /* training_args.json is the caller's JSON. */
    char p[1200], *text = NULL;
    size_t len;
    snprintf(p, sizeof p, "%s/training_args.json", dir);
    if (bertc_read_file(p, 1 << 20, &text, &len, &err) == BERTC_OK) {
        cJSON *j = cJSON_Parse(text);
        CHECK(cJSON_GetObjectItem(j, "seed") && cJSON_GetObjectItem(j, "seed")->valueint == 42, "args json");
        cJSON_Delete(j);
        free(text);
    }
    /* A mismatched optimizer is refused on load. */
    bertc_adamw small = {0};
    bertc_param_segment seg = {0, 10, 1};
    bertc_adamw_init(&small, 10, &seg, 1, &ao, &err);
    CHECK(bertc_ckpt_load(dir, NULL, NULL, &small, NULL, &err) == BERTC_ERR_FORMAT &&
          strstr(err.msg, "optimizer.safetensors"), "optimizer of another size refused: %s", err.msg);
    bertc_adamw_free(&small);
    /* Saving the same step again replaces it atomically. */
    m.params_memory[0] += 1.0f;
    CHECK(bertc_ckpt_save(out, &m, &o, &st, args, &err) == BERTC_OK, "re-save: %s", err.msg);
    CHECK(count_entries(out) == 1, "re-save leaves one folder");
    CHECK(bertc_ckpt_load(dir, &m2, NULL, NULL, NULL, &err) == BERTC_OK &&
          m2.params_memory[0] == m.params_memory[0], "re-saved checkpoint has the new parameters");
    hf_model_free(&m2);
    /* Without an optimizer: loadable as a model, not resumable. */
    char out2[400];
    snprintf(out2, sizeof out2, "%s_noopt", out);
    CHECK(bertc_ckpt_save(out2, &m, NULL, &st, NULL, &err) == BERTC_OK, "save without optimizer: %s", err.msg);
    snprintf(dir, sizeof dir, "%s/checkpoint-10", out2);
    CHECK(bertc_ckpt_load(dir, NULL, NULL, &o2, NULL, &err) == BERTC_ERR_NOTFOUND, "no optimizer state: %s", err.msg);
    /* The final model folder. */
    CHECK(bertc_ckpt_save_final(out2, &m, &err) == BERTC_OK, "final model: %s", err.msg);
    snprintf(dir, sizeof dir, "%s/model", out2);
    hf_model m3;
    CHECK(hf_model_load(&m3, dir, NULL, &err) == BERTC_OK &&
          memcmp(m3.params_memory, m.params_memory, m.num_params * sizeof(float)) == 0, "final model: %s", err.msg);
    hf_model_free(&m3);
    bertc_adamw_free(&o);
    bertc_adamw_free(&o2);
    hf_model_free(&m);
}

static void save_step(const char *out, hf_model *m, bertc_adamw *o, long step) {
    bertc_ckpt_state st;
    bertc_err err = {0};
    make_state(&st, step);
    m->params_memory[1] = (float)step;
    int rc = bertc_ckpt_save(out, m, o, &st, "{}", &err);
    CHECK(rc == BERTC_OK, "save step %ld: %s", step, err.msg);
}

static long latest(const char *out) {
    char path[1024];
    long step = -1;
    bertc_err err = {0};
    if (bertc_ckpt_find_latest(out, path, sizeof path, &step, &err) != BERTC_OK) return -1;
    char want[1024];
    snprintf(want, sizeof want, "%s/checkpoint-%ld", out, step);
    CHECK(strcmp(path, want) == 0, "find_latest path %s, want %s", path, want);
    return step;
}

static void test_damage(const char *out) {
    hf_model m;
    bertc_adamw o = {0};
    bertc_err err = {0};
    char cmd[4096], path[1024];
    make_model(&m, 3);
    make_opt(&o, &m, 4);
    CHECK(bertc_ckpt_find_latest(out, path, sizeof path, NULL, &err) != BERTC_OK, "nothing to find yet");
    for (long s = 10; s <= 50; s += 10) save_step(out, &m, &o, s);
    CHECK(latest(out) == 50, "latest of 10..50");

    /* 50: no marker (as a writer without the protocol would leave it). */
    snprintf(path, sizeof path, "%s/checkpoint-50/COMPLETE", out);
    CHECK(unlink(path) == 0, "unlink marker");
    CHECK(latest(out) == 40, "no marker: falls back to 40, got %ld", latest(out));
    /* 40: a truncated optimizer file. */
    snprintf(path, sizeof path, "%s/checkpoint-40/optimizer.safetensors", out);
    CHECK(truncate(path, 100) == 0, "truncate");
    CHECK(latest(out) == 30, "truncated file: falls back to 30");
    snprintf(path, sizeof path, "%s/checkpoint-40", out);
    CHECK(bertc_ckpt_verify(path, 0, &err) == BERTC_ERR_FORMAT && strstr(err.msg, "optimizer.safetensors"),
          "verify names the truncated file: %s", err.msg);
    /* 30: one byte flipped, same size: only the CRC catches it. */
    snprintf(path, sizeof path, "%s/checkpoint-30/model.safetensors", out);
    int fd = open(path, O_RDWR);
    unsigned char byte = 0;
    CHECK(fd >= 0 && pread(fd, &byte, 1, 200) == 1, "read byte");
    byte ^= 0x10;
    CHECK(fd >= 0 && pwrite(fd, &byte, 1, 200) == 1, "flip byte");
    if (fd >= 0) close(fd);
    snprintf(path, sizeof path, "%s/checkpoint-30", out);
    CHECK(bertc_ckpt_verify(path, 0, &err) == BERTC_OK, "sizes still match");
    CHECK(bertc_ckpt_verify(path, 1, &err) == BERTC_ERR_FORMAT && strstr(err.msg, "CRC"), "CRC: %s", err.msg);
    CHECK(latest(out) == 20, "flipped byte: falls back to 20");
    /* A truncated marker. */
    snprintf(cmd, sizeof cmd, "head -c 40 '%s/checkpoint-20/COMPLETE' > '%s/c' && mv '%s/c' '%s/checkpoint-20/COMPLETE'",
             out, root, root, out);
    CHECK(run(cmd) == 0, "%s", cmd);
    CHECK(latest(out) == 10, "truncated marker: falls back to 10");
    /* A leftover temporary folder of a dead writer and a checkpoint-60 without marker. */
    char key[17];
    CHECK(bertc_ckpt_host_key(key, sizeof key) == 0 && strlen(key) == 16, "host key: %s", key);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/.checkpoint-60.tmp-999999999-%s' '%s/checkpoint-70' && "
             "cp -r '%s/checkpoint-10/.' '%s/.checkpoint-60.tmp-999999999-%s/' && "
             "cp '%s/checkpoint-10/config.json' '%s/checkpoint-70/'", out, key, out, out, out, key, out, out);
    CHECK(run(cmd) == 0, "%s", cmd);
    CHECK(latest(out) == 10, "temp folder and markerless folder ignored");
    long steps[16];
    int n = 0;
    CHECK(bertc_ckpt_list(out, 1, steps, 16, &n, &err) == BERTC_OK && n == 2 && steps[0] == 10 && steps[1] == 30,
          "complete by size: 10 and 30 (got %d)", n);
    CHECK(bertc_ckpt_list(out, 0, steps, 16, &n, &err) == BERTC_OK && n == 6, "all named folders: %d", n);
    /* --resume */
    CHECK(bertc_ckpt_resolve(path, sizeof path, "latest", out, &err) == BERTC_OK && strstr(path, "checkpoint-10"),
          "resume latest: %s", err.msg);
    char spec[1024];
    snprintf(spec, sizeof spec, "%s/checkpoint-40", out);
    CHECK(bertc_ckpt_resolve(path, sizeof path, spec, out, &err) == BERTC_ERR_FORMAT &&
          strstr(err.msg, "checkpoint-40") && strstr(err.msg, "checkpoint-10"),
          "resume of a damaged checkpoint names it and the fallback: %s", err.msg);
    snprintf(spec, sizeof spec, "%s/checkpoint-10", out);
    CHECK(bertc_ckpt_resolve(path, sizeof path, spec, out, &err) == BERTC_OK && strcmp(path, spec) == 0,
          "resume of a named complete checkpoint: %s", err.msg);
    snprintf(spec, sizeof spec, "%s/checkpoint-99", out);
    CHECK(bertc_ckpt_resolve(path, sizeof path, spec, out, &err) == BERTC_ERR_NOTFOUND, "missing: %s", err.msg);
    CHECK(bertc_ckpt_load(spec, NULL, NULL, &o, NULL, &err) != BERTC_OK, "load refuses a missing folder");
    snprintf(spec, sizeof spec, "%s/checkpoint-30", out);
    CHECK(bertc_ckpt_load(spec, NULL, NULL, &o, NULL, &err) == BERTC_ERR_FORMAT, "load refuses a damaged checkpoint");
    /* Cleaning removes the dead local writer's folder, and a foreign one only when
     * a day old: a PID from another host or container (another key), or from a
     * name without a key, says nothing about a process here. */
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s/.checkpoint-80.tmp-%ld-%s' '%s/.checkpoint-81.tmp-999999999-0123456789abcdef' "
             "'%s/.checkpoint-82.old-999999999' '%s/.checkpoint-83.tmp-999999999-0123456789abcdef' "
             "'%s/.checkpoint-84.tmp-999999999' && touch -d '2 days ago' '%s/.checkpoint-83.tmp-999999999-0123456789abcdef' "
             "'%s/.checkpoint-84.tmp-999999999'",
             out, (long)getpid(), key, out, out, out, out, out, out);
    CHECK(run(cmd) == 0, "%s", cmd);
    int removed = 0;
    CHECK(bertc_ckpt_clean_temp(out, &removed, &err) == BERTC_OK && removed == 3, "clean: %d removed (want 3) %s",
          removed, err.msg);
    snprintf(path, sizeof path, "%s/.checkpoint-80.tmp-%ld-%s", out, (long)getpid(), key);
    CHECK(bertc_is_dir(path), "our own temp folder is not removed");
    snprintf(path, sizeof path, "%s/.checkpoint-60.tmp-999999999-%s", out, key);
    CHECK(!bertc_is_dir(path), "the dead local writer's temp folder is removed");
    snprintf(path, sizeof path, "%s/.checkpoint-81.tmp-999999999-0123456789abcdef", out);
    CHECK(bertc_is_dir(path), "a fresh temp folder of another host/container is kept (its PID means nothing here)");
    snprintf(path, sizeof path, "%s/.checkpoint-82.old-999999999", out);
    CHECK(bertc_is_dir(path), "a fresh temp folder without a host key is kept");
    snprintf(path, sizeof path, "%s/.checkpoint-83.tmp-999999999-0123456789abcdef", out);
    CHECK(!bertc_is_dir(path), "a foreign temp folder untouched for 2 days is removed");
    snprintf(path, sizeof path, "%s/.checkpoint-84.tmp-999999999", out);
    CHECK(!bertc_is_dir(path), "a keyless temp folder untouched for 2 days is removed");
    /* Rotation ignores incomplete folders. */
    int deleted = -1;
    CHECK(bertc_ckpt_rotate(out, 1, -1, &deleted, &err) == BERTC_OK && deleted == 1, "rotate: %d", deleted);
    CHECK(bertc_ckpt_list(out, 0, steps, 16, &n, &err) == BERTC_OK && n == 5, "incomplete ones left alone: %d", n);
    bertc_adamw_free(&o);
    hf_model_free(&m);
}

static void test_rotation(const char *base) {
    cJSON *j = NULL;
    char *text = NULL;
    size_t len;
    bertc_err err = {0};
    if (bertc_read_file(test_fixture("checkpoint/rotate.json"), 1 << 20, &text, &len, &err) == BERTC_OK) {
        j = cJSON_Parse(text);
        free(text);
    }
    CHECK(j != NULL, "cannot read %s (run make fixtures)", test_fixture("checkpoint/rotate.json"));
    if (!j) return;
    hf_model m;
    bertc_adamw o = {0};
    make_model(&m, 5);
    make_opt(&o, &m, 6);
    /* Each step is saved once into a template folder (fsyncs are slow on a
     * busy disk) and copied into each case's folder. */
    char tmpl[400], cmd[1400];
    snprintf(tmpl, sizeof tmpl, "%s/rot-template", base);
    int k = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(j, "cases")) {
        char out[400];
        snprintf(out, sizeof out, "%s/rot%d", base, k++);
        CHECK(mkdir(out, 0755) == 0, "mkdir %s", out);
        const cJSON *s;
        cJSON_ArrayForEach(s, cJSON_GetObjectItem(c, "steps")) {
            char src[600];
            snprintf(src, sizeof src, "%s/checkpoint-%d", tmpl, s->valueint);
            if (!bertc_is_dir(src)) save_step(tmpl, &m, &o, (long)s->valueint);
            snprintf(cmd, sizeof cmd, "cp -r '%s' '%s/'", src, out);
            CHECK(run(cmd) == 0, "%s", cmd);
        }
        int keep = cJSON_GetObjectItem(c, "keep")->valueint;
        long best = (long)cJSON_GetObjectItem(c, "best")->valueint;
        CHECK(bertc_ckpt_rotate(out, keep, best, NULL, &err) == BERTC_OK, "rotate: %s", err.msg);
        long left[32];
        int n = 0, want_n = cJSON_GetArraySize(cJSON_GetObjectItem(c, "left")), same;
        bertc_ckpt_list(out, 1, left, 32, &n, &err);
        same = n == want_n;
        for (int i = 0; same && i < n; i++)
            same = left[i] == (long)cJSON_GetArrayItem(cJSON_GetObjectItem(c, "left"), i)->valueint;
        char *want = cJSON_PrintUnformatted(cJSON_GetObjectItem(c, "left"));
        CHECK(same, "rotation case %d (keep %d, best %ld): %d left, transformers keeps %s", k - 1, keep, best, n, want);
        free(want);
    }
    cJSON_Delete(j);
    bertc_adamw_free(&o);
    hf_model_free(&m);
}

static void test_refusal(const char *out) {
    hf_model m;
    bertc_adamw o = {0};
    bertc_ckpt_state st;
    bertc_err err = {0};
    make_model(&m, 7);
    make_opt(&o, &m, 8);
    make_state(&st, 5);
    CHECK(bertc_ckpt_save(out, &m, &o, &st, "{}", &err) == BERTC_OK, "save: %s", err.msg);
    int before = count_entries(out);
    st.global_step = 6;
    m.params.qkvb[3] = NAN;
    CHECK(bertc_ckpt_save(out, &m, &o, &st, "{}", &err) == BERTC_ERR_NUMERIC, "NaN parameter refused");
    CHECK(strstr(err.msg, "qkvb") && strstr(err.msg, "NaN"), "message names the tensor: %s", err.msg);
    m.params.qkvb[3] = 0;
    o.v[17] = INFINITY;
    CHECK(bertc_ckpt_save(out, &m, &o, &st, "{}", &err) == BERTC_ERR_NUMERIC, "infinite moment refused");
    CHECK(strstr(err.msg, "exp_avg_sq"), "message names the moment: %s", err.msg);
    o.v[17] = 0;
    CHECK(count_entries(out) == before, "nothing written by a refused save");
    m.params.clsw[0] = -INFINITY;
    CHECK(bertc_ckpt_save_final(out, &m, &err) == BERTC_ERR_NUMERIC, "final model with inf refused");
    CHECK(count_entries(out) == before, "nothing written by a refused final save");
    m.params.clsw[0] = 0;
    CHECK(bertc_ckpt_save(out, &m, &o, &st, "[1, 2]", &err) == BERTC_ERR_ARG, "args must be an object");
    CHECK(count_entries(out) == before, "nothing written by a refused save");
    /* RNG slot rules. */
    bertc_rng r = {{1, 2, 3, 4}};
    CHECK(bertc_ckpt_set_rng(&st, "bad name", &r, &err) == BERTC_ERR_ARG, "rng name with a space refused");
    CHECK(bertc_ckpt_set_rng(&st, "x", &r, &err) == BERTC_OK && bertc_ckpt_set_rng(&st, "y", &r, &err) == BERTC_OK,
          "two more rngs");
    CHECK(bertc_ckpt_set_rng(&st, "z", &r, &err) == BERTC_ERR_ARG, "a fifth rng refused");
    CHECK(bertc_ckpt_set_rng(&st, "x", &r, &err) == BERTC_OK, "replacing one is fine");
    bertc_adamw_free(&o);
    hf_model_free(&m);
}

/* Only the canonical decimal form is a checkpoint: checkpoint-007 is not step 7. */
static void test_names(const char *base) {
    char out[512], cmd[4096];
    snprintf(out, sizeof out, "%s/names", base);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/checkpoint-7' '%s/checkpoint-007' '%s/checkpoint-0' '%s/checkpoint-00' "
             "'%s/checkpoint-010' '%s/checkpoint-+8' '%s/checkpoint-9x'", out, out, out, out, out, out, out);
    CHECK(run(cmd) == 0, "%s", cmd);
    long steps[16];
    int n = 0;
    bertc_err err = {0};
    CHECK(bertc_ckpt_list(out, 0, steps, 16, &n, &err) == BERTC_OK && n == 2 && steps[0] == 0 && steps[1] == 7,
          "checkpoint names: only checkpoint-0 and checkpoint-7 are checkpoints (got %d: %ld %ld)", n,
          n > 0 ? steps[0] : -1, n > 1 ? steps[1] : -1);
}

int main(void) {
    const char *tmp = test_env_("TMPDIR", "/tmp");
    snprintf(root, sizeof root, "%s/bertc-test-checkpoint-XXXXXX", tmp);
    REQUIRE(mkdtemp(root) != NULL, "mkdtemp %s", root);
    char out[400];
    snprintf(out, sizeof out, "%s/out", root);
    test_round_trip(out);
    snprintf(out, sizeof out, "%s/damage", root);
    test_damage(out);
    test_rotation(root);
    test_names(root);
    snprintf(out, sizeof out, "%s/refuse", root);
    test_refusal(out);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (test_failed_ == 0) run(cmd);
    else fprintf(stderr, "left %s for inspection\n", root);
    return TEST_END();
}
