/* checkpoint.c: crash-safe Trainer-like checkpoints (see checkpoint.h and
 * docs/training.md). */
#include "checkpoint.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "safetensors.h"

#define MARKER "COMPLETE"
#define MARKER_MAGIC "bertc-checkpoint"
#define STATE_FILE "trainer_state.json"
#define ARGS_FILE "training_args.json"
#define OPTIM_FILE "optimizer.safetensors"
#define MAX_MARKER_BYTES (1u << 20)
#define MAX_STATE_BYTES (16u << 20)

/* ---- small helpers ---- */

/* The tensors' names inside a checkpoint's optimizer state: part of the file
 * format, so they keep the short names bert.h's fields had (lnew is
 * emb_lnw, attow attn_outw, fcprojw fc_outw, ...); same order as bert.h. */
static const char *const tensor_names[BERT_NUM_PARAM_TENSORS] = {
    "wte", "wpe", "wtt", "lnew", "lneb", "qkvw", "qkvb", "attow", "attob", "ln1w", "ln1b",
    "fcw", "fcb", "fcprojw", "fcprojb", "ln2w", "ln2b", "poolw", "poolb", "clsw", "clsb",
};

/* Writes a whole file and fsyncs it (no rename: used inside the temp folder). */
static int write_file_sync(const char *path, const void *data, size_t len, bertc_err *err) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return bertc_fail(err, BERTC_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            return bertc_fail(err, BERTC_ERR_IO, "%s: write failed: %s", path, strerror(e));
        }
        p += w;
        len -= (size_t)w;
    }
    if (fsync(fd) != 0) {
        int e = errno;
        close(fd);
        return bertc_fail(err, BERTC_ERR_IO, "%s: fsync failed: %s", path, strerror(e));
    }
    if (close(fd) != 0) return bertc_fail(err, BERTC_ERR_IO, "%s: close failed: %s", path, strerror(errno));
    return BERTC_OK;
}

/* Size and CRC-32 of a file; fsyncs it on the way when do_sync. */
static int file_crc(const char *path, int do_sync, uint64_t *size, uint32_t *crc, bertc_err *err) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return bertc_fail(err, BERTC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (do_sync && fsync(fd) != 0) {
        int e = errno;
        close(fd);
        return bertc_fail(err, BERTC_ERR_IO, "%s: fsync failed: %s", path, strerror(e));
    }
    enum { CHUNK = 1 << 20 };
    unsigned char *buf = malloc(CHUNK);
    if (!buf) {
        close(fd);
        return bertc_fail(err, BERTC_ERR_NOMEM, "%s: cannot allocate a read buffer", path);
    }
    uLong c = crc32(0L, Z_NULL, 0);
    uint64_t total = 0;
    for (;;) {
        ssize_t r = read(fd, buf, CHUNK);
        if (r < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            free(buf);
            close(fd);
            return bertc_fail(err, BERTC_ERR_IO, "%s: read failed: %s", path, strerror(e));
        }
        if (r == 0) break;
        c = crc32(c, buf, (uInt)r);
        total += (uint64_t)r;
    }
    free(buf);
    close(fd);
    *size = total;
    *crc = (uint32_t)c;
    return BERTC_OK;
}

/* Parses "checkpoint-N" where N is the canonical decimal form the saver writes
 * ("%ld": digits only, no leading zero unless N is 0), so that checkpoint-7 and
 * checkpoint-007 are never both step 7. Returns N or -1 (not a checkpoint). */
static long parse_ckpt_name(const char *name) {
    const char *pre = "checkpoint-";
    size_t pl = strlen(pre);
    if (strncmp(name, pre, pl) != 0) return -1;
    const char *d = name + pl;
    if (!*d) return -1;
    if (d[0] == '0' && d[1]) return -1;
    for (const char *q = d; *q; q++)
        if (*q < '0' || *q > '9') return -1;
    long v;
    if (bertc_parse_long(d, 0, LONG_MAX, &v) != 0) return -1;
    return v;
}

static const char *base_name(const char *path, char *buf, size_t cap) {
    snprintf(buf, cap, "%s", path);
    size_t n = strlen(buf);
    while (n > 1 && buf[n - 1] == '/') buf[--n] = '\0';
    char *s = strrchr(buf, '/');
    return s ? s + 1 : buf;
}

static void parent_of(const char *path, char *buf, size_t cap) {
    snprintf(buf, cap, "%s", path);
    size_t n = strlen(buf);
    while (n > 1 && buf[n - 1] == '/') buf[--n] = '\0';
    char *s = strrchr(buf, '/');
    if (!s) snprintf(buf, cap, ".");
    else if (s == buf) buf[1] = '\0';
    else *s = '\0';
}

static int cmp_long(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* The checkpoint-N steps in out_dir, ascending, malloc'd into *steps. */
static int list_steps(const char *out_dir, long **steps, int *n, bertc_err *err) {
    *steps = NULL;
    *n = 0;
    DIR *d = opendir(out_dir);
    if (!d) return bertc_fail(err, errno == ENOENT ? BERTC_ERR_NOTFOUND : BERTC_ERR_IO,
                              "%s: cannot open the output folder: %s", out_dir, strerror(errno));
    long *v = NULL;
    int cnt = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        long s = parse_ckpt_name(e->d_name);
        if (s < 0) continue;
        char p[PATH_MAX];
        if (bertc_path_join(p, sizeof p, out_dir, e->d_name) != 0 || !bertc_is_dir(p)) continue;
        if (cnt == cap) {
            cap = cap ? cap * 2 : 16;
            long *nv = realloc(v, sizeof *nv * (size_t)cap);
            if (!nv) {
                free(v);
                closedir(d);
                return bertc_fail(err, BERTC_ERR_NOMEM, "%s: cannot list checkpoints", out_dir);
            }
            v = nv;
        }
        v[cnt++] = s;
    }
    closedir(d);
    if (cnt > 1) qsort(v, (size_t)cnt, sizeof *v, cmp_long); /* qsort(NULL, 0) is undefined */
    *steps = v;
    *n = cnt;
    return BERTC_OK;
}

