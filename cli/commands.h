/* commands.h: the bertc subcommands, one function each (cli/cmd_*.c), and the
 * helpers they share. Each returns the process exit status. */
#ifndef BERTC_CLI_COMMANDS_H
#define BERTC_CLI_COMMANDS_H

#include "../src/tokenizer.h"

int cmd_tokenize(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_attention(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_augment(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
/* token classification (cmd_token.c) and question answering (cmd_qa.c) */
int cmd_predict_token(int argc, char **argv);
int cmd_eval_token(int argc, char **argv);
int cmd_predict_qa(int argc, char **argv);
int cmd_eval_qa(int argc, char **argv);
/* tasks.c: the command body for the model's task (config.json architectures, or
 * --task), or NULL for the command as named. */
/* --task for predict/eval/serve: read by tasks.c before the command runs. */
#define CLI_TASK_FLAG                                                                                   \
    {"task", NULL, "text-classification|token-classification|question-answering (default: the model's " \
                   "config.json architectures)", 0, 0, 0}
typedef int (*cli_command_fn)(int argc, char **argv);
cli_command_fn cli_task_command(const char *cmd, int argc, char **argv);

/* Loads the tokenizer of a model folder or cached name, or exits with a message. */
bert_tokenizer *cli_load_tokenizer(const char *model);

/* Parses --truncation head|tail|head+tail. */
bert_trunc cli_truncation(const char *v);

/* Sets OpenMP and OpenBLAS threads (0 = leave the default: all cores). */
void cli_set_threads(long n);

/* Opens a classifier or exits; notes on stderr when the head is new.
 * precision: a BERT_PREC_* (cli_precision). task: -1 for the folder's head, or a
 * BERT_TASK_* (--task) for a new head of that task. */
struct bertc_classifier *cli_open_classifier(const char *model, int batch, int max_length, const char *trunc,
                                             int pad, long seed, int precision, int task);

/* --precision, as predict, eval and serve take it (inference: auto by default). */
#define CLI_PRECISION_FLAG                                                                                    \
    {"precision", "auto", "auto|fp32|bf16|int8: the dense layers' arithmetic; auto = bf16 on AVX512-BF16, "   \
     "else fp32; int8 = int8 weights and activations (docs/numerics.md; `bertc info` shows auto; "  \
     "env BERTC_PRECISION replaces the default)", 0, 0, 0}
/* --precision as train takes it (auto by default, as the inference commands:
 * bf16 where the CPU has AVX512-BF16, since 3 seeds of the notebook's run showed
 * bf16 within 0.5 points of fp32, README; int8 is refused). */
#define CLI_TRAIN_PRECISION_FLAG                                                                              \
    {"precision", "auto", "auto|fp32|bf16: the dense layers' arithmetic; auto = bf16 on AVX512-BF16, else fp32 " \
     "(docs/numerics.md; `bertc info` shows auto; env BERTC_PRECISION replaces the default)", 0, 0, 0}
struct cli_flag;
/* Reads --precision: a BERT_PREC_* (BERT_PREC_AUTO unresolved; exits 2 on another value).
 * Where the flag is not given and its default is auto, the environment variable
 * BERTC_PRECISION (auto|fp32|bf16|int8) is the default instead. */
int cli_precision(const struct cli_flag *fl);

/* The data flags that data, eval and attention share (cmd_data.c). */
#define CLI_DATA_FLAGS                                                                                   \
    {"format", "auto", "data format: auto (from the path), imdb, csv, tsv, jsonl or fasttext", 0, 0, 0},  \
    {"text-column", "text", "CSV/TSV column or JSON key of the text", 0, 0, 0},                          \
    {"text-pair-column", NULL, "column/key of a second text (pair tasks)", 0, 0, 0},                    \
    {"label-column", "label", "CSV/TSV column or JSON key of the label", 0, 0, 0},                       \
    {"limit", "0", "keep the first N examples after a shuffle with --seed (0 = all, in file order)", 0, 0, 0}, \
    {"seed", "42", "seed of the --limit shuffle", 0, 0, 0}

struct bertc_dataset;
struct cli_flag;
/* Loads --data (default split: test) with the CLI_DATA_FLAGS, shuffles and limits;
 * *n_before (may be NULL) gets the count before --limit. Exits on error. */
void cli_load_data(struct bertc_dataset *ds, const struct cli_flag *fl, long *n_before);
/* The same, for a multi-label model: several labels per example (JSONL lists,
 * several __label__ words, CSV/TSV fields split at label_separator, may be NULL). */
void cli_load_data_multilabel(struct bertc_dataset *ds, const struct cli_flag *fl, long *n_before,
                              const char *label_separator);

/* Texts longer than --max-length, as predict and eval read them (train reads
 * the same flags, checked by bertc_train_check_opts, plus --max-windows). */
#define CLI_LONG_TEXT_FLAGS                                                                                  \
    {"long-text", "truncate", "texts longer than --max-length: truncate (--truncation)|head+tail|chunks", 0, 0, 0}, \
    {"stride", NULL, "chunks: tokens shared by consecutive windows (default --max-length / 4)", 0, 0, 0},          \
    {"pool", "mean", "chunks: pool the windows' logits by mean|max", 0, 0, 0}

typedef struct cli_long_text {
    const char *mode;  /* "truncate", "head+tail" or "chunks" */
    int chunks;        /* 1: --long-text chunks */
    const char *trunc; /* the truncation to open the classifier with: --truncation, or head+tail */
    long stride;       /* --stride; -1 until cli_long_text_stride resolves the default */
    int pool;          /* BERTC_POOL_MEAN or BERTC_POOL_MAX (longtext.h) */
} cli_long_text;

/* Reads --long-text, --stride, --pool and --truncation; exits 2 naming the flag
 * on a conflict: head+tail with another --truncation, --stride or --pool
 * without chunks, chunks with text pairs (pair set; pair_flag names the flag
 * that asked for them) or with --pad-to-max-length (pad set). */
void cli_long_text_read(cli_long_text *lt, const struct cli_flag *fl, int pair, const char *pair_flag, int pad);
/* With chunks: --stride's default (max_length / 4) and its range 0..max_length-3
 * for the classifier's resolved max length; exits 2 naming --stride. */
void cli_long_text_stride(cli_long_text *lt, int max_length);
/* Creates a directory unless it exists, or exits. */
void cli_mkdir(const char *dir);
/* eval's output files: --output and --predictions, else RUN_DIR/eval.json and
 * RUN_DIR/predictions.jsonl with --run-dir (built in the caller's buffers of cap
 * bytes); NULL when neither is given. Exits 2 on a path too long. */
void cli_eval_outputs(const struct cli_flag *fl, const char **out_json, const char **out_pred, char *json_buf,
                      char *pred_buf, size_t cap);
/* Bytes of the first n code points of s (Python's s[:n]). */
size_t cli_utf8_prefix(const char *s, size_t len, size_t n);

#endif
