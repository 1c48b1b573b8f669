/* placeholder until the forward pass lands */
#include "commands.h"
int cmd_info(int argc, char **argv) { (void)argc; (void)argv; return 2; }
int cmd_predict(int argc, char **argv) { (void)argc; (void)argv; return 2; }