static int ckpt_dir(char *out, size_t cap, const char *out_dir, long step) {
    char name[64];
    snprintf(name, sizeof name, "checkpoint-%ld", step);
    return bertc_path_join(out, cap, out_dir, name);
}

/* ---- state ---- */

void bertc_ckpt_state_init(bertc_ckpt_state *st) {
    memset(st, 0, sizeof *st);
    st->best_step = -1;
    st->greater_is_better = 1;
    st->sched.kind = BERTC_SCHED_LINEAR;
    st->sched.num_cycles = 0.5;
}

static int rng_name_ok(const char *name) {
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n >= sizeof(((bertc_ckpt_rng *)0)->name)) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int bertc_ckpt_set_rng(bertc_ckpt_state *st, const char *name, const bertc_rng *r, bertc_err *err) {
    if (!rng_name_ok(name))
        return bertc_fail(err, BERTC_ERR_ARG, "checkpoint: bad RNG name '%s' (1..31 of A-Za-z0-9_-)",
                          name ? name : "(null)");
    for (int i = 0; i < st->num_rng; i++)
        if (strcmp(st->rng[i].name, name) == 0) {
            st->rng[i].state = *r;
            return BERTC_OK;
        }
    if (st->num_rng >= BERTC_CKPT_MAX_RNG)
        return bertc_fail(err, BERTC_ERR_ARG, "checkpoint: more than %d RNG states", BERTC_CKPT_MAX_RNG);
    snprintf(st->rng[st->num_rng].name, sizeof st->rng[0].name, "%s", name);
    st->rng[st->num_rng++].state = *r;
    return BERTC_OK;
}

int bertc_ckpt_get_rng(const bertc_ckpt_state *st, const char *name, bertc_rng *r, bertc_err *err) {
    for (int i = 0; i < st->num_rng; i++)
        if (name && strcmp(st->rng[i].name, name) == 0) {
            *r = st->rng[i].state;
            return BERTC_OK;
        }
    return bertc_fail(err, BERTC_ERR_NOTFOUND, "checkpoint: no RNG state named '%s'", name ? name : "(null)");
}

static void hex64(char out[17], uint64_t v) { snprintf(out, 17, "%016" PRIx64, v); }

static int parse_hex64(const char *s, uint64_t *out) {
    if (!s || strlen(s) != 16) return -1;
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        char c = s[i];
        int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v << 4 | (uint64_t)d;
    }
    *out = v;
    return 0;
}

static cJSON *state_to_json(const bertc_ckpt_state *st, const bertc_adamw *opt) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "global_step", (double)st->global_step);
    cJSON_AddNumberToObject(j, "epoch", st->epoch);
    cJSON_AddNumberToObject(j, "max_steps", (double)st->max_steps);
    if (st->has_best) {
        cJSON_AddNumberToObject(j, "best_metric", st->best_metric);
        cJSON_AddNumberToObject(j, "best_global_step", (double)st->best_step);
        cJSON_AddStringToObject(j, "best_model_checkpoint", st->best_checkpoint);
    } else {
        cJSON_AddNullToObject(j, "best_metric");
        cJSON_AddNullToObject(j, "best_global_step");
        cJSON_AddNullToObject(j, "best_model_checkpoint");
    }
    cJSON_AddStringToObject(j, "metric_for_best_model", st->best_metric_name);
    cJSON_AddBoolToObject(j, "greater_is_better", st->greater_is_better);
    cJSON *b = cJSON_AddObjectToObject(j, "bertc");
    cJSON_AddNumberToObject(b, "format_version", BERTC_CKPT_FORMAT);
    cJSON *lg = cJSON_AddObjectToObject(b, "log_jsonl");
    cJSON_AddNumberToObject(lg, "lines", (double)st->log_lines);
    cJSON_AddNumberToObject(lg, "bytes", (double)st->log_bytes);
    cJSON *s = cJSON_AddObjectToObject(b, "lr_scheduler");
    cJSON_AddStringToObject(s, "type", bertc_sched_name(st->sched.kind));
    cJSON_AddNumberToObject(s, "base_lr", st->sched.base_lr);
    cJSON_AddNumberToObject(s, "warmup_steps", (double)st->sched.warmup_steps);
    cJSON_AddNumberToObject(s, "total_steps", (double)st->sched.total_steps);
    cJSON_AddNumberToObject(s, "num_cycles", st->sched.num_cycles);
    cJSON_AddNumberToObject(s, "last_epoch", (double)st->global_step); /* LambdaLR's counter */
    char hex[17];
    cJSON *d = cJSON_AddObjectToObject(b, "data");
    hex64(hex, st->data_seed);
    cJSON_AddStringToObject(d, "seed", hex);
    cJSON_AddNumberToObject(d, "epoch", (double)st->data_epoch);
    cJSON_AddNumberToObject(d, "batch", (double)st->data_batch);
    cJSON *r = cJSON_AddObjectToObject(b, "rng");
    for (int i = 0; i < st->num_rng; i++) {
        char buf[4 * 16 + 1];
        for (int k = 0; k < 4; k++) hex64(buf + 16 * k, st->rng[i].state.s[k]);
        cJSON_AddStringToObject(r, st->rng[i].name, buf);
    }
    cJSON_AddNumberToObject(b, "skipped_steps", (double)st->skipped_steps);
    if (st->eval_pending) cJSON_AddBoolToObject(b, "eval_pending", 1);
    if (opt) {
        cJSON *o = cJSON_AddObjectToObject(b, "optimizer");
        cJSON_AddStringToObject(o, "type", "adamw");
        cJSON_AddNumberToObject(o, "step", (double)opt->step);
        cJSON_AddNumberToObject(o, "num_params", (double)opt->n);
        cJSON_AddNumberToObject(o, "beta1", opt->opts.beta1);
        cJSON_AddNumberToObject(o, "beta2", opt->opts.beta2);
        cJSON_AddNumberToObject(o, "eps", opt->opts.eps);
        cJSON_AddNumberToObject(o, "weight_decay", opt->opts.weight_decay);
    }
    return j;
}

