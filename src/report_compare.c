/* report_compare.c: runs side by side in one HTML page. See report_compare.h. */
#include "report_compare.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "experiment.h"

/* ---------------------------------------------------------------- text buffer */

typedef struct sb {
    char *p;
    size_t n, cap;
    int oom;
} sb;

static void put_n(sb *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap < b->n + n + 1) cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}
static void put(sb *b, const char *s) { put_n(b, s, strlen(s)); }
static void putf(sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static void putf(sb *b, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (k > 0) put_n(b, buf, (size_t)k < sizeof buf ? (size_t)k : sizeof buf - 1);
}
static void esc(sb *b, const char *s) {
    for (; s && *s; s++) {
        switch (*s) {
        case '<': put(b, "&lt;"); break;
        case '>': put(b, "&gt;"); break;
        case '&': put(b, "&amp;"); break;
        case '"': put(b, "&quot;"); break;
        case '\'': put(b, "&#39;"); break;
        default: put_n(b, s, 1);
        }
    }
}

/* ---------------------------------------------------------------- runs */

typedef struct series {
    double *x, *y;
    int n, cap;
} series;

static int push(series *s, double x, double y) {
    if (s->n == s->cap) {
        int cap = s->cap ? s->cap * 2 : 32;
        double *a = realloc(s->x, (size_t)cap * sizeof *a);
        if (!a) return -1;
        s->x = a;
        double *b2 = realloc(s->y, (size_t)cap * sizeof *b2);
        if (!b2) return -1;
        s->y = b2;
        s->cap = cap;
    }
    s->x[s->n] = x;
    s->y[s->n] = y;
    s->n++;
    return 0;
}

typedef struct crun {
    char label[160];
    char dir[4096];
    char status[24];
    cJSON *settings;        /* name -> value (owned) */
    double acc, f1, loss;   /* the last evaluation (NaN: none) */
    double metric;          /* the chosen metric's last value */
    double steps, wall;     /* run.json (NaN: not finished) */
    series tl, ea, el, em;  /* train loss by step; eval accuracy, loss, metric by epoch */
    int group;              /* index into groups, or -1 */
} crun;

typedef struct cgroup {
    char label[160];
    int first, n;
} cgroup;

typedef struct cmp {
    crun *r;
    int n, cap;
    cgroup g[64];
    int ng;
    const char *metric;
} cmp;

static crun *new_run(cmp *c, bertc_err *err) {
    if (c->n == c->cap) {
        int cap = c->cap ? c->cap * 2 : 16;
        crun *r = realloc(c->r, (size_t)cap * sizeof *r);
        if (!r) {
            bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
            return NULL;
        }
        c->r = r;
        c->cap = cap;
    }
    crun *r = &c->r[c->n++];
    memset(r, 0, sizeof *r);
    r->acc = r->f1 = r->loss = r->metric = r->steps = r->wall = NAN;
    r->group = -1;
    return r;
}

static void free_run(crun *r) {
    cJSON_Delete(r->settings);
    series *s[] = {&r->tl, &r->ea, &r->el, &r->em};
    for (int i = 0; i < 4; i++) {
        free(s[i]->x);
        free(s[i]->y);
    }
}

static double num(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* Reads DIR/log.jsonl (required) and DIR/run.json (optional) into r. */
static int load_run(crun *r, const char *metric, bertc_err *err) {
    char path[4200];
    snprintf(path, sizeof path, "%s/log.jsonl", r->dir);
    char *buf = NULL;
    size_t len = 0;
    if (!bertc_is_file(path)) return bertc_fail(err, BERTC_ERR_NOTFOUND, "%s: no log.jsonl (not a run folder, a sweep or a seeds folder)", r->dir);
    if (bertc_read_file(path, (size_t)1 << 30, &buf, &len, err)) return err->code;
    int rc = BERTC_OK;
    long ln = 0;
    for (char *line = buf; line && *line && !rc;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        ln++;
        cJSON *j = cJSON_Parse(line);
        if (!j) {
            if (nl) rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s:%ld: not a JSON object", path, ln);
            break; /* a torn last line of a killed run is ignored */
        }
        double step = num(j, "step"), ep = num(j, "epoch"), loss = num(j, "loss"), el = num(j, "eval_loss");
        if (isfinite(step) && isfinite(loss) && push(&r->tl, step, loss)) rc = bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
        if (isfinite(el) && isfinite(ep)) {
            r->loss = el;
            r->acc = num(j, "eval_accuracy");
            r->f1 = num(j, "eval_f1");
            r->metric = num(j, metric);
            if (push(&r->el, ep, el) || push(&r->ea, ep, r->acc) || push(&r->em, ep, r->metric))
                rc = bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
        }
        cJSON_Delete(j);
        line = nl ? nl + 1 : NULL;
    }
    free(buf);
    if (rc) return rc;
    snprintf(path, sizeof path, "%s/run.json", r->dir);
    if (bertc_is_file(path)) {
        cJSON *j = NULL;
        if (bertc_json_read(&j, path, 64u << 20, err)) return err->code;
        r->steps = num(j, "global_step");
        r->wall = num(j, "wall_seconds");
        if (!r->status[0]) snprintf(r->status, sizeof r->status, "finished");
        cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "settings");
        if (!r->settings && cJSON_IsObject(st)) {
            r->settings = cJSON_CreateObject();
            for (cJSON *c = st->child; c && r->settings; c = c->next) {
                if (cJSON_IsString(c)) cJSON_AddStringToObject(r->settings, c->string, c->valuestring);
                else if (cJSON_IsNumber(c) || cJSON_IsBool(c)) {
                    char *t = cJSON_PrintUnformatted(c);
                    if (t) cJSON_AddStringToObject(r->settings, c->string, t);
                    free(t);
                }
            }
        }
        cJSON_Delete(j);
    }
    if (!r->status[0]) snprintf(r->status, sizeof r->status, "unfinished");
    if (!r->settings) r->settings = cJSON_CreateObject();
    return r->settings ? BERTC_OK : bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
}

static const char *base_name(const char *d) {
    size_t n = strlen(d);
    while (n > 1 && d[n - 1] == '/') n--;
    const char *s = d + n;
    while (s > d && s[-1] != '/') s--;
    return s;
}

static int add_sweep(cmp *c, const char *dir, bertc_err *err) {
    char path[4200];
    snprintf(path, sizeof path, "%s/sweep.json", dir);
    cJSON *sj = NULL;
    if (bertc_json_read(&sj, path, 64u << 20, err)) return err->code;
    cJSON *trials = cJSON_GetObjectItemCaseSensitive(sj, "trials");
    /* statuses from trials.jsonl */
    char status[4096][12];
    int nst = cJSON_GetArraySize(trials);
    if (nst > 4096) nst = 4096;
    memset(status, 0, sizeof status);
    snprintf(path, sizeof path, "%s/trials.jsonl", dir);
    if (bertc_is_file(path)) {
        char *buf = NULL;
        size_t len = 0;
        if (bertc_read_file(path, (size_t)1 << 28, &buf, &len, err)) {
            cJSON_Delete(sj);
            return err->code;
        }
        for (char *line = buf; line && *line;) {
            char *nl = strchr(line, '\n');
            if (nl) *nl = 0;
            cJSON *j = cJSON_Parse(line);
            double t = num(j, "trial");
            cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "status");
            if (isfinite(t) && t >= 0 && t < nst && cJSON_IsString(st)) snprintf(status[(int)t], sizeof status[0], "%s", st->valuestring);
            cJSON_Delete(j);
            line = nl ? nl + 1 : NULL;
        }
        free(buf);
    }
    /* a sweep with --seeds: each trial is a group of seed runs */
    uint64_t *seeds = NULL;
    int nseeds = 0;
    cJSON *sv = cJSON_GetObjectItemCaseSensitive(sj, "seeds");
    if (cJSON_IsString(sv) && bertc_seeds_parse(sv->valuestring, &seeds, &nseeds, err)) {
        cJSON_Delete(sj);
        return bertc_err_prefix(err, "%s/sweep.json: \"seeds\"", dir);
    }
    int rc = BERTC_OK, i = 0;
    for (cJSON *t = trials ? trials->child : NULL; t && !rc; t = t->next, i++) {
        char d[4096];
        snprintf(d, sizeof d, "%s/trial-%d", dir, i);
        if (seeds) {
            if (c->ng == 64) break;
            cgroup *g = &c->g[c->ng];
            snprintf(g->label, sizeof g->label, "trial-%d", i);
            g->first = c->n;
            for (int k = 0; k < nseeds && !rc; k++) {
                char sd[4096];
                bertc_seed_dir(sd, sizeof sd, d, seeds[k]);
                snprintf(path, sizeof path, "%s/log.jsonl", sd);
                if (!bertc_is_file(path)) continue;
                crun *r = new_run(c, err);
                if (!r) {
                    rc = err->code;
                    break;
                }
                snprintf(r->dir, sizeof r->dir, "%s", sd);
                snprintf(r->label, sizeof r->label, "trial-%d/seed-%llu", i, (unsigned long long)seeds[k]);
                snprintf(r->status, sizeof r->status, "%.11s", i < nst && status[i][0] ? status[i] : "running");
                r->settings = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(t, "settings"), 1);
                r->group = c->ng;
                rc = load_run(r, c->metric, err);
            }
            g->n = c->n - g->first;
            if (g->n > 0) c->ng++;
            continue;
        }
        snprintf(path, sizeof path, "%s/log.jsonl", d);
        if (!bertc_is_file(path)) continue; /* not started */
        crun *r = new_run(c, err);
        if (!r) {
            rc = err->code;
            break;
        }
        snprintf(r->dir, sizeof r->dir, "%s", d);
        snprintf(r->label, sizeof r->label, "trial-%d", i);
        if (i < nst && status[i][0]) snprintf(r->status, sizeof r->status, "%.11s", status[i]);
        else snprintf(r->status, sizeof r->status, "running");
        r->settings = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(t, "settings"), 1);
        rc = load_run(r, c->metric, err);
    }
    free(seeds);
    cJSON_Delete(sj);
    return rc;
}

