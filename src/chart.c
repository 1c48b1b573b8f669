/* chart.c: bar, line, histogram and heatmap charts drawn with cairo into PNG.
 *
 * Layout is in plain pixels at scale 1. Every chart goes through the same
 * steps: canvas_begin (white image), title, plot rectangle, axes with "nice"
 * 1-2-5 ticks, the marks, then canvas_end (PNG into memory, written atomically). */
#include "chart.h"

#include <cairo.h>
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FONT "DejaVu Sans"
#define TITLE_PT 17.0
#define LABEL_PT 14.0
#define TICK_PT 12.0
#define MAX_LABEL_CHARS 28
#define HEATMAP_MAX 2048

/* ---- colours --------------------------------------------------------------- */

/* Anchor colours sampled evenly from matplotlib's maps; the rest is linear
 * interpolation between neighbours. */
static const unsigned char BLUES[][3] = {
    {0xf7, 0xfb, 0xff}, {0xde, 0xeb, 0xf7}, {0xc6, 0xdb, 0xef}, {0x9e, 0xca, 0xe1}, {0x6b, 0xae, 0xd6},
    {0x42, 0x92, 0xc6}, {0x21, 0x71, 0xb5}, {0x08, 0x51, 0x9c}, {0x08, 0x30, 0x6b}};
static const unsigned char VIRIDIS[][3] = {
    {0x44, 0x01, 0x54}, {0x48, 0x28, 0x78}, {0x3e, 0x49, 0x89}, {0x31, 0x68, 0x8e}, {0x26, 0x82, 0x8e},
    {0x1f, 0x9e, 0x89}, {0x35, 0xb7, 0x79}, {0x6e, 0xce, 0x58}, {0xb5, 0xde, 0x2b}, {0xfd, 0xe7, 0x25}};
/* Series colours (matplotlib's tab10, first five). */
static const double PALETTE[][3] = {
    {0.122, 0.467, 0.706}, {1.000, 0.498, 0.055}, {0.173, 0.627, 0.173},
    {0.839, 0.153, 0.157}, {0.580, 0.404, 0.741}};
#define NPALETTE (sizeof PALETTE / sizeof PALETTE[0])

void bertc_colormap_rgb(bertc_colormap cmap, double t, double rgb[3]) {
    if (!(t == t)) { rgb[0] = rgb[1] = rgb[2] = 0.85; return; }
    const unsigned char (*a)[3] = cmap == BERTC_CMAP_VIRIDIS ? VIRIDIS : BLUES;
    size_t n = cmap == BERTC_CMAP_VIRIDIS ? sizeof VIRIDIS / sizeof VIRIDIS[0]
                                          : sizeof BLUES / sizeof BLUES[0];
    if (t < 0) t = 0;
    if (t > 1) t = 1;
    double pos = t * (double)(n - 1);
    size_t i = (size_t)pos;
    if (i >= n - 1) i = n - 2;
    double f = pos - (double)i;
    for (int c = 0; c < 3; c++)
        rgb[c] = ((1 - f) * a[i][c] + f * a[i + 1][c]) / 255.0;
}

/* ---- text ------------------------------------------------------------------ */

/* Copies src into dst (capacity cap) as valid UTF-8 of at most max_chars code
 * points: invalid bytes and control characters become '?', a cut adds "...". */
static void clean_text(char *dst, size_t cap, const char *src, size_t max_chars) {
    size_t o = 0, chars = 0;
    const unsigned char *s = (const unsigned char *)(src ? src : "");
    if (cap < 8) { if (cap) dst[0] = '\0'; return; }
    while (*s) {
        unsigned c = s[0];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        int ok = len > 0;
        for (size_t k = 1; ok && k < len; k++) ok = (s[k] & 0xC0) == 0x80;
        if (ok && len == 2 && c < 0xC2) ok = 0;                       /* overlong */
        if (ok && len == 3 && c == 0xE0 && s[1] < 0xA0) ok = 0;      /* overlong */
        if (ok && len == 3 && c == 0xED && s[1] >= 0xA0) ok = 0;     /* surrogate */
        if (ok && len == 4 && (c > 0xF4 || (c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] >= 0x90))) ok = 0;
        if (chars == max_chars) {
            if (o + 4 < cap) { memcpy(dst + o, "...", 3); o += 3; }
            break;
        }
        if (!ok || (len == 1 && (c < 0x20 || c == 0x7F))) {
            if (o + 2 >= cap) break;
            dst[o++] = c == '\t' || c == '\n' || c == '\r' ? ' ' : '?';
            s += 1;
        } else {
            if (o + len + 4 >= cap) break;
            memcpy(dst + o, s, len);
            o += len;
            s += len;
        }
        chars++;
    }
    dst[o] = '\0';
}

