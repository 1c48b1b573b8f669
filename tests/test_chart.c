/* test_chart.c: every chart type rendered to PNG and read back with cairo:
 * the file exists, its size is in the expected range and it has more than a
 * handful of colours; degenerate inputs (empty, NaN, one point, bad UTF-8)
 * give a picture and bad arguments give a clear error and no file.
 *
 * Two helper modes used by tests/test_report.sh:
 *   test_chart --report RUN_DIR   writes RUN_DIR/report.html (bertc_report_write)
 *   test_chart --png-stats FILE   prints "WIDTH HEIGHT DISTINCT_COLOURS"
 * BERTC_CHART_OUT=DIR keeps the rendered charts in DIR for looking at. */
#include "../src/chart.h"
#include "../src/report.h"
#include "test.h"

#include <cairo.h>
#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

/* Width, height and number of distinct RGB colours of a PNG; -1 if unreadable. */
static long png_stats(const char *path, int *w, int *h) {
    cairo_surface_t *s = cairo_image_surface_create_from_png(path);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        return -1;
    }
    *w = cairo_image_surface_get_width(s);
    *h = cairo_image_surface_get_height(s);
    int stride = cairo_image_surface_get_stride(s);
    const unsigned char *data = cairo_image_surface_get_data(s);
    uint8_t *seen = calloc(1 << 21, 1); /* one bit per 24-bit colour */
    long distinct = 0;
    for (int y = 0; seen && y < *h; y++) {
        const uint32_t *row = (const uint32_t *)(const void *)(data + (size_t)stride * y);
        for (int x = 0; x < *w; x++) {
            uint32_t c = row[x] & 0xFFFFFF;
            if (!(seen[c >> 3] & (1u << (c & 7)))) {
                seen[c >> 3] |= (uint8_t)(1u << (c & 7));
                distinct++;
            }
        }
    }
    free(seen);
    cairo_surface_destroy(s);
    return distinct;
}

static char outdir[4096];

static const char *out(const char *name) {
    static char b[8][4200];
    static int slot;
    char *p = b[slot++ & 7];
    snprintf(p, sizeof b[0], "%s/%s", outdir, name);
    return p;
}

/* The chart call returned OK, and the PNG reads back within the size ranges
 * with at least min_colours colours. */
static void check_png(int rc, const bertc_err *err, const char *name, int wmin, int wmax, int hmin,
                      int hmax, long min_colours) {
    CHECK(rc == BERTC_OK, "%s: returned %d: %s", name, rc, err->msg);
    int w = 0, h = 0;
    long n = png_stats(out(name), &w, &h);
    CHECK(n >= 0, "%s: not a readable PNG", name);
    CHECK(w >= wmin && w <= wmax, "%s: width %d outside %d..%d", name, w, wmin, wmax);
    CHECK(h >= hmin && h <= hmax, "%s: height %d outside %d..%d", name, h, hmin, hmax);
    CHECK(n >= min_colours, "%s: only %ld colours (want >= %ld)", name, n, min_colours);
    printf("  %-28s %4dx%-4d %6ld colours\n", name, w, h, n);
}

static void check_refused(int rc, const bertc_err *err, const char *name, int want_code, const char *want_msg) {
    CHECK(rc == want_code, "%s: returned %d, want %d (%s)", name, rc, want_code, err->msg);
    CHECK(strstr(err->msg, want_msg) != NULL, "%s: message '%s' lacks '%s'", name, err->msg, want_msg);
    CHECK(access(out(name), F_OK) != 0, "%s: a file was written despite the error", name);
    printf("  %-28s refused: %s\n", name, err->msg);
}