/* A JSON number that must be an integer in [lo, hi]. */
static int get_long(const cJSON *o, const char *key, long lo, long hi, long *out) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(x)) return -1;
    double v = x->valuedouble;
    if (!(v >= (double)lo && v <= (double)hi) || v != floor(v)) return -1;
    *out = (long)v;
    return 0;
}

static int get_double(const cJSON *o, const char *key, double *out) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble)) return -1;
    *out = x->valuedouble;
    return 0;
}

int bertc_ckpt_read_state(const char *dir, bertc_ckpt_state *st, bertc_err *err) {
    char path[PATH_MAX];
    if (bertc_path_join(path, sizeof path, dir, STATE_FILE) != 0)
        return bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", dir);
    char *text = NULL;
    size_t len = 0;
    int rc = bertc_read_file(path, MAX_STATE_BYTES, &text, &len, err);
    if (rc != BERTC_OK) return rc;
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: not a JSON object", path);
    }
    bertc_ckpt_state s;
    bertc_ckpt_state_init(&s);
    const char *bad = NULL;
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "bertc");
    const cJSON *lg = cJSON_GetObjectItemCaseSensitive(b, "log_jsonl");
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(b, "lr_scheduler");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(b, "data");
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(b, "rng");
    long ver = 0;
    if (!cJSON_IsObject(b)) bad = "bertc";
    else if (get_long(b, "format_version", 1, 1000, &ver) || ver != BERTC_CKPT_FORMAT) bad = "bertc.format_version";
    else if (get_long(j, "global_step", 0, LONG_MAX / 2, &s.global_step)) bad = "global_step";
    else if (get_double(j, "epoch", &s.epoch) || s.epoch < 0) bad = "epoch";
    else if (get_long(j, "max_steps", 0, LONG_MAX / 2, &s.max_steps)) bad = "max_steps";
    else if (get_long(lg, "lines", 0, LONG_MAX / 2, &s.log_lines)) bad = "bertc.log_jsonl.lines";
    else if (get_long(lg, "bytes", 0, LONG_MAX / 2, &s.log_bytes)) bad = "bertc.log_jsonl.bytes";
    else if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(sc, "type")) ||
             bertc_sched_parse(cJSON_GetObjectItemCaseSensitive(sc, "type")->valuestring, &s.sched.kind, NULL))
        bad = "bertc.lr_scheduler.type";
    else if (get_double(sc, "base_lr", &s.sched.base_lr) || s.sched.base_lr < 0) bad = "bertc.lr_scheduler.base_lr";
    else if (get_long(sc, "warmup_steps", 0, LONG_MAX / 2, &s.sched.warmup_steps)) bad = "bertc.lr_scheduler.warmup_steps";
    else if (get_long(sc, "total_steps", 0, LONG_MAX / 2, &s.sched.total_steps)) bad = "bertc.lr_scheduler.total_steps";
    else if (get_double(sc, "num_cycles", &s.sched.num_cycles)) bad = "bertc.lr_scheduler.num_cycles";
    else if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(d, "seed")) ||
             parse_hex64(cJSON_GetObjectItemCaseSensitive(d, "seed")->valuestring, &s.data_seed))
        bad = "bertc.data.seed (16 hex digits)";
    else if (get_long(d, "epoch", 0, LONG_MAX / 2, &s.data_epoch)) bad = "bertc.data.epoch";
    else if (get_long(d, "batch", 0, LONG_MAX / 2, &s.data_batch)) bad = "bertc.data.batch";
    else if (get_long(b, "skipped_steps", 0, LONG_MAX / 2, &s.skipped_steps)) bad = "bertc.skipped_steps";
    else if (r && !cJSON_IsObject(r)) bad = "bertc.rng";
    else if (cJSON_GetObjectItemCaseSensitive(b, "eval_pending") &&
             !cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(b, "eval_pending")))
        bad = "bertc.eval_pending (true or false)";
    if (!bad) s.eval_pending = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(b, "eval_pending"));
    if (!bad) {
        const cJSON *e;
        cJSON_ArrayForEach(e, r) {
            bertc_rng g;
            const char *hx = cJSON_IsString(e) ? e->valuestring : NULL;
            int ok = hx && strlen(hx) == 64;
            for (int k = 0; ok && k < 4; k++) {
                char part[17];
                memcpy(part, hx + 16 * k, 16);
                part[16] = '\0';
                ok = parse_hex64(part, &g.s[k]) == 0;
            }
            if (!ok || bertc_ckpt_set_rng(&s, e->string, &g, NULL) != BERTC_OK) {
                bad = "bertc.rng (name: 64 hex digits, at most 4)";
                break;
            }
        }
    }
    if (!bad) {
        const cJSON *bm = cJSON_GetObjectItemCaseSensitive(j, "best_metric");
        const cJSON *mn = cJSON_GetObjectItemCaseSensitive(j, "metric_for_best_model");
        const cJSON *gb = cJSON_GetObjectItemCaseSensitive(j, "greater_is_better");
        if (cJSON_IsString(mn)) snprintf(s.best_metric_name, sizeof s.best_metric_name, "%s", mn->valuestring);
        if (cJSON_IsBool(gb)) s.greater_is_better = cJSON_IsTrue(gb);
        if (cJSON_IsNumber(bm)) {
            const cJSON *bc = cJSON_GetObjectItemCaseSensitive(j, "best_model_checkpoint");
            s.has_best = 1;
            if (get_double(j, "best_metric", &s.best_metric)) bad = "best_metric";
            else if (get_long(j, "best_global_step", 0, LONG_MAX / 2, &s.best_step)) bad = "best_global_step";
            else if (!cJSON_IsString(bc) || strlen(bc->valuestring) >= sizeof s.best_checkpoint)
                bad = "best_model_checkpoint";
            else snprintf(s.best_checkpoint, sizeof s.best_checkpoint, "%s", bc->valuestring);
        } else if (bm && !cJSON_IsNull(bm)) bad = "best_metric";
    }
    cJSON_Delete(j);
    if (bad) return bertc_fail(err, BERTC_ERR_FORMAT, "%s: field %s is missing or invalid", path, bad);
    *st = s;
    return BERTC_OK;
}

