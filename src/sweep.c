/* sweep.c: search spaces, trials, scores and records of a sweep. See sweep.h. */
#include "sweep.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rng.h"

static const char *const sweep_flags[] = {"lr", "batch-size", "epochs", "warmup-ratio", "warmup-steps", "weight-decay",
                                          "max-length", "truncation", "model", "precision",
                                          "gradient-accumulation-steps", "lr-scheduler", NULL};

int bertc_sweep_flag_ok(const char *flag) {
    for (int i = 0; sweep_flags[i]; i++)
        if (strcmp(flag, sweep_flags[i]) == 0) return 1;
    return 0;
}

static int is_int_flag(const char *flag) {
    return !strcmp(flag, "batch-size") || !strcmp(flag, "epochs") || !strcmp(flag, "max-length") ||
           !strcmp(flag, "warmup-steps") || !strcmp(flag, "gradient-accumulation-steps");
}

static bertc_param *space_new(bertc_space *sp, const char *flag, bertc_err *err) {
    if (!bertc_sweep_flag_ok(flag)) {
        bertc_fail(err, BERTC_ERR_ARG, "'%s' cannot be swept (lr, batch-size, epochs, warmup-ratio, warmup-steps, "
                   "weight-decay, max-length, truncation, model, precision, gradient-accumulation-steps, lr-scheduler)", flag);
        return NULL;
    }
    for (int i = 0; i < sp->n; i++)
        if (!strcmp(sp->p[i].flag, flag)) {
            bertc_fail(err, BERTC_ERR_ARG, "'%s' is given twice", flag);
            return NULL;
        }
    if (sp->n == BERTC_SWEEP_MAX_PARAMS) {
        bertc_fail(err, BERTC_ERR_ARG, "at most %d parameters", BERTC_SWEEP_MAX_PARAMS);
        return NULL;
    }
    bertc_param *p = &sp->p[sp->n];
    memset(p, 0, sizeof *p);
    snprintf(p->flag, sizeof p->flag, "%s", flag);
    p->integer = is_int_flag(flag);
    return p;
}

static int add_value(bertc_param *p, const char *s, size_t n, bertc_err *err) {
    if (n == 0) return bertc_fail(err, BERTC_ERR_ARG, "--%s: an empty value", p->flag);
    if (p->nvalues == BERTC_SWEEP_MAX_VALUES) return bertc_fail(err, BERTC_ERR_ARG, "--%s: at most %d values", p->flag, BERTC_SWEEP_MAX_VALUES);
    if (p->nvalues % 8 == 0) {
        char **v = realloc(p->values, (size_t)(p->nvalues + 8) * sizeof *v);
        if (!v) return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
        p->values = v;
    }
    char *c = strndup(s, n);
    if (!c) return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    for (int i = 0; i < p->nvalues; i++)
        if (!strcmp(p->values[i], c)) {
            free(c);
            return bertc_fail(err, BERTC_ERR_ARG, "--%s: value '%.*s' is given twice", p->flag, (int)n, s);
        }
    p->values[p->nvalues++] = c;
    return BERTC_OK;
}

int bertc_space_add_list(bertc_space *sp, const char *flag, const char *list, bertc_err *err) {
    bertc_param *p = space_new(sp, flag, err);
    if (!p) return err->code;
    const char *s = list;
    for (;;) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (add_value(p, s, n, err)) {
            for (int i = 0; i < p->nvalues; i++) free(p->values[i]);
            free(p->values);
            return err->code;
        }
        if (!e) break;
        s = e + 1;
    }
    sp->n++;
    return BERTC_OK;
}

static void num_text(char *buf, size_t cap, double v) {
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return;
    }
}