static void test_colormaps(void) {
    double rgb[3];
    bertc_colormap_rgb(BERTC_CMAP_BLUES, 0, rgb);
    CHECK(fabs(rgb[0] - 0xf7 / 255.0) < 1e-9 && fabs(rgb[2] - 1.0) < 1e-9, "Blues(0) is not #f7fbff");
    bertc_colormap_rgb(BERTC_CMAP_BLUES, 1, rgb);
    CHECK(fabs(rgb[0] - 0x08 / 255.0) < 1e-9 && fabs(rgb[2] - 0x6b / 255.0) < 1e-9, "Blues(1) is not #08306b");
    bertc_colormap_rgb(BERTC_CMAP_VIRIDIS, 1, rgb);
    CHECK(fabs(rgb[0] - 0xfd / 255.0) < 1e-9 && fabs(rgb[1] - 0xe7 / 255.0) < 1e-9, "viridis(1) is not #fde725");
    /* Interpolated mid-point against matplotlib's viridis(0.5) = #21918c, within 3/255. */
    bertc_colormap_rgb(BERTC_CMAP_VIRIDIS, 0.5, rgb);
    CHECK(fabs(rgb[0] * 255 - 0x21) <= 3 && fabs(rgb[1] * 255 - 0x91) <= 3 && fabs(rgb[2] * 255 - 0x8c) <= 3,
          "viridis(0.5) = (%.0f,%.0f,%.0f), want about (33,145,140)", rgb[0] * 255, rgb[1] * 255, rgb[2] * 255);
    bertc_colormap_rgb(BERTC_CMAP_VIRIDIS, 7.0, rgb); /* clamped */
    CHECK(fabs(rgb[2] - 0x25 / 255.0) < 1e-9, "viridis(7) is not clamped to viridis(1)");
    bertc_colormap_rgb(BERTC_CMAP_BLUES, NAN, rgb);
    CHECK(rgb[0] == rgb[1] && rgb[1] == rgb[2], "NaN does not map to grey");
}

static void test_charts(void) {
    bertc_err err = {0};
    int rc;

    /* Label distribution. */
    const char *labels[] = {"Negative", "Positive"};
    double counts[] = {512, 488};
    bertc_chart_frame bf = {"IMDB Dataset: Sentiment Distribution", "Sentiment", "Count", 0, 0};
    rc = bertc_chart_bar(out("bar.png"), &bf, labels, counts, 2, &err);
    check_png(rc, &err, "bar.png", 600, 700, 400, 480, 20);

    /* Training loss per logged step, and eval loss + accuracy in two panels. */
    double steps[40], loss[40];
    for (int i = 0; i < 40; i++) {
        steps[i] = 10.0 * (i + 1);
        loss[i] = 0.7 * exp(-i / 15.0) + 0.05 * sin(i * 1.3) + 0.1;
    }
    bertc_series ls = {"training loss", steps, loss, 40};
    bertc_line_panel lp = {{"Training Loss", "Step", "Loss", 0, 0}, &ls, 1, 1};
    rc = bertc_chart_lines(out("train_loss.png"), NULL, &lp, 1, &err);
    check_png(rc, &err, "train_loss.png", 600, 650, 400, 440, 20);

    double ep[] = {1, 2, 3}, el[] = {0.41, 0.33, 0.35}, ea[] = {0.83, 0.87, 0.885};
    bertc_series s_el = {"eval loss", ep, el, 3}, s_ea = {"eval accuracy", ep, ea, 3};
    bertc_line_panel two[2] = {{{"Validation Loss", "Epoch", "Loss", 0, 0}, &s_el, 1, 1},
                               {{"Validation Accuracy", "Epoch", "Accuracy", 0, 0}, &s_ea, 1, 1}};
    bertc_chart_frame tf = {"Evaluation", NULL, NULL, 0, 0};
    rc = bertc_chart_lines(out("eval.png"), &tf, two, 2, &err);
    check_png(rc, &err, "eval.png", 1200, 1300, 400, 440, 20);

    /* Token lengths with the max_length marker. */
    double edges[21], hc[20];
    for (int i = 0; i <= 20; i++) edges[i] = i * 40.0;
    for (int i = 0; i < 20; i++) hc[i] = 400 * exp(-(i - 4) * (i - 4) / 12.0);
    bertc_chart_frame hf = {"Token lengths", "Tokens per review", "Reviews", 0, 0};
    rc = bertc_chart_histogram(out("lengths.png"), &hf, edges, hc, 20, 128, "max_length = 128", &err);
    check_png(rc, &err, "lengths.png", 650, 700, 400, 480, 20);

    /* Confusion matrix. */
    double cm[] = {88, 12, 9, 91};
    bertc_heatmap ch = {{"Confusion Matrix", "Predicted", "True", 0, 0}, cm, 2, 2, labels, labels,
                        BERTC_CMAP_BLUES, 1, NAN, NAN, "count"};
    rc = bertc_chart_heatmap(out("confusion.png"), &ch, &err);
    check_png(rc, &err, "confusion.png", 400, 700, 380, 560, 20);

    /* Attention 10 x 10 with token labels. */
    const char *tok[] = {"[CLS]", "this", "movie", "was", "absolutely", "wonderful", ",", "i", "loved", "[SEP]"};
    double att[100];
    for (int i = 0; i < 10; i++) {
        double sum = 0;
        for (int j = 0; j < 10; j++) sum += att[i * 10 + j] = exp(-abs(i - j) / 2.0) + (j == 0);
        for (int j = 0; j < 10; j++) att[i * 10 + j] /= sum;
    }
    bertc_heatmap ah = {{"Attention weights (layer 5, head 0)", "Tokens", "Tokens", 0, 0}, att, 10, 10,
                        tok, tok, BERTC_CMAP_VIRIDIS, 0, NAN, NAN, "weight"};
    rc = bertc_chart_heatmap(out("attention10.png"), &ah, &err);
    check_png(rc, &err, "attention10.png", 500, 800, 500, 800, 50);

    /* Attention 512 x 512: cells scaled to 2 pixels, labels thinned. */
    enum { T = 512 };
    double *big = malloc(sizeof(double) * T * T);
    char (*names)[16] = malloc(sizeof(char[16]) * T);
    const char **bt = malloc(sizeof(char *) * T);
    if (!big || !names || !bt) { CHECK(0, "out of memory"); free(big); free(names); free(bt); return; }
    for (int i = 0; i < T; i++) {
        snprintf(names[i], sizeof names[i], "tok%d", i);
        bt[i] = names[i];
        for (int j = 0; j < T; j++) big[i * T + j] = exp(-abs(i - j) / 8.0) + 0.3 * (j == 0);
    }
    ah.values = big;
    ah.rows = ah.cols = T;
    ah.xticks = ah.yticks = bt;
    rc = bertc_chart_heatmap(out("attention512.png"), &ah, &err);
    check_png(rc, &err, "attention512.png", 1000, 1400, 1000, 1400, 100);
    free(big);
    free(names);
    free(bt);
}

