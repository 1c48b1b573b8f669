/* fuzz_safetensors.c: st_open on arbitrary bytes (through a file: the reader
 * memory-maps a path), then every accessor and the float conversions on what it
 * accepted. Crashes, sanitizer reports, leaks or an accepted file whose tensors
 * lie outside the data section are bugs. */
#include "../src/safetensors.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_path("model.safetensors");
    if (fuzz_write(path, data, size) != 0) return 0;
    bertc_err err = {0};
    st_file *f = NULL;
    if (st_open(&f, path, &err) != BERTC_OK) {
        if (err.code == BERTC_OK || !err.msg[0]) abort(); /* a failure must say why */
        return 0;
    }
    size_t total = 0;
    for (int i = 0; i < st_num_tensors(f); i++) {
        const st_tensor *t = st_tensor_at(f, i);
        if (!t || st_find(f, t->name) != t) abort();
        if (t->offset + t->nbytes > st_data_len(f)) abort();
        total += t->nbytes;
        if ((t->dtype == ST_F32 || t->dtype == ST_F16 || t->dtype == ST_BF16) && t->numel <= (1u << 20)) {
            float *dst = malloc((t->numel ? t->numel : 1) * sizeof *dst);
            if (dst && st_tensor_to_f32(dst, t->numel, f, t, &err) != BERTC_OK) abort();
            free(dst);
        }
    }
    if (total != st_data_len(f)) abort(); /* tensors tile the data section */
    (void)st_metadata(f, "format");
    st_close(f);
    return 0;
}
