/* test_hub.c: Hub downloads (src/hub.c through hf_model_load) against
 * tests/hub_server.py, a stand-in for the Hub on 127.0.0.1 with the Hub's URL
 * layout, a redirect for the weights, Range support, and models that cut the
 * connection mid-file, need a token or ignore Range.
 *
 * Checks: a normal download loads and leaves exactly NAME/ (with .complete) in
 * the cache, the token is sent and the redirect followed; a cut mid-file is a
 * clear error with nothing at NAME/, and the second attempt resumes with a Range
 * request; a server ignoring Range restarts the file; a stale over-long .part
 * is recovered (416); a 404 for a required file, a 401, and corrupt weights are
 * clear errors that leave nothing; HF_HUB_OFFLINE sends no request; the token
 * file under HF_HOME is read. Only 127.0.0.1 is contacted. */
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../src/hfmodel.h"
#include "../src/hub.h"
#include "../src/safetensors.h"
#include "test.h"

static char tmp[256], srv_root[300], cache_root[400], logpath[300];

enum { V = 2000, C = 16, F = 32, P = 32, TT = 2 };

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static char *slurp(const char *path) {
    char *s = NULL;
    size_t n;
    bertc_err e = {0};
    if (bertc_read_file(path, 1 << 24, &s, &n, &e) != BERTC_OK) return strdup("");
    return s;
}

/* A tiny random BertModel folder (1 layer) at srv_root/owner/name. */
static void make_model(const char *name, int with_vocab, int corrupt_weights) {
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/owner", srv_root);
    mkdir(dir, 0755);
    snprintf(dir, sizeof dir, "%s/owner/%s", srv_root, name);
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/config.json", dir);
    write_text(path, "{\"model_type\": \"bert\", \"vocab_size\": 2000, \"hidden_size\": 16, \"num_hidden_layers\": 1,"
                     " \"num_attention_heads\": 2, \"intermediate_size\": 32, \"max_position_embeddings\": 32,"
                     " \"type_vocab_size\": 2}\n");
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    write_text(path, "{\"do_lower_case\": true}\n");
    if (with_vocab) {
        snprintf(path, sizeof path, "%s/vocab.txt", dir);
        FILE *f = fopen(path, "wb");
        fputs("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\n", f);
        for (int i = 7; i < V; i++) fprintf(f, "tok%d\n", i);
        fclose(f);
    }
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (corrupt_weights) {
        write_text(path, "\x10\0\0\0\0\0\0\0{\"a\": nonsense}");
        return;
    }
    static float w[V * C];
    for (int i = 0; i < V * C; i++) w[i] = (float)((i * 7919) % 200 - 100) * 1e-3f;
    static const char *const lin[][2] = {
        {"encoder.layer.0.attention.self.query.weight", "encoder.layer.0.attention.self.query.bias"},
        {"encoder.layer.0.attention.self.key.weight", "encoder.layer.0.attention.self.key.bias"},
        {"encoder.layer.0.attention.self.value.weight", "encoder.layer.0.attention.self.value.bias"},
        {"encoder.layer.0.attention.output.dense.weight", "encoder.layer.0.attention.output.dense.bias"},
    };
    st_entry e[32];
    int n = 0;
#define T1(nm, a) (e[n++] = (st_entry){nm, ST_F32, 1, {a}, w})
#define T2(nm, a, b) (e[n++] = (st_entry){nm, ST_F32, 2, {a, b}, w})
    T2("embeddings.word_embeddings.weight", V, C);
    T2("embeddings.position_embeddings.weight", P, C);
    T2("embeddings.token_type_embeddings.weight", TT, C);
    T1("embeddings.LayerNorm.weight", C);
    T1("embeddings.LayerNorm.bias", C);
    for (int i = 0; i < 4; i++) {
        T2(lin[i][0], C, C);
        T1(lin[i][1], C);
    }
    T1("encoder.layer.0.attention.output.LayerNorm.weight", C);
    T1("encoder.layer.0.attention.output.LayerNorm.bias", C);
    T2("encoder.layer.0.intermediate.dense.weight", F, C);
    T1("encoder.layer.0.intermediate.dense.bias", F);
    T2("encoder.layer.0.output.dense.weight", C, F);
    T1("encoder.layer.0.output.dense.bias", C);
    T1("encoder.layer.0.output.LayerNorm.weight", C);
    T1("encoder.layer.0.output.LayerNorm.bias", C);
#undef T1
#undef T2
    bertc_err err = {0};
    if (st_write(path, e, n, &err) != BERTC_OK) fprintf(stderr, "st_write: %s\n", err.msg);
}

static int exists(const char *rel) {
    char p[700];
    snprintf(p, sizeof p, "%s/%s", cache_root, rel);
    struct stat st;
    return stat(p, &st) == 0;
}

