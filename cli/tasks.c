/* tasks.c: which command body runs for a model's task. `bertc predict`,
 * `eval` and `serve` read the model's config.json first (its architectures
 * name the head, heads.h) and run the task's own command: text classification
 * in cmd_predict.c / cmd_eval.c / cmd_serve.c, token classification in
 * cmd_token.c, question answering in cmd_qa.c; one `serve` for all (serve.c
 * picks the scorer by the head). --task overrides the folder's. */
#include <stdio.h>
#include <string.h>

#include "../src/heads.h"
#include "../src/hfmodel.h"
#include "commands.h"
#include "flags.h"

typedef struct task_commands {
    int task;
    int (*predict)(int argc, char **argv);
    int (*eval)(int argc, char **argv);
    int (*serve)(int argc, char **argv);
} task_commands;

static const task_commands TABLE[] = {
    {BERT_TASK_TEXT_CLS, cmd_predict, cmd_eval, cmd_serve},
    {BERT_TASK_TOKEN_CLS, cmd_predict_token, cmd_eval_token, cmd_serve}, /* serve.c picks by the head */
    {BERT_TASK_QA, cmd_predict_qa, cmd_eval_qa, cmd_serve},
};

/* The value of --NAME (as "--NAME V" or "--NAME=V") in argv[2..], or def. */
static const char *peek_flag(int argc, char **argv, const char *name, const char *def) {
    size_t n = strlen(name);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) break;
        if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, name, n) != 0) continue;
        if (a[2 + n] == '=') return a + 3 + n;
        if (a[2 + n] == '\0' && i + 1 < argc) return argv[i + 1];
    }
    return def;
}

cli_command_fn cli_task_command(const char *cmd, int argc, char **argv) {
    int is_predict = strcmp(cmd, "predict") == 0, is_eval = strcmp(cmd, "eval") == 0,
        is_serve = strcmp(cmd, "serve") == 0;
    if (!is_predict && !is_eval && !is_serve) return NULL;
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            const char *t = peek_flag(argc, argv, "task", NULL);
            if (!t) return NULL; /* the text-classification command's help, which names --task */
            break;
        }
    int task = -1;
    const char *given = peek_flag(argc, argv, "task", NULL);
    if (given) {
        const bert_head *h = bert_head_by_name(given);
        if (!h) cli_die(2, "--task: expected %s, got '%s'", bert_head_names(), given);
        task = h->task;
    } else {
        bertc_err err = {0};
        const char *model = peek_flag(argc, argv, "model", "all-MiniLM-L6-v2");
        /* a model that cannot be read is the command's own error to report */
        if (hf_model_peek_task(model, &task, &err) != BERTC_OK) return NULL;
    }
    for (size_t i = 0; i < sizeof TABLE / sizeof TABLE[0]; i++)
        if (TABLE[i].task == task) return is_predict ? TABLE[i].predict : is_eval ? TABLE[i].eval : TABLE[i].serve;
    return NULL;
}
