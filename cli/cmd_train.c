/* cmd_train.c: `bertc train`: fine-tune a model on labelled text, as
 * transformers' Trainer does (src/train.h), with a progress bar on a terminal
 * and plain log lines otherwise. SIGINT/SIGTERM stop after the current step or
 * evaluation batch with a checkpoint (a second one ends the process at once);
 * `--resume latest` continues. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../src/dist.h"
#include "../src/longtext.h"
#include "../src/optim.h"
#include "../src/experiment.h"
#include "../src/train.h"
#include "commands.h"
#include "flags.h"

void cli_set_threads(long n); /* cmd_predict.c */

static volatile sig_atomic_t stop_signal;

/* The first SIGINT/SIGTERM asks for a stop (after the current step or evaluation
 * batch, with a checkpoint); the handler then restores the default action, so a
 * second one ends the process at once, leaving the last complete checkpoint.
 * Signals sent to the process go to any of its threads (OpenBLAS's, the
 * sanitizers'), so two can run this handler at the same time on two threads: the
 * count below is what decides which one is the second, and the second re-raises
 * itself under the default action (kept pending by sa_mask until it returns). */
static int signals_seen;

static void on_signal(int sig) {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    if (__atomic_fetch_add(&signals_seen, 1, __ATOMIC_SEQ_CST) > 0) {
        sigaction(sig, &dfl, NULL);
        raise(sig);
        return;
    }
    stop_signal = sig;
    sigaction(SIGINT, &dfl, NULL);
    sigaction(SIGTERM, &dfl, NULL);
}

typedef struct progress {
    int tty;
    int bar_shown;
    double stop_at_epoch; /* > 0: ask for a stop after the evaluation at this epoch (sweeps) */
    int stopped_at_epoch; /* set when that stop was asked */
} progress;

static void fmt_time(char *buf, size_t cap, double s) {
    if (!isfinite(s) || s < 0) s = 0;
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, cap, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else snprintf(buf, cap, "%ldm%02lds", t / 60, t % 60);
}

static void end_bar(progress *p) {
    if (p->bar_shown) fputc('\n', stderr);
    p->bar_shown = 0;
}

static void on_event(const bertc_train_event *e, void *user) {
    progress *p = user;
    char eta[32], el[32];
    fmt_time(eta, sizeof eta, e->eta);
    fmt_time(el, sizeof el, e->elapsed);
    switch (e->kind) {
    case BERTC_TRAIN_STEP:
        if (!p->tty) return;
        {
            int width = 24, filled = e->total_steps > 0 ? (int)(width * e->step / e->total_steps) : 0;
            char bar[32];
            for (int i = 0; i < width; i++) bar[i] = i < filled ? '#' : '.';
            bar[width] = 0;
            fprintf(stderr, "\r[%s] %ld/%ld  epoch %.2f  loss %.4f  lr %.2e  %.1f samples/s  %s elapsed  ETA %s \033[K",
                    bar, e->step, e->total_steps, e->epoch, e->loss, e->lr, e->samples_per_sec, el, eta);
            p->bar_shown = 1;
        }
        return;
    case BERTC_TRAIN_LOG:
        end_bar(p);
        fprintf(stderr, "step %ld/%ld  epoch %.2f  loss %.4f  lr %.3e  grad_norm %.4f  %.2f samples/s  ETA %s\n",
                e->step, e->total_steps, e->epoch, e->loss, e->lr, e->grad_norm, e->samples_per_sec, eta);
        return;
    case BERTC_TRAIN_EVAL:
        end_bar(p);
        if (isfinite(e->eval_hamming))
            fprintf(stderr, "eval at step %ld (epoch %.2f): loss %.4f  subset accuracy %.4f  micro f1 %.4f  hamming loss %.4f\n",
                    e->step, e->epoch, e->eval_loss, e->eval_accuracy, e->eval_f1, e->eval_hamming);
        else
            fprintf(stderr, "eval at step %ld (epoch %.2f): loss %.4f  accuracy %.4f  f1 %.4f\n", e->step, e->epoch,
                    e->eval_loss, e->eval_accuracy, e->eval_f1);
        if (p->stop_at_epoch > 0 && e->epoch >= p->stop_at_epoch - 1e-9 && e->step < e->total_steps && !stop_signal) {
            p->stopped_at_epoch = 1;
            stop_signal = -1; /* not a signal: the trainer checkpoints and returns as for one */
        }
        return;
    case BERTC_TRAIN_SAVE:
        end_bar(p);
        fprintf(stderr, "saved %s\n", e->msg);
        return;
    case BERTC_TRAIN_SKIP:
    case BERTC_TRAIN_WARN:
        end_bar(p);
        fprintf(stderr, "warning: %s\n", e->msg);
        return;
    default:
        end_bar(p);
        fprintf(stderr, "%s\n", e->msg);
    }
}

