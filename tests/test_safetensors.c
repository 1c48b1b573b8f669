/* test_safetensors: the reader rejects every malformed file the format rules
 * name (with the right status and a message naming the file), the writer's
 * output reads back bit for bit, and F16/BF16 convert exactly. */
#include <ftw.h>
#include <stdint.h>
#include <unistd.h>

#include "../src/safetensors.h"
#include "test.h"

/* REQUIRE for helpers that return void. */
#define REQUIRE_VOID(cond, ...)              \
    do {                                     \
        CHECK(cond, __VA_ARGS__);            \
        if (!(cond)) return;                 \
    } while (0)

static char tmpdir[64];

static int rm_entry(const char *p, const struct stat *s, int t, struct FTW *f) {
    (void)s; (void)t; (void)f;
    return remove(p);
}

/* Writes an 8-byte little-endian hlen, then header bytes, then dlen data bytes
 * (a counting pattern). hlen may lie about the header's real length. */
static const char *write_raw(const char *name, uint64_t hlen, const char *header, size_t header_len, size_t dlen) {
    const char *path = test_path_(tmpdir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return path;
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)(hlen >> (8 * i));
    fwrite(len8, 1, 8, f);
    fwrite(header, 1, header_len, f);
    for (size_t i = 0; i < dlen; i++) fputc((int)(i & 0xff), f);
    fclose(f);
    return path;
}

/* A file with an honest header length. */
static const char *write_hdr(const char *name, const char *header, size_t dlen) {
    return write_raw(name, strlen(header), header, strlen(header), dlen);
}

/* Opens path and expects status want with a message naming the file and containing needle. */
static void expect_reject(const char *path, int want, const char *needle, const char *what) {
    st_file *f = NULL;
    bertc_err err = {0};
    int rc = st_open(&f, path, &err);
    CHECK(rc == want, "%s: status %d (%s), want %d; message: %s", what, rc, bertc_status_name(rc), want, err.msg);
    CHECK(f == NULL, "%s: handle set on failure", what);
    CHECK(strstr(err.msg, path) != NULL, "%s: message does not name the file: %s", what, err.msg);
    CHECK(!needle || strstr(err.msg, needle) != NULL, "%s: message lacks \"%s\": %s", what, needle, err.msg);
    st_close(f);
}

