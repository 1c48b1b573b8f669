/* test_data_bomb.c: the .tar.gz reader (src/data.c) refuses decompression bombs.
 *
 * The archives are built here, in a temp dir, without ever writing the
 * uncompressed bytes: a tar is a sequence of 512-byte headers and data, and a
 * gzip file may be several gzip members one after another, so a block of zeros
 * is compressed once and its member written many times. Cases:
 *   1. 8 GiB of zeros in one entry (an 8 MB file): refused with the defaults,
 *      from the header alone (in well under a second, nothing is decompressed),
 *      with one line naming the file; the defaults are 4 GiB and 1,000,000 entries.
 *   2. max_archive_bytes 1 MiB: one 600 KB review loads, two are refused.
 *   3. max_archive_entries 100: 100 reviews load, 101 are refused. */
#include "../src/data.h"
#include "test.h"

#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* Writes data[0..n) as one gzip member. */
static int gz_member(FILE *f, const void *data, size_t n) {
    z_stream z = {0};
    if (deflateInit2(&z, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY) != Z_OK) return -1;
    uLong cap = deflateBound(&z, (uLong)n);
    unsigned char *out = malloc(cap);
    z.next_in = (Bytef *)data, z.avail_in = (uInt)n, z.next_out = out, z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH) == Z_STREAM_END ? 0 : -1;
    if (rc == 0 && fwrite(out, 1, cap - z.avail_out, f) != cap - z.avail_out) rc = -1;
    deflateEnd(&z);
    free(out);
    return rc;
}

/* A ustar header for a regular file NAME of SIZE bytes (SIZE < 8 GiB). */
static void tar_header(unsigned char h[512], const char *name, uint64_t size) {
    memset(h, 0, 512);
    snprintf((char *)h, 100, "%s", name);
    memcpy(h + 100, "0000644", 8);
    memcpy(h + 108, "0000000", 8);
    memcpy(h + 116, "0000000", 8);
    snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)size);
    memcpy(h + 136, "14707157270", 12);
    h[156] = '0';
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++) sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    h[155] = ' ';
}

