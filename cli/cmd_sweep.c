/* cmd_sweep.c: `bertc sweep`: a hyperparameter search over training settings
 * (src/sweep.h): grid, seeded random, or successive halving; each trial a
 * `bertc train` child process (this binary) in OUT/trial-N with --resume
 * latest, so a killed sweep continues where each trial stopped. One line per
 * decided trial in OUT/trials.jsonl; the best finished trial's model in OUT/best.
 * docs/experiments.md has the definitions. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../src/experiment.h"
#include "../src/sweep.h"
#include "commands.h"
#include "flags.h"

typedef struct record {
    int has;         /* a line in trials.jsonl */
    int rung;        /* the rung (epochs) it was decided at; grid/random: its epochs */
    char status[16]; /* "finished", "stopped", "failed" */
    double score;
} record;

typedef struct sweep {
    const char *out;
    char **train_args; /* the flags after "--" */
    int ntrain;
    bertc_space sp;
    bertc_trial *tr;
    int n;
    int *epochs;       /* (n) each trial's epochs */
    record *rec;       /* (n) */
    const char *metric; /* "eval_accuracy", "eval_f1", "eval_loss" */
    int lower_better;
    double budget_s;   /* 0: none */
    double t0;
    int budget_hit;
    int runs;          /* child processes started by this invocation */
    const char *seeds; /* --seeds: each trial runs `bertc train --seeds` and scores the mean */
    uint64_t *seed_list;
    int nseeds;
    int eta;           /* halving's reduction factor: rungs at 1, eta, eta^2, ... epochs; 1/eta kept */
} sweep;

/* SIGINT/SIGTERM: passed on to the running trial, which checkpoints and exits;
 * the sweep then exits too (--resume continues). */
static volatile sig_atomic_t sweep_stop;
static volatile pid_t child_pid;

static void on_signal(int sig) {
    sweep_stop = sig;
    if (child_pid > 0) kill(child_pid, sig);
}

