/* flags.h: fastText-style word flags for the bertc CLI.
 *
 * Each subcommand declares a table of flags with their defaults and help text;
 * `--help` prints the table, so every default is shown in one place. Values are
 * parsed with checked conversions and a bad value is one line naming the flag.
 *
 *     static cli_flag fl[] = {
 *         {"model", "all-MiniLM-L6-v2", "model folder or cached model name"},
 *         {"batch-size", "32", "sequences per forward pass"},
 *         {"all-scores", NULL, "print every label's probability", CLI_BOOL},
 *         {0}};
 *     int npos;
 *     char **pos = cli_parse_or_exit("predict", " [TEXT...|-]", NULL, fl, argc, argv, &npos);
 *     long b = cli_int(fl, "batch-size", 1, 4096);
 */
#ifndef BERTC_CLI_FLAGS_H
#define BERTC_CLI_FLAGS_H

enum { CLI_VALUE = 0, CLI_BOOL = 1 };

typedef struct cli_flag {
    const char *name;  /* without the leading "--" */
    const char *def;   /* default value as text; NULL = unset */
    const char *help;  /* one line */
    int kind;          /* CLI_VALUE or CLI_BOOL */
    const char *val;   /* parsed value (points into argv or def) */
    int set;           /* 1 if given on the command line */
} cli_flag;

/* Parses argv[first..argc) into the table; other arguments are positional and
 * returned in pos (an array of argc pointers the caller provides). "--" ends
 * flags; "-" is a positional (stdin). Prints one line and returns 2 on an unknown
 * flag or a missing value; prints help and returns 1 on --help. */
int cli_parse(const char *cmd, cli_flag *flags, int argc, char **argv, int first,
              char **pos, int *npos);

void cli_print_help(const char *cmd, const char *summary, const cli_flag *flags);

/* What every subcommand does first: parses argv[2..] into flags; on --help prints
 * "usage: bertc CMD [flags]USAGE", the flag table and `more` (may be NULL) and
 * exits 0; on a bad flag exits 2. Returns the positional arguments (a calloc'd
 * array the caller frees) with their count in *npos; when npos is NULL the
 * command takes none, and one is an error (exit 2). */
char **cli_parse_or_exit(const char *cmd, const char *usage, const char *more, cli_flag *flags, int argc,
                         char **argv, int *npos);

/* Accessors. Each exits with status 2 and a one-line message naming the flag when
 * the value is malformed or out of range (the CLI is the only place that exits). */
const char *cli_str(const cli_flag *flags, const char *name);
int cli_bool(const cli_flag *flags, const char *name);
long cli_int(const cli_flag *flags, const char *name, long lo, long hi);
double cli_float(const cli_flag *flags, const char *name, double lo, double hi);
int cli_given(const cli_flag *flags, const char *name);
/* Index of the value in a '|'-separated list of choices ("epoch|steps|no"). */
int cli_choice(const cli_flag *flags, const char *name, const char *choices);

/* Set by main: the subcommand name used in messages. */
extern const char *cli_cmd;

/* Prints "bertc CMD: message" to stderr and exits with status code. */
void cli_die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

#endif
