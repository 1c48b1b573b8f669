/* cmd_token.c: `bertc predict`, `eval` and `serve` for token-classification models. */
#include "commands.h"
#include "flags.h"

int cmd_predict_token(int argc, char **argv) { (void)argc, (void)argv; cli_die(2, "token classification: predict is not built yet"); }
int cmd_eval_token(int argc, char **argv) { (void)argc, (void)argv; cli_die(2, "token classification: eval is not built yet"); }
int cmd_serve_token(int argc, char **argv) { (void)argc, (void)argv; cli_die(2, "token classification: serve is not built yet"); }
