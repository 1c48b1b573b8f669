/* fuzz_util.h: what the harnesses share: a per-process scratch folder (on
 * /dev/shm when there is one) and writing the fuzzer's bytes to a file in it,
 * for readers that take a path. */
#ifndef BERTC_FUZZ_UTIL_H
#define BERTC_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The scratch folder, made on first use and removed at exit. */
static char fuzz_dir_[256];
static void fuzz_cleanup_(void) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_dir_);
    if (system(cmd) != 0) { /* nothing to do */ }
}
static inline const char *fuzz_dir(void) {
    if (!fuzz_dir_[0]) {
        struct stat st;
        const char *base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
        snprintf(fuzz_dir_, sizeof fuzz_dir_, "%s/bertc-fuzz-%d", base, (int)getpid());
        mkdir(fuzz_dir_, 0700);
        atexit(fuzz_cleanup_);
    }
    return fuzz_dir_;
}

/* "<scratch>/<name>" in a static buffer (one of 4 rotating slots). */
static inline const char *fuzz_path(const char *name) {
    static char b[4][512];
    static int slot;
    char *p = b[slot++ & 3];
    snprintf(p, sizeof b[0], "%s/%s", fuzz_dir(), name);
    return p;
}

/* Writes n bytes to path (truncating). Returns 0 on success. */
static inline int fuzz_write(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = n ? fwrite(data, 1, n, f) : 0;
    return (fclose(f) != 0 || w != n) ? -1 : 0;
}

#endif