/* ---- the completion marker ---- */

static int name_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists the regular files of dir (sorted), fsyncs each, and writes COMPLETE. */
static int write_marker(const char *dir, long step, bertc_err *err) {
    DIR *d = opendir(dir);
    if (!d) return bertc_fail(err, BERTC_ERR_IO, "%s: cannot open: %s", dir, strerror(errno));
    char **names = NULL;
    int cnt = 0, cap = 0, rc = BERTC_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2]))) continue;
        char p[PATH_MAX];
        if (bertc_path_join(p, sizeof p, dir, e->d_name) != 0) { rc = bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", dir); break; }
        if (!bertc_is_file(p)) { rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: not a regular file; a checkpoint holds only files", p); break; }
        if (strcmp(e->d_name, MARKER) == 0) continue;
        if (strpbrk(e->d_name, " \t\r\n")) { rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: a file name with white space", p); break; }
        if (cnt == cap) {
            cap = cap ? 2 * cap : 16;
            char **nn = realloc(names, sizeof *nn * (size_t)cap);
            if (!nn) { rc = bertc_fail(err, BERTC_ERR_NOMEM, "%s: cannot list files", dir); break; }
            names = nn;
        }
        if (!(names[cnt] = strdup(e->d_name))) { rc = bertc_fail(err, BERTC_ERR_NOMEM, "%s: cannot list files", dir); break; }
        cnt++;
    }
    closedir(d);
    size_t bufcap = 128 + (size_t)cnt * (NAME_MAX + 64), len = 0;
    char *buf = rc == BERTC_OK ? malloc(bufcap) : NULL;
    if (rc == BERTC_OK && !buf) rc = bertc_fail(err, BERTC_ERR_NOMEM, "%s: cannot allocate the marker", dir);
    if (rc == BERTC_OK) {
        qsort(names, (size_t)cnt, sizeof *names, name_cmp);
        len += (size_t)snprintf(buf + len, bufcap - len, "%s %d\nstep %ld\n", MARKER_MAGIC, BERTC_CKPT_FORMAT, step);
        for (int i = 0; i < cnt && rc == BERTC_OK; i++) {
            char p[PATH_MAX];
            uint64_t size;
            uint32_t crc;
            bertc_path_join(p, sizeof p, dir, names[i]);
            rc = file_crc(p, 1, &size, &crc, err);
            if (rc == BERTC_OK)
                len += (size_t)snprintf(buf + len, bufcap - len, "file %s %" PRIu64 " %08" PRIx32 "\n",
                                        names[i], size, crc);
        }
        if (rc == BERTC_OK) {
            len += (size_t)snprintf(buf + len, bufcap - len, "end %d\n", cnt);
            char p[PATH_MAX];
            bertc_path_join(p, sizeof p, dir, MARKER);
            rc = write_file_sync(p, buf, len, err);
        }
    }
    for (int i = 0; i < cnt; i++) free(names[i]);
    free(names);
    free(buf);
    return rc;
}

int bertc_ckpt_verify(const char *dir, int full, bertc_err *err) {
    char path[PATH_MAX], nb[PATH_MAX];
    if (bertc_path_join(path, sizeof path, dir, MARKER) != 0)
        return bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", dir);
    if (!bertc_is_dir(dir)) return bertc_fail(err, BERTC_ERR_NOTFOUND, "%s: no such checkpoint folder", dir);
    if (!bertc_is_file(path))
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: incomplete checkpoint (no %s marker)", dir, MARKER);
    char *text = NULL;
    size_t len = 0;
    int rc = bertc_read_file(path, MAX_MARKER_BYTES, &text, &len, err);
    if (rc != BERTC_OK) return rc;
    long folder_step = parse_ckpt_name(base_name(dir, nb, sizeof nb));
    int state_seen = 0, nfiles = 0, ended = 0, line_no = 0;
    char *save = NULL;
    rc = BERTC_OK;
    for (char *line = strtok_r(text, "\n", &save); line && rc == BERTC_OK; line = strtok_r(NULL, "\n", &save)) {
        line_no++;
        char name[NAME_MAX + 1], extra;
        unsigned long long size;
        unsigned crc;
        long step;
        int ver, n;
        if (ended) { rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: text after the end line", path); break; }
        if (line_no == 1) {
            if (sscanf(line, MARKER_MAGIC " %d %c", &ver, &extra) != 1 || ver != BERTC_CKPT_FORMAT)
                rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: not a bertc checkpoint marker (version %d expected)", path, BERTC_CKPT_FORMAT);
        } else if (line_no == 2) {
            if (sscanf(line, "step %ld %c", &step, &extra) != 1 || step < 0)
                rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: bad step line", path);
            else if (folder_step >= 0 && step != folder_step)
                rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: marker is for step %ld, the folder is named for %ld",
                                path, step, folder_step);
        } else if (strncmp(line, "end ", 4) == 0) {
            if (sscanf(line, "end %d %c", &n, &extra) != 1 || n != nfiles)
                rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: end line does not match the %d files listed", path, nfiles);
            ended = 1;
        } else if (sscanf(line, "file %255s %llu %8x %c", name, &size, &crc, &extra) == 3) {
            char fp[PATH_MAX];
            struct stat sb;
            if (strchr(name, '/') || strcmp(name, "..") == 0 || strcmp(name, ".") == 0 ||
                bertc_path_join(fp, sizeof fp, dir, name) != 0) {
                rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: bad file name '%s'", path, name);
            } else if (stat(fp, &sb) != 0 || !S_ISREG(sb.st_mode)) {
                rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: missing (listed in %s)", fp, MARKER);
            } else if ((unsigned long long)sb.st_size != size) {
                rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: %lld bytes, %s says %llu (truncated or changed)",
                                fp, (long long)sb.st_size, MARKER, size);
            } else if (full) {
                uint64_t got_size;
                uint32_t got_crc;
                rc = file_crc(fp, 0, &got_size, &got_crc, err);
                if (rc == BERTC_OK && (got_size != size || got_crc != crc))
                    rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: CRC-32 %08x, %s says %08x (the file is damaged)",
                                    fp, got_crc, MARKER, crc);
            }
            if (strcmp(name, STATE_FILE) == 0) state_seen = 1;
            nfiles++;
        } else {
            rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: line %d is malformed", path, line_no);
        }
    }
    free(text);
    if (rc != BERTC_OK) return rc;
    if (!ended) return bertc_fail(err, BERTC_ERR_FORMAT, "%s: no end line (the marker is truncated)", path);
    if (!state_seen) return bertc_fail(err, BERTC_ERR_FORMAT, "%s: does not list %s", path, STATE_FILE);
    return BERTC_OK;
}

