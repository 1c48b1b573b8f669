/* chart.h: the notebook's pictures as PNG files, drawn with cairo.
 *
 * What it does: bar charts with the value on each bar (label distribution),
 * line charts of one or more series in one or more side-by-side panels
 * (training loss per step; eval loss and accuracy per evaluation), histograms
 * with a vertical marker (token lengths against max_length) and heatmaps with a
 * colour bar (confusion matrix with counts in Blues; attention maps in viridis,
 * up to 2048 x 2048 cells, tick labels thinned so they stay readable).
 * Each function takes plain arrays, draws title, axis labels and tick labels in
 * DejaVu Sans, and writes one PNG atomically (temp file + rename).
 *
 * What it does not: read run directories or pick what to draw (report.c does),
 * keep any state between calls, print or exit.
 *
 * Memory: the caller owns every array passed in; nothing is retained.
 *
 * Edge cases, all drawn rather than refused: no data (an empty panel saying
 * "no data"), NaN values (a gap in a line, a skipped bar labelled "n/a", a grey
 * heatmap cell), a single point (a marker on a padded axis), text that is not
 * valid UTF-8 (bad bytes become '?'), long labels (cut with "..."). Refused with
 * BERTC_ERR_ARG: NULL pointers where data is promised, bin edges that do not
 * increase, heatmaps over 2048 cells a side, sizes outside 64..8192 pixels.
 *
 *     bertc_err err = {0};
 *     const char *labels[] = {"Negative", "Positive"};
 *     double counts[] = {512, 488};
 *     bertc_chart_frame f = {"IMDB: sentiment distribution", "Sentiment", "Count", 0, 0};
 *     if (bertc_chart_bar("labels.png", &f, labels, counts, 2, &err) != BERTC_OK)
 *         fprintf(stderr, "bertc: %s\n", err.msg);
 */
#ifndef BERTC_CHART_H
#define BERTC_CHART_H

#include <stddef.h>
#include "common.h"

/* Title and axis labels of one chart or one panel; any may be NULL. */
typedef struct bertc_chart_frame {
    const char *title;
    const char *xlabel;
    const char *ylabel;
    int width;   /* pixels of the whole image; 0 picks the chart's default */
    int height;  /* pixels of the whole image; 0 picks the chart's default */
} bertc_chart_frame;

/* One line: n points (x[i], y[i]). x NULL means x[i] = i. A NaN y (or x)
 * leaves a gap; a point with no finite neighbour is drawn as a marker. */
typedef struct bertc_series {
    const char *name;  /* legend text; NULL draws no legend entry */
    const double *x;   /* (n) or NULL */
    const double *y;   /* (n) */
    size_t n;
} bertc_series;

/* One panel of a line chart: its frame (width/height ignored) and its lines. */
typedef struct bertc_line_panel {
    bertc_chart_frame frame;
    const bertc_series *series;  /* (nseries) */
    size_t nseries;
    int integer_x;  /* 1: x ticks only at whole numbers (epochs, steps) */
} bertc_line_panel;

/* Colour maps, interpolated linearly between a few anchor colours. */
typedef enum bertc_colormap {
    BERTC_CMAP_BLUES = 0,   /* white to dark blue (matplotlib "Blues") */
    BERTC_CMAP_VIRIDIS = 1  /* dark purple to yellow (matplotlib "viridis") */
} bertc_colormap;

/* A heatmap: values row-major, rows x cols; row 0 at the top. */
typedef struct bertc_heatmap {
    bertc_chart_frame frame;   /* width/height are ignored: size follows the cell count */
    const double *values;      /* (rows, cols); NaN cells are grey */
    size_t rows, cols;
    const char *const *xticks; /* (cols) column labels, or NULL for 0..cols-1 */
    const char *const *yticks; /* (rows) row labels, or NULL for 0..rows-1 */
    bertc_colormap cmap;
    int annotate;              /* 1: write each value in its cell when the cell is big enough */
    double vmin, vmax;         /* colour range; NaN takes the finite min / max of values */
    const char *colorbar_label; /* NULL for none */
} bertc_heatmap;

/* Colour of t in [0, 1] (clamped; NaN gives grey) under cmap, as r, g, b in [0, 1]. */
void bertc_colormap_rgb(bertc_colormap cmap, double t, double rgb[3]);

/* Bar chart: one bar per label with its value written above it. Default 640 x 440. */
int bertc_chart_bar(const char *png_path, const bertc_chart_frame *frame,
                    const char *const *labels, const double *values, size_t n,
                    bertc_err *err);

/* Line chart: npanels panels side by side (1..4), each with its own axes.
 * Default size 620 * npanels x 420; frame gives the overall size (its title,
 * when not NULL, is drawn above all panels). frame may be NULL. */
int bertc_chart_lines(const char *png_path, const bertc_chart_frame *frame,
                      const bertc_line_panel *panels, size_t npanels, bertc_err *err);

/* Histogram of pre-binned counts: bin i spans [edges[i], edges[i+1]), edges
 * strictly increasing. A finite marker_x draws a dashed vertical line there,
 * labelled marker_label (may be NULL). Default 680 x 440. */
int bertc_chart_histogram(const char *png_path, const bertc_chart_frame *frame,
                          const double *edges, const double *counts, size_t nbins,
                          double marker_x, const char *marker_label, bertc_err *err);

/* Heatmap with a colour bar. Cells are 2..160 pixels so that a 512 x 512
 * attention map comes out about 1000 pixels square; tick labels are thinned to
 * every k-th one when cells are smaller than the font, and x labels turn
 * vertical when they do not fit across a cell. */
int bertc_chart_heatmap(const char *png_path, const bertc_heatmap *h, bertc_err *err);

/* Releases the process-wide font caches that cairo and fontconfig keep after
 * drawing text (cairo_debug_reset_static_data, then FcFini). Call it once at
 * program exit after the last chart, so that leak checkers (make asan-test)
 * see a clean exit; drawing again afterwards re-initialises the caches. */
void bertc_chart_shutdown(void);

#endif /* BERTC_CHART_H */