static long file_size(const char *rel) {
    char p[700];
    snprintf(p, sizeof p, "%s/%s", cache_root, rel);
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static int log_has(const char *needle) {
    char *s = slurp(logpath);
    int r = strstr(s, needle) != NULL;
    free(s);
    return r;
}

static int log_has2(const char *a, const char *b) { /* one line with both */
    char *s = slurp(logpath), *save = NULL;
    int r = 0;
    for (char *line = strtok_r(s, "\n", &save); line && !r; line = strtok_r(NULL, "\n", &save))
        r = strstr(line, a) && strstr(line, b);
    free(s);
    return r;
}

static unsigned long long prog_done, prog_total;
static int prog_calls;
static void on_progress(void *ctx, const char *name, const char *file, uint64_t done, uint64_t total) {
    (void)ctx;
    (void)name;
    if (strcmp(file, "model.safetensors")) return;
    prog_calls++;
    prog_done = done;
    prog_total = total;
}

static int load(const char *name, bertc_err *err) {
    hf_model m = {0};
    int rc = hf_model_load(&m, name, NULL, err);
    if (rc == BERTC_OK && (m.cfg.hidden_size != C || m.cfg.vocab_size != V)) rc = -1;
    hf_model_free(&m);
    return rc;
}

int main(void) {
    snprintf(tmp, sizeof tmp, "/tmp/bertc-hub-XXXXXX");
    int made = mkdtemp(tmp) != NULL;
    REQUIRE(made, "mkdtemp failed");
    snprintf(srv_root, sizeof srv_root, "%s/srv", tmp);
    mkdir(srv_root, 0755);
    snprintf(logpath, sizeof logpath, "%s/server.log", tmp);
    make_model("tiny", 1, 0);
    make_model("cut-tiny", 1, 0);
    make_model("cut-norange-tiny", 1, 0);
    make_model("private-tiny", 1, 0);
    make_model("stale-tiny", 1, 0);
    make_model("novocab", 0, 0);
    make_model("badweights", 1, 1);

    /* The server: python3 tests/hub_server.py ROOT PORTFILE LOG, on 127.0.0.1:0. */
    char script[600], portfile[300];
    snprintf(script, sizeof script, "%s/tests/hub_server.py", test_env_("BERTC_ROOT", "."));
    snprintf(portfile, sizeof portfile, "%s/port", tmp);
    pid_t pid = fork();
    REQUIRE(pid >= 0, "fork failed");
    if (pid == 0) {
        execlp("python3", "python3", script, srv_root, portfile, logpath, (char *)NULL);
        _exit(127);
    }
    long port = 0;
    for (int i = 0; i < 200 && port == 0; i++) { /* up to 10 s */
        usleep(50000);
        char *s = slurp(portfile);
        if (*s && bertc_parse_long(s, 1, 65535, &port) != 0) port = 0;
        free(s);
    }
    if (port == 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    REQUIRE(port > 0, "hub_server.py did not start (%s)", script);

    char endpoint[64], cache_env[300], hfhome[300];
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%ld/", port); /* trailing '/' is trimmed */
    snprintf(cache_env, sizeof cache_env, "%s/cache", tmp);
    snprintf(cache_root, sizeof cache_root, "%s/cache/bertc/models", tmp);
    snprintf(hfhome, sizeof hfhome, "%s/hfhome", tmp);
    setenv("HF_ENDPOINT", endpoint, 1);
    setenv("XDG_CACHE_HOME", cache_env, 1);
    setenv("HF_HOME", hfhome, 1);
    setenv("HF_TOKEN", "sesame", 1);
    unsetenv("HF_TOKEN_PATH");
    unsetenv("HF_HUB_OFFLINE");
    hub_set_progress(on_progress, NULL);
    bertc_err err = {0};

    /* Names. */
    CHECK(hub_valid_name("bert-base-uncased") && hub_valid_name("owner/name.v2_x-y"), "valid names");
    CHECK(!hub_valid_name("a/b/c") && !hub_valid_name("../x") && !hub_valid_name("a/..b") &&
              !hub_valid_name("") && !hub_valid_name("/x") && !hub_valid_name("a b") && !hub_valid_name(".x"),
          "invalid names");

    /* 1. A normal download (cache dirs do not exist yet). */
    int rc = load("owner/tiny", &err);
    CHECK(rc == BERTC_OK, "download owner/tiny: rc %d %s", rc, err.msg);
    CHECK(exists("owner/tiny/.complete") && exists("owner/tiny/vocab.txt") && !exists("owner/tiny.partial"),
          "owner/tiny in the cache, complete, no .partial left");
    CHECK(!exists("owner/tiny/special_tokens_map.json"), "an optional 404 is skipped");
    CHECK(log_has2("/owner/tiny/resolve/main/config.json", "auth=Bearer sesame"), "HF_TOKEN sent as Bearer");
    CHECK(log_has("GET /lfs/owner/tiny/model.safetensors"), "the redirect to /lfs was followed");
    CHECK(prog_calls > 0 && prog_done == prog_total && prog_total == (unsigned long long)file_size(
                                                                          "owner/tiny/model.safetensors"),
          "progress reached %llu of %llu", prog_done, prog_total);
    rc = load("owner/tiny", &err); /* second time: from the cache, no new request */
    CHECK(rc == BERTC_OK, "cached load: %s", err.msg);

    /* 2. Cut mid-file: a clear error, nothing at the final path, then a resume. */
    rc = load("owner/cut-tiny", &err);
    CHECK(rc == BERTC_ERR_IO && strstr(err.msg, "model.safetensors") && strstr(err.msg, "again to resume"),
          "cut: rc %d, message: %s", rc, err.msg);
    CHECK(!strchr(err.msg, '\n'), "one-line message");
    CHECK(!exists("owner/cut-tiny") && file_size("owner/cut-tiny.partial/model.safetensors.part") > 0,
          "cut: nothing at owner/cut-tiny, the .part kept");
    rc = load("owner/cut-tiny", &err);
    CHECK(rc == BERTC_OK, "resume: rc %d %s", rc, err.msg);
    CHECK(log_has2("/lfs/owner/cut-tiny/model.safetensors", "range=bytes="), "the resume sent a Range request");
    CHECK(exists("owner/cut-tiny/.complete") && !exists("owner/cut-tiny.partial"), "resumed folder in place");

    /* 3. A server that ignores Range: the second attempt starts the file over. */
    rc = load("owner/cut-norange-tiny", &err);
    CHECK(rc == BERTC_ERR_IO, "cut (norange): rc %d %s", rc, err.msg);
    rc = load("owner/cut-norange-tiny", &err);
    CHECK(rc == BERTC_OK, "restart after 200 to a Range request: rc %d %s", rc, err.msg);

    /* 4. A stale .part longer than the file: 416, dropped, downloaded again. */
    char p[700];
    snprintf(p, sizeof p, "%s/owner/stale-tiny.partial", cache_root);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/owner/stale-tiny.partial/model.safetensors.part", cache_root);
    FILE *f = fopen(p, "wb");
    for (int i = 0; f && i < 300000; i++) fputc('x', f);
    if (f) fclose(f);
    rc = load("owner/stale-tiny", &err);
    CHECK(rc == BERTC_OK, "stale .part: rc %d %s", rc, err.msg);

    /* 5. A required file missing on the server. */
    rc = load("owner/novocab", &err);
    CHECK(rc == BERTC_ERR_NOTFOUND && strstr(err.msg, "vocab.txt") && strstr(err.msg, "404"),
          "404 vocab.txt: rc %d %s", rc, err.msg);
    CHECK(!exists("owner/novocab") && !exists("owner/novocab.partial"), "404: nothing left");
    rc = load("owner/nosuchmodel", &err);
    CHECK(rc == BERTC_ERR_NOTFOUND && strstr(err.msg, "config.json") && strstr(err.msg, "owner/nosuchmodel"),
          "unknown model: rc %d %s", rc, err.msg);

    /* 6. Corrupt weights: validation fails, nothing kept. */
    rc = load("owner/badweights", &err);
    CHECK(rc == BERTC_ERR_FORMAT && strstr(err.msg, "model.safetensors"), "bad weights: rc %d %s", rc, err.msg);
    CHECK(!exists("owner/badweights") && !exists("owner/badweights.partial"), "bad weights: nothing left");

    /* 7. Tokens: none -> 401 is a clear error; the HF_HOME token file works. */
    unsetenv("HF_TOKEN");
    rc = load("owner/private-tiny", &err);
    CHECK(rc == BERTC_ERR_ARG && strstr(err.msg, "401") && strstr(err.msg, "HF_TOKEN"), "401: rc %d %s", rc,
          err.msg);
    CHECK(!exists("owner/private-tiny"), "401: nothing at the final path");
    mkdir(hfhome, 0755);
    snprintf(p, sizeof p, "%s/token", hfhome);
    write_text(p, "sesame\n");
    rc = load("owner/private-tiny", &err);
    CHECK(rc == BERTC_OK, "token from $HF_HOME/token: rc %d %s", rc, err.msg);
    setenv("HF_TOKEN", "bad token", 1);
    rc = hub_download("owner/tiny2", cache_root, NULL, &err);
    CHECK(rc == BERTC_ERR_ARG && strstr(err.msg, "HF_TOKEN"), "token with a space refused: %s", err.msg);
    setenv("HF_TOKEN", "sesame", 1);

    /* 8. Offline: no request at all. */
    setenv("HF_HUB_OFFLINE", "1", 1);
    rc = load("owner/offline-model", &err);
    CHECK(rc == BERTC_ERR_NOTFOUND && strstr(err.msg, "HF_HUB_OFFLINE"), "offline: rc %d %s", rc, err.msg);
    CHECK(!log_has("offline-model"), "offline: nothing requested");
    unsetenv("HF_HUB_OFFLINE");

    /* 9. A bad endpoint. */
    rc = hub_download("owner/tiny3", cache_root, &(hub_opts){.endpoint = "ftp://127.0.0.1"}, &err);
    CHECK(rc == BERTC_ERR_ARG && strstr(err.msg, "HF_ENDPOINT"), "ftp endpoint refused: %s", err.msg);

    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    if (test_failed_ == 0) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
    } else {
        fprintf(stderr, "kept %s (server log: %s)\n", tmp, logpath);
    }
    return TEST_END();
}
