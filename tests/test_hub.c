/* test_hub.c: Hub downloads (src/hub.c through hf_model_load) against
 * tests/hub_server.py, a stand-in for the Hub on 127.0.0.1 with the Hub's URL
 * layout, a redirect for the weights, Range support, and models that cut the
 * connection mid-file, need a token or ignore Range.
 *
 * Checks: SHA-256 against FIPS 180-2's test vectors; a normal download loads and
 * leaves exactly models--owner--NAME/{refs/main, snapshots/COMMIT/ (with
 * .complete)} in the cache, keyed by the commit the server names, the token is
 * sent and the redirect followed; the token is not sent when the redirect goes
 * to another host; a cut mid-file is a clear error with nothing at the
 * snapshot, and the second attempt resumes with a Range request; a .part whose
 * remote changed (another ETag) starts over without Range; a server ignoring
 * Range restarts the file; a stale over-long .part is recovered (416); a
 * download whose SHA-256 or size differs from the server's metadata, a 404 for
 * a required file, a 401, corrupt weights and a server without the Hub's
 * headers are one-line errors that leave nothing; HF_HUB_OFFLINE sends no
 * request; with downloads not allowed (the library's default) neither
 * hf_model_load nor bertc_open sends any request; the token file under HF_HOME
 * is read. Only 127.0.0.1 is contacted. */
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../include/bertc.h"
#include "../src/classifier.h"
#include "../src/hfmodel.h"
#include "../src/hub.h"
#include "../src/safetensors.h"
#include "../src/sha256.h"
#include "test.h"

static char tmp[256], srv_root[300], cache_root[400], logpath[300];
static int w_shift; /* changes the weights make_model writes (a "changed remote") */

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
    for (int i = 0; i < V * C; i++) w[i] = (float)((i * 7919 + w_shift) % 200 - 100) * 1e-3f;
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