/* An archive of n reviews "aclImdb/train/pos/I_7.txt", each `bytes` bytes of 'a'. */
static int write_reviews(const char *path, int n, size_t bytes) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t padded = (bytes + 511) / 512 * 512;
    unsigned char *b = calloc(1, 512 + padded);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        char name[64];
        snprintf(name, sizeof name, "aclImdb/train/pos/%d_7.txt", i);
        tar_header(b, name, bytes);
        memset(b + 512, 'a', bytes);
        rc = gz_member(f, b, 512 + padded);
    }
    free(b);
    static const unsigned char end[1024]; /* two zero blocks end a tar */
    if (rc == 0) rc = gz_member(f, end, sizeof end);
    return fclose(f) || rc ? -1 : 0;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(void) {
    char dir[] = "/tmp/bertc_test_bomb_XXXXXX", bomb[256], two[256], one[256], e100[256], e101[256];
    REQUIRE(mkdtemp(dir), "mkdtemp");
    snprintf(bomb, sizeof bomb, "%s/bomb.tar.gz", dir);
    snprintf(one, sizeof one, "%s/one.tar.gz", dir);
    snprintf(two, sizeof two, "%s/two.tar.gz", dir);
    snprintf(e100, sizeof e100, "%s/e100.tar.gz", dir);
    snprintf(e101, sizeof e101, "%s/e101.tar.gz", dir);

    /* 1. 8191 MiB of zeros: the header, 8191 members of 1 MiB of zeros, the end blocks */
    const size_t MB = 1 << 20;
    const int n_mb = 8191;
    unsigned char *zeros = calloc(1, MB), h[512];
    FILE *f = fopen(bomb, "wb");
    REQUIRE(f && zeros, "cannot write %s", bomb);
    tar_header(h, "aclImdb/train/unsup/zeros.txt", (uint64_t)n_mb * MB);
    int wrc = gz_member(f, h, 512);
    FILE *mem = tmpfile(); /* the 1 MiB member, compressed once */
    REQUIRE(mem && gz_member(mem, zeros, MB) == 0, "deflate");
    long mlen = ftell(mem);
    unsigned char *member = malloc((size_t)mlen);
    rewind(mem);
    REQUIRE(fread(member, 1, (size_t)mlen, mem) == (size_t)mlen, "read back");
    fclose(mem);
    for (int i = 0; i < n_mb && wrc == 0; i++) wrc = fwrite(member, 1, (size_t)mlen, f) == (size_t)mlen ? 0 : -1;
    if (wrc == 0) wrc = gz_member(f, zeros, 1024);
    REQUIRE(fclose(f) == 0 && wrc == 0, "cannot write %s", bomb);
    free(member);
    free(zeros);
    struct stat st;
    REQUIRE(stat(bomb, &st) == 0, "stat");
    printf("bomb: %.1f MB on disk, %d MiB of zeros declared and compressed\n", st.st_size / 1e6, n_mb);

    bertc_data_opts o;
    bertc_data_opts_default(&o);
    CHECK(o.max_archive_bytes == (uint64_t)4 << 30 && o.max_archive_entries == 1000000,
          "defaults: %llu bytes, %ld entries", (unsigned long long)o.max_archive_bytes, o.max_archive_entries);
    bertc_dataset ds = {0};
    bertc_err err = {0};
    double t0 = now();
    int rc = bertc_data_load(&ds, bomb, "train", NULL, &err);
    double took = now() - t0;
    CHECK(rc == BERTC_ERR_FORMAT, "bomb: status %d (%s)", rc, err.msg);
    CHECK(strstr(err.msg, bomb) && strstr(err.msg, "decompression bomb") && !strchr(err.msg, '\n'),
          "bomb: the message names the file, in one line: %s", err.msg);
    CHECK(took < 2.0, "bomb: refused after %.2f s (from its header, want < 2 s)", took);
    printf("bomb refused in %.3f s: %s\n", took, err.msg);
    bertc_data_free(&ds);

    /* 2. the total-size cap, small: one 600 KB review fits in 1 MiB, two do not */
    REQUIRE(write_reviews(one, 1, 600000) == 0 && write_reviews(two, 2, 600000) == 0, "write reviews");
    o.max_archive_bytes = 1 << 20;
    memset(&err, 0, sizeof err);
    rc = bertc_data_load(&ds, one, "train", &o, &err);
    CHECK(rc == BERTC_OK && ds.n == 1, "one 600 KB review under a 1 MiB cap: status %d, %d examples (%s)", rc, ds.n,
          err.msg);
    bertc_data_free(&ds);
    memset(&err, 0, sizeof err);
    rc = bertc_data_load(&ds, two, "train", &o, &err);
    CHECK(rc == BERTC_ERR_FORMAT && strstr(err.msg, two) && strstr(err.msg, "1048576 bytes uncompressed"),
          "two 600 KB reviews over a 1 MiB cap: status %d: %s", rc, err.msg);
    bertc_data_free(&ds);

    /* 3. the entry count */
    bertc_data_opts_default(&o);
    o.max_archive_entries = 100;
    REQUIRE(write_reviews(e100, 100, 10) == 0 && write_reviews(e101, 101, 10) == 0, "write reviews");
    memset(&err, 0, sizeof err);
    rc = bertc_data_load(&ds, e100, "train", &o, &err);
    CHECK(rc == BERTC_OK && ds.n == 100, "100 entries, limit 100: status %d, %d examples (%s)", rc, ds.n, err.msg);
    bertc_data_free(&ds);
    memset(&err, 0, sizeof err);
    rc = bertc_data_load(&ds, e101, "train", &o, &err);
    CHECK(rc == BERTC_ERR_FORMAT && strstr(err.msg, e101) && strstr(err.msg, "more than 100 entries"),
          "101 entries, limit 100: status %d: %s", rc, err.msg);
    bertc_data_free(&ds);

    unlink(bomb), unlink(one), unlink(two), unlink(e100), unlink(e101);
    rmdir(dir);
    return TEST_END();
}
