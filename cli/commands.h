/* commands.h: the bertc subcommands, one function each (cli/cmd_*.c), and the
 * helpers they share. Each returns the process exit status. */
#ifndef BERTC_CLI_COMMANDS_H
#define BERTC_CLI_COMMANDS_H

#include "../src/tokenizer.h"

int cmd_tokenize(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_predict(int argc, char **argv);

/* Loads the tokenizer of a model folder or cached name, or exits with a message. */
bert_tokenizer *cli_load_tokenizer(const char *model);

/* Parses --truncation head|tail|head+tail. */
bert_trunc cli_truncation(const char *v);

#endif