static void stop_if_asked(const sweep *s) {
    if (!sweep_stop) return;
    fprintf(stderr, "bertc sweep: interrupted; continue with the same flags and --resume (%s)\n", s->out);
    exit(128 + sweep_stop);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void trial_dir(char *buf, size_t cap, const sweep *s, int i) { snprintf(buf, cap, "%s/trial-%d", s->out, i); }

static cJSON *settings_of(const sweep *s, int i) {
    cJSON *o = cJSON_CreateObject();
    for (int k = 0; o && k < s->sp.n; k++) cJSON_AddStringToObject(o, s->sp.p[k].flag, s->tr[i].values[k]);
    return o;
}

static int over_budget(sweep *s) {
    if (s->budget_s > 0 && now_s() - s->t0 >= s->budget_s) s->budget_hit = 1;
    return s->budget_hit;
}

/* Runs `bertc train` for trial i up to stop_epoch (0: to the end). Returns the
 * child's exit status (-1: could not start it). */
static int run_trial(sweep *s, int i, int stop_epoch) {
    char dir[4096], logp[4200], stop[32];
    trial_dir(dir, sizeof dir, s, i);
    snprintf(logp, sizeof logp, "%s/trial-%d.log", s->out, i);
    snprintf(stop, sizeof stop, "%d", stop_epoch);
    int na = 0, cap = s->ntrain + 2 * s->sp.n + 26;
    char **argv = calloc((size_t)cap, sizeof *argv);
    if (!argv) cli_die(1, "out of memory");
    argv[na++] = "bertc";
    argv[na++] = "train";
    for (int k = 0; k < s->ntrain; k++) argv[na++] = s->train_args[k];
    char flags[BERTC_SWEEP_MAX_PARAMS][40];
    for (int k = 0; k < s->sp.n; k++) {
        snprintf(flags[k], sizeof flags[k], "--%s", s->sp.p[k].flag);
        argv[na++] = flags[k];
        argv[na++] = s->tr[i].values[k];
    }
    const char *fixed[] = {"--out", dir, "--resume", "latest", "--eval-strategy", "epoch", "--save-strategy", "epoch",
                           "--save-total-limit", "1", "--no-report", "--stop-at-epoch", stop};
    for (size_t k = 0; k < sizeof fixed / sizeof fixed[0]; k++) argv[na++] = (char *)fixed[k];
    if (s->seeds) {
        argv[na++] = "--seeds";
        argv[na++] = (char *)s->seeds;
    }
    argv[na] = NULL;
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        free(argv);
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a killed sweep takes its trial with it */
        if (getppid() != parent) _exit(137);
        int fd = open(logp, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execv("/proc/self/exe", argv);
        _exit(127);
    }
    child_pid = pid;
    s->runs++;
    free(argv);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    child_pid = 0;
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    return 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static void write_record(sweep *s, int i, const char *status, int rung, int epoch, double score) {
    cJSON *o = cJSON_CreateObject();
    char dir[4096], path[4200];
    trial_dir(dir, sizeof dir, s, i);
    cJSON_AddNumberToObject(o, "trial", i);
    cJSON_AddStringToObject(o, "status", status);
    cJSON_AddNumberToObject(o, "rung", rung);
    cJSON_AddNumberToObject(o, "epoch", epoch);
    if (isfinite(score)) cJSON_AddNumberToObject(o, s->metric, score);
    else cJSON_AddNullToObject(o, s->metric);
    cJSON_AddItemToObject(o, "settings", settings_of(s, i));
    cJSON_AddStringToObject(o, "dir", dir);
    char *line = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!line) cli_die(1, "out of memory");
    snprintf(path, sizeof path, "%s/trials.jsonl", s->out);
    bertc_err err = {0};
    if (bertc_append_line(path, line, &err)) cli_die(1, "%s", err.msg);
    free(line);
    s->rec[i].has = 1;
    s->rec[i].rung = rung;
    s->rec[i].score = score;
    snprintf(s->rec[i].status, sizeof s->rec[i].status, "%s", status);
    fprintf(stderr, "trial %d: %s at epoch %d, %s %.6f\n", i, status, epoch, s->metric, score);
}

/* Reads OUT/trials.jsonl (a torn last line is ignored). */
static void read_records(sweep *s) {
    char path[4200];
    snprintf(path, sizeof path, "%s/trials.jsonl", s->out);
    if (!bertc_is_file(path)) return;
    char *buf = NULL;
    size_t len = 0;
    bertc_err err = {0};
    if (bertc_read_file(path, (size_t)1 << 28, &buf, &len, &err)) cli_die(1, "%s", err.msg);
    for (char *line = buf; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        cJSON *j = cJSON_Parse(line);
        cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "trial"), *st = cJSON_GetObjectItemCaseSensitive(j, "status"),
              *r = cJSON_GetObjectItemCaseSensitive(j, "rung"), *sc = cJSON_GetObjectItemCaseSensitive(j, s->metric);
        if (cJSON_IsNumber(t) && cJSON_IsString(st) && cJSON_IsNumber(r) && t->valueint >= 0 && t->valueint < s->n) {
            record *rc = &s->rec[t->valueint];
            rc->has = 1;
            rc->rung = r->valueint;
            rc->score = cJSON_IsNumber(sc) ? sc->valuedouble : NAN;
            snprintf(rc->status, sizeof rc->status, "%s", st->valuestring);
        }
        cJSON_Delete(j);
        line = nl ? nl + 1 : NULL;
    }
    free(buf);
}

/* Trial i's score at epoch ep from its log (with --seeds: the mean over its
 * seeds' logs); BERTC_ERR_NOTFOUND when some log has none yet. */
static int trial_score(const sweep *s, const char *dir, int ep, double *score, bertc_err *err) {
    if (!s->seeds) return bertc_sweep_score(dir, s->metric, ep, score, err);
    double sum = 0;
    for (int k = 0; k < s->nseeds; k++) {
        char sd[4096];
        double v;
        if (bertc_seed_dir(sd, sizeof sd, dir, s->seed_list[k])) return bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", dir);
        if (bertc_sweep_score(sd, s->metric, ep, &v, err)) return err->code;
        sum += v;
    }
    *score = sum / s->nseeds;
    return BERTC_OK;
}

