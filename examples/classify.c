/* classify.c: classify texts with a bertc model folder, through libbertc.
 *   make install PREFIX=$HOME/.local
 *   cc classify.c $(pkg-config --cflags --libs bertc) -o classify
 *   ./classify MODEL_DIR "A wonderful film." "Dull and far too long."
 * prints, per text, the most probable label and its probability. */
#include <bertc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL TEXT...\n", argv[0]);
        return 2;
    }
    bertc_err err = {0};
    bertc_classifier *c = NULL;
    if (bertc_open(&c, argv[1], NULL, &err) != BERTC_OK) {
        fprintf(stderr, "bertc: %s\n", err.msg);
        return 1;
    }
    int n = argc - 2, nl = bertc_num_labels(c);
    const char *const *texts = (const char *const *)argv + 2;
    size_t *lens = malloc((size_t)n * sizeof *lens);
    float *probs = malloc((size_t)n * (size_t)nl * sizeof *probs); /* (n, num_labels) */
    if (!lens || !probs) return 1;
    for (int i = 0; i < n; i++) lens[i] = strlen(texts[i]);
    if (bertc_classify(c, texts, lens, n, probs, &err) != BERTC_OK) {
        fprintf(stderr, "bertc: %s\n", err.msg);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        const float *p = probs + (size_t)i * nl;
        int best = 0;
        for (int k = 1; k < nl; k++)
            if (p[k] > p[best]) best = k;
        printf("%s\t%.6f\t%s\n", bertc_label(c, best), p[best], texts[i]);
    }
    free(lens);
    free(probs);
    bertc_close(c);
    return 0;
}