/* ---- saving ---- */

static int check_finite(const float *x, size_t n, const bert_config *cfg, const char *what,
                        const char *ckpt, bertc_err *err) {
    size_t bad;
    if (bertc_all_finite(x, n, &bad)) return BERTC_OK;
    char where[96] = "";
    if (cfg && n == bert_num_params(cfg)) {
        size_t sizes[BERT_NUM_PARAM_TENSORS], off = 0;
        bert_param_sizes(sizes, cfg);
        for (int i = 0; i < BERT_NUM_PARAM_TENSORS; i++) {
            if (bad < off + sizes[i]) {
                snprintf(where, sizeof where, " (tensor %s, element %zu)", tensor_names[i], bad - off);
                break;
            }
            off += sizes[i];
        }
    }
    return bertc_fail(err, BERTC_ERR_NUMERIC,
                      "refusing to save %s: %s[%zu]%s is %s; the run diverged (lower the learning rate "
                      "or resume from an earlier checkpoint)", ckpt, what, bad, where,
                      isnan(x[bad]) ? "NaN" : "infinite");
}

/* FNV-1a, 64 bits. */
static uint64_t fnv1a(uint64_t h, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
    return h;
}

int bertc_ckpt_host_key(char *out, size_t cap) {
    char buf[256];
    uint64_t h = 0xcbf29ce484222325ULL;
    if (gethostname(buf, sizeof buf) != 0) buf[0] = '\0';
    buf[sizeof buf - 1] = '\0';
    h = fnv1a(h, buf, strlen(buf) + 1);
    int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0) close(fd);
    h = fnv1a(h, buf, n > 0 ? (size_t)n : 0);
    n = readlink("/proc/self/ns/pid", buf, sizeof buf - 1); /* "pid:[4026531836]": the PID namespace */
    h = fnv1a(h, buf, n > 0 ? (size_t)n : 0);
    return snprintf(out, cap, "%016" PRIx64, h) == 16 ? 0 : -1;
}