/* Score of trial i at epoch ep, training it there first when its log has none. */
static int ensure_epoch(sweep *s, int i, int ep, double *score) {
    char dir[4096];
    trial_dir(dir, sizeof dir, s, i);
    bertc_err err = {0};
    char done[4200];
    snprintf(done, sizeof done, "%s/%s", dir, s->seeds ? "seeds.json" : "run.json");
    /* there already (its log has the evaluation; the last epoch also its run.json): not run again */
    if ((ep < s->epochs[i] || bertc_is_file(done)) && trial_score(s, dir, ep, score, &err) == BERTC_OK)
        return 0;
    stop_if_asked(s);
    if (over_budget(s)) return 1;
    fprintf(stderr, "trial %d: training to epoch %d of %d (%s/trial-%d.log)\n", i, ep, s->epochs[i], s->out, i);
    int rc = run_trial(s, i, ep < s->epochs[i] ? ep : 0);
    stop_if_asked(s);
    if (rc == 2) cli_die(2, "trial %d: bertc train refused its flags; see %s/trial-%d.log", i, s->out, i);
    if (rc != 0) {
        fprintf(stderr, "trial %d: bertc train exited with %d; see %s/trial-%d.log\n", i, rc, s->out, i);
        *score = NAN;
        return -1;
    }
    if (trial_score(s, dir, ep, score, &err)) cli_die(1, "trial %d: %s", i, err.msg);
    return 0;
}

static void run_plain(sweep *s) {
    for (int i = 0; i < s->n; i++) {
        if (s->rec[i].has) {
            fprintf(stderr, "trial %d: %s earlier, not run again\n", i, s->rec[i].status);
            continue;
        }
        double sc;
        int rc = ensure_epoch(s, i, s->epochs[i], &sc);
        if (rc > 0) break; /* budget */
        write_record(s, i, rc < 0 ? "failed" : "finished", s->epochs[i], s->epochs[i], sc);
    }
}

/* Successive halving (synchronous, reduction factor eta, 2 unless
 * --reduction-factor): rungs at 1, eta, eta^2, ... epochs; at each rung every
 * trial still in trains to min(rung, its epochs), the best ceil(m/eta) of the m
 * (by the score at that epoch) go on and the rest are stopped; a trial whose
 * epochs are reached is finished. */
static void run_halving(sweep *s) {
    int *in = malloc((size_t)s->n * sizeof *in), *order = malloc((size_t)s->n * sizeof *order);
    double *sc = malloc((size_t)s->n * sizeof *sc);
    if (!in || !order || !sc) cli_die(1, "out of memory");
    /* (r saturates: past every trial's epochs all are finished and m is 0) */
    for (int r = 1;; r = r > INT_MAX / s->eta ? INT_MAX : r * s->eta) {
        /* the trials in at this rung: no record yet, or decided at this rung or later */
        int m = 0;
        for (int i = 0; i < s->n; i++)
            if (!s->rec[i].has || s->rec[i].rung >= r) in[m++] = i;
        if (m == 0) break;
        for (int k = 0; k < m; k++) {
            int i = in[k], ep = r < s->epochs[i] ? r : s->epochs[i];
            if (s->rec[i].has) {
                char dir[4096];
                bertc_err err = {0};
                trial_dir(dir, sizeof dir, s, i);
                if (trial_score(s, dir, ep, &sc[k], &err)) sc[k] = s->rec[i].score;
                continue;
            }
            int rc = ensure_epoch(s, i, ep, &sc[k]);
            if (rc > 0) goto done; /* budget: the rung is left undecided; --resume continues it */
            if (rc < 0) write_record(s, i, "failed", r, ep, NAN);
        }
        bertc_sweep_rank(sc, m, s->lower_better, order);
        int keep = m > 1 ? (m + s->eta - 1) / s->eta : 1;
        fprintf(stderr, "rung %d (epoch %d): %d trials, keeping the best %d\n", r, r, m, keep);
        for (int pos = 0; pos < m; pos++) {
            int i = in[order[pos]], ep = r < s->epochs[i] ? r : s->epochs[i];
            if (s->rec[i].has) continue;
            if (ep >= s->epochs[i]) write_record(s, i, "finished", r, ep, sc[order[pos]]);
            else if (pos >= keep) write_record(s, i, "stopped", r, ep, sc[order[pos]]);
        }
    }
done:
    free(in);
    free(order);
    free(sc);
}

static const char *swept_flags[] = {"lr", "batch-size", "epochs", "warmup-ratio", "warmup-steps", "weight-decay",
                                    "max-length", "truncation", "model", "precision", "gradient-accumulation-steps",
                                    "lr-scheduler"};
#define NSWEPT (int)(sizeof swept_flags / sizeof swept_flags[0])

