/* cmd_qa.c: `bertc predict`, `eval` and `serve` for question-answering models
 * (BertForQuestionAnswering). Not built yet: each says so and exits 2. */
#include "commands.h"
#include "flags.h"

int cmd_predict_qa(int argc, char **argv) { (void)argc, (void)argv; cli_die(2, "question answering: predict is not built yet"); }
int cmd_eval_qa(int argc, char **argv) { (void)argc, (void)argv; cli_die(2, "question answering: eval is not built yet"); }
int cmd_serve_qa(int argc, char **argv) { (void)argc, (void)argv; cli_die(2, "question answering: serve is not built yet"); }