static void set_font(cairo_t *cr, double size, int bold) {
    cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

/* Width in pixels of s at the current font (s already clean). */
static double text_width(cairo_t *cr, const char *s) {
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    return e.x_advance;
}

/* Draws raw text at (x, y) rotated by angle (radians, counter-clockwise
 * positive as seen on screen is -angle in cairo). ha/va in [0, 1]: 0 puts the
 * left/top of the text at the point, 0.5 the centre, 1 the right/bottom. */
static void draw_text(cairo_t *cr, double x, double y, const char *raw, double size, int bold,
                      double ha, double va, double angle) {
    char s[512];
    clean_text(s, sizeof s, raw, 200);
    if (!s[0]) return;
    set_font(cr, size, bold);
    cairo_font_extents_t fe;
    cairo_font_extents(cr, &fe);
    double w = text_width(cr, s);
    double h = fe.ascent + fe.descent;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, angle);
    cairo_move_to(cr, -ha * w, -va * h + fe.ascent);
    cairo_show_text(cr, s);
    cairo_restore(cr);
}

static void set_rgb(cairo_t *cr, const double c[3]) { cairo_set_source_rgb(cr, c[0], c[1], c[2]); }

/* ---- canvas ---------------------------------------------------------------- */

typedef struct canvas {
    cairo_surface_t *surface;
    cairo_t *cr;
    int w, h;
} canvas;

typedef struct membuf {
    unsigned char *p;
    size_t len, cap;
    int oom;
} membuf;

static cairo_status_t membuf_write(void *closure, const unsigned char *data, unsigned int len) {
    membuf *b = closure;
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->len + len) cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) { b->oom = 1; return CAIRO_STATUS_NO_MEMORY; }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, len);
    b->len += len;
    return CAIRO_STATUS_SUCCESS;
}

static int canvas_begin(canvas *c, int w, int h, bertc_err *err) {
    memset(c, 0, sizeof *c);
    if (w < 64 || h < 64 || w > 8192 || h > 8192)
        return bertc_fail(err, BERTC_ERR_ARG, "chart size %dx%d is outside 64..8192 pixels", w, h);
    c->surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    if (cairo_surface_status(c->surface) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(c->surface);
        c->surface = NULL;
        return bertc_fail(err, BERTC_ERR_NOMEM, "cannot create a %dx%d image", w, h);
    }
    c->cr = cairo_create(c->surface);
    c->w = w;
    c->h = h;
    cairo_set_source_rgb(c->cr, 1, 1, 1);
    cairo_paint(c->cr);
    return BERTC_OK;
}

static void canvas_free(canvas *c) {
    if (c->cr) cairo_destroy(c->cr);
    if (c->surface) cairo_surface_destroy(c->surface);
    c->cr = NULL;
    c->surface = NULL;
}

/* Encodes the PNG in memory, writes it atomically, frees the canvas. */
static int canvas_end(canvas *c, const char *path, bertc_err *err) {
    int rc = BERTC_OK;
    cairo_status_t st = cairo_status(c->cr);
    membuf b = {0};
    if (st != CAIRO_STATUS_SUCCESS) {
        rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: drawing failed: %s", path, cairo_status_to_string(st));
    } else {
        cairo_surface_flush(c->surface);
        st = cairo_surface_write_to_png_stream(c->surface, membuf_write, &b);
        if (st != CAIRO_STATUS_SUCCESS)
            rc = bertc_fail(err, b.oom ? BERTC_ERR_NOMEM : BERTC_ERR_IO, "%s: PNG encoding failed: %s",
                            path, cairo_status_to_string(st));
        else
            rc = bertc_write_file_atomic(path, b.p, b.len, err);
    }
    free(b.p);
    canvas_free(c);
    return rc;
}

static void draw_title(cairo_t *cr, int w, const char *title) {
    if (!title || !*title) return;
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    draw_text(cr, w / 2.0, 12, title, TITLE_PT, 1, 0.5, 0, 0);
}

/* ---- axes ------------------------------------------------------------------ */

typedef struct rect { double x0, y0, x1, y1; } rect;  /* plot area in pixels */
typedef struct axis { double lo, hi, step; } axis;    /* data range and tick step */

/* Extends [lo, hi] to multiples of a 1-2-5 step giving about `target` ticks.
 * A zero-width or non-finite range is padded so it always has width. */