int bertc_ckpt_save(const char *out_dir, const hf_model *model, const bertc_adamw *opt,
                    const bertc_ckpt_state *st, const char *args_json, bertc_err *err) {
    if (!out_dir || !model || !st) return bertc_fail(err, BERTC_ERR_ARG, "checkpoint: missing argument");
    if (st->global_step < 0) return bertc_fail(err, BERTC_ERR_ARG, "checkpoint: negative step %ld", st->global_step);
    char final[PATH_MAX], tmp[PATH_MAX], old[PATH_MAX], name[128];
    snprintf(name, sizeof name, "checkpoint-%ld", st->global_step);
    if (ckpt_dir(final, sizeof final, out_dir, st->global_step) != 0)
        return bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", out_dir);
    char key[17];
    bertc_ckpt_host_key(key, sizeof key);
    snprintf(name, sizeof name, ".checkpoint-%ld.tmp-%ld-%s", st->global_step, (long)getpid(), key);
    if (bertc_path_join(tmp, sizeof tmp, out_dir, name) != 0)
        return bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", out_dir);
    snprintf(name, sizeof name, ".checkpoint-%ld.old-%ld-%s", st->global_step, (long)getpid(), key);
    if (bertc_path_join(old, sizeof old, out_dir, name) != 0)
        return bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", out_dir);

    /* Refuse before writing anything. */
    int rc = check_finite(model->params_memory, model->num_params, &model->cfg, "parameter", final, err);
    if (rc == BERTC_OK && opt) {
        if (opt->n != model->num_params)
            return bertc_fail(err, BERTC_ERR_ARG, "checkpoint: optimizer has %zu parameters, the model %zu",
                              opt->n, model->num_params);
        rc = check_finite(opt->m, opt->n, &model->cfg, "exp_avg", final, err);
        if (rc == BERTC_OK) rc = check_finite(opt->v, opt->n, &model->cfg, "exp_avg_sq", final, err);
    }
    if (rc != BERTC_OK) return rc;
    cJSON *args = cJSON_Parse(args_json ? args_json : "{}");
    if (!cJSON_IsObject(args)) {
        cJSON_Delete(args);
        return bertc_fail(err, BERTC_ERR_ARG, "checkpoint: training arguments are not one JSON object");
    }
    char *args_text = cJSON_Print(args);
    cJSON_Delete(args);
    cJSON *sj = state_to_json(st, opt);
    char *state_text = sj ? cJSON_Print(sj) : NULL;
    cJSON_Delete(sj);
    if (!args_text || !state_text) {
        free(args_text);
        free(state_text);
        return bertc_fail(err, BERTC_ERR_NOMEM, "checkpoint: cannot format the JSON files");
    }

    if (!bertc_is_dir(out_dir) && mkdir(out_dir, 0755) != 0 && errno != EEXIST) {
        rc = bertc_fail(err, BERTC_ERR_IO, "%s: cannot create the output folder: %s", out_dir, strerror(errno));
        goto done;
    }
    bertc_rmtree(tmp);
    if (mkdir(tmp, 0755) != 0) {
        rc = bertc_fail(err, BERTC_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
        goto done;
    }
    char p[PATH_MAX];
    rc = hf_model_save_into(model, tmp, err);
    if (rc != BERTC_OK) {
        bertc_err_prefix(err, "saving %s", final);
        goto fail;
    }
    if (opt) {
        int64_t step64 = opt->step;
        st_entry e[3] = {
            {.name = "exp_avg", .dtype = ST_F32, .rank = 1, .shape = {(int64_t)opt->n}, .data = opt->m},
            {.name = "exp_avg_sq", .dtype = ST_F32, .rank = 1, .shape = {(int64_t)opt->n}, .data = opt->v},
            {.name = "step", .dtype = ST_I64, .rank = 0, .data = &step64},
        };
        bertc_path_join(p, sizeof p, tmp, OPTIM_FILE);
        if ((rc = st_write(p, e, 3, err)) != BERTC_OK) goto fail;
    }
    bertc_path_join(p, sizeof p, tmp, STATE_FILE);
    if ((rc = write_file_sync(p, state_text, strlen(state_text), err)) != BERTC_OK) goto fail;
    bertc_path_join(p, sizeof p, tmp, ARGS_FILE);
    if ((rc = write_file_sync(p, args_text, strlen(args_text), err)) != BERTC_OK) goto fail;
    /* The marker last, then the folder itself. */
    if ((rc = write_marker(tmp, st->global_step, err)) != BERTC_OK) goto fail;
    if ((rc = bertc_fsync_dir(tmp, err)) != BERTC_OK) goto fail;
    int moved_old = 0;
    if (bertc_is_dir(final)) {
        /* Replacing a checkpoint of the same step (a resumed run saving again):
         * move it aside first; a crash between the renames leaves no
         * checkpoint-N, and resume falls back to the one before. */
        bertc_rmtree(old);
        if (rename(final, old) != 0) {
            rc = bertc_fail(err, BERTC_ERR_IO, "%s: cannot move the old checkpoint aside: %s", final, strerror(errno));
            goto fail;
        }
        moved_old = 1;
    }
    if (rename(tmp, final) != 0) {
        rc = bertc_fail(err, BERTC_ERR_IO, "%s: rename from %s failed: %s", final, tmp, strerror(errno));
        if (moved_old) rename(old, final);
        goto fail;
    }
    rc = bertc_fsync_dir(out_dir, err);
    if (moved_old) bertc_rmtree(old);
    goto done;
fail:
    bertc_rmtree(tmp);
done:
    free(args_text);
    free(state_text);
    return rc;
}

int bertc_ckpt_save_final(const char *out_dir, const hf_model *model, bertc_err *err) {
    char dir[PATH_MAX];
    if (bertc_path_join(dir, sizeof dir, out_dir, "model") != 0)
        return bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", out_dir);
    int rc = check_finite(model->params_memory, model->num_params, &model->cfg, "parameter", dir, err);
    if (rc != BERTC_OK) return rc;
    if (!bertc_is_dir(out_dir) && mkdir(out_dir, 0755) != 0 && errno != EEXIST)
        return bertc_fail(err, BERTC_ERR_IO, "%s: cannot create the output folder: %s", out_dir, strerror(errno));
    return hf_model_save(model, dir, err);
}

/* ---- finding, loading, rotating ---- */

int bertc_ckpt_list(const char *out_dir, int complete_only, long *steps, int cap, int *n, bertc_err *err) {
    long *all;
    int cnt;
    int rc = list_steps(out_dir, &all, &cnt, err);
    if (rc != BERTC_OK) return rc;
    int k = 0;
    for (int i = 0; i < cnt; i++) {
        char dir[PATH_MAX];
        if (complete_only && (ckpt_dir(dir, sizeof dir, out_dir, all[i]) != 0 ||
                              bertc_ckpt_verify(dir, 0, NULL) != BERTC_OK))
            continue;
        if (k < cap && steps) steps[k] = all[i];
        k++;
    }
    free(all);
    if (n) *n = k;
    return BERTC_OK;
}

int bertc_ckpt_find_latest(const char *out_dir, char *path, size_t cap, long *step, bertc_err *err) {
    long *all;
    int cnt;
    int rc = list_steps(out_dir, &all, &cnt, err);
    if (rc != BERTC_OK) return rc;
    char why[sizeof err->msg] = "";
    for (int i = cnt - 1; i >= 0; i--) {
        char dir[PATH_MAX];
        bertc_err e = {0};
        if (ckpt_dir(dir, sizeof dir, out_dir, all[i]) != 0) continue;
        if (bertc_ckpt_verify(dir, 1, &e) != BERTC_OK) {
            if (!why[0]) snprintf(why, sizeof why, "%s", e.msg);
            continue;
        }
        if (strlen(dir) >= cap) {
            free(all);
            return bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", dir);
        }
        snprintf(path, cap, "%s", dir);
        if (step) *step = all[i];
        free(all);
        return BERTC_OK;
    }
    free(all);
    if (cnt == 0)
        return bertc_fail(err, BERTC_ERR_NOTFOUND, "%s: no checkpoint-N folder to resume from", out_dir);
    return bertc_fail(err, BERTC_ERR_NOTFOUND, "%s: none of the %d checkpoint folders is complete (newest: %.600s)",
                      out_dir, cnt, why);
}

int bertc_ckpt_resolve(char *path, size_t cap, const char *spec, const char *out_dir, bertc_err *err) {
    if (!spec || !*spec) return bertc_fail(err, BERTC_ERR_ARG, "--resume: empty value (use latest or a checkpoint folder)");
    if (strcmp(spec, "latest") == 0) {
        if (!out_dir) return bertc_fail(err, BERTC_ERR_ARG, "--resume latest: no output folder given");
        return bertc_ckpt_find_latest(out_dir, path, cap, NULL, err);
    }
    bertc_err e = {0};
    if (bertc_ckpt_verify(spec, 1, &e) == BERTC_OK) {
        if (strlen(spec) >= cap) return bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", spec);
        snprintf(path, cap, "%s", spec);
        return BERTC_OK;
    }
    char parent[PATH_MAX], latest[PATH_MAX];
    parent_of(spec, parent, sizeof parent);
    if (bertc_ckpt_find_latest(parent, latest, sizeof latest, NULL, NULL) == BERTC_OK)
        return bertc_fail(err, e.code, "--resume %s: not a complete checkpoint (%.500s); the newest complete one is %.300s",
                          spec, e.msg, latest);
    return bertc_fail(err, e.code, "--resume %s: not a complete checkpoint (%.700s)", spec, e.msg);
}

static int load_optimizer(const char *dir, bertc_adamw *opt, bertc_err *err) {
    char p[PATH_MAX];
    if (bertc_path_join(p, sizeof p, dir, OPTIM_FILE) != 0) return bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", dir);
    if (!bertc_is_file(p))
        return bertc_fail(err, BERTC_ERR_NOTFOUND, "%s: missing: this checkpoint has no optimizer state to resume from", p);
    st_file *f = NULL;
    int rc = st_open(&f, p, err);
    if (rc != BERTC_OK) return rc;
    const st_tensor *m = st_find(f, "exp_avg"), *v = st_find(f, "exp_avg_sq"), *s = st_find(f, "step");
    if (!m || !v || !s || s->dtype != ST_I64 || s->numel != 1) {
        st_close(f);
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: needs tensors exp_avg, exp_avg_sq (F32) and step (I64 scalar)", p);
    }
    if (m->numel != opt->n || v->numel != opt->n) {
        size_t got = m->numel;
        st_close(f);
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: moments of %zu parameters, the model has %zu (a different model?)",
                          p, got, opt->n);
    }
    int64_t step;
    memcpy(&step, s->data, sizeof step);
    if (step < 0) {
        st_close(f);
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: negative step", p);
    }
    rc = st_tensor_to_f32(opt->m, opt->n, f, m, err);
    if (rc == BERTC_OK) rc = st_tensor_to_f32(opt->v, opt->n, f, v, err);
    st_close(f);
    if (rc == BERTC_OK) opt->step = (long)step;
    return rc;
}