int bertc_space_load(bertc_space *sp, const char *path, bertc_err *err) {
    cJSON *j = NULL;
    if (bertc_json_read(&j, path, 1 << 20, err)) return err->code;
    int rc = BERTC_OK;
    if (!cJSON_IsObject(j)) rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: not a JSON object of parameter -> values", path);
    for (cJSON *c = j ? j->child : NULL; c && !rc; c = c->next) {
        char flag[32];
        snprintf(flag, sizeof flag, "%s", c->string);
        for (char *q = flag; *q; q++)
            if (*q == '_') *q = '-';
        if (!strcmp(flag, "learning-rate")) snprintf(flag, sizeof flag, "lr");
        if (!strcmp(flag, "num-train-epochs")) snprintf(flag, sizeof flag, "epochs");
        bertc_param *p = space_new(sp, flag, err);
        if (!p) {
            rc = bertc_err_prefix(err, "%s", path);
            break;
        }
        if (cJSON_IsArray(c)) {
            for (cJSON *v = c->child; v && !rc; v = v->next) {
                char buf[64];
                if (cJSON_IsNumber(v)) {
                    num_text(buf, sizeof buf, v->valuedouble);
                    rc = add_value(p, buf, strlen(buf), err);
                } else if (cJSON_IsString(v)) {
                    rc = add_value(p, v->valuestring, strlen(v->valuestring), err);
                } else {
                    rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: \"%s\": values are numbers or strings", path, c->string);
                }
            }
            if (!rc && p->nvalues == 0) rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: \"%s\": an empty list", path, c->string);
        } else if (cJSON_IsObject(c)) {
            cJSON *lo = cJSON_GetObjectItemCaseSensitive(c, "min"), *hi = cJSON_GetObjectItemCaseSensitive(c, "max"),
                  *lg = cJSON_GetObjectItemCaseSensitive(c, "log");
            if (!cJSON_IsNumber(lo) || !cJSON_IsNumber(hi) || !(lo->valuedouble <= hi->valuedouble) ||
                (cJSON_IsTrue(lg) && !(lo->valuedouble > 0)))
                rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: \"%s\": a range is {\"min\": a, \"max\": b, \"log\": bool} with a <= b (a > 0 with log)",
                                path, c->string);
            else {
                p->is_range = 1;
                p->lo = lo->valuedouble;
                p->hi = hi->valuedouble;
                p->log = cJSON_IsTrue(lg);
            }
        } else {
            rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: \"%s\": a list of values or a range {\"min\", \"max\", \"log\"}", path, c->string);
        }
        sp->n++; /* counted even on failure, so bertc_space_free frees its values */
    }
    cJSON_Delete(j);
    return rc;
}

void bertc_space_free(bertc_space *sp) {
    for (int i = 0; i < sp->n; i++) {
        for (int k = 0; k < sp->p[i].nvalues; k++) free(sp->p[i].values[k]);
        free(sp->p[i].values);
    }
    memset(sp, 0, sizeof *sp);
}

void bertc_trials_free(bertc_trial *t, int n) {
    for (int i = 0; t && i < n; i++)
        for (int k = 0; k < BERTC_SWEEP_MAX_PARAMS; k++) free(t[i].values[k]);
    free(t);
}

static int trial_equal(const bertc_trial *a, const bertc_trial *b, int np) {
    for (int k = 0; k < np; k++)
        if (strcmp(a->values[k], b->values[k])) return 0;
    return 1;
}

int bertc_sweep_trials(const bertc_space *sp, int search, int max_trials, uint64_t seed, bertc_trial **out, int *n,
                       bertc_err *err) {
    *out = NULL;
    *n = 0;
    if (sp->n == 0) return bertc_fail(err, BERTC_ERR_ARG, "the search space is empty (give --lr 1e-5,3e-5 or --space FILE)");
    int ranges = 0;
    double grid = 1;
    for (int k = 0; k < sp->n; k++) {
        ranges |= sp->p[k].is_range;
        grid *= sp->p[k].is_range ? 1 : sp->p[k].nvalues;
    }
    int random = search == BERTC_SEARCH_RANDOM || (search == BERTC_SEARCH_HALVING && max_trials > 0 && max_trials < grid);
    if (ranges && !random)
        return bertc_fail(err, BERTC_ERR_ARG, "a range {\"min\", \"max\"} needs --search random (or halving with --trials)");
    int m = random ? (max_trials > 0 ? max_trials : 10) : (int)fmin(grid, max_trials > 0 ? max_trials : 1e6);
    if (!random && grid > 1e6) return bertc_fail(err, BERTC_ERR_ARG, "the grid has %.0f trials; give --trials N", grid);
    if (m > 100000) return bertc_fail(err, BERTC_ERR_ARG, "--trials: at most 100000");
    bertc_trial *t = calloc((size_t)m, sizeof *t);
    if (!t) return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    bertc_rng r;
    bertc_rng_seed(&r, seed);
    for (int i = 0; i < m; i++) {
        for (int tries = 0; tries < 100; tries++) {
            long rest = i;
            for (int k = sp->n - 1; k >= 0; k--) { /* grid: the last parameter varies fastest */
                const bertc_param *p = &sp->p[k];
                char buf[64];
                const char *v;
                if (!random) {
                    v = p->values[rest % p->nvalues];
                    rest /= p->nvalues;
                } else if (!p->is_range) {
                    v = p->values[bertc_rng_below(&r, (uint64_t)p->nvalues)];
                } else {
                    double u = (double)(bertc_rng_next(&r) >> 11) * (1.0 / 9007199254740992.0);
                    double x = p->log ? exp(log(p->lo) + u * (log(p->hi) - log(p->lo))) : p->lo + u * (p->hi - p->lo);
                    if (p->integer) snprintf(buf, sizeof buf, "%.0f", round(x));
                    else snprintf(buf, sizeof buf, "%.3g", x);
                    v = buf;
                }
                free(t[i].values[k]);
                if (!(t[i].values[k] = strdup(v))) {
                    bertc_trials_free(t, m);
                    return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
                }
            }
            if (!random) break;
            int dup = 0;
            for (int j = 0; j < i && !dup; j++) dup = trial_equal(&t[i], &t[j], sp->n);
            if (!dup) break;
        }
    }
    *out = t;
    *n = m;
    return BERTC_OK;
}