static void nice_axis(axis *a, double lo, double hi, int target, int integer) {
    if (!isfinite(lo) || !isfinite(hi)) { lo = 0; hi = 1; }
    if (hi < lo) { double t = lo; lo = hi; hi = t; }
    if (hi - lo < 1e-12 * (fabs(lo) + fabs(hi)) || hi == lo) {
        double pad = fabs(lo) > 0 ? fabs(lo) * 0.1 : 1.0;
        lo -= pad;
        hi += pad;
    }
    double raw = (hi - lo) / target;
    double mag = pow(10, floor(log10(raw)));
    double f = raw / mag;
    double step = (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
    if (integer && step < 1) step = 1;
    a->lo = floor(lo / step + 1e-9) * step;
    a->hi = ceil(hi / step - 1e-9) * step;
    if (a->hi <= a->lo) a->hi = a->lo + step;
    a->step = step;
}

static void tick_label(char *buf, size_t cap, double v, double step) {
    if (fabs(v) < step * 1e-6) v = 0;
    double av = fabs(v);
    if (av >= 1e6 || (av > 0 && step < 1e-4)) { snprintf(buf, cap, "%.3g", v); return; }
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (dec > 6) dec = 6;
    snprintf(buf, cap, "%.*f", dec, v);
}

static double map_x(const rect *r, const axis *a, double v) {
    return r->x0 + (v - a->lo) / (a->hi - a->lo) * (r->x1 - r->x0);
}
static double map_y(const rect *r, const axis *a, double v) {
    return r->y1 - (v - a->lo) / (a->hi - a->lo) * (r->y1 - r->y0);
}

/* Grid, frame, y ticks (always) and x ticks (when xa is not NULL), axis labels. */
static void draw_axes(cairo_t *cr, const rect *r, const axis *xa, const axis *ya,
                      const char *xlabel, const char *ylabel) {
    char buf[64];
    cairo_set_line_width(cr, 1);
    /* y grid and ticks */
    double ymaxw = 0;
    double y0v = ceil(ya->lo / ya->step - 1e-6) * ya->step;
    for (int i = 0;; i++) {
        double v = y0v + i * ya->step;
        if (v > ya->hi + ya->step * 1e-6 || i > 100) break;
        double y = round(map_y(r, ya, v)) + 0.5;
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, r->x0, y);
        cairo_line_to(cr, r->x1, y);
        cairo_stroke(cr);
        tick_label(buf, sizeof buf, v, ya->step);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        draw_text(cr, r->x0 - 6, y, buf, TICK_PT, 0, 1, 0.5, 0);
        set_font(cr, TICK_PT, 0);
        double w = text_width(cr, buf);
        if (w > ymaxw) ymaxw = w;
    }
    if (xa) {
        double x0v = ceil(xa->lo / xa->step - 1e-6) * xa->step;
        for (int i = 0;; i++) {
            double v = x0v + i * xa->step;
            if (v > xa->hi + xa->step * 1e-6 || i > 100) break;
            double x = round(map_x(r, xa, v)) + 0.5;
            cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
            cairo_move_to(cr, x, r->y0);
            cairo_line_to(cr, x, r->y1);
            cairo_stroke(cr);
            tick_label(buf, sizeof buf, v, xa->step);
            cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
            draw_text(cr, x, r->y1 + 6, buf, TICK_PT, 0, 0.5, 0, 0);
        }
    }
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    cairo_rectangle(cr, round(r->x0) + 0.5, round(r->y0) + 0.5, round(r->x1 - r->x0), round(r->y1 - r->y0));
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    if (xlabel) draw_text(cr, (r->x0 + r->x1) / 2, r->y1 + 30, xlabel, LABEL_PT, 0, 0.5, 0, 0);
    if (ylabel) draw_text(cr, r->x0 - ymaxw - 16, (r->y0 + r->y1) / 2, ylabel, LABEL_PT, 0, 0.5, 1, -M_PI / 2);
}

static void draw_no_data(cairo_t *cr, const rect *r) {
    cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
    draw_text(cr, (r->x0 + r->x1) / 2, (r->y0 + r->y1) / 2, "no data", LABEL_PT, 0, 0.5, 0.5, 0);
}

static void frame_size(const bertc_chart_frame *f, int dw, int dh, int *w, int *h) {
    *w = f && f->width ? f->width : dw;
    *h = f && f->height ? f->height : dh;
}

/* ---- bar chart ------------------------------------------------------------- */