int bertc_ckpt_load(const char *dir, hf_model *model, const hf_load_opts *opts, bertc_adamw *opt,
                    bertc_ckpt_state *st, bertc_err *err) {
    int rc = bertc_ckpt_verify(dir, 1, err);
    if (rc != BERTC_OK) return rc;
    bertc_ckpt_state s;
    if (st && (rc = bertc_ckpt_read_state(dir, &s, err)) != BERTC_OK) return rc;
    if (opt && (rc = load_optimizer(dir, opt, err)) != BERTC_OK) return rc;
    if (model) {
        hf_load_opts o;
        if (!opts) {
            hf_load_opts_default(&o);
            opts = &o;
        }
        if ((rc = hf_model_load(model, dir, opts, err)) != BERTC_OK) return rc;
        if (opt && model->num_params != opt->n) {
            hf_model_free(model);
            return bertc_fail(err, BERTC_ERR_FORMAT, "%s: model has %zu parameters, the optimizer state %zu",
                              dir, model->num_params, opt->n);
        }
    }
    if (st) *st = s;
    return BERTC_OK;
}

int bertc_ckpt_rotate(const char *out_dir, int keep, long best_step, int *deleted, bertc_err *err) {
    if (deleted) *deleted = 0;
    if (keep <= 0) return BERTC_OK;
    long *all;
    int cnt;
    int rc = list_steps(out_dir, &all, &cnt, err);
    if (rc != BERTC_OK) return rc;
    /* Only complete checkpoints count and are deleted. */
    int k = 0;
    for (int i = 0; i < cnt; i++) {
        char dir[PATH_MAX];
        if (ckpt_dir(dir, sizeof dir, out_dir, all[i]) == 0 && bertc_ckpt_verify(dir, 0, NULL) == BERTC_OK)
            all[k++] = all[i];
    }
    cnt = k;
    /* transformers.trainer_utils.rotate_checkpoints: the newest (to resume
     * from) and the best are protected; the oldest others are deleted until
     * max(keep, number protected) remain. */
    int nprot = 1 + (best_step >= 0 && cnt > 0 && best_step != all[cnt - 1] &&
                     bsearch(&best_step, all, (size_t)cnt, sizeof *all, cmp_long) != NULL);
    int num_to_keep = keep > nprot ? keep : nprot, remaining = cnt, ndel = 0;
    for (int i = 0; i < cnt && remaining > num_to_keep && rc == BERTC_OK; i++) {
        if (i == cnt - 1 || all[i] == best_step) continue;
        char dir[PATH_MAX];
        ckpt_dir(dir, sizeof dir, out_dir, all[i]);
        if (bertc_rmtree(dir) != 0) rc = bertc_fail(err, BERTC_ERR_IO, "%s: cannot delete: %s", dir, strerror(errno));
        remaining--;
        ndel++;
        if (rc == BERTC_OK && deleted) (*deleted)++;
    }
    free(all);
    if (rc == BERTC_OK && ndel > 0) rc = bertc_fsync_dir(out_dir, err);
    return rc;
}