/* 1 when the last train_once stopped at --stop-at-epoch (the run continues later). */
static int last_stopped;

/* One training run with o; prints its JSON line. Returns the exit status. */
static int train_once(const bertc_train_opts *o, double stop_at) {
    progress p = {isatty(2), 0, stop_at, 0};
    bertc_train_callbacks cb = {on_event, &p};
    bertc_train_stats res;
    bertc_err err = {0};
    int rc = bertc_train_run(o, &cb, &res, &err);
    end_bar(&p);
    /* several ranks: rank 0 speaks for the job, except for a rank's own error */
    int quiet = bertc_dist_rank() != 0;
    last_stopped = rc == BERTC_ERR_INTERRUPTED && p.stopped_at_epoch;
    if (rc == BERTC_ERR_INTERRUPTED && p.stopped_at_epoch) {
        stop_signal = 0;
        fprintf(stderr, "stopped after the evaluation at epoch %g (--stop-at-epoch); continue with --resume latest\n", stop_at);
        printf("{\"stopped_at_epoch\": %g, \"steps\": %ld}\n", stop_at, res.steps);
        fflush(stdout);
        return 0;
    }
    if (rc == BERTC_ERR_INTERRUPTED) {
        if (!quiet) fprintf(stderr, "bertc train: %s\n", err.msg);
        return 128 + (stop_signal ? (int)stop_signal : SIGINT);
    }
    if (rc != BERTC_OK) {
        fprintf(stderr, "bertc train: %s\n", err.msg);
        return rc == BERTC_ERR_ARG ? 2 : 1;
    }
    if (quiet) return 0;
    printf("{\"steps\": %ld, \"wall_seconds\": %.3f, \"train_samples_per_second\": %.3f", res.steps, res.wall_seconds,
           res.train_samples_per_second);
    if (res.has_eval)
        printf(", \"eval_loss\": %.6f, \"eval_accuracy\": %.6f, \"eval_f1\": %.6f", res.eval_loss, res.eval_accuracy,
               res.eval_f1);
    if (res.has_best) printf(", \"best_metric\": %.6f, \"best_step\": %ld", res.best_metric, res.best_step);
    /* the path as a JSON string: quotes, backslashes and control bytes escaped */
    size_t cap = strlen(o->out) + sizeof "/model";
    char *model_dir = malloc(cap);
    if (!model_dir) cli_die(1, "out of memory");
    snprintf(model_dir, cap, "%s/model", o->out);
    cJSON *js = cJSON_CreateString(model_dir);
    free(model_dir);
    char *quoted = js ? cJSON_PrintUnformatted(js) : NULL;
    cJSON_Delete(js);
    if (!quoted) cli_die(1, "out of memory");
    printf(", \"model\": %s}\n", quoted);
    free(quoted);
    fflush(stdout);
    return 0;
}