int bertc_chart_bar(const char *png_path, const bertc_chart_frame *frame,
                    const char *const *labels, const double *values, size_t n, bertc_err *err) {
    if (!png_path || (n && !values))
        return bertc_fail(err, BERTC_ERR_ARG, "bar chart: NULL path or values");
    if (n > 1000) return bertc_fail(err, BERTC_ERR_ARG, "bar chart: %zu bars is more than 1000", n);
    int w, h;
    frame_size(frame, 640, 440, &w, &h);
    canvas c;
    int rc = canvas_begin(&c, w, h, err);
    if (rc) return rc;
    cairo_t *cr = c.cr;
    draw_title(cr, w, frame ? frame->title : NULL);
    /* Vertical x labels when the horizontal ones would collide. */
    double slot = (w - 100.0) / (double)(n ? n : 1);
    double maxlw = 0;
    char buf[256];
    set_font(cr, TICK_PT, 0);
    for (size_t i = 0; i < n; i++) {
        clean_text(buf, sizeof buf, labels ? labels[i] : "", MAX_LABEL_CHARS);
        double lw = text_width(cr, buf);
        if (lw > maxlw) maxlw = lw;
    }
    int vertical = maxlw > slot - 4;
    double bottom = vertical ? fmin(maxlw, h * 0.4) + 52 : 62;
    rect r = {80, 48, w - 20.0, h - bottom};
    double lo = 0, hi = 0;
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(values[i])) continue;
        any = 1;
        lo = fmin(lo, values[i]);
        hi = fmax(hi, values[i]);
    }
    axis ya;
    nice_axis(&ya, lo, hi > 0 ? hi * 1.12 : hi, 6, 0);
    draw_axes(cr, &r, NULL, &ya, frame ? frame->xlabel : NULL, NULL);
    if (frame && frame->ylabel)
        draw_text(cr, 22, (r.y0 + r.y1) / 2, frame->ylabel, LABEL_PT, 0, 0.5, 0.5, -M_PI / 2);
    if (!any) draw_no_data(cr, &r);
    slot = (r.x1 - r.x0) / (double)(n ? n : 1);
    int integers = 1;
    for (size_t i = 0; i < n; i++)
        if (isfinite(values[i]) && values[i] != floor(values[i])) integers = 0;
    for (size_t i = 0; i < n; i++) {
        double cx = r.x0 + slot * (i + 0.5);
        double bw = fmin(slot * 0.6, 120);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        if (labels) {
            if (vertical) draw_text(cr, cx, r.y1 + 6, labels[i], TICK_PT, 0, 1, 0.5, -M_PI / 2);
            else {
                clean_text(buf, sizeof buf, labels[i], MAX_LABEL_CHARS);
                draw_text(cr, cx, r.y1 + 6, buf, TICK_PT, 0, 0.5, 0, 0);
            }
        }
        if (!isfinite(values[i])) {
            cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
            draw_text(cr, cx, r.y1 - 4, "n/a", TICK_PT, 0, 0.5, 1, 0);
            continue;
        }
        double y0 = map_y(&r, &ya, 0), y1 = map_y(&r, &ya, values[i]);
        set_rgb(cr, PALETTE[i % NPALETTE]);
        cairo_rectangle(cr, cx - bw / 2, fmin(y0, y1), bw, fabs(y1 - y0));
        cairo_fill(cr);
        if (integers) snprintf(buf, sizeof buf, "%.0f", values[i]);
        else snprintf(buf, sizeof buf, "%.3g", values[i]);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        if (values[i] >= 0) draw_text(cr, cx, y1 - 4, buf, TICK_PT, 1, 0.5, 1, 0);
        else draw_text(cr, cx, y1 + 4, buf, TICK_PT, 1, 0.5, 0, 0);
    }
    return canvas_end(&c, png_path, err);
}

/* ---- line chart ------------------------------------------------------------ */

static double sx(const bertc_series *s, size_t i) { return s->x ? s->x[i] : (double)i; }

