/* inputs.c: texts from arguments, a file or stdin. */
#include "inputs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"

static char *slurp(FILE *f, size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf) return NULL;
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *nb = realloc(buf, 2 * cap + 1);
            if (!nb) { free(buf); return NULL; }
            buf = nb;
            cap *= 2;
        }
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

void cli_inputs_read(cli_inputs *in, char **pos, int npos, const char *file) {
    memset(in, 0, sizeof *in);
    if (!file && npos == 1 && strcmp(pos[0], "-") == 0) {
        file = "-";
        npos = 0;
    }
    if (!file) {
        in->n = npos;
        in->text = calloc((size_t)npos + 1, sizeof *in->text);
        in->len = calloc((size_t)npos + 1, sizeof *in->len);
        if (!in->text || !in->len) cli_die(1, "out of memory");
        for (int i = 0; i < npos; i++) {
            in->text[i] = pos[i];
            in->len[i] = strlen(pos[i]);
        }
        return;
    }
    if (npos > 0) cli_die(2, "give texts either as arguments or with --input/-, not both");
    FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
    if (!f) cli_die(1, "%s: cannot open: %s", file, strerror(errno));
    size_t total = 0;
    char *buf = slurp(f, &total);
    int bad = ferror(f);
    if (f != stdin) fclose(f);
    if (!buf || bad) cli_die(1, "%s: cannot read", strcmp(file, "-") == 0 ? "stdin" : file);
    in->owned = buf;
    int lines = 0;
    for (size_t i = 0; i < total; i++) lines += buf[i] == '\n';
    if (total > 0 && buf[total - 1] != '\n') lines++;
    in->text = calloc((size_t)lines + 1, sizeof *in->text);
    in->len = calloc((size_t)lines + 1, sizeof *in->len);
    if (!in->text || !in->len) cli_die(1, "out of memory");
    size_t start = 0;
    for (size_t i = 0; i <= total && in->n < lines; i++) {
        if (i == total || buf[i] == '\n') {
            size_t end = i;
            if (end > start && buf[end - 1] == '\r') end--;
            buf[end] = '\0';
            in->text[in->n] = buf + start;
            in->len[in->n] = end - start;
            in->n++;
            start = i + 1;
        }
    }
}

void cli_inputs_free(cli_inputs *in) {
    if (in->owned) free(in->owned);
    free(in->text);
    free(in->len);
    memset(in, 0, sizeof *in);
}