int cmd_train(int argc, char **argv) {
    cli_flag fl[] = {
        {"task", "text-classification", "what to train: text-classification|token-classification|question-answering (the head; a folder trained for another task gets a new one)", 0, 0, 0},
        {"model", "all-MiniLM-L6-v2", "model folder or cached model name to fine-tune", 0, 0, 0},
        {"train", NULL, "training data: aclImdb folder/.tar.gz[:train|test], .csv, .tsv, .jsonl, fastText .txt", 0, 0, 0},
        {"eval", NULL, "evaluation data (same formats; labels must be among the training labels)", 0, 0, 0},
        {"out", NULL, "run directory: checkpoint-N/, model/, log.jsonl, run.json, report.html", 0, 0, 0},
        {"format", "auto", "data format: auto|imdb|csv|tsv|jsonl|fasttext; token classification: conll|jsonl", 0, 0, 0},
        {"text-column", "text", "CSV/TSV column or JSON key of the text", 0, 0, 0},
        {"text-pair-column", NULL, "column/key of a second text (pair classification)", 0, 0, 0},
        {"label-column", "label", "CSV/TSV column or JSON key of the label", 0, 0, 0},
        {"labels", NULL, "the label set in id order, 'a,b,c' (default: from the training data)", 0, 0, 0},
        {"train-limit", "0", "keep the first N training examples after a seeded shuffle (0 = all)", 0, 0, 0},
        {"eval-limit", "0", "keep the first N evaluation examples after a seeded shuffle (0 = all)", 0, 0, 0},
        {"validation-split", "0", "carve this fraction of the training data out as evaluation data", 0, 0, 0},
        {"augment", NULL, "augmentation of the training texts: eda[:alpha=0.1,n=4,...] or contextual[:model=MLM,n=...] (the masked-LM head of model=, else of --model; see bertc augment)", 0, 0, 0},
        {"max-length", "128", "tokens per text, [CLS]/[SEP] included (question answering: 384, a window)", 0, 0, 0},
        {"truncation", "head", "head|tail|head+tail", 0, 0, 0},
        {"pad-to-max-length", NULL, "pad every batch to --max-length (default: to the batch's longest)", CLI_BOOL, 0, 0},
        {"group-by-length", NULL, "batch texts of similar length together (Trainer's LengthGroupedSampler)", CLI_BOOL, 0, 0},
        {"epochs", "3", "passes over the training data", 0, 0, 0},
        {"max-steps", "0", "optimizer steps in the run; overrides --epochs when > 0", 0, 0, 0},
        {"batch-size", "8", "training sequences per micro-batch", 0, 0, 0},
        {"eval-batch-size", "8", "evaluation sequences per batch", 0, 0, 0},
        {"gradient-accumulation-steps", "1", "micro-batches per optimizer step", 0, 0, 0},
        {"lr", "5e-5", "peak learning rate (AdamW)", 0, 0, 0},
        {"weight-decay", "0", "decoupled weight decay (not on biases and LayerNorm)", 0, 0, 0},
        {"adam-beta1", "0.9", "AdamW beta1", 0, 0, 0},
        {"adam-beta2", "0.999", "AdamW beta2", 0, 0, 0},
        {"adam-epsilon", "1e-8", "AdamW epsilon", 0, 0, 0},
        {"max-grad-norm", "1.0", "clip the global gradient norm to this (0 = off)", 0, 0, 0},
        {"lr-scheduler", "linear", "linear|cosine|constant|constant_with_warmup", 0, 0, 0},
        {"warmup-ratio", "0", "fraction of the steps with linear warmup", 0, 0, 0},
        {"warmup-steps", "-1", "warmup steps; overrides --warmup-ratio when >= 0", 0, 0, 0},
        {"class-weights", NULL, "weighted loss: auto (n / (labels * count)) or w1,w2,...", 0, 0, 0},
        {"seed", "42", "seeds the new head, dropout, shuffles and batch order", 0, 0, 0},
        {"seeds", NULL, "repeat the run under each seed, '42,43,44': OUT/seed-S/ each, OUT/seeds.json with mean and sample std (ddof 1)", 0, 0, 0},
        {"stop-at-epoch", "0", "checkpoint and stop after the evaluation at this epoch, to be continued with --resume latest (sweeps use it; 0 = off)", 0, 0, 0},
        {"logging-steps", "100", "append the mean loss to log.jsonl every N steps (0 = never)", 0, 0, 0},
        {"eval-strategy", "epoch", "evaluate: epoch|steps|no", 0, 0, 0},
        {"eval-steps", "0", "with --eval-strategy steps: every N steps (0 = --logging-steps)", 0, 0, 0},
        {"save-strategy", "epoch", "checkpoint: epoch|steps|best|no", 0, 0, 0},
        {"save-steps", "500", "with --save-strategy steps: every N steps", 0, 0, 0},
        {"save-total-limit", "0", "keep at most N checkpoints (0 = all; the best is kept)", 0, 0, 0},
        {"load-best-model-at-end", NULL, "OUT/model is the best checkpoint by --metric-for-best-model", CLI_BOOL, 0, 0},
        {"metric-for-best-model", "loss", "accuracy|f1|loss (Trainer's default: loss)", 0, 0, 0},
        {"early-stopping-patience", "0", "stop after N evaluations without improvement (0 = off)", 0, 0, 0},
        {"max-bad-steps", "5", "stop after N non-finite steps in a row", 0, 0, 0},
        {"resume", NULL, "continue from OUT/checkpoint-N, or 'latest' (newest complete one)", 0, 0, 0},
        {"overwrite", NULL, "replace a previous run's checkpoints, model and log in --out", CLI_BOOL, 0, 0},
        {"no-report", NULL, "do not write OUT/report.html at the end", CLI_BOOL, 0, 0},
        {"gradient-checkpointing", NULL, "recompute each layer in the backward: less memory, ~1 more forward per step", CLI_BOOL, 0, 0},
        {"threads", "0", "CPU threads (0 = all cores)", 0, 0, 0},
        CLI_TRAIN_PRECISION_FLAG,
        {"label-all-tokens", NULL, "token classification: every sub-word carries its word's tag (else only the first)", CLI_BOOL, 0, 0},
        {"multi-label", NULL, "several labels per text (JSONL lists, several __label__, CSV split at --label-separator): sigmoid + BCE", CLI_BOOL, 0, 0},
        {"label-separator", NULL, "multi-label CSV/TSV: separator inside the label field (e.g. ',')", 0, 0, 0},
        {"threshold", "0.5", "multi-label evaluation: a label is predicted when its probability >= this", 0, 0, 0},
        {"long-text", "truncate", "texts longer than --max-length: truncate (--truncation)|head+tail|chunks", 0, 0, 0},
        {"doc-stride", "128", "question answering: context tokens shared by consecutive windows of a long context", 0, 0, 0},
        {"stride", NULL, "chunks: tokens shared by consecutive windows (default --max-length / 4)", 0, 0, 0},
        {"pool", "mean", "chunks: pool the windows' logits by mean|max", 0, 0, 0},
        {"max-windows", "0", "chunks: keep at most the first N windows of a text (0 = all; bounds memory)", 0, 0, 0},
        {NULL, NULL, NULL, 0, 0, 0},
    };
    free(cli_parse_or_exit("train", " --train DATA --out DIR [--eval DATA]", NULL, fl, argc, argv, NULL));

    bertc_train_opts o;
    bertc_train_opts_default(&o);
    o.model = cli_str(fl, "model");
    o.train = cli_str(fl, "train");
    o.eval = cli_str(fl, "eval");
    o.out = cli_str(fl, "out");
    if (!o.train) cli_die(2, "--train: required (see bertc train --help)");
    if (!o.out) cli_die(2, "--out: required (see bertc train --help)");
    const char *fmt = cli_str(fl, "format");
    cli_choice(fl, "format", "auto|imdb|csv|tsv|jsonl|fasttext|conll");
    o.format = strcmp(fmt, "auto") == 0 ? NULL : fmt;
    o.text_column = cli_str(fl, "text-column");
    o.text_pair_column = cli_str(fl, "text-pair-column");
    o.label_column = cli_str(fl, "label-column");
    o.labels = cli_str(fl, "labels");
    long tl = cli_int(fl, "train-limit", 0, 1L << 40), el = cli_int(fl, "eval-limit", 0, 1L << 40);
    o.train_limit = tl > 0 ? tl : -1;
    o.eval_limit = el > 0 ? el : -1;
    o.validation_split = cli_float(fl, "validation-split", 0, 0.999999);
    o.augment = cli_str(fl, "augment");
    o.max_length = (int)cli_int(fl, "max-length", 2, 1 << 16);
    o.truncation = cli_truncation(cli_str(fl, "truncation"));
    o.pad_to_max_length = cli_bool(fl, "pad-to-max-length");
    o.group_by_length = cli_bool(fl, "group-by-length");
    o.epochs = (int)cli_int(fl, "epochs", 1, 1000000);
    long ms = cli_int(fl, "max-steps", 0, 1L << 40);
    o.max_steps = ms > 0 ? ms : -1;
    o.batch_size = (int)cli_int(fl, "batch-size", 1, 4096);
    o.eval_batch_size = (int)cli_int(fl, "eval-batch-size", 1, 4096);
    o.grad_accum = (int)cli_int(fl, "gradient-accumulation-steps", 1, 1 << 20);
    o.lr = cli_float(fl, "lr", -1e9, 1e9);
    o.weight_decay = cli_float(fl, "weight-decay", -1e9, 1e9);
    o.adam_beta1 = cli_float(fl, "adam-beta1", 0, 0.999999999);
    o.adam_beta2 = cli_float(fl, "adam-beta2", 0, 0.999999999);
    o.adam_eps = cli_float(fl, "adam-epsilon", 1e-30, 1);
    o.max_grad_norm = cli_float(fl, "max-grad-norm", 0, 1e9);
    bertc_err err = {0};
    if (bertc_sched_parse(cli_str(fl, "lr-scheduler"), &o.sched_kind, &err)) cli_die(2, "--lr-scheduler: %s", err.msg);
    o.warmup_ratio = cli_float(fl, "warmup-ratio", 0, 0.999999);
    o.warmup_steps = cli_int(fl, "warmup-steps", -1, 1L << 40);
    o.class_weights = cli_str(fl, "class-weights");
    o.seed = (uint64_t)cli_int(fl, "seed", 0, 0x7fffffffffffffffL);
    o.logging_steps = cli_int(fl, "logging-steps", 0, 1L << 40);
    static const int strat[] = {BERTC_STRATEGY_EPOCH, BERTC_STRATEGY_STEPS, BERTC_STRATEGY_NO, BERTC_STRATEGY_BEST};
    o.eval_strategy = strat[cli_choice(fl, "eval-strategy", "epoch|steps|no")];
    o.eval_steps = cli_int(fl, "eval-steps", 0, 1L << 40);
    o.save_strategy = strat[cli_choice(fl, "save-strategy", "epoch|steps|no|best")];
    o.save_steps = cli_int(fl, "save-steps", 1, 1L << 40);
    o.save_total_limit = (int)cli_int(fl, "save-total-limit", 0, 1 << 20);
    o.load_best = cli_bool(fl, "load-best-model-at-end");
    static const int metr[] = {BERTC_METRIC_ACCURACY, BERTC_METRIC_F1, BERTC_METRIC_LOSS};
    o.metric = metr[cli_choice(fl, "metric-for-best-model", "accuracy|f1|loss")];
    o.early_stopping_patience = (int)cli_int(fl, "early-stopping-patience", 0, 1 << 20);
    o.max_bad_steps = (int)cli_int(fl, "max-bad-steps", 1, 1 << 20);
    o.resume = cli_str(fl, "resume");
    o.overwrite = cli_bool(fl, "overwrite");
    o.report = !cli_bool(fl, "no-report");
    long threads = cli_int(fl, "threads", 0, 1024);
    cli_set_threads(threads);
    o.threads = (int)threads;
    o.precision = cli_precision(fl);
    if (o.precision == BERT_PREC_INT8 && !cli_given(fl, "precision"))
        cli_die(2, "BERTC_PRECISION=int8: train takes auto, fp32 or bf16 (int8 is for inference only)");
    o.gradient_checkpointing = cli_bool(fl, "gradient-checkpointing");
    o.multi_label = cli_bool(fl, "multi-label");
    o.task = cli_choice(fl, "task", "text-classification|token-classification|question-answering");
    o.label_all_tokens = cli_bool(fl, "label-all-tokens");
    o.doc_stride = (int)cli_int(fl, "doc-stride", 0, 1 << 16);
    if (o.task == BERT_TASK_QA && !cli_given(fl, "max-length")) o.max_length = 384; /* run_qa's max_seq_length */
    o.label_separator = cli_str(fl, "label-separator");
    o.threshold = cli_float(fl, "threshold", 0, 1);
    static const int lt[] = {BERTC_LONG_TRUNCATE, BERTC_LONG_HEAD_TAIL, BERTC_LONG_CHUNKS};
    o.long_text = lt[cli_choice(fl, "long-text", "truncate|head+tail|chunks")];
    o.stride = cli_given(fl, "stride") ? (int)cli_int(fl, "stride", 0, 1 << 16) : -1;
    o.pool = cli_choice(fl, "pool", "mean|max") == 1 ? BERTC_POOL_MAX : BERTC_POOL_MEAN;
    o.max_windows = (int)cli_int(fl, "max-windows", 0, 1 << 20);
    if (o.long_text == BERTC_LONG_HEAD_TAIL) {
        if (cli_given(fl, "truncation") && o.truncation != BERT_TRUNC_HEAD_TAIL)
            cli_die(2, "--long-text: head+tail conflicts with --truncation %s", cli_str(fl, "truncation"));
        o.truncation = BERT_TRUNC_HEAD_TAIL;
    }
    if (o.long_text != BERTC_LONG_CHUNKS && cli_given(fl, "pool")) cli_die(2, "--pool: needs --long-text chunks");
    if (!o.multi_label && cli_given(fl, "threshold")) cli_die(2, "--threshold: needs --multi-label");
    if (bertc_train_check_opts(&o, &err)) cli_die(2, "%s", err.msg);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask); /* both blocked in the handler: a second one waits for the default action */
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    o.stop = &stop_signal;
    double stop_at = (double)cli_int(fl, "stop-at-epoch", 0, 1000000);

    const char *seeds_list = cli_str(fl, "seeds");
    if (!seeds_list) return train_once(&o, stop_at);
    if (cli_given(fl, "seed")) cli_die(2, "--seeds: conflicts with --seed (give the seeds in --seeds)");
    uint64_t *seeds;
    int ns;
    if (bertc_seeds_parse(seeds_list, &seeds, &ns, &err)) cli_die(2, "--seeds: %s", err.msg);
    cli_mkdir(o.out);
    const char *base = o.out;
    int stopped = 0;
    for (int i = 0; i < ns; i++) {
        char dir[4096];
        if (bertc_seed_dir(dir, sizeof dir, base, seeds[i])) cli_die(2, "--out: path too long");
        char done[4200];
        snprintf(done, sizeof done, "%s/run.json", dir);
        if (o.resume && bertc_is_file(done)) {
            fprintf(stderr, "seed %llu: finished earlier (%s), kept\n", (unsigned long long)seeds[i], done);
            continue;
        }
        fprintf(stderr, "seed %llu (%d of %d): %s\n", (unsigned long long)seeds[i], i + 1, ns, dir);
        o.seed = seeds[i];
        o.out = dir;
        int rc = train_once(&o, stop_at);
        if (rc != 0) {
            free(seeds);
            return rc;
        }
        stopped |= last_stopped;
    }
    if (stopped) { /* --stop-at-epoch: every seed paused; seeds.json comes when they finish */
        free(seeds);
        fprintf(stderr, "every seed stopped at epoch %g (--stop-at-epoch); continue with --resume latest\n", stop_at);
        return 0;
    }
    if (bertc_dist_rank() != 0) { /* rank 0 alone wrote the seeds' runs and summarises them */
        free(seeds);
        return 0;
    }
    cJSON *sum = NULL;
    if (bertc_seeds_summary(base, seeds, ns, &sum, &err)) {
        free(seeds);
        cli_die(1, "--seeds: %s", err.msg);
    }
    free(seeds);
    cJSON *mean = cJSON_GetObjectItemCaseSensitive(sum, "mean"), *sd = cJSON_GetObjectItemCaseSensitive(sum, "std");
    fprintf(stderr, "over %d seeds (mean +- sample standard deviation, ddof 1):\n", ns);
    for (cJSON *m = mean ? mean->child : NULL; m; m = m->next) {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(sd, m->string);
        if (cJSON_IsNumber(v)) fprintf(stderr, "  %-26s %.6f +- %.6f\n", m->string, m->valuedouble, v->valuedouble);
        else fprintf(stderr, "  %-26s %.6f\n", m->string, m->valuedouble);
    }
    char *line = cJSON_PrintUnformatted(sum);
    if (line) printf("%s\n", line);
    free(line);
    cJSON_Delete(sum);
    fprintf(stderr, "wrote %s/seeds.json\n", base);
    return 0;
}
