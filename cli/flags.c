/* flags.c: word flags with defaults, checked values, one-line errors. */
#include "flags.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/common.h"

const char *cli_cmd = "bertc";

void cli_die(int code, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "bertc %s: ", cli_cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(code);
}

static cli_flag *find(const cli_flag *flags, const char *name, size_t len) {
    for (const cli_flag *f = flags; f->name; f++)
        if (strlen(f->name) == len && strncmp(f->name, name, len) == 0) return (cli_flag *)f;
    return NULL;
}

void cli_print_help(const char *cmd, const char *summary, const cli_flag *flags) {
    printf("usage: bertc %s [flags]%s\n\n", cmd, summary ? summary : "");
    for (const cli_flag *f = flags; f->name; f++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s", f->name, f->kind == CLI_BOOL ? "" : " V");
        printf("  %-26s %s", left, f->help);
        if (f->kind != CLI_BOOL && f->def) printf(" [%s]", f->def);
        putchar('\n');
    }
}

int cli_parse(const char *cmd, cli_flag *flags, int argc, char **argv, int first, char **pos,
              int *npos) {
    *npos = 0;
    for (cli_flag *f = flags; f->name; f++) {
        f->val = f->def;
        f->set = 0;
    }
    int only_pos = 0;
    for (int i = first; i < argc; i++) {
        char *a = argv[i];
        if (only_pos || a[0] != '-' || a[1] != '-' ) {
            pos[(*npos)++] = a;
            continue;
        }
        if (a[2] == '\0') { only_pos = 1; continue; }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        if (len == 4 && strncmp(name, "help", 4) == 0) return 1;
        cli_flag *f = find(flags, name, len);
        if (!f) {
            fprintf(stderr, "bertc %s: unknown flag --%.*s (see bertc %s --help)\n", cmd, (int)len, name, cmd);
            return 2;
        }
        if (f->kind == CLI_BOOL) {
            if (eq) {
                fprintf(stderr, "bertc %s: --%s takes no value\n", cmd, f->name);
                return 2;
            }
            f->val = "1";
        } else if (eq) {
            f->val = eq + 1;
        } else {
            if (i + 1 >= argc) {
                fprintf(stderr, "bertc %s: --%s needs a value\n", cmd, f->name);
                return 2;
            }
            f->val = argv[++i];
        }
        f->set = 1;
    }
    return 0;
}

char **cli_parse_or_exit(const char *cmd, const char *usage, const char *more, cli_flag *flags, int argc,
                         char **argv, int *npos) {
    char **pos = calloc((size_t)argc + 1, sizeof *pos);
    int n = 0;
    if (!pos) cli_die(1, "out of memory");
    int rc = cli_parse(cmd, flags, argc, argv, 2, pos, &n);
    if (rc == 1) {
        cli_print_help(cmd, usage, flags);
        if (more) printf("\n%s", more);
        free(pos);
        exit(0);
    }
    if (rc) {
        free(pos);
        exit(2);
    }
    if (!npos && n > 0) cli_die(2, "unexpected argument '%s' (bertc %s takes flags only; see --help)", pos[0], cmd);
    if (npos) *npos = n;
    return pos;
}

static const cli_flag *must(const cli_flag *flags, const char *name) {
    const cli_flag *f = find(flags, name, strlen(name));
    if (!f) cli_die(70, "internal: no flag --%s", name);
    return f;
}

const char *cli_str(const cli_flag *flags, const char *name) { return must(flags, name)->val; }

int cli_bool(const cli_flag *flags, const char *name) {
    const cli_flag *f = must(flags, name);
    return f->val && strcmp(f->val, "1") == 0;
}

int cli_given(const cli_flag *flags, const char *name) { return must(flags, name)->set; }

long cli_int(const cli_flag *flags, const char *name, long lo, long hi) {
    const cli_flag *f = must(flags, name);
    long v;
    if (!f->val || bertc_parse_long(f->val, lo, hi, &v) != 0)
        cli_die(2, "--%s: expected an integer in %ld..%ld, got '%s'", name, lo, hi, f->val ? f->val : "");
    return v;
}

double cli_float(const cli_flag *flags, const char *name, double lo, double hi) {
    const cli_flag *f = must(flags, name);
    double v;
    if (!f->val || bertc_parse_double(f->val, lo, hi, &v) != 0)
        cli_die(2, "--%s: expected a number in [%g, %g], got '%s'", name, lo, hi, f->val ? f->val : "");
    return v;
}

int cli_choice(const cli_flag *flags, const char *name, const char *choices) {
    const cli_flag *f = must(flags, name);
    const char *v = f->val ? f->val : "";
    size_t vl = strlen(v);
    int idx = 0;
    for (const char *c = choices; *c; idx++) {
        const char *bar = strchr(c, '|');
        size_t cl = bar ? (size_t)(bar - c) : strlen(c);
        if (cl == vl && strncmp(c, v, vl) == 0) return idx;
        if (!bar) break;
        c = bar + 1;
    }
    cli_die(2, "--%s: expected one of %s, got '%s'", name, choices, v);
}