int bertc_ckpt_clean_temp(const char *out_dir, int *removed, bertc_err *err) {
    if (removed) *removed = 0;
    DIR *d = opendir(out_dir);
    if (!d) return bertc_fail(err, BERTC_ERR_IO, "%s: cannot open the output folder: %s", out_dir, strerror(errno));
    int rc = BERTC_OK;
    char key[17];
    bertc_ckpt_host_key(key, sizeof key);
    time_t now = time(NULL);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *n = e->d_name;
        if (strncmp(n, ".checkpoint-", 12) != 0) continue;
        const char *t = strstr(n, ".tmp-");
        if (!t) t = strstr(n, ".old-");
        if (!t) continue;
        /* PID, then "-KEY" (bertc_ckpt_host_key of the writer; absent in older names) */
        char digits[24];
        size_t nd = strspn(t + 5, "0123456789");
        if (nd == 0 || nd >= sizeof digits) continue;
        memcpy(digits, t + 5, nd);
        digits[nd] = '\0';
        long pid;
        if (bertc_parse_long(digits, 1, LONG_MAX, &pid) != 0) continue;
        const char *k = t + 5 + nd;
        int local = k[0] == '-' && strcmp(k + 1, key) == 0;
        if (!local && k[0] && (k[0] != '-' || strlen(k + 1) != 16)) continue; /* not a name we write */
        char p[PATH_MAX];
        if (bertc_path_join(p, sizeof p, out_dir, n) != 0) continue;
        if (local) {
            if ((pid_t)pid == getpid()) continue;
            if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue; /* still running (or not ours to judge) */
        } else {
            /* Written on another host, container or boot (or by an older bertc): its
             * PID means nothing here. Removed only once untouched for a day. */
            struct stat sb;
            if (lstat(p, &sb) != 0 || now - sb.st_mtime < BERTC_CKPT_FOREIGN_TEMP_AGE) continue;
        }
        if (bertc_rmtree(p) != 0) {
            rc = bertc_fail(err, BERTC_ERR_IO, "%s: cannot delete: %s", p, strerror(errno));
            break;
        }
        if (removed) (*removed)++;
    }
    closedir(d);
    return rc;
}