static void test_degenerate(void) {
    bertc_err err = {0};
    int rc;
    bertc_chart_frame f = {"Degenerate", "x", "y", 0, 0};

    rc = bertc_chart_bar(out("bar_empty.png"), &f, NULL, NULL, 0, &err);
    check_png(rc, &err, "bar_empty.png", 600, 700, 400, 480, 5);
    const char *labels[] = {"a", "b\xff\xfe bad utf8", "a label that is much longer than anything sensible"};
    double vals[] = {3, NAN, 1.5};
    rc = bertc_chart_bar(out("bar_nan.png"), &f, labels, vals, 3, &err);
    check_png(rc, &err, "bar_nan.png", 600, 700, 400, 480, 10);

    double y1[] = {0.5};
    bertc_series one = {"one point", NULL, y1, 1};
    bertc_line_panel p1 = {f, &one, 1, 0};
    rc = bertc_chart_lines(out("line_one.png"), NULL, &p1, 1, &err);
    check_png(rc, &err, "line_one.png", 600, 650, 400, 440, 10);

    bertc_series none = {"none", NULL, NULL, 0};
    bertc_line_panel p0 = {f, &none, 1, 0};
    rc = bertc_chart_lines(out("line_empty.png"), NULL, &p0, 1, &err);
    check_png(rc, &err, "line_empty.png", 600, 650, 400, 440, 5);
    bertc_line_panel pz = {f, NULL, 0, 0};
    rc = bertc_chart_lines(out("line_noseries.png"), NULL, &pz, 1, &err);
    check_png(rc, &err, "line_noseries.png", 600, 650, 400, 440, 5);

    double yn[] = {1, NAN, 2, 3, NAN, NAN, 2.5, NAN, 1};
    double xn[] = {0, 1, 2, 3, 4, INFINITY, 6, 7, 8};
    double allnan[] = {NAN, NAN};
    bertc_series ns[2] = {{"with gaps", xn, yn, 9}, {"all NaN", NULL, allnan, 2}};
    bertc_line_panel pn = {f, ns, 2, 0};
    rc = bertc_chart_lines(out("line_nan.png"), NULL, &pn, 1, &err);
    check_png(rc, &err, "line_nan.png", 600, 650, 400, 440, 10);

    rc = bertc_chart_histogram(out("hist_empty.png"), &f, NULL, NULL, 0, NAN, NULL, &err);
    check_png(rc, &err, "hist_empty.png", 650, 700, 400, 480, 5);
    double e1[] = {0, 10}, c1[] = {7};
    rc = bertc_chart_histogram(out("hist_one.png"), &f, e1, c1, 1, 512, "marker far right", &err);
    check_png(rc, &err, "hist_one.png", 650, 700, 400, 480, 10);

    rc = bertc_chart_heatmap(out("heat_empty.png"),
                             &(bertc_heatmap){f, NULL, 0, 0, NULL, NULL, BERTC_CMAP_BLUES, 1, NAN, NAN, NULL}, &err);
    check_png(rc, &err, "heat_empty.png", 300, 700, 200, 600, 5);
    double nanv[] = {NAN, NAN, NAN, NAN};
    rc = bertc_chart_heatmap(out("heat_nan.png"),
                             &(bertc_heatmap){f, nanv, 2, 2, NULL, NULL, BERTC_CMAP_VIRIDIS, 1, NAN, NAN, NULL}, &err);
    check_png(rc, &err, "heat_nan.png", 300, 800, 200, 800, 5);
    double same[] = {3, 3, 3, 3, 3, 3};
    rc = bertc_chart_heatmap(out("heat_const.png"),
                             &(bertc_heatmap){f, same, 2, 3, NULL, NULL, BERTC_CMAP_BLUES, 1, NAN, NAN, NULL}, &err);
    check_png(rc, &err, "heat_const.png", 300, 900, 200, 800, 5);

    /* Refusals: a clear error and no file. */
    double bad_edges[] = {0, 5, 5};
    double bc[] = {1, 2};
    err = (bertc_err){0};
    rc = bertc_chart_histogram(out("hist_bad.png"), &f, bad_edges, bc, 2, NAN, NULL, &err);
    check_refused(rc, &err, "hist_bad.png", BERTC_ERR_ARG, "increasing");
    err = (bertc_err){0};
    rc = bertc_chart_heatmap(out("heat_huge.png"),
                             &(bertc_heatmap){f, same, 3000, 3000, NULL, NULL, BERTC_CMAP_BLUES, 0, NAN, NAN, NULL}, &err);
    check_refused(rc, &err, "heat_huge.png", BERTC_ERR_ARG, "2048");
    err = (bertc_err){0};
    bertc_chart_frame tiny = {"t", NULL, NULL, 10, 10};
    rc = bertc_chart_bar(out("bar_tiny.png"), &tiny, labels, vals, 1, &err);
    check_refused(rc, &err, "bar_tiny.png", BERTC_ERR_ARG, "64..8192");
    err = (bertc_err){0};
    rc = bertc_chart_bar(out("no/such/dir/bar.png"), &f, labels, vals, 1, &err);
    CHECK(rc == BERTC_ERR_IO && strstr(err.msg, "no/such/dir/bar.png"),
          "write into a missing folder: rc %d, message '%s' should name the path", rc, err.msg);
    printf("  %-28s refused: %s\n", "no/such/dir/bar.png", err.msg);
}

