/* bertc.h: the public C API of libbertc, BERT text classification in C.
 *
 * What it does: loads Hugging Face BERT model folders (config.json, vocab.txt,
 * tokenizer_config.json, model.safetensors), tokenizes text exactly as
 * transformers' BertTokenizerFast does, and runs the encoder and classification
 * head on the CPU.
 *
 * Conventions (SQLite-style): every function that can fail returns an int status
 * (BERTC_OK on success) and leaves a one-line, human-readable message naming the
 * file/field/flag on the handle or on the bertc_err passed in. Library code never
 * prints and never exits. Freeing NULL is harmless. Memory returned by the library
 * is owned by the handle it came from unless a comment says otherwise.
 *
 * Usage (see cli/main.c for the full program):
 *
 *     bertc_err err = {0};
 *     bertc_classifier *c = NULL;
 *     if (bertc_classifier_open(&c, "all-MiniLM-L6-v2", &err) != BERTC_OK) {
 *         fprintf(stderr, "bertc: %s\n", err.msg); return 1;
 *     }
 *     bertc_free_classifier(c);
 */
#ifndef BERTC_H
#define BERTC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes. */
typedef enum bertc_status {
    BERTC_OK = 0,              /* success */
    BERTC_ERR_IO = 1,          /* a file could not be opened, read, written or renamed */
    BERTC_ERR_FORMAT = 2,      /* malformed input: safetensors, JSON, vocab, data files */
    BERTC_ERR_UNSUPPORTED = 3, /* well-formed but not something bertc can run */
    BERTC_ERR_ARG = 4,         /* a bad argument, flag or option value */
    BERTC_ERR_NOMEM = 5,       /* an allocation failed or a size would overflow */
    BERTC_ERR_NOTFOUND = 6,    /* a model name, file, tensor or label was not found */
    BERTC_ERR_NUMERIC = 7,     /* non-finite values where finite ones are required */
    BERTC_ERR_INTERRUPTED = 8  /* stopped by a signal or a caller's request */
} bertc_status;

/* An error slot: a status and the message that goes with it. Zero-initialise it. */
typedef struct bertc_err {
    int code;        /* a bertc_status; BERTC_OK when nothing failed */
    char msg[1024];  /* one line, no trailing newline, names the file/field and the fix */
} bertc_err;

/* A short name for a status code ("format error", ...). Never NULL. */
const char *bertc_status_name(int code);

#ifdef __cplusplus
}
#endif
#endif /* BERTC_H */