static void draw_panel(cairo_t *cr, const rect *r, const bertc_line_panel *p) {
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    size_t total = 0;
    for (size_t k = 0; k < p->nseries; k++) {
        const bertc_series *s = &p->series[k];
        for (size_t i = 0; i < s->n; i++) {
            double x = sx(s, i), y = s->y[i];
            if (!isfinite(x) || !isfinite(y)) continue;
            xlo = fmin(xlo, x); xhi = fmax(xhi, x);
            ylo = fmin(ylo, y); yhi = fmax(yhi, y);
            total++;
        }
    }
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    if (p->frame.title) draw_text(cr, (r->x0 + r->x1) / 2, r->y0 - 26, p->frame.title, LABEL_PT + 1, 1, 0.5, 0, 0);
    axis xa, ya;
    if (total == 0) {
        nice_axis(&xa, 0, 1, 5, p->integer_x);
        nice_axis(&ya, 0, 1, 5, 0);
    } else {
        nice_axis(&xa, xlo, xhi, 6, p->integer_x);
        /* Keep end points off the frame: pad x by 3% of the data span. */
        double xpad = (xhi > xlo ? xhi - xlo : xa.hi - xa.lo) * 0.03;
        if (xa.lo > xlo - xpad) xa.lo = xlo - xpad;
        if (xa.hi < xhi + xpad) xa.hi = xhi + xpad;
        double pad = (yhi - ylo) * 0.05;
        nice_axis(&ya, ylo - pad, yhi + pad, 6, 0);
    }
    draw_axes(cr, r, &xa, &ya, p->frame.xlabel, p->frame.ylabel);
    if (total == 0) { draw_no_data(cr, r); return; }
    cairo_save(cr);
    cairo_rectangle(cr, r->x0, r->y0, r->x1 - r->x0, r->y1 - r->y0);
    cairo_clip(cr);
    cairo_set_line_width(cr, 2);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    for (size_t k = 0; k < p->nseries; k++) {
        const bertc_series *s = &p->series[k];
        set_rgb(cr, PALETTE[k % NPALETTE]);
        int pen = 0;
        for (size_t i = 0; i < s->n; i++) {
            double x = sx(s, i), y = s->y[i];
            if (!isfinite(x) || !isfinite(y)) { pen = 0; continue; }
            double px = map_x(r, &xa, x), py = map_y(r, &ya, y);
            if (pen) cairo_line_to(cr, px, py);
            else cairo_move_to(cr, px, py);
            pen = 1;
        }
        cairo_stroke(cr);
        /* Markers when points are few, and always for isolated points. */
        for (size_t i = 0; i < s->n; i++) {
            double x = sx(s, i), y = s->y[i];
            if (!isfinite(x) || !isfinite(y)) continue;
            int prev = i > 0 && isfinite(sx(s, i - 1)) && isfinite(s->y[i - 1]);
            int next = i + 1 < s->n && isfinite(sx(s, i + 1)) && isfinite(s->y[i + 1]);
            if (s->n > 40 && (prev || next)) continue;
            cairo_arc(cr, map_x(r, &xa, x), map_y(r, &ya, y), 4, 0, 2 * M_PI);
            cairo_fill(cr);
        }
    }
    cairo_restore(cr);
    /* Legend for two or more named series, in the right-hand corner (top or
     * bottom) with fewer points under it. */
    if (p->nseries < 2) return;
    size_t named = 0, top_pts = 0, bottom_pts = 0;
    for (size_t k = 0; k < p->nseries; k++) {
        const bertc_series *s = &p->series[k];
        if (s->name && *s->name) named++;
        for (size_t i = 0; i < s->n; i++) {
            double x = sx(s, i), y = s->y[i];
            if (!isfinite(x) || !isfinite(y) || map_x(r, &xa, x) < (r->x0 + r->x1) / 2) continue;
            if (map_y(r, &ya, y) < r->y0 + 0.3 * (r->y1 - r->y0)) top_pts++;
            else if (map_y(r, &ya, y) > r->y1 - 0.3 * (r->y1 - r->y0)) bottom_pts++;
        }
    }
    double ly = top_pts <= bottom_pts ? r->y0 + 10 : r->y1 - 10 - 20.0 * (double)named;
    double legend_w = 0; /* widest entry, so the entries line up */
    set_font(cr, TICK_PT, 0);
    for (size_t k = 0; k < p->nseries; k++) {
        char buf[128];
        clean_text(buf, sizeof buf, p->series[k].name, MAX_LABEL_CHARS);
        legend_w = fmax(legend_w, text_width(cr, buf));
    }
    for (size_t k = 0; k < p->nseries; k++) {
        const char *name = p->series[k].name;
        if (!name || !*name) continue;
        char buf[128];
        clean_text(buf, sizeof buf, name, MAX_LABEL_CHARS);
        set_font(cr, TICK_PT, 0);
        double tw = legend_w;
        double lx = r->x1 - tw - 44;
        cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
        cairo_rectangle(cr, lx - 4, ly - 2, tw + 44, 20);
        cairo_fill(cr);
        set_rgb(cr, PALETTE[k % NPALETTE]);
        cairo_set_line_width(cr, 2.5);
        cairo_move_to(cr, lx, ly + 8);
        cairo_line_to(cr, lx + 24, ly + 8);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        draw_text(cr, lx + 30, ly + 8, buf, TICK_PT, 0, 0, 0.5, 0);
        ly += 20;
    }
}

int bertc_chart_lines(const char *png_path, const bertc_chart_frame *frame,
                      const bertc_line_panel *panels, size_t npanels, bertc_err *err) {
    if (!png_path || !panels || npanels == 0 || npanels > 4)
        return bertc_fail(err, BERTC_ERR_ARG, "line chart: NULL path/panels or %zu panels (1..4)", npanels);
    for (size_t p = 0; p < npanels; p++)
        for (size_t k = 0; k < panels[p].nseries; k++)
            if (!panels[p].series || (panels[p].series[k].n && !panels[p].series[k].y))
                return bertc_fail(err, BERTC_ERR_ARG, "line chart: panel %zu series %zu has NULL data", p, k);
    int w, h;
    frame_size(frame, 620 * (int)npanels, 420, &w, &h);
    canvas c;
    int rc = canvas_begin(&c, w, h, err);
    if (rc) return rc;
    int top = 0;
    if (frame && frame->title && *frame->title) {
        draw_title(c.cr, w, frame->title);
        top = 30;
    }
    double pw = (double)w / (double)npanels;
    for (size_t p = 0; p < npanels; p++) {
        rect r = {p * pw + 84, top + 50.0, (p + 1) * pw - 24, h - 64.0};
        if (r.x1 - r.x0 < 20 || r.y1 - r.y0 < 20) continue;
        draw_panel(c.cr, &r, &panels[p]);
    }
    return canvas_end(&c, png_path, err);
}