static void remove_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[8192];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--png-stats") == 0) {
        int w = 0, h = 0;
        long n = png_stats(argv[2], &w, &h);
        if (n < 0) { fprintf(stderr, "%s: not a readable PNG\n", argv[2]); return 1; }
        printf("%d %d %ld\n", w, h, n);
        bertc_chart_shutdown();
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "--report") == 0) {
        bertc_err err = {0};
        int rc = bertc_report_write(argv[2], &err);
        bertc_chart_shutdown();
        if (rc != BERTC_OK) {
            fprintf(stderr, "report: %s\n", err.msg);
            return 1;
        }
        printf("%s/report.html\n", argv[2]);
        return 0;
    }
    if (argc != 1) {
        fprintf(stderr, "usage: test_chart [--report RUN_DIR | --png-stats FILE]\n");
        return 2;
    }
    const char *keep = getenv("BERTC_CHART_OUT");
    if (keep && *keep) {
        snprintf(outdir, sizeof outdir, "%s", keep);
        mkdir(outdir, 0755);
    } else {
        snprintf(outdir, sizeof outdir, "/tmp/bertc_chart_XXXXXX");
        REQUIRE(mkdtemp(outdir) != NULL, "mkdtemp failed");
    }
    test_colormaps();
    test_charts();
    test_degenerate();
    if (!(keep && *keep)) remove_dir(outdir);
    bertc_chart_shutdown();
    return TEST_END();
}
