/* commands.h: the bertc subcommands, one function each (cli/cmd_*.c), and the
 * helpers they share. Each returns the process exit status. */
#ifndef BERTC_CLI_COMMANDS_H
#define BERTC_CLI_COMMANDS_H

#include "../src/tokenizer.h"

int cmd_tokenize(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_train(int argc, char **argv);

/* Loads the tokenizer of a model folder or cached name, or exits with a message. */
bert_tokenizer *cli_load_tokenizer(const char *model);

/* Parses --truncation head|tail|head+tail. */
bert_trunc cli_truncation(const char *v);

/* Sets OpenMP and OpenBLAS threads (0 = leave the default: all cores). */
void cli_set_threads(long n);

/* Opens a classifier or exits; notes on stderr when the head is new. */
struct bertc_classifier *cli_open_classifier(const char *model, int batch, int max_length, const char *trunc,
                                             int pad, long seed);

#endif