/* ---- histogram ------------------------------------------------------------- */

int bertc_chart_histogram(const char *png_path, const bertc_chart_frame *frame,
                          const double *edges, const double *counts, size_t nbins,
                          double marker_x, const char *marker_label, bertc_err *err) {
    if (!png_path || (nbins && (!edges || !counts)))
        return bertc_fail(err, BERTC_ERR_ARG, "histogram: NULL path, edges or counts");
    if (nbins > 100000) return bertc_fail(err, BERTC_ERR_ARG, "histogram: %zu bins is more than 100000", nbins);
    for (size_t i = 0; i < nbins; i++)
        if (!isfinite(edges[i]) || !isfinite(edges[i + 1]) || !(edges[i + 1] > edges[i]))
            return bertc_fail(err, BERTC_ERR_ARG,
                              "histogram: bin edges must be finite and increasing (edge %zu: %g, edge %zu: %g)",
                              i, edges[i], i + 1, edges[i + 1]);
    int w, h;
    frame_size(frame, 680, 440, &w, &h);
    canvas c;
    int rc = canvas_begin(&c, w, h, err);
    if (rc) return rc;
    cairo_t *cr = c.cr;
    draw_title(cr, w, frame ? frame->title : NULL);
    rect r = {84, 48, w - 24.0, h - 64.0};
    double xlo = nbins ? edges[0] : 0, xhi = nbins ? edges[nbins] : 1, yhi = 0;
    for (size_t i = 0; i < nbins; i++)
        if (isfinite(counts[i])) yhi = fmax(yhi, counts[i]);
    int marker = isfinite(marker_x);
    if (marker) { xlo = fmin(xlo, marker_x); xhi = fmax(xhi, marker_x); }
    axis xa, ya;
    nice_axis(&xa, xlo, xhi, 7, 0);
    nice_axis(&ya, 0, yhi > 0 ? yhi * 1.08 : 1, 6, 0);
    draw_axes(cr, &r, &xa, &ya, frame ? frame->xlabel : NULL, frame ? frame->ylabel : NULL);
    if (nbins == 0) draw_no_data(cr, &r);
    for (size_t i = 0; i < nbins; i++) {
        if (!isfinite(counts[i]) || counts[i] <= 0) continue;
        double x0 = map_x(&r, &xa, edges[i]), x1 = map_x(&r, &xa, edges[i + 1]);
        double y0 = map_y(&r, &ya, 0), y1 = map_y(&r, &ya, counts[i]);
        cairo_rectangle(cr, x0, y1, x1 - x0, y0 - y1);
        set_rgb(cr, PALETTE[0]);
        cairo_fill_preserve(cr);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_set_line_width(cr, x1 - x0 > 4 ? 1 : 0.3);
        cairo_stroke(cr);
    }
    if (marker) {
        double x = map_x(&r, &xa, marker_x);
        double dash[] = {6, 4};
        cairo_set_source_rgb(cr, 0.84, 0.15, 0.16);
        cairo_set_line_width(cr, 2);
        cairo_set_dash(cr, dash, 2, 0);
        cairo_move_to(cr, x, r.y0);
        cairo_line_to(cr, x, r.y1);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        if (marker_label) {
            char buf[128];
            clean_text(buf, sizeof buf, marker_label, 40);
            set_font(cr, TICK_PT, 1);
            int left = x + 6 + text_width(cr, buf) > r.x1;
            draw_text(cr, left ? x - 6 : x + 6, r.y0 + 8, buf, TICK_PT, 1, left ? 1 : 0, 0, 0);
        }
    }
    return canvas_end(&c, png_path, err);
}

/* ---- heatmap --------------------------------------------------------------- */

/* Tick label i of a heatmap axis: the caller's text or the index. */
static void heat_tick(char *buf, size_t cap, const char *const *ticks, size_t i) {
    if (ticks) clean_text(buf, cap, ticks[i], 16);
    else snprintf(buf, cap, "%zu", i);
}