static int add_seeds(cmp *c, const char *dir, bertc_err *err) {
    char path[4200];
    snprintf(path, sizeof path, "%s/seeds.json", dir);
    cJSON *sj = NULL;
    if (bertc_json_read(&sj, path, 64u << 20, err)) return err->code;
    cJSON *seeds = cJSON_GetObjectItemCaseSensitive(sj, "seeds");
    if (c->ng == 64) {
        cJSON_Delete(sj);
        return bertc_fail(err, BERTC_ERR_ARG, "at most 64 seeds folders");
    }
    cgroup *g = &c->g[c->ng];
    snprintf(g->label, sizeof g->label, "%s", base_name(dir));
    g->first = c->n;
    int rc = BERTC_OK;
    for (cJSON *s = seeds ? seeds->child : NULL; s && !rc; s = s->next) {
        if (!cJSON_IsNumber(s)) continue;
        crun *r = new_run(c, err);
        if (!r) {
            rc = err->code;
            break;
        }
        bertc_seed_dir(r->dir, sizeof r->dir, dir, (uint64_t)s->valuedouble);
        snprintf(r->label, sizeof r->label, "%s/seed-%.0f", g->label, s->valuedouble);
        r->group = c->ng;
        rc = load_run(r, c->metric, err);
    }
    g->n = c->n - g->first;
    c->ng++;
    cJSON_Delete(sj);
    return rc;
}

