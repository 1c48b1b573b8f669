/* main.c: the bertc command line: subcommands with word flags, fastText style.
 * This folder is the only place that prints and exits; the library in src/
 * returns statuses and messages. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "flags.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"tokenize", cmd_tokenize, "tokenize texts as BertTokenizerFast does; one JSON line each"},
    {"info", cmd_info, "show a model folder's config, size, labels and what was checked"},
    {"predict", cmd_predict, "classify texts; one JSON line each (label and score)"},
    {"train", cmd_train, "fine-tune a model on labelled text, as transformers' Trainer does"},
    {"data", cmd_data, "a data set's labels, sample texts and lengths in tokens (data.json)"},
    {"eval", cmd_eval, "accuracy, classification report, confusion matrix and loss on a data set"},
    {"attention", cmd_attention, "one layer's attention for a text as a heatmap PNG and JSON"},
    {"sweep", cmd_sweep, "search training settings: grid, random or successive halving; resumable; keeps the best model"},
    {"augment", cmd_augment, "EDA text augmentation of a labelled data set (WordNet synonyms, insert, swap, delete)"},
    {"report", cmd_report, "write RUN_DIR/report.html from a run directory"},
    {"serve", cmd_serve, "serve a model over HTTP: POST /predict with dynamic batching"},
    {NULL, NULL, NULL},
};

static void usage(FILE *out) {
    fprintf(out, "usage: bertc <command> [flags] [args]\n\ncommands:\n");
    for (const command *c = commands; c->name; c++) fprintf(out, "  %-10s %s\n", c->name, c->summary);
    fprintf(out, "\n'bertc <command> --help' lists a command's flags and their defaults.\n"
                 "A model is a Hugging Face folder or a name in ~/.cache/bertc/models "
                 "(the default all-MiniLM-L6-v2 is installed by 'make deps').\n");
}

extern void openblas_set_num_threads(int);

int main(int argc, char **argv) {
    /* The CLI is the program, so it owns OpenBLAS's thread count: 1, because
     * every GEMM runs inside bertc's own OpenMP blocks (src/ops_cpu.c). The
     * library only sets it around its own ops and puts the caller's back. */
    openblas_set_num_threads(1);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (const command *c = commands; c->name; c++) {
        if (strcmp(argv[1], c->name) == 0) {
            cli_cmd = c->name;
            cli_command_fn task_run = cli_task_command(c->name, argc, argv);
            return task_run ? task_run(argc, argv) : c->run(argc, argv);
        }
    }
    fprintf(stderr, "bertc: unknown command '%s' (see bertc --help)\n", argv[1]);
    return 2;
}