int bertc_chart_heatmap(const char *png_path, const bertc_heatmap *hm, bertc_err *err) {
    if (!png_path || !hm || ((hm->rows && hm->cols) && !hm->values))
        return bertc_fail(err, BERTC_ERR_ARG, "heatmap: NULL path, spec or values");
    if (hm->rows > HEATMAP_MAX || hm->cols > HEATMAP_MAX)
        return bertc_fail(err, BERTC_ERR_ARG, "heatmap: %zu x %zu cells is more than %d a side",
                          hm->rows, hm->cols, HEATMAP_MAX);
    size_t R = hm->rows, C = hm->cols, N = R * C;
    /* Colour range. */
    double vmin = hm->vmin, vmax = hm->vmax, fmin_ = INFINITY, fmax_ = -INFINITY;
    int integers = 1;
    for (size_t i = 0; i < N; i++) {
        double v = hm->values[i];
        if (!isfinite(v)) continue;
        fmin_ = fmin(fmin_, v);
        fmax_ = fmax(fmax_, v);
        if (v != floor(v)) integers = 0;
    }
    if (!isfinite(fmin_)) { fmin_ = 0; fmax_ = 1; }
    if (!isfinite(vmin)) vmin = fmin_;
    if (!isfinite(vmax)) vmax = fmax_;
    if (!(vmax > vmin)) vmax = vmin + 1;

    /* Cell size: about 480 pixels for the larger side, 2..160 per cell. */
    size_t side = R > C ? R : C;
    double cell = side ? 480.0 / (double)side : 160;
    if (cell > 160) cell = 160;
    if (cell < 2) cell = 2;
    const double tick_pt = cell >= 40 ? TICK_PT + 1 : 11;
    const double pitch = tick_pt + 3;                 /* pixels one tick label needs */
    /* Up to about 64 labels, grow the cells rather than drop labels. */
    if (cell < pitch && (double)side * pitch <= 900) cell = pitch;
    size_t kstep = cell >= pitch ? 1 : (size_t)ceil(pitch / cell);

    /* Margins from the widest tick labels (measured on a scratch surface). */
    cairo_surface_t *scratch = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 8, 8);
    cairo_t *m = cairo_create(scratch);
    set_font(m, tick_pt, 0);
    char buf[128];
    double xw = 0, yw = 0;
    for (size_t j = 0; j < C; j += kstep) {
        heat_tick(buf, sizeof buf, hm->xticks, j);
        xw = fmax(xw, text_width(m, buf));
    }
    for (size_t i = 0; i < R; i += kstep) {
        heat_tick(buf, sizeof buf, hm->yticks, i);
        yw = fmax(yw, text_width(m, buf));
    }
    double title_w = 0;
    if (hm->frame.title) {
        clean_text(buf, sizeof buf, hm->frame.title, 200);
        set_font(m, TITLE_PT, 1);
        title_w = text_width(m, buf);
    }
    cairo_destroy(m);
    cairo_surface_destroy(scratch);
    int vertical_x = xw > cell * kstep - 4;
    double left = yw + 50, top = 52;
    double bottom = (vertical_x ? xw : tick_pt) + 48;
    double pw = cell * (double)C, ph = cell * (double)R;
    double right = 130;
    int w = (int)ceil(fmax(left + pw + right, title_w + 40));
    int h = (int)ceil(top + ph + bottom);
    if (w < 320) w = 320;
    if (h < 240) h = 240;
    /* Centre the grid horizontally when the canvas is wider than it needs. */
    if (w > left + pw + right) left += (w - (left + pw + right)) / 2;
    canvas c;
    int rc = canvas_begin(&c, w, h, err);
    if (rc) return rc;
    cairo_t *cr = c.cr;
    draw_title(cr, w, hm->frame.title);
    rect r = {left, top, left + pw, top + ph};
    if (N == 0) {
        draw_no_data(cr, &r);
        return canvas_end(&c, png_path, err);
    }
    /* Cells: one pixel per cell in an image, scaled up with nearest filtering. */
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)C, (int)R);
    if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(img);
        canvas_free(&c);
        return bertc_fail(err, BERTC_ERR_NOMEM, "heatmap: cannot create a %zux%zu image", C, R);
    }
    cairo_surface_flush(img);
    unsigned char *px = cairo_image_surface_get_data(img);
    int stride = cairo_image_surface_get_stride(img);
    for (size_t i = 0; i < R; i++) {
        uint32_t *row = (uint32_t *)(void *)(px + (size_t)stride * i);
        for (size_t j = 0; j < C; j++) {
            double v = hm->values[i * C + j], rgb[3];
            bertc_colormap_rgb(hm->cmap, isfinite(v) ? (v - vmin) / (vmax - vmin) : NAN, rgb);
            row[j] = ((uint32_t)lround(rgb[0] * 255) << 16) | ((uint32_t)lround(rgb[1] * 255) << 8) |
                     (uint32_t)lround(rgb[2] * 255);
        }
    }
    cairo_surface_mark_dirty(img);
    cairo_save(cr);
    cairo_translate(cr, r.x0, r.y0);
    cairo_scale(cr, cell, cell);
    cairo_set_source_surface(cr, img, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_rectangle(cr, 0, 0, (double)C, (double)R);
    cairo_fill(cr);
    cairo_restore(cr);
    cairo_surface_destroy(img);

    /* Numbers in cells, white on dark cells. */
    if (hm->annotate) {
        double vpt = fmin(TITLE_PT + 3, cell * 0.3);
        for (size_t i = 0; i < R && vpt >= 8; i++)
            for (size_t j = 0; j < C; j++) {
                double v = hm->values[i * C + j];
                if (!isfinite(v)) continue;
                if (integers) snprintf(buf, sizeof buf, "%.0f", v);
                else snprintf(buf, sizeof buf, "%.2f", v);
                set_font(cr, vpt, 0);
                if (text_width(cr, buf) > cell - 4) continue;
                double rgb[3];
                bertc_colormap_rgb(hm->cmap, (v - vmin) / (vmax - vmin), rgb);
                double lum = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
                if (lum < 0.55) cairo_set_source_rgb(cr, 1, 1, 1);
                else cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
                draw_text(cr, r.x0 + cell * (j + 0.5), r.y0 + cell * (i + 0.5), buf, vpt, 0, 0.5, 0.5, 0);
            }
    }
    /* Tick labels, every kstep-th. */
    cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
    for (size_t j = 0; j < C; j += kstep) {
        heat_tick(buf, sizeof buf, hm->xticks, j);
        double x = r.x0 + cell * (j + 0.5);
        if (vertical_x) draw_text(cr, x, r.y1 + 5, buf, tick_pt, 0, 1, 0.5, -M_PI / 2);
        else draw_text(cr, x, r.y1 + 5, buf, tick_pt, 0, 0.5, 0, 0);
    }
    for (size_t i = 0; i < R; i += kstep) {
        heat_tick(buf, sizeof buf, hm->yticks, i);
        draw_text(cr, r.x0 - 5, r.y0 + cell * (i + 0.5), buf, tick_pt, 0, 1, 0.5, 0);
    }
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    if (hm->frame.xlabel) draw_text(cr, (r.x0 + r.x1) / 2, h - 26, hm->frame.xlabel, LABEL_PT, 0, 0.5, 0, 0);
    if (hm->frame.ylabel) draw_text(cr, r.x0 - yw - 24, (r.y0 + r.y1) / 2, hm->frame.ylabel, LABEL_PT, 0, 0.5, 0.5, -M_PI / 2);

    /* Colour bar: a vertical gradient through the anchors, with ticks. */
    rect cb = {r.x1 + 24, r.y0, r.x1 + 42, r.y1};
    if (cb.y1 - cb.y0 < 120) cb.y1 = cb.y0 + 120;
    cairo_pattern_t *grad = cairo_pattern_create_linear(0, cb.y1, 0, cb.y0);
    for (int k = 0; k <= 16; k++) {
        double rgb[3];
        bertc_colormap_rgb(hm->cmap, k / 16.0, rgb);
        cairo_pattern_add_color_stop_rgb(grad, k / 16.0, rgb[0], rgb[1], rgb[2]);
    }
    cairo_set_source(cr, grad);
    cairo_rectangle(cr, cb.x0, cb.y0, cb.x1 - cb.x0, cb.y1 - cb.y0);
    cairo_fill(cr);
    cairo_pattern_destroy(grad);
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, round(cb.x0) + 0.5, round(cb.y0) + 0.5, round(cb.x1 - cb.x0), round(cb.y1 - cb.y0));
    cairo_stroke(cr);
    axis ca;
    nice_axis(&ca, vmin, vmax, 5, 0);
    double cbw = 0;
    for (int i = 0; i <= 100; i++) {
        double v = ca.lo + i * ca.step;
        if (v > vmax + ca.step * 1e-6) break;
        if (v < vmin - ca.step * 1e-6) continue;
        double y = cb.y1 - (v - vmin) / (vmax - vmin) * (cb.y1 - cb.y0);
        cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
        cairo_move_to(cr, cb.x1, round(y) + 0.5);
        cairo_line_to(cr, cb.x1 + 4, round(y) + 0.5);
        cairo_stroke(cr);
        tick_label(buf, sizeof buf, v, ca.step);
        cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
        draw_text(cr, cb.x1 + 7, y, buf, 11, 0, 0, 0.5, 0);
        set_font(cr, 11, 0);
        cbw = fmax(cbw, text_width(cr, buf));
    }
    if (hm->colorbar_label)
        draw_text(cr, cb.x1 + cbw + 20, (cb.y0 + cb.y1) / 2, hm->colorbar_label, 12, 0, 0.5, 0.5, -M_PI / 2);
    return canvas_end(&c, png_path, err);
}

/* ---- shutdown -------------------------------------------------------------- */

void bertc_chart_shutdown(void) {
    cairo_debug_reset_static_data();
    /* fontconfig is loaded as cairo's dependency but bertc does not link it
     * directly, so FcFini is looked up at run time; absent, there is nothing to free. */
    void *sym = dlsym(RTLD_DEFAULT, "FcFini");
    if (sym) {
        void (*fc_fini)(void);
        memcpy(&fc_fini, &sym, sizeof fc_fini);
        fc_fini();
    }
}