/* .part files under cache_root/rel (any depth). */
static int count_parts(const char *rel) {
    char cmd[900];
    snprintf(cmd, sizeof cmd, "find '%s/%s' -name '*.part' 2>/dev/null | wc -l", cache_root, rel);
    FILE *f = popen(cmd, "r");
    int n = -1;
    if (f && fscanf(f, "%d", &n) != 1) n = -1;
    if (f) pclose(f);
    return n;
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
    /* The server's behaviour follows the name (tests/hub_server.py). */
    static const char *const plain[] = {"tiny", "cut-tiny", "cut-norange-tiny", "private-tiny", "stale-tiny",
                                        "cut-change-tiny", "corrupt-tiny", "wrongsize-tiny", "nometa-tiny",
                                        "offhost-tiny", "tiny2"};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) make_model(plain[i], 1, 0);
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

    /* SHA-256: FIPS 180-2's vectors (the empty string, "abc", the 448-bit
     * message, a million 'a's fed in odd-sized pieces). */
    {
        static const char *const want[4] = {
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"};
        const char *msg[3] = {"", "abc", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"};
        for (int k = 0; k < 4; k++) {
            sha256_ctx h;
            sha256_init(&h);
            if (k < 3) sha256_update(&h, msg[k], strlen(msg[k]));
            else {
                static char as[1000000];
                memset(as, 'a', sizeof as);
                for (size_t off = 0, step = 1; off < sizeof as; off += step, step = step * 3 % 997 + 1)
                    sha256_update(&h, as + off, off + step <= sizeof as ? step : sizeof as - off);
            }
            uint8_t d[32];
            char hex[65];
            sha256_final(&h, d);
            for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
            CHECK(!strcmp(hex, want[k]), "sha256 vector %d: %s", k, hex);
        }
    }

    /* Names. */
    CHECK(hub_valid_name("bert-base-uncased") && hub_valid_name("owner/name.v2_x-y"), "valid names");
    CHECK(!hub_valid_name("a/b/c") && !hub_valid_name("../x") && !hub_valid_name("a/..b") &&
              !hub_valid_name("") && !hub_valid_name("/x") && !hub_valid_name("a b") && !hub_valid_name(".x") &&
              !hub_valid_name("a--b") && !hub_valid_name("owner/x--y") && !hub_valid_name("x.partial/.lock"),
          "invalid names (no '.' start, no '--': bertc's own cache names cannot be model ids)");
    CHECK(hub_valid_revision("main") && hub_valid_revision("v1.0") && !hub_valid_revision("refs/pr/1") &&
              !hub_valid_revision(".tmp") && !hub_valid_revision("../x"),
          "revisions");

    /* 0. The library's default: no downloads. hf_model_load and bertc_open
     * fail with a message and send nothing. */
    int rc = load("owner/tiny", &err);
    CHECK(rc == BERTC_ERR_NOTFOUND && strstr(err.msg, "downloads are off") && strstr(err.msg, "no such folder"),
          "not allowed: rc %d %s", rc, err.msg);
    bertc_classifier *api = NULL;
    rc = bertc_open(&api, "owner/tiny", NULL, &err);
    CHECK(rc == BERTC_ERR_NOTFOUND && api == NULL, "bertc_open does not download: rc %d %s", rc, err.msg);
    CHECK(!log_has("tiny"), "nothing requested while downloads are off");
    bertc_classifier_opts co;
    bertc_classifier_opts_default(&co);
    co.allow_download = 1;
    rc = bertc_classifier_open(&api, "owner/tiny", &co, &err);
    CHECK(rc == BERTC_OK, "allowed through the classifier options: rc %d %s", rc, err.msg);
    bertc_classifier_free(api);
    api = NULL;
    char snap[PATH_MAX], ref[64] = "";
    CHECK(hub_cache_find("owner/tiny", NULL, cache_root, snap, sizeof snap), "owner/tiny found in the cache");
    hub_set_downloads(1); /* from here on, as the CLI runs */

    /* 1. A normal download: keyed by id and commit. */
    char *refs = NULL;
    {
        char p[700];
        snprintf(p, sizeof p, "%s/models--owner--tiny/refs/main", cache_root);
        refs = slurp(p);
        snprintf(ref, sizeof ref, "%s", refs);
        free(refs);
    }
    CHECK(strlen(ref) == 40 && exists("models--owner--tiny/refs/main"), "refs/main holds a commit: %s", ref);
    char rel[300];
    snprintf(rel, sizeof rel, "models--owner--tiny/snapshots/%s/.complete", ref);
    CHECK(exists(rel) && strstr(snap, ref) && !exists("models--owner--tiny/.incomplete") && !exists("owner"),
          "owner/tiny at snapshots/COMMIT, complete, no .incomplete left, no old owner/ layout");
    snprintf(rel, sizeof rel, "models--owner--tiny/snapshots/%s/special_tokens_map.json", ref);
    CHECK(!exists(rel), "an optional 404 is skipped");
    CHECK(log_has2("HEAD /owner/tiny/resolve/main/config.json", "auth=Bearer sesame"), "HF_TOKEN sent as Bearer");
    char gl[200];
    snprintf(gl, sizeof gl, "GET /owner/tiny/resolve/%s/vocab.txt", ref);
    CHECK(log_has(gl), "files fetched from the commit, not the branch");
    CHECK(log_has("GET /lfs/owner/tiny/model.safetensors"), "the redirect to /lfs was followed");
    snprintf(rel, sizeof rel, "models--owner--tiny/snapshots/%s/model.safetensors", ref);
    CHECK(prog_calls > 0 && prog_done == prog_total && prog_total == (unsigned long long)file_size(rel),
          "progress reached %llu of %llu", prog_done, prog_total);
    rc = load("owner/tiny", &err); /* second time: from the cache */
    CHECK(rc == BERTC_OK, "cached load: %s", err.msg);
    char dir2[PATH_MAX] = "";
    rc = hub_download("owner/tiny", cache_root, &(hub_opts){.revision = ref, .connect_timeout_s = 5}, dir2,
                      sizeof dir2, &err);
    CHECK(rc == BERTC_OK && !strcmp(dir2, snap), "revision = the commit: the same snapshot: %s %s", dir2, err.msg);
    CHECK(hub_cache_find("owner/tiny", ref, cache_root, dir2, sizeof dir2), "found by commit");
    CHECK(!hub_cache_find("owner/tiny", "v9", cache_root, dir2, sizeof dir2), "another revision is not");

    /* 2. Cut mid-file: a clear error, nothing at the snapshot, then a resume. */
    rc = load("owner/cut-tiny", &err);
    CHECK(rc == BERTC_ERR_IO && strstr(err.msg, "model.safetensors") && strstr(err.msg, "again to resume"),
          "cut: rc %d, message: %s", rc, err.msg);
    CHECK(!strchr(err.msg, '\n'), "one-line message");
    CHECK(!exists("models--owner--cut-tiny/snapshots") && count_parts("models--owner--cut-tiny") == 1,
          "cut: no snapshot, the .part kept");
    rc = load("owner/cut-tiny", &err);
    CHECK(rc == BERTC_OK, "resume: rc %d %s", rc, err.msg);
    CHECK(log_has2("/lfs/owner/cut-tiny/model.safetensors", "range=bytes="), "the resume sent a Range request");
    CHECK(!exists("models--owner--cut-tiny/.incomplete") && count_parts("models--owner--cut-tiny") == 0,
          "resumed folder in place, nothing left over");

    /* 3. The remote changed between the cut and the resume (same commit, new
     * ETag): the .part of the old ETag is dropped and the file starts over. */
    {
        char cp[700];
        snprintf(cp, sizeof cp, "%s/owner/cut-change-tiny/.commit", srv_root);
        write_text(cp, "2222222222222222222222222222222222222222\n");
    }
    rc = load("owner/cut-change-tiny", &err);
    CHECK(rc == BERTC_ERR_IO && count_parts("models--owner--cut-change-tiny") == 1, "cut (change): rc %d %s", rc,
          err.msg);
    w_shift = 37;
    make_model("cut-change-tiny", 1, 0);
    w_shift = 0;
    rc = load("owner/cut-change-tiny", &err);
    CHECK(rc == BERTC_OK && exists("models--owner--cut-change-tiny/snapshots/2222222222222222222222222222222222222222"),
          "changed remote, same commit: rc %d %s", rc, err.msg);
    CHECK(!log_has2("/lfs/owner/cut-change-tiny/model.safetensors", "range=bytes="),
          "changed remote: no Range request (started over)");
    {
        char got[PATH_MAX], want_hex[65], got_hex[65], pth[PATH_MAX + 64];
        uint64_t n1, n2;
        bertc_err e2 = {0};
        snprintf(pth, sizeof pth, "%s/owner/cut-change-tiny/model.safetensors", srv_root);
        int ok = hub_cache_find("owner/cut-change-tiny", NULL, cache_root, got, sizeof got) &&
                 sha256_file(pth, want_hex, &n1, &e2) == 0;
        snprintf(pth, sizeof pth, "%s/model.safetensors", got);
        ok = ok && sha256_file(pth, got_hex, &n2, &e2) == 0 && !strcmp(want_hex, got_hex);
        CHECK(ok, "changed remote: the cached file is the new one");
    }

    /* 4. A server that ignores Range: the second attempt starts the file over. */
    rc = load("owner/cut-norange-tiny", &err);
    CHECK(rc == BERTC_ERR_IO, "cut (norange): rc %d %s", rc, err.msg);
    rc = load("owner/cut-norange-tiny", &err);
    CHECK(rc == BERTC_OK, "restart after 200 to a Range request: rc %d %s", rc, err.msg);

    /* 5. A stale .part of the right ETag longer than the file: 416, dropped,
     * downloaded again. The server's commit is pinned by .commit. */
    {
        char p[900], hex[65];
        uint64_t n;
        snprintf(p, sizeof p, "%s/owner/stale-tiny/.commit", srv_root);
        write_text(p, "1111111111111111111111111111111111111111\n");
        snprintf(p, sizeof p, "%s/owner/stale-tiny/model.safetensors", srv_root);
        bertc_err e2 = {0};
        sha256_file(p, hex, &n, &e2);
        snprintf(p, sizeof p, "mkdir -p '%s/models--owner--stale-tiny/.incomplete/1111111111111111111111111111111111111111'",
                 cache_root);
        CHECK(system(p) == 0, "mkdir");
        snprintf(p, sizeof p,
                 "%s/models--owner--stale-tiny/.incomplete/1111111111111111111111111111111111111111/model.safetensors.%s.part",
                 cache_root, hex);
        FILE *f = fopen(p, "wb");
        for (int i = 0; f && i < 300000; i++) fputc('x', f);
        if (f) fclose(f);
    }
    rc = load("owner/stale-tiny", &err);
    CHECK(rc == BERTC_OK, "stale .part: rc %d %s", rc, err.msg);
    CHECK(exists("models--owner--stale-tiny/snapshots/1111111111111111111111111111111111111111/.complete"),
          "stale: snapshot under the server's commit");

    /* 6. Corrupt in transit: SHA-256 or size differ from the metadata. */
    rc = load("owner/corrupt-tiny", &err);
    CHECK(rc == BERTC_ERR_FORMAT && strstr(err.msg, "SHA-256") && strstr(err.msg, "nothing was kept") &&
              !strchr(err.msg, '\n'),
          "sha mismatch: rc %d %s", rc, err.msg);
    CHECK(!exists("models--owner--corrupt-tiny"), "sha mismatch: nothing left in the cache");
    rc = load("owner/wrongsize-tiny", &err);
    CHECK(rc == BERTC_ERR_FORMAT && strstr(err.msg, "bytes") && strstr(err.msg, "metadata"),
          "size mismatch: rc %d %s", rc, err.msg);
    CHECK(!exists("models--owner--wrongsize-tiny"), "size mismatch: nothing left in the cache");

    /* 7. A required file missing on the server. */
    rc = load("owner/novocab", &err);
    CHECK(rc == BERTC_ERR_NOTFOUND && strstr(err.msg, "vocab.txt") && strstr(err.msg, "404"),
          "404 vocab.txt: rc %d %s", rc, err.msg);
    CHECK(!exists("models--owner--novocab"), "404: nothing left");
    rc = load("owner/nosuchmodel", &err);
    CHECK(rc == BERTC_ERR_NOTFOUND && strstr(err.msg, "config.json") && strstr(err.msg, "owner/nosuchmodel") &&
              strstr(err.msg, "no such folder"),
          "unknown model: rc %d %s", rc, err.msg);

    /* 8. Corrupt weights (the server's own file): validation fails, nothing kept. */
    rc = load("owner/badweights", &err);
    CHECK(rc == BERTC_ERR_FORMAT && strstr(err.msg, "model.safetensors"), "bad weights: rc %d %s", rc, err.msg);
    CHECK(!exists("models--owner--badweights"), "bad weights: nothing left");

    /* 9. Not a Hub (no X-Repo-Commit): refused before anything is written. */
    rc = load("owner/nometa-tiny", &err);
    CHECK(rc == BERTC_ERR_IO && strstr(err.msg, "X-Repo-Commit"), "no metadata: rc %d %s", rc, err.msg);
    CHECK(!exists("models--owner--nometa-tiny"), "no metadata: nothing written");

    /* 10. The token goes to the endpoint's host only, not to a redirect elsewhere. */
    rc = load("owner/offhost-tiny", &err);
    CHECK(rc == BERTC_OK, "offhost redirect: rc %d %s", rc, err.msg);
    CHECK(log_has2("GET /lfs/owner/offhost-tiny/model.safetensors", "auth=-") &&
              !log_has2("GET /lfs/owner/offhost-tiny/model.safetensors", "sesame"),
          "no token sent to another host");

    /* 11. Tokens: none -> 401 is a clear error; the HF_HOME token file works. */
    unsetenv("HF_TOKEN");
    rc = load("owner/private-tiny", &err);
    CHECK(rc == BERTC_ERR_ARG && strstr(err.msg, "401") && strstr(err.msg, "HF_TOKEN"), "401: rc %d %s", rc,
          err.msg);
    CHECK(!exists("models--owner--private-tiny"), "401: nothing in the cache");
    mkdir(hfhome, 0755);
    char p[700];
    snprintf(p, sizeof p, "%s/token", hfhome);
    write_text(p, "sesame\n");
    rc = load("owner/private-tiny", &err);
    CHECK(rc == BERTC_OK, "token from $HF_HOME/token: rc %d %s", rc, err.msg);
    setenv("HF_TOKEN", "bad token", 1);
    rc = hub_download("owner/tiny2", cache_root, NULL, dir2, sizeof dir2, &err);
    CHECK(rc == BERTC_ERR_ARG && strstr(err.msg, "HF_TOKEN"), "token with a space refused: %s", err.msg);
    setenv("HF_TOKEN", "sesame", 1);

    /* 12. Offline: no request at all. */
    setenv("HF_HUB_OFFLINE", "1", 1);
    rc = load("owner/offline-model", &err);
    CHECK(rc == BERTC_ERR_NOTFOUND && strstr(err.msg, "HF_HUB_OFFLINE"), "offline: rc %d %s", rc, err.msg);
    CHECK(!log_has("offline-model"), "offline: nothing requested");
    rc = load("owner/tiny", &err);
    CHECK(rc == BERTC_OK, "offline: a cached id still loads: %s", err.msg);
    unsetenv("HF_HUB_OFFLINE");

    /* 13. A bad endpoint. */
    rc = hub_download("owner/tiny3", cache_root, &(hub_opts){.endpoint = "ftp://127.0.0.1"}, dir2, sizeof dir2, &err);
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