static void test_rejections(void) {
    const char *p;
    /* Too short for the length field. */
    p = test_path_(tmpdir, "short.safetensors");
    FILE *f = fopen(p, "wb");
    fwrite("\x02\0\0\0\0", 1, 5, f);
    fclose(f);
    expect_reject(p, BERTC_ERR_FORMAT, "too short", "5-byte file");
    p = write_raw("empty.safetensors", 0, "", 0, 0);
    expect_reject(p, BERTC_ERR_FORMAT, "not valid JSON", "zero-length header");

    /* Header lengths: the limit, past the file, wrapping near UINT64_MAX. */
    p = write_raw("huge.safetensors", 100000000ull, "{}", 2, 0);
    expect_reject(p, BERTC_ERR_FORMAT, "100000000", "header length 1e8");
    p = write_raw("past.safetensors", 1000, "{}", 2, 16);
    expect_reject(p, BERTC_ERR_FORMAT, "past the end", "header length past end of file");
    p = write_raw("wrap.safetensors", UINT64_MAX - 3, "{}", 2, 16);
    expect_reject(p, BERTC_ERR_FORMAT, NULL, "header length near UINT64_MAX");
    p = write_raw("wrap2.safetensors", 1ull << 63, "{}", 2, 16);
    expect_reject(p, BERTC_ERR_FORMAT, NULL, "header length 2^63");

    /* Offsets: overlap, gap, out of file, trailing bytes, end before begin. */
    p = write_hdr("overlap.safetensors",
                  "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                  "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12);
    expect_reject(p, BERTC_ERR_FORMAT, "overlap", "overlapping offsets");
    p = write_hdr("gap.safetensors",
                  "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                  "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}", 20);
    expect_reject(p, BERTC_ERR_FORMAT, "gap", "gapped offsets");
    p = write_hdr("nozero.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12);
    expect_reject(p, BERTC_ERR_FORMAT, "gap", "data not starting at 0");
    p = write_hdr("outside.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4);
    expect_reject(p, BERTC_ERR_FORMAT, "past the end", "offsets past end of file");
    p = write_hdr("bigoff.safetensors",
                  "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[18446744073709551615,0]}}", 1);
    expect_reject(p, BERTC_ERR_FORMAT, "data_offsets", "offset near UINT64_MAX");
    p = write_hdr("trailing.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 12);
    expect_reject(p, BERTC_ERR_FORMAT, "trailing", "trailing bytes");
    p = write_hdr("backwards.safetensors", "{\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8);
    expect_reject(p, BERTC_ERR_FORMAT, "data_offsets", "end before begin");
    p = write_hdr("threeoffs.safetensors", "{\"a\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8,8]}}", 8);
    expect_reject(p, BERTC_ERR_FORMAT, "data_offsets", "three offsets");

    /* Keys, dtypes, shapes. */
    p = write_hdr("dup.safetensors",
                  "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                  "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8);
    expect_reject(p, BERTC_ERR_FORMAT, "duplicate", "duplicate tensor names");
    p = write_hdr("dupfield.safetensors",
                  "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
    expect_reject(p, BERTC_ERR_FORMAT, "duplicate", "duplicate field inside an entry");
    p = write_hdr("dtype.safetensors", "{\"a\":{\"dtype\":\"F31\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
    expect_reject(p, BERTC_ERR_FORMAT, "unknown dtype", "unknown dtype");
    p = write_hdr("nodtype.safetensors", "{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
    expect_reject(p, BERTC_ERR_FORMAT, "dtype", "missing dtype");
    p = write_hdr("count.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8);
    expect_reject(p, BERTC_ERR_FORMAT, "needs 12", "byte count != shape x dtype");
    p = write_hdr("negshape.safetensors", "{\"a\":{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0);
    expect_reject(p, BERTC_ERR_FORMAT, "shape[0]", "negative dimension");
    p = write_hdr("fracshape.safetensors", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1.5],\"data_offsets\":[0,1]}}", 1);
    expect_reject(p, BERTC_ERR_FORMAT, "shape[0]", "fractional dimension");
    p = write_hdr("overflow.safetensors",
                  "{\"a\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,0]}}", 0);
    expect_reject(p, BERTC_ERR_FORMAT, "overflows", "shape product overflow");
    p = write_hdr("bytesoverflow.safetensors",
                  "{\"a\":{\"dtype\":\"F64\",\"shape\":[4294967296,1073741824],\"data_offsets\":[0,0]}}", 0);
    expect_reject(p, BERTC_ERR_FORMAT, "overflows", "byte count overflow");
    p = write_hdr("entrytype.safetensors", "{\"a\":[1,2]}", 0);
    expect_reject(p, BERTC_ERR_FORMAT, "not a JSON object", "entry not an object");

    /* Not JSON, not an object, not UTF-8, an embedded NUL. */
    p = write_hdr("malformed.safetensors", "{\"a\":{\"dtype\":\"F32\",", 0);
    expect_reject(p, BERTC_ERR_FORMAT, "not valid JSON", "malformed JSON");
    p = write_hdr("array.safetensors", "[1,2,3]", 0);
    expect_reject(p, BERTC_ERR_FORMAT, "not a JSON object", "non-object header");
    p = write_hdr("utf8.safetensors", "{\"\xff\xfe\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}}", 0);
    expect_reject(p, BERTC_ERR_FORMAT, "UTF-8", "invalid UTF-8");
    p = write_hdr("surrogate.safetensors", "{\"\xed\xa0\x80\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}}", 0);
    expect_reject(p, BERTC_ERR_FORMAT, "UTF-8", "UTF-8 encoded surrogate");
    p = write_raw("nul.safetensors", 4, "{}\0 ", 4, 0);
    expect_reject(p, BERTC_ERR_FORMAT, NULL, "NUL byte in the header");

    /* __metadata__ must be string to string. */
    p = write_hdr("meta1.safetensors", "{\"__metadata__\":{\"format\":1}}", 0);
    expect_reject(p, BERTC_ERR_FORMAT, "__metadata__", "metadata value not a string");
    p = write_hdr("meta2.safetensors", "{\"__metadata__\":\"pt\"}", 0);
    expect_reject(p, BERTC_ERR_FORMAT, "__metadata__", "metadata not an object");
    p = write_hdr("meta3.safetensors", "{\"__metadata__\":{\"a\":\"x\",\"a\":\"y\"}}", 0);
    expect_reject(p, BERTC_ERR_FORMAT, "duplicate", "metadata duplicate key");

    /* Missing file. */
    expect_reject(test_path_(tmpdir, "nonexistent.safetensors"), BERTC_ERR_NOTFOUND, "cannot open", "missing file");
}

/* The smallest valid files, and a header with many keys (the duplicate and
 * tiling checks must stay O(n log n)). */
static void test_valid_edge_cases(void) {
    st_file *f = NULL;
    bertc_err err = {0};
    const char *p = write_hdr("emptyobj.safetensors", "{}", 0);
    CHECK(st_open(&f, p, &err) == BERTC_OK, "{} with no data: %s", err.msg);
    CHECK(st_num_tensors(f) == 0, "{} has tensors");
    st_close(f);
    f = NULL;

    p = write_hdr("zerosize.safetensors",
                  "{\"z1\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[0,0]},"
                  "\"z2\":{\"dtype\":\"BF16\",\"shape\":[4,0],\"data_offsets\":[0,0]},"
                  "\"s\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[0,1]}}", 1);
    CHECK(st_open(&f, p, &err) == BERTC_OK, "zero-size tensors and a scalar: %s", err.msg);
    const st_tensor *s = st_find(f, "s");
    CHECK(s && s->rank == 0 && s->numel == 1 && s->nbytes == 1, "scalar tensor");
    st_close(f);
    f = NULL;

    /* 60,000 zero-size tensors, keys in descending order. */
    int n = 60000;
    size_t cap = (size_t)n * 80 + 16, k = 0;
    char *h = malloc(cap);
    k += (size_t)snprintf(h + k, cap - k, "{");
    for (int i = n - 1; i >= 0; i--)
        k += (size_t)snprintf(h + k, cap - k, "%s\"t%06d\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}",
                              i == n - 1 ? "" : ",", i);
    snprintf(h + k, cap - k, "}");
    p = write_hdr("many.safetensors", h, 0);
    CHECK(st_open(&f, p, &err) == BERTC_OK, "60000 keys: %s", err.msg);
    CHECK(st_num_tensors(f) == n, "60000 keys: got %d", st_num_tensors(f));
    CHECK(st_find(f, "t000123") != NULL && st_find(f, "t999999") == NULL, "lookup among many keys");
    st_close(f);
    f = NULL;
    /* The same with one duplicate at the far end. */
    h[k] = '\0';  /* drop the closing brace */
    strcat(h, ",\"t000000\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}");
    p = write_hdr("manydup.safetensors", h, 0);
    free(h);
    expect_reject(p, BERTC_ERR_FORMAT, "t000000", "duplicate among 60000 keys");
}

static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static void test_conversions(void) {
    static const struct { uint16_t h; float want; } f16[] = {
        {0x0000, 0.0f}, {0x3C00, 1.0f}, {0xC000, -2.0f}, {0x7BFF, 65504.0f}, {0x3555, 0.333251953125f},
        {0x0001, 0x1p-24f}, {0x8001, -0x1p-24f}, {0x03FF, 1023 * 0x1p-24f}, {0x0400, 0x1p-14f},
        {0x0200, 0x1p-15f}, {0x7C00, INFINITY}, {0xFC00, -INFINITY},
    };
    for (size_t i = 0; i < sizeof f16 / sizeof f16[0]; i++) {
        float got = st_f16_to_f32(f16[i].h);
        CHECK(f32_bits(got) == f32_bits(f16[i].want), "f16 0x%04x -> %a, want %a", f16[i].h, got, f16[i].want);
    }
    CHECK(f32_bits(st_f16_to_f32(0x8000)) == 0x80000000u, "f16 -0");
    CHECK(isnan(st_f16_to_f32(0x7E00)) && isnan(st_f16_to_f32(0x7C01)) && isnan(st_f16_to_f32(0xFE00)), "f16 NaN");
#ifdef __FLT16_MAX__
    /* Every one of the 65536 patterns against the compiler's own _Float16. */
    int bad = 0;
    for (uint32_t b = 0; b < 65536; b++) {
        uint16_t h = (uint16_t)b;
        _Float16 x;
        memcpy(&x, &h, 2);
        float want = (float)x, got = st_f16_to_f32(h);
        if (isnan(want) ? !isnan(got) : f32_bits(got) != f32_bits(want)) bad++;
    }
    CHECK(bad == 0, "f16: %d of 65536 patterns differ from _Float16", bad);
#endif
    static const struct { uint16_t b; uint32_t want; } bf16[] = {
        {0x3F80, 0x3F800000u}, {0xC000, 0xC0000000u}, {0x4049, 0x40490000u}, {0x7F80, 0x7F800000u},
        {0xFF80, 0xFF800000u}, {0x0001, 0x00010000u}, {0x8000, 0x80000000u}, {0x7FC0, 0x7FC00000u},
    };
    for (size_t i = 0; i < sizeof bf16 / sizeof bf16[0]; i++)
        CHECK(f32_bits(st_bf16_to_f32(bf16[i].b)) == bf16[i].want, "bf16 0x%04x", bf16[i].b);
    CHECK(st_bf16_to_f32(0x4049) == 3.140625f, "bf16 pi");
}

static void test_round_trip(void) {
    float w[12], b[4], sc = -1.5f;
    for (int i = 0; i < 12; i++) w[i] = (float)i * 0.25f - 1.0f;
    w[5] = 0x1p-140f;  /* an fp32 subnormal survives */
    for (int i = 0; i < 4; i++) b[i] = 1.0f / (float)(i + 3);
    uint16_t h[5] = {0x3C00, 0xC000, 0x0001, 0x7C00, 0x3555};
    uint16_t bf[3] = {0x3F80, 0x4049, 0xBF80};
    int64_t iv[2] = {-7, INT64_MAX};
    st_entry e[] = {
        {"encoder.w", ST_F32, 2, {3, 4}, w},
        {"b", ST_F32, 1, {4}, b},
        {"scalar", ST_F32, 0, {0}, &sc},
        {"empty", ST_F32, 2, {0, 5}, NULL},
        {"half", ST_F16, 1, {5}, h},
        {"brain", ST_BF16, 1, {3}, bf},
        {"ids", ST_I64, 2, {1, 2}, iv},
    };
    int n = (int)(sizeof e / sizeof e[0]);
    const char *p = test_path_(tmpdir, "rt.safetensors");
    bertc_err err = {0};
    int rc = st_write(p, e, n, &err);
    REQUIRE_VOID(rc == BERTC_OK, "st_write: %s", err.msg);

    st_file *f = NULL;
    rc = st_open(&f, p, &err);
    REQUIRE_VOID(rc == BERTC_OK, "reading back: %s", err.msg);
    CHECK(st_num_tensors(f) == n, "tensor count %d", st_num_tensors(f));
    CHECK((8 + st_header_len(f)) % 8 == 0, "header padded to 8: %zu", st_header_len(f));
    CHECK(st_metadata(f, "format") && strcmp(st_metadata(f, "format"), "pt") == 0, "__metadata__ format pt");
    for (int i = 0; i < n; i++) {
        const st_tensor *t = st_find(f, e[i].name);
        CHECK(t != NULL, "%s missing", e[i].name);
        if (!t) continue;
        CHECK(t == st_tensor_at(f, i), "%s: header order", e[i].name);
        CHECK(t->dtype == e[i].dtype && t->rank == e[i].rank, "%s: dtype/rank", e[i].name);
        size_t numel = 1;
        for (int d = 0; d < t->rank; d++) {
            CHECK(t->shape[d] == e[i].shape[d], "%s: shape[%d]", e[i].name, d);
            numel *= (size_t)e[i].shape[d];
        }
        CHECK(t->numel == numel && t->nbytes == numel * st_dtype_size(e[i].dtype), "%s: sizes", e[i].name);
        CHECK(numel == 0 || memcmp(t->data, e[i].data, t->nbytes) == 0, "%s: bytes differ", e[i].name);
    }
    float out[12];
    const st_tensor *t = st_find(f, "encoder.w");
    CHECK(st_tensor_to_f32(out, 12, f, t, &err) == BERTC_OK && memcmp(out, w, sizeof w) == 0, "F32 to_f32");
    t = st_find(f, "half");
    CHECK(st_tensor_to_f32(out, 5, f, t, &err) == BERTC_OK, "F16 to_f32: %s", err.msg);
    CHECK(out[0] == 1.0f && out[1] == -2.0f && out[2] == 0x1p-24f && isinf(out[3]) && out[4] == 0.333251953125f,
          "F16 values");
    t = st_find(f, "brain");
    CHECK(st_tensor_to_f32(out, 3, f, t, &err) == BERTC_OK, "BF16 to_f32: %s", err.msg);
    CHECK(out[0] == 1.0f && out[1] == 3.140625f && out[2] == -1.0f, "BF16 values");
    t = st_find(f, "ids");
    rc = st_tensor_to_f32(out, 2, f, t, &err);
    CHECK(rc == BERTC_ERR_UNSUPPORTED && strstr(err.msg, "ids") && strstr(err.msg, p), "I64 refused: %s", err.msg);
    t = st_find(f, "b");
    rc = st_tensor_to_f32(out, 5, f, t, &err);
    CHECK(rc == BERTC_ERR_FORMAT && strstr(err.msg, "expected 5"), "wrong element count refused: %s", err.msg);
    st_close(f);

    /* The writer refuses duplicate names and leaves no file behind. */
    st_entry d[] = {{"x", ST_F32, 1, {1}, &sc}, {"x", ST_F32, 1, {1}, &sc}};
    const char *q = test_path_(tmpdir, "dupw.safetensors");
    rc = st_write(q, d, 2, &err);
    CHECK(rc == BERTC_ERR_ARG && strstr(err.msg, "twice"), "writer duplicate names: %d %s", rc, err.msg);
    CHECK(access(q, F_OK) != 0, "writer left a file after refusing");
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/bertc-st-XXXXXX");
    int made = mkdtemp(tmpdir) != NULL;  /* REQUIRE evaluates its condition twice */
    REQUIRE(made, "mkdtemp failed");
    test_rejections();
    test_valid_edge_cases();
    test_conversions();
    test_round_trip();
    nftw(tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    return TEST_END();
}
