/* hub_progress.c: the download bar on stderr for models fetched from the Hub
 * (src/hub.h). The library never prints; it calls the process-wide callback set
 * with hub_set_progress. This file installs that callback at start-up when
 * stderr is a terminal and HF_HUB_DISABLE_PROGRESS_BARS is not set (as
 * huggingface_hub), so every command that takes --model shows the bar without a
 * line of its own. A constructor is used only to keep cli/main.c untouched; an
 * explicit call from main() would do the same. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../src/hub.h"

static char last_file[64];
static double last_draw;
static int finished;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void draw(void *ctx, const char *name, const char *file, uint64_t done, uint64_t total) {
    (void)ctx;
    int same = strncmp(last_file, file, sizeof last_file - 1) == 0;
    if (!same) {
        snprintf(last_file, sizeof last_file, "%s", file);
        finished = 0;
    }
    if (finished) return;
    int complete = total > 0 && done >= total;
    double t = now_s();
    if (same && !complete && t - last_draw < 0.1) return;
    last_draw = t;
    const int width = 30;
    int fill = total > 0 ? (int)((double)done / (double)total * width) : 0;
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    if (total > 0)
        fprintf(stderr, "\rdownloading %s %-24s [%s] %3d%% %.1f/%.1f MB", name, file, bar,
                (int)(100.0 * (double)done / (double)total), (double)done / 1e6, (double)total / 1e6);
    else
        fprintf(stderr, "\rdownloading %s %-24s %.1f MB", name, file, (double)done / 1e6);
    if (complete) {
        fputc('\n', stderr);
        finished = 1;
    }
    fflush(stderr);
}

__attribute__((constructor)) static void install_hub_progress(void) {
    hub_set_downloads(1); /* the command line may fetch Hub ids (HF_HUB_OFFLINE=1 stops it) */
    const char *off = getenv("HF_HUB_DISABLE_PROGRESS_BARS");
    if (isatty(STDERR_FILENO) && !(off && *off && strcmp(off, "0"))) hub_set_progress(draw, NULL);
}