int cmd_sweep(int argc, char **argv) {
    int dd = argc;
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--") == 0) {
            dd = i;
            break;
        }
    cli_flag fl[] = {
        {"out", NULL, "sweep folder: sweep.json, trials.jsonl, trial-N/, trial-N.log, best/, best.json", 0, 0, 0},
        {"search", "grid", "grid|random|halving (successive halving: the worse half stops at epochs 1, 2, 4, ...)", 0, 0, 0},
        {"reduction-factor", "2", "halving: keep the best 1/N at each rung, rungs at epochs 1, N, N^2, ... (Optuna's reduction_factor)", 0, 0, 0},
        {"trials", "0", "trials to run (random: draws, default 10; grid: the first N; 0 = all)", 0, 0, 0},
        {"budget-minutes", "0", "start no training after this many minutes of this invocation (0 = no limit)", 0, 0, 0},
        {"seed", "42", "seed of the random draws (each trial's training seed is train's --seed)", 0, 0, 0},
        {"metric", "accuracy", "accuracy|f1|loss on the evaluation data (--eval or --validation-split)", 0, 0, 0},
        {"space", NULL, "JSON file: {\"lr\": [1e-5, 3e-5] or {\"min\", \"max\", \"log\"}, \"batch_size\": [8, 16]}", 0, 0, 0},
        {"resume", NULL, "continue the sweep in --out (finished trials are not run again)", CLI_BOOL, 0, 0},
        {"seeds", NULL, "train every trial under each seed, '42,43,44', and score the mean (OUT/best: the first seed's model)", 0, 0, 0},
        {"lr", NULL, "learning rates, 'a,b,c'", 0, 0, 0},
        {"batch-size", NULL, "batch sizes, 'a,b'", 0, 0, 0},
        {"epochs", NULL, "epochs, 'a,b'", 0, 0, 0},
        {"warmup-ratio", NULL, "warmup ratios", 0, 0, 0},
        {"warmup-steps", NULL, "warmup steps", 0, 0, 0},
        {"weight-decay", NULL, "weight decays", 0, 0, 0},
        {"max-length", NULL, "max lengths", 0, 0, 0},
        {"truncation", NULL, "truncations (head|tail|head+tail)", 0, 0, 0},
        {"model", NULL, "models (folders or cached names)", 0, 0, 0},
        {"precision", NULL, "precisions (fp32|bf16)", 0, 0, 0},
        {"gradient-accumulation-steps", NULL, "gradient accumulation steps", 0, 0, 0},
        {"lr-scheduler", NULL, "schedulers (linear|cosine|constant|constant_with_warmup)", 0, 0, 0},
        {NULL, NULL, NULL, 0, 0, 0},
    };
    free(cli_parse_or_exit("sweep", " --out DIR [--lr a,b] [--batch-size a,b] [--epochs a,b] ... -- TRAIN FLAGS",
                           "Everything after '--' goes to every trial's `bertc train` (--train, --eval or "
                           "--validation-split, --threads ...).",
                           fl, dd, argv, NULL));
    sweep s;
    memset(&s, 0, sizeof s);
    s.out = cli_str(fl, "out");
    if (!s.out) cli_die(2, "--out: required (see bertc sweep --help)");
    int search = cli_choice(fl, "search", "grid|random|halving");
    int max_trials = (int)cli_int(fl, "trials", 0, 100000);
    s.eta = (int)cli_int(fl, "reduction-factor", 2, 100);
    if (cli_given(fl, "reduction-factor") && search != BERTC_SEARCH_HALVING)
        cli_die(2, "--reduction-factor: only for --search halving");
    s.budget_s = 60.0 * cli_float(fl, "budget-minutes", 0, 1e7);
    uint64_t seed = (uint64_t)cli_int(fl, "seed", 0, 0x7fffffffffffffffL);
    static const char *const metrics[] = {"eval_accuracy", "eval_f1", "eval_loss"};
    int mi = cli_choice(fl, "metric", "accuracy|f1|loss");
    s.metric = metrics[mi];
    s.lower_better = mi == 2;
    s.train_args = dd < argc ? argv + dd + 1 : NULL;
    s.ntrain = dd < argc ? argc - dd - 1 : 0;
    s.seeds = cli_str(fl, "seeds");
    bertc_err serr = {0};
    if (s.seeds && bertc_seeds_parse(s.seeds, &s.seed_list, &s.nseeds, &serr)) cli_die(2, "--seeds: %s", serr.msg);

    /* the train flags: no swept flag twice, none the sweep sets, and evaluation data that is not a test split */
    int has_eval = 0, base_epochs = 3;
    for (int k = 0; k < s.ntrain; k++) {
        const char *a = s.train_args[k];
        if (strncmp(a, "--", 2) != 0) continue;
        const char *name = a + 2;
        static const char *const owned[] = {"out", "resume", "seeds", "stop-at-epoch", "eval-strategy", "save-strategy",
                                            "overwrite"};
        for (size_t o = 0; o < sizeof owned / sizeof owned[0]; o++)
            if (!strcmp(name, owned[o]))
                cli_die(2, "--%s: the sweep sets it for each trial; leave it out of the train flags", name);
        if (s.seeds && !strcmp(name, "seed")) cli_die(2, "--seed: conflicts with the sweep's --seeds");
        for (int f = 0; f < NSWEPT; f++)
            if (!strcmp(name, swept_flags[f]) && cli_given(fl, swept_flags[f]))
                cli_die(2, "--%s: given both as a sweep list and as a train flag", name);
        if (!strcmp(name, "eval") && k + 1 < s.ntrain) {
            const char *v = s.train_args[k + 1];
            size_t n = strlen(v);
            if (n >= 5 && !strcmp(v + n - 5, ":test"))
                cli_die(2, "--eval: %s is a test split; a sweep selects on validation data (--validation-split or a "
                        "separate file), never on a test set", v);
            has_eval = 1;
        }
        if (!strcmp(name, "validation-split")) has_eval = 1;
        if (!strcmp(name, "epochs") && k + 1 < s.ntrain) {
            long e;
            if (bertc_parse_long(s.train_args[k + 1], 1, 1000000, &e)) cli_die(2, "--epochs: not a number of epochs");
            base_epochs = (int)e;
        }
    }
    if (!has_eval) cli_die(2, "the train flags need --eval DATA or --validation-split F: trials are scored on them");

    bertc_err err = {0};
    const char *space = cli_str(fl, "space");
    if (space && bertc_space_load(&s.sp, space, &err)) cli_die(2, "--space: %s", err.msg);
    for (int f = 0; f < NSWEPT; f++)
        if (cli_given(fl, swept_flags[f]) && bertc_space_add_list(&s.sp, swept_flags[f], cli_str(fl, swept_flags[f]), &err))
            cli_die(2, "--%s: %s", swept_flags[f], err.msg);
    if (bertc_sweep_trials(&s.sp, search, max_trials, seed, &s.tr, &s.n, &err)) cli_die(2, "%s", err.msg);
    s.epochs = malloc((size_t)s.n * sizeof *s.epochs);
    s.rec = calloc((size_t)s.n, sizeof *s.rec);
    if (!s.epochs || !s.rec) cli_die(1, "out of memory");
    int ek = -1;
    for (int k = 0; k < s.sp.n; k++)
        if (!strcmp(s.sp.p[k].flag, "epochs")) ek = k;
    for (int i = 0; i < s.n; i++) {
        long e = base_epochs;
        if (ek >= 0 && bertc_parse_long(s.tr[i].values[ek], 1, 1000000, &e)) cli_die(2, "--epochs: '%s' is not a number of epochs", s.tr[i].values[ek]);
        s.epochs[i] = (int)e;
    }

    /* sweep.json: what the sweep is; a resumed sweep must be the same one */
    cJSON *sj = cJSON_CreateObject(), *tarr = cJSON_CreateArray(), *targs = cJSON_CreateArray();
    static const char *const names[] = {"grid", "random", "halving"};
    cJSON_AddStringToObject(sj, "search", names[search]);
    cJSON_AddStringToObject(sj, "metric", s.metric);
    if (s.eta != 2) cJSON_AddNumberToObject(sj, "reduction_factor", s.eta); /* 2: absent, as before the flag */
    cJSON_AddNumberToObject(sj, "seed", (double)seed);
    if (s.seeds) cJSON_AddStringToObject(sj, "seeds", s.seeds);
    for (int k = 0; k < s.ntrain; k++) cJSON_AddItemToArray(targs, cJSON_CreateString(s.train_args[k]));
    cJSON_AddItemToObject(sj, "train_args", targs);
    for (int i = 0; i < s.n; i++) {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddNumberToObject(t, "trial", i);
        cJSON_AddItemToObject(t, "settings", settings_of(&s, i));
        cJSON_AddItemToArray(tarr, t);
    }
    cJSON_AddItemToObject(sj, "trials", tarr);
    char *sjs = cJSON_Print(sj);
    cJSON_Delete(sj);
    if (!sjs) cli_die(1, "out of memory");
    char path[4200];
    snprintf(path, sizeof path, "%s/sweep.json", s.out);
    if (bertc_is_file(path)) {
        if (!cli_bool(fl, "resume"))
            cli_die(2, "--out: %s already holds a sweep; add --resume to continue it (or choose another --out)", s.out);
        char *old = NULL;
        size_t olen = 0;
        if (bertc_read_file(path, 1 << 26, &old, &olen, &err)) cli_die(1, "%s", err.msg);
        if (strcmp(old, sjs) != 0)
            cli_die(2, "--resume: %s was written by a sweep with other flags; resume with the same ones", path);
        free(old);
    } else {
        cli_mkdir(s.out);
        if (bertc_write_file_atomic(path, sjs, strlen(sjs), &err)) cli_die(1, "%s", err.msg);
    }
    free(sjs);
    read_records(&s);
    fprintf(stderr, "sweep: %d trials, %s search, scored on %s (%s is better)%s\n", s.n, names[search], s.metric,
            s.lower_better ? "lower" : "higher", s.budget_s > 0 ? ", with a time budget" : "");

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    s.t0 = now_s();
    if (search == BERTC_SEARCH_HALVING) run_halving(&s);
    else run_plain(&s);

    /* the best finished trial */
    int best = -1, fin = 0, stopped = 0, failed = 0;
    for (int i = 0; i < s.n; i++) {
        if (!s.rec[i].has) continue;
        fin += !strcmp(s.rec[i].status, "finished");
        stopped += !strcmp(s.rec[i].status, "stopped");
        failed += !strcmp(s.rec[i].status, "failed");
        if (strcmp(s.rec[i].status, "finished") || !isfinite(s.rec[i].score)) continue;
        if (best < 0 || (s.lower_better ? s.rec[i].score < s.rec[best].score : s.rec[i].score > s.rec[best].score)) best = i;
    }
    int pending = s.n - fin - stopped - failed;
    fprintf(stderr, "sweep: %d finished, %d stopped by halving, %d failed, %d not run%s; %d trainings started now\n", fin,
            stopped, failed, pending, s.budget_hit ? " (time budget reached; --resume continues)" : "", s.runs);
    cJSON *res = cJSON_CreateObject();
    cJSON_AddNumberToObject(res, "finished", fin);
    cJSON_AddNumberToObject(res, "stopped", stopped);
    cJSON_AddNumberToObject(res, "failed", failed);
    cJSON_AddNumberToObject(res, "pending", pending);
    if (best >= 0) {
        char src[4200], dst[4200];
        if (s.seeds) snprintf(src, sizeof src, "%s/trial-%d/seed-%llu/model", s.out, best, (unsigned long long)s.seed_list[0]);
        else snprintf(src, sizeof src, "%s/trial-%d/model", s.out, best);
        snprintf(dst, sizeof dst, "%s/best", s.out);
        if (bertc_copy_folder(src, dst, &err)) cli_die(1, "best model: %s", err.msg);
        cJSON_AddNumberToObject(res, "best_trial", best);
        cJSON_AddNumberToObject(res, s.metric, s.rec[best].score);
        cJSON_AddItemToObject(res, "settings", settings_of(&s, best));
        cJSON_AddStringToObject(res, "model", dst);
        char *bj = cJSON_Print(res);
        snprintf(path, sizeof path, "%s/best.json", s.out);
        if (!bj || bertc_write_file_atomic(path, bj, strlen(bj), &err)) cli_die(1, "%s", err.msg);
        free(bj);
        fprintf(stderr, "best: trial %d, %s %.6f; its model is in %s\n", best, s.metric, s.rec[best].score, dst);
    }
    char *line = cJSON_PrintUnformatted(res);
    if (line) printf("%s\n", line);
    free(line);
    cJSON_Delete(res);
    bertc_trials_free(s.tr, s.n);
    bertc_space_free(&s.sp);
    free(s.epochs);
    free(s.rec);
    free(s.seed_list);
    return 0;
}
