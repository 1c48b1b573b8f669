/* inputs.h: the texts a CLI command works on: positional arguments, or lines of
 * a file or of stdin ("-"). One text per line, the line end (LF or CRLF) removed. */
#ifndef BERTC_CLI_INPUTS_H
#define BERTC_CLI_INPUTS_H

#include <stddef.h>

typedef struct cli_inputs {
    int n;
    char **text;   /* (n) NUL-terminated; may contain NUL bytes before len */
    size_t *len;   /* (n) byte lengths */
    char *owned;   /* file contents the texts point into, or NULL */
} cli_inputs;

/* Collects positional texts, or reads lines from `file` ("-" = stdin) when it is
 * not NULL, or from stdin when the only positional is "-". Exits with a one-line
 * message when the file cannot be read. */
void cli_inputs_read(cli_inputs *in, char **pos, int npos, const char *file);
void cli_inputs_free(cli_inputs *in);

#endif
