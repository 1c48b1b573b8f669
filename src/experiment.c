/* experiment.c: repeated seeds and run aggregation. See experiment.h. */
#include "experiment.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bertc_seeds_parse(const char *list, uint64_t **seeds, int *n, bertc_err *err) {
    *seeds = NULL;
    *n = 0;
    int cap = 1;
    for (const char *p = list; *p; p++) cap += *p == ',';
    if (cap > 1000) return bertc_fail(err, BERTC_ERR_ARG, "'%s': at most 1000 seeds", list);
    uint64_t *s = malloc((size_t)cap * sizeof *s);
    if (!s) return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    int k = 0;
    const char *p = list;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char item[32];
        long v;
        if (len == 0 || len >= sizeof item) {
            free(s);
            return bertc_fail(err, BERTC_ERR_ARG, "'%s': an empty or overlong seed", list);
        }
        memcpy(item, p, len);
        item[len] = 0;
        if (bertc_parse_long(item, 0, 0x7fffffffffffffffL, &v)) {
            free(s);
            return bertc_fail(err, BERTC_ERR_ARG, "'%s': '%s' is not a non-negative integer", list, item);
        }
        for (int i = 0; i < k; i++)
            if (s[i] == (uint64_t)v) {
                free(s);
                return bertc_fail(err, BERTC_ERR_ARG, "'%s': seed %ld appears twice", list, v);
            }
        s[k++] = (uint64_t)v;
        if (!end) break;
        p = end + 1;
    }
    *seeds = s;
    *n = k;
    return BERTC_OK;
}

int bertc_seed_dir(char *buf, size_t cap, const char *out, uint64_t seed) {
    int w = snprintf(buf, cap, "%s/seed-%llu", out, (unsigned long long)seed);
    return w < 0 || (size_t)w >= cap ? -1 : 0;
}

void bertc_mean_std(const double *x, int n, double *mean, double *std) {
    double s = 0;
    for (int i = 0; i < n; i++) s += x[i];
    double m = n > 0 ? s / n : NAN;
    double q = 0;
    for (int i = 0; i < n; i++) q += (x[i] - m) * (x[i] - m);
    *mean = m;
    *std = n > 1 ? sqrt(q / (n - 1)) : NAN;
}

int bertc_run_metrics(const char *run_dir, cJSON **metrics, bertc_err *err) {
    char path[4096];
    *metrics = NULL;
    if (bertc_path_join(path, sizeof path, run_dir, "run.json")) return bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", run_dir);
    cJSON *j = NULL;
    if (bertc_json_read(&j, path, 64u << 20, err)) return err->code;
    cJSON *m = cJSON_CreateObject();
    if (!m) {
        cJSON_Delete(j);
        return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    }
    for (cJSON *c = j->child; c; c = c->next)
        if (cJSON_IsNumber(c) && c->string) cJSON_AddNumberToObject(m, c->string, c->valuedouble);
    cJSON_Delete(j);
    *metrics = m;
    return BERTC_OK;
}

int bertc_runs_aggregate(const char *const *dirs, const char *const *labels, int n, cJSON **out, bertc_err *err) {
    *out = NULL;
    if (n < 1) return bertc_fail(err, BERTC_ERR_ARG, "no runs to aggregate");
    cJSON *o = cJSON_CreateObject(), *runs = cJSON_CreateArray();
    if (!o || !runs) {
        cJSON_Delete(o);
        cJSON_Delete(runs);
        return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    }
    cJSON_AddNumberToObject(o, "n", n);
    cJSON_AddNumberToObject(o, "std_ddof", 1);
    cJSON_AddItemToObject(o, "runs", runs);
    cJSON **ms = calloc((size_t)n, sizeof *ms);
    double *x = malloc((size_t)n * sizeof *x);
    int rc = ms && x ? BERTC_OK : bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n && !rc; i++) {
        if ((rc = bertc_run_metrics(dirs[i], &ms[i], err))) break;
        cJSON *r = cJSON_CreateObject();
        if (!r) {
            rc = bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
            break;
        }
        cJSON_AddStringToObject(r, "label", labels ? labels[i] : dirs[i]);
        cJSON_AddStringToObject(r, "dir", dirs[i]);
        cJSON_AddItemToObject(r, "metrics", cJSON_Duplicate(ms[i], 1));
        cJSON_AddItemToArray(runs, r);
    }
    if (!rc) {
        cJSON *mean = cJSON_AddObjectToObject(o, "mean"), *sd = cJSON_AddObjectToObject(o, "std");
        for (cJSON *c = ms[0]->child; c && mean && sd; c = c->next) {
            int all = 1;
            for (int i = 0; i < n && all; i++) {
                cJSON *v = cJSON_GetObjectItemCaseSensitive(ms[i], c->string);
                if (!v) all = 0;
                else x[i] = v->valuedouble;
            }
            if (!all) continue;
            double m, s;
            bertc_mean_std(x, n, &m, &s);
            cJSON_AddNumberToObject(mean, c->string, m);
            if (isfinite(s)) cJSON_AddNumberToObject(sd, c->string, s);
            else cJSON_AddNullToObject(sd, c->string);
        }
        if (!mean || !sd) rc = bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; ms && i < n; i++) cJSON_Delete(ms[i]);
    free(ms);
    free(x);
    if (rc) cJSON_Delete(o);
    else *out = o;
    return rc;
}

int bertc_seeds_summary(const char *out, const uint64_t *seeds, int n, cJSON **summary, bertc_err *err) {
    if (summary) *summary = NULL;
    char **dirs = calloc((size_t)n, sizeof *dirs), **labels = calloc((size_t)n, sizeof *labels);
    int rc = dirs && labels ? BERTC_OK : bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n && !rc; i++) {
        char d[4096], l[32];
        if (bertc_seed_dir(d, sizeof d, out, seeds[i])) rc = bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", out);
        snprintf(l, sizeof l, "seed-%llu", (unsigned long long)seeds[i]);
        if (!rc && (!(dirs[i] = strdup(d)) || !(labels[i] = strdup(l)))) rc = bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    }
    cJSON *o = NULL;
    if (!rc) rc = bertc_runs_aggregate((const char *const *)dirs, (const char *const *)labels, n, &o, err);
    if (!rc) {
        cJSON *s = cJSON_CreateArray();
        for (int i = 0; s && i < n; i++) cJSON_AddItemToArray(s, cJSON_CreateNumber((double)seeds[i]));
        cJSON_AddItemToObject(o, "seeds", s);
        char *text = cJSON_Print(o), path[4096];
        if (!text) rc = bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
        else if (bertc_path_join(path, sizeof path, out, "seeds.json")) rc = bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", out);
        else rc = bertc_write_file_atomic(path, text, strlen(text), err);
        free(text);
    }
    for (int i = 0; i < n; i++) {
        if (dirs) free(dirs[i]);
        if (labels) free(labels[i]);
    }
    free(dirs);
    free(labels);
    if (rc) cJSON_Delete(o);
    else if (summary) *summary = o;
    else cJSON_Delete(o);
    return rc;
}