int bertc_report_is_group(const char *dir) {
    char p[4200];
    snprintf(p, sizeof p, "%s/sweep.json", dir);
    if (bertc_is_file(p)) return 1;
    snprintf(p, sizeof p, "%s/seeds.json", dir);
    return bertc_is_file(p);
}

/* ---------------------------------------------------------------- SVG charts */

static const char *const palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
#define W 720
#define H 380
#define ML 64
#define MR 180
#define MT 30
#define MB 48

typedef struct plot {
    double x0, x1, y0, y1;
} plot;

static double px(const plot *p, double x) { return ML + (x - p->x0) / (p->x1 - p->x0) * (W - ML - MR); }
static double py(const plot *p, double y) { return H - MB - (y - p->y0) / (p->y1 - p->y0) * (H - MT - MB); }

static void extend(double *lo, double *hi, double v) {
    if (!isfinite(v)) return;
    if (v < *lo) *lo = v;
    if (v > *hi) *hi = v;
}

static void frame(sb *b, plot *p, const char *id, const char *title, const char *xl, const char *yl, const char *const *xticks,
                  int nxt) {
    if (!(p->x1 > p->x0)) p->x0 -= 0.5, p->x1 += 0.5;
    if (!(p->y1 > p->y0)) p->y0 -= 0.5, p->y1 += 0.5;
    double pad = 0.05 * (p->y1 - p->y0);
    p->y0 -= pad;
    p->y1 += pad;
    putf(b, "<svg class=\"chart\" id=\"%s\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\">", id, W, H, W, H);
    put(b, "<title>");
    esc(b, title);
    put(b, "</title>");
    putf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#fff\" stroke=\"#999\"/>", ML, MT, W - ML - MR, H - MT - MB);
    putf(b, "<text x=\"%d\" y=\"18\" font-size=\"14\" font-weight=\"bold\">", ML);
    esc(b, title);
    put(b, "</text>");
    for (int i = 0; i <= 4; i++) {
        double y = p->y0 + (p->y1 - p->y0) * i / 4.0;
        putf(b, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>", ML, W - MR, py(p, y), py(p, y));
        putf(b, "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%.4g</text>", ML - 4, py(p, y) + 4, y);
    }
    if (xticks) {
        for (int i = 0; i < nxt; i++) {
            putf(b, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">", px(p, i), H - MB + 16);
            esc(b, xticks[i]);
            put(b, "</text>");
        }
    } else {
        for (int i = 0; i <= 4; i++) {
            double x = p->x0 + (p->x1 - p->x0) * i / 4.0;
            putf(b, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%.4g</text>", px(p, x), H - MB + 16, x);
        }
    }
    putf(b, "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\">", ML + (W - ML - MR) / 2, H - 10);
    esc(b, xl);
    putf(b, "</text><text x=\"14\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 14 %d)\">", H / 2, H / 2);
    esc(b, yl);
    put(b, "</text>");
}

static void legend(sb *b, int i, const char *label, const char *color) {
    if (i >= 20) return;
    int y = MT + 8 + 16 * i;
    putf(b, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%d\" y=\"%d\" font-size=\"11\">", W - MR + 10,
         y - 8, color, W - MR + 24, y + 1);
    esc(b, label);
    put(b, "</text>");
}

static void polyline(sb *b, const plot *p, const double *x, const double *y, int n, const char *color, int markers) {
    put(b, "<polyline class=\"curve\" fill=\"none\" stroke-width=\"1.6\" stroke=\"");
    put(b, color);
    put(b, "\" points=\"");
    for (int i = 0; i < n; i++)
        if (isfinite(x[i]) && isfinite(y[i])) putf(b, "%.1f,%.1f ", px(p, x[i]), py(p, y[i]));
    put(b, "\"/>");
    for (int i = 0; markers && i < n; i++)
        if (isfinite(x[i]) && isfinite(y[i]))
            putf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>", px(p, x[i]), py(p, y[i]), color);
}

/* Every run's series k overlaid (0: train loss, 1: eval accuracy, 2: eval loss). */
static void chart_curves(sb *b, const cmp *c, int k, const char *id, const char *title, const char *xl, const char *yl) {
    plot p = {INFINITY, -INFINITY, INFINITY, -INFINITY};
    int any = 0;
    for (int i = 0; i < c->n; i++) {
        const series *s = k == 0 ? &c->r[i].tl : k == 1 ? &c->r[i].ea : &c->r[i].el;
        for (int j = 0; j < s->n; j++) extend(&p.x0, &p.x1, s->x[j]), extend(&p.y0, &p.y1, s->y[j]), any = 1;
    }
    if (!any) {
        put(b, "<p class=\"missing\">No run logged this.</p>");
        return;
    }
    frame(b, &p, id, title, xl, yl, NULL, 0);
    for (int i = 0; i < c->n; i++) {
        const series *s = k == 0 ? &c->r[i].tl : k == 1 ? &c->r[i].ea : &c->r[i].el;
        const char *col = palette[i % 10];
        polyline(b, &p, s->x, s->y, s->n, col, s->n <= 40);
        legend(b, i, c->r[i].label, col);
    }
    put(b, "</svg>");
}

/* The metric's last value against the distinct values of setting key (an
 * ordinal axis in sorted order: numerically when every value is a number). */
static void chart_setting(sb *b, const cmp *c, const char *key, int idx) {
    const char *vals[256];
    int nv = 0, numeric = 1;
    for (int i = 0; i < c->n; i++) {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(c->r[i].settings, key);
        if (!cJSON_IsString(v)) continue;
        int seen = 0;
        for (int k = 0; k < nv; k++) seen |= !strcmp(vals[k], v->valuestring);
        if (!seen && nv < 256) vals[nv++] = v->valuestring;
        char *end;
        strtod(v->valuestring, &end);
        if (*end || end == v->valuestring) numeric = 0;
    }
    for (int a = 1; a < nv; a++) /* insertion sort of the values */
        for (int k = a; k > 0; k--) {
            int gt = numeric ? strtod(vals[k - 1], NULL) > strtod(vals[k], NULL) : strcmp(vals[k - 1], vals[k]) > 0;
            if (!gt) break;
            const char *t = vals[k];
            vals[k] = vals[k - 1];
            vals[k - 1] = t;
        }
    plot p = {-0.5, nv - 0.5, INFINITY, -INFINITY};
    for (int i = 0; i < c->n; i++) extend(&p.y0, &p.y1, c->r[i].metric);
    if (!isfinite(p.y0)) return;
    char id[64], title[256];
    snprintf(id, sizeof id, "chart-setting-%d", idx);
    snprintf(title, sizeof title, "%s against %s", c->metric, key);
    frame(b, &p, id, title, key, c->metric, vals, nv);
    for (int i = 0; i < c->n; i++) {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(c->r[i].settings, key);
        if (!cJSON_IsString(v) || !isfinite(c->r[i].metric)) continue;
        int x = 0;
        while (x < nv && strcmp(vals[x], v->valuestring)) x++;
        const char *col = palette[i % 10];
        putf(b, "<circle class=\"point\" cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\" fill-opacity=\"0.8\"><title>", px(&p, x),
             py(&p, c->r[i].metric), col);
        esc(b, c->r[i].label);
        putf(b, ": %.4f</title></circle>", c->r[i].metric);
        legend(b, i, c->r[i].label, col);
    }
    put(b, "</svg>");
}

/* Mean +- sample std (ddof 1) of series k (1: eval accuracy, 2: eval loss) over
 * a group's runs at the epochs all of them logged. */
static void chart_band(sb *b, const cmp *c, int gi, int k) {
    const cgroup *g = &c->g[gi];
    if (g->n < 1) return;
    const series *s0 = k == 1 ? &c->r[g->first].ea : &c->r[g->first].el;
    double xs[1024], mean[1024], lo[1024], hi[1024], v[1024];
    int m = 0;
    for (int j = 0; j < s0->n && m < 1024; j++) {
        double x = s0->x[j];
        int all = 1, q = 0;
        for (int r = 0; r < g->n && all && r < 1024; r++) {
            const series *s = k == 1 ? &c->r[g->first + r].ea : &c->r[g->first + r].el;
            int f = -1;
            for (int t = 0; t < s->n; t++)
                if (fabs(s->x[t] - x) < 1e-9) f = t;
            if (f < 0) all = 0;
            else v[q++] = s->y[f];
        }
        if (!all) continue;
        double mu, sd;
        bertc_mean_std(v, q, &mu, &sd);
        if (!isfinite(sd)) sd = 0;
        xs[m] = x, mean[m] = mu, lo[m] = mu - sd, hi[m] = mu + sd;
        m++;
    }
    if (m == 0) return;
    plot p = {INFINITY, -INFINITY, INFINITY, -INFINITY};
    for (int i = 0; i < m; i++) extend(&p.x0, &p.x1, xs[i]), extend(&p.y0, &p.y1, lo[i]), extend(&p.y0, &p.y1, hi[i]);
    for (int r = 0; r < g->n; r++) {
        const series *s = k == 1 ? &c->r[g->first + r].ea : &c->r[g->first + r].el;
        for (int t = 0; t < s->n; t++) extend(&p.y0, &p.y1, s->y[t]);
    }
    char id[64], title[256];
    snprintf(id, sizeof id, "chart-band-%d-%s", gi, k == 1 ? "accuracy" : "loss");
    snprintf(title, sizeof title, "%s: eval %s, mean +- std over %d seeds", g->label, k == 1 ? "accuracy" : "loss", g->n);
    frame(b, &p, id, title, "epoch", k == 1 ? "eval accuracy" : "eval loss", NULL, 0);
    const char *col = palette[gi % 10];
    put(b, "<path class=\"band\" fill-opacity=\"0.2\" stroke=\"none\" fill=\"");
    put(b, col);
    put(b, "\" d=\"");
    for (int i = 0; i < m; i++) putf(b, "%s%.1f,%.1f ", i ? "L" : "M", px(&p, xs[i]), py(&p, hi[i]));
    for (int i = m - 1; i >= 0; i--) putf(b, "L%.1f,%.1f ", px(&p, xs[i]), py(&p, lo[i]));
    put(b, "Z\"/>");
    polyline(b, &p, xs, mean, m, col, 1);
    for (int r = 0; r < g->n; r++) { /* the seeds themselves, thin and grey */
        const series *s = k == 1 ? &c->r[g->first + r].ea : &c->r[g->first + r].el;
        polyline(b, &p, s->x, s->y, s->n, "#bbb", 0);
    }
    legend(b, 0, "mean", col);
    legend(b, 1, "+- 1 std (ddof 1)", col);
    put(b, "</svg>");
    /* the numbers under the chart */
    put(b, "<table class=\"band-table\"><tr><th>epoch</th><th>mean</th><th>std</th></tr>");
    for (int i = 0; i < m; i++) putf(b, "<tr><td>%g</td><td>%.4f</td><td>%.4f</td></tr>", xs[i], mean[i], hi[i] - mean[i]);
    put(b, "</table>");
}

/* ---------------------------------------------------------------- page */

static void cell_num(sb *b, double v, const char *fmt) {
    if (!isfinite(v)) {
        put(b, "<td data-v=\"\"></td>");
        return;
    }
    char t[64];
    snprintf(t, sizeof t, fmt, v);
    putf(b, "<td data-v=\"%.17g\">%s</td>", v, t);
}

static const char *script =
    "<script>document.querySelectorAll('table.sortable th').forEach(function(th,i){th.addEventListener('click',"
    "function(){var tb=th.closest('table').tBodies[0];var rows=[].slice.call(tb.rows);var asc=th.dataset.dir!=='asc';"
    "th.parentNode.querySelectorAll('th').forEach(function(h){delete h.dataset.dir;});th.dataset.dir=asc?'asc':'desc';"
    "rows.sort(function(a,b){var x=a.cells[i].dataset.v,y=b.cells[i].dataset.v;if(x===''&&y!=='')return 1;"
    "if(y===''&&x!=='')return -1;var nx=parseFloat(x),ny=parseFloat(y);"
    "var c=(!isNaN(nx)&&!isNaN(ny)&&String(nx)!=='NaN')?nx-ny:String(x).localeCompare(String(y));return asc?c:-c;});"
    "rows.forEach(function(r){tb.appendChild(r);});});});</script>";

int bertc_report_compare(const char *const *dirs, int n, const char *out_html, const char *metric, bertc_err *err) {
    cmp c;
    memset(&c, 0, sizeof c);
    c.metric = metric ? metric : "eval_accuracy";
    int rc = BERTC_OK;
    for (int i = 0; i < n && !rc; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%s/sweep.json", dirs[i]);
        if (bertc_is_file(p)) {
            rc = add_sweep(&c, dirs[i], err);
            continue;
        }
        snprintf(p, sizeof p, "%s/seeds.json", dirs[i]);
        if (bertc_is_file(p)) {
            rc = add_seeds(&c, dirs[i], err);
            continue;
        }
        crun *r = new_run(&c, err);
        if (!r) {
            rc = err->code;
            break;
        }
        snprintf(r->dir, sizeof r->dir, "%s", dirs[i]);
        snprintf(r->label, sizeof r->label, "%s", base_name(dirs[i]));
        rc = load_run(r, c.metric, err);
    }
    if (!rc && c.n == 0) rc = bertc_fail(err, BERTC_ERR_NOTFOUND, "%s: no run has a log.jsonl yet", dirs[0]);
    sb b = {0};
    if (!rc) {
        /* the settings that differ between runs */
        const char *keys[64];
        int nk = 0;
        for (int i = 0; i < c.n; i++)
            for (cJSON *s = c.r[i].settings->child; s; s = s->next) {
                int seen = 0;
                for (int k = 0; k < nk; k++) seen |= !strcmp(keys[k], s->string);
                if (seen || nk == 64) continue;
                const char *first = NULL;
                int differ = 0;
                for (int j = 0; j < c.n; j++) {
                    cJSON *v = cJSON_GetObjectItemCaseSensitive(c.r[j].settings, s->string);
                    const char *t = cJSON_IsString(v) ? v->valuestring : "";
                    if (!first) first = t;
                    else differ |= strcmp(first, t) != 0;
                }
                if (differ && strcmp(s->string, "seed") != 0) keys[nk++] = s->string;
            }
        put(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>bertc comparison</title><style>"
                "body{font-family:sans-serif;margin:0;background:#f7f7f7;color:#222}main{max-width:1000px;margin:auto;"
                "padding:1em 2em;background:#fff}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
                "padding:3px 8px;text-align:right}th{background:#eee;cursor:pointer}th[data-dir=asc]::after{content:' \\25B2'}"
                "th[data-dir=desc]::after{content:' \\25BC'}td:first-child,td:nth-child(2){text-align:left}"
                ".missing{color:#a00}svg.chart{display:block;margin:1em 0}</style></head><body><main>\n");
        putf(&b, "<h1>bertc comparison: %d runs</h1>\n<p>From:", c.n);
        for (int i = 0; i < n; i++) {
            put(&b, " <code>");
            esc(&b, dirs[i]);
            put(&b, "</code>");
        }
        put(&b, ". Click a column heading to sort by it.</p>\n<h2 id=\"runs\">Runs</h2>\n"
                "<table class=\"sortable\" id=\"runs-table\"><thead><tr><th>run</th><th>status</th>");
        for (int k = 0; k < nk; k++) {
            put(&b, "<th>");
            esc(&b, keys[k]);
            put(&b, "</th>");
        }
        put(&b, "<th>eval_accuracy</th><th>eval_f1</th><th>eval_loss</th><th>steps</th><th>wall s</th></tr></thead><tbody>\n");
        for (int i = 0; i < c.n; i++) {
            const crun *r = &c.r[i];
            put(&b, "<tr><td data-v=\"");
            esc(&b, r->label);
            put(&b, "\">");
            esc(&b, r->label);
            put(&b, "</td><td data-v=\"");
            esc(&b, r->status);
            put(&b, "\">");
            esc(&b, r->status);
            put(&b, "</td>");
            for (int k = 0; k < nk; k++) {
                cJSON *v = cJSON_GetObjectItemCaseSensitive(r->settings, keys[k]);
                const char *t = cJSON_IsString(v) ? v->valuestring : "";
                put(&b, "<td data-v=\"");
                esc(&b, t);
                put(&b, "\">");
                esc(&b, t);
                put(&b, "</td>");
            }
            cell_num(&b, r->acc, "%.4f");
            cell_num(&b, r->f1, "%.4f");
            cell_num(&b, r->loss, "%.4f");
            cell_num(&b, r->steps, "%.0f");
            cell_num(&b, r->wall, "%.1f");
            put(&b, "</tr>\n");
        }
        put(&b, "</tbody></table>\n");
        put(&b, "<h2 id=\"settings\">Metric against each setting</h2>\n");
        if (nk == 0) put(&b, "<p class=\"missing\">No setting differs between these runs.</p>\n");
        for (int k = 0; k < nk; k++) chart_setting(&b, &c, keys[k], k);
        put(&b, "\n<h2 id=\"curves\">Training and evaluation curves</h2>\n");
        chart_curves(&b, &c, 0, "chart-train-loss", "training loss", "step", "loss");
        chart_curves(&b, &c, 1, "chart-eval-accuracy", "evaluation accuracy", "epoch", "eval accuracy");
        chart_curves(&b, &c, 2, "chart-eval-loss", "evaluation loss", "epoch", "eval loss");
        put(&b, "\n<h2 id=\"seeds\">Seed repeats: mean +- standard deviation</h2>\n");
        if (c.ng == 0) put(&b, "<p class=\"missing\">No seeds folder (bertc train --seeds) among these runs.</p>\n");
        else put(&b, "<p>The band is one sample standard deviation (ddof 1) either side of the mean, at the epochs every seed logged; grey lines are the seeds.</p>\n");
        for (int g = 0; g < c.ng; g++) {
            chart_band(&b, &c, g, 1);
            chart_band(&b, &c, g, 2);
        }
        put(&b, "\n</main>");
        put(&b, script);
        put(&b, "</body></html>\n");
        if (b.oom) rc = bertc_fail(err, BERTC_ERR_NOMEM, "out of memory writing %s", out_html);
        else rc = bertc_write_file_atomic(out_html, b.p, b.n, err);
    }
    free(b.p);
    for (int i = 0; i < c.n; i++) free_run(&c.r[i]);
    free(c.r);
    return rc;
}