int bertc_sweep_score(const char *run_dir, const char *metric, double epoch, double *score, bertc_err *err) {
    char path[4096];
    if (bertc_path_join(path, sizeof path, run_dir, "log.jsonl")) return bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", run_dir);
    char *buf = NULL;
    size_t len = 0;
    if (!bertc_is_file(path)) return bertc_fail(err, BERTC_ERR_NOTFOUND, "%s: no log yet", path);
    if (bertc_read_file(path, (size_t)1 << 30, &buf, &len, err)) return err->code;
    int found = 0;
    char *line = buf;
    while (line && *line) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        cJSON *j = cJSON_Parse(line);
        cJSON *v = j ? cJSON_GetObjectItemCaseSensitive(j, metric) : NULL;
        cJSON *ep = j ? cJSON_GetObjectItemCaseSensitive(j, "epoch") : NULL;
        if (cJSON_IsNumber(v) && (epoch <= 0 || (cJSON_IsNumber(ep) && fabs(ep->valuedouble - epoch) < 1e-6))) {
            *score = v->valuedouble;
            found = 1;
        }
        cJSON_Delete(j);
        line = nl ? nl + 1 : NULL;
    }
    free(buf);
    if (!found) return bertc_fail(err, BERTC_ERR_NOTFOUND, "%s: no %s at epoch %g", path, metric, epoch);
    return BERTC_OK;
}

void bertc_sweep_rank(const double *scores, int n, int lower_better, int *order) {
    for (int i = 0; i < n; i++) order[i] = i;
    for (int i = 1; i < n; i++) { /* insertion sort: stable, so ties keep the lower index first */
        int x = order[i], j = i - 1;
        while (j >= 0) {
            double a = scores[order[j]], b = scores[x];
            int better = isnan(a) ? !isnan(b) : (!isnan(b) && (lower_better ? b < a : b > a));
            if (!better) break;
            order[j + 1] = order[j];
            j--;
        }
        order[j + 1] = x;
    }
}

int bertc_append_line(const char *path, const char *line, bertc_err *err) {
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return bertc_fail(err, BERTC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t n = strlen(line);
    char *b = malloc(n + 1);
    if (!b) {
        close(fd);
        return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    }
    memcpy(b, line, n);
    b[n] = '\n';
    ssize_t w = write(fd, b, n + 1); /* one write: O_APPEND keeps a line whole */
    free(b);
    int ok = w == (ssize_t)(n + 1) && fsync(fd) == 0;
    close(fd);
    return ok ? BERTC_OK : bertc_fail(err, BERTC_ERR_IO, "%s: cannot append: %s", path, strerror(errno));
}

int bertc_copy_folder(const char *src, const char *dst, bertc_err *err) {
    char tmp[4096], from[4096], to[4096];
    if (snprintf(tmp, sizeof tmp, "%s.partial", dst) >= (int)sizeof tmp) return bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", dst);
    bertc_rmtree(tmp);
    if (mkdir(tmp, 0755) != 0) return bertc_fail(err, BERTC_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    DIR *d = opendir(src);
    if (!d) return bertc_fail(err, BERTC_ERR_IO, "%s: cannot open: %s", src, strerror(errno));
    int rc = BERTC_OK;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (bertc_path_join(from, sizeof from, src, e->d_name) || bertc_path_join(to, sizeof to, tmp, e->d_name)) {
            rc = bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", src);
            break;
        }
        if (!bertc_is_file(from)) continue;
        char *buf = NULL;
        size_t len = 0;
        rc = bertc_read_file(from, (size_t)16 << 30, &buf, &len, err);
        if (!rc) rc = bertc_write_file_atomic(to, buf, len, err);
        free(buf);
    }
    closedir(d);
    if (!rc) {
        bertc_rmtree(dst);
        if (rename(tmp, dst) != 0) rc = bertc_fail(err, BERTC_ERR_IO, "%s: cannot rename to %s: %s", tmp, dst, strerror(errno));
    }
    if (rc) bertc_rmtree(tmp);
    return rc;
}
