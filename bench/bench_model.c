/* bench_model.c: times bertc's model on fixed token ids, without the CLI's
 * tokenizing and printing, so that bench/run.sh compares the same work as the
 * PyTorch side (bench/bench_torch.py), which gets the same ids file.
 *
 *   bench_model --model DIR --mode train|infer --batch B --length T
 *               [--ids FILE] [--pad-to-max] [--steps S] [--warmup W] [--threads N] [--reference] [--bf16] [--int8] [--recompute]
 *
 * --ids FILE: one sequence per line, space-separated token ids (already with
 * [CLS]/[SEP], at most T of them). Batches are cut in file order and padded to
 * the longest sequence in the batch (dynamic padding), or to T with --pad-to-max
 * (the attention mask marks the padding). Without --ids, every
 * sequence is T random ids (padded to T: the "padded" shape).
 * train: zero_grad, forward with dropout, backward, clip to norm 1, AdamW step
 * (the loop of PyTorch's side). infer: forward only, eval mode.
 * --recompute: train as --gradient-checkpointing does (BERT_TRAIN_RECOMPUTE).
 * --int8: infer as --precision int8 does (weights quantized before timing, as
 * at load; activations on every step).
 * Prints one JSON line: samples/s, seconds per step, tokens, peak RSS (KiB),
 * and "profile": the timed steps' seconds per step by kind of work (bert.h's
 * bert_prof, forward and backward; zero_grad and the clipped AdamW step timed
 * here), with the dense layers' FLOPs per step, so that run.py can say where
 * the time of a missed target goes. Timing a kernel call costs two
 * clock_gettime calls (~300 per bert-base step, microseconds in all).
 * Allocation happens at build time only; steps allocate nothing.
 */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "../src/bert.h"
#include "../src/ops_ref.h"
#include "../src/ops_bf16.h"
#include "../src/ops_int8.h"
#include "../src/hfmodel.h"
#include "../src/optim.h"
#include "../src/rng.h"

extern void openblas_set_num_threads(int);
extern char *openblas_get_corename(void);

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const char *msg, const char *detail) {
    fprintf(stderr, "bench_model: %s%s%s\n", msg, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

/* Reads up to maxn sequences of at most T ids. */
static int read_ids(const char *path, int T, int maxn, int *ids, int *lens) {
    FILE *f = fopen(path, "r");
    if (!f) die("cannot open", path);
    char *line = NULL;
    size_t cap = 0;
    int n = 0;
    while (n < maxn && getline(&line, &cap, f) > 0) {
        char *s = line, *end;
        int t = 0;
        for (;;) {
            long v = strtol(s, &end, 10);
            if (end == s) break;
            if (t < T) ids[(size_t)n * T + t++] = (int)v;
            s = end;
        }
        if (t == 0) continue;
        lens[n++] = t;
    }
    free(line);
    fclose(f);
    return n;
}

int main(int argc, char **argv) {
    const char *model = NULL, *mode = "train", *idsf = NULL;
    int B = 8, T = 128, steps = 5, warmup = 1, threads = 0, reference = 0, pad_max = 0, bf16 = 0, int8 = 0, recompute = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--reference")) { reference = 1; continue; }
        if (!strcmp(a, "--pad-to-max")) { pad_max = 1; continue; }
        if (!strcmp(a, "--bf16")) { bf16 = 1; continue; }
        if (!strcmp(a, "--int8")) { int8 = 1; continue; }
        if (!strcmp(a, "--recompute")) { recompute = 1; continue; }
        if (!v) die("missing value after", a);
        if (!strcmp(a, "--model")) model = v;
        else if (!strcmp(a, "--mode")) mode = v;
        else if (!strcmp(a, "--ids")) idsf = v;
        else if (!strcmp(a, "--batch")) B = atoi(v);
        else if (!strcmp(a, "--length")) T = atoi(v);
        else if (!strcmp(a, "--steps")) steps = atoi(v);
        else if (!strcmp(a, "--warmup")) warmup = atoi(v);
        else if (!strcmp(a, "--threads")) threads = atoi(v);
        else die("unknown flag", a);
        i++;
    }
    if (!model || B < 1 || T < 2 || steps < 1 || warmup < 0) die("usage: see the comment at the top of bench/bench_model.c", NULL);
    int train = !strcmp(mode, "train");
    if (threads > 0) {
        omp_set_num_threads(threads);
        openblas_set_num_threads(threads);
    }
    bertc_err err = {0};
    hf_load_opts lo;
    hf_load_opts_default(&lo);
    hf_model hf = {0};
    if (hf_model_load(&hf, model, &lo, &err)) die(err.msg, NULL);
    const bert_config *c = &hf.cfg;
    if (T > c->max_position) T = c->max_position;

    /* the sequences: from the ids file, or random ids padded to T */
    int total = (warmup + steps) * B;
    int *all = calloc((size_t)total * T, sizeof *all), *lens = calloc((size_t)total, sizeof *lens);
    if (!all || !lens) die("out of memory", NULL);
    int nseq = total;
    if (idsf) {
        nseq = read_ids(idsf, T, total, all, lens);
        if (nseq < B) die("fewer sequences than one batch in", idsf);
    } else {
        bertc_rng r;
        bertc_rng_seed(&r, 1);
        for (int s = 0; s < total; s++) {
            for (int t = 0; t < T; t++) all[(size_t)s * T + t] = 1000 + (int)bertc_rng_below(&r, (uint64_t)(c->vocab_size - 1000));
            lens[s] = T;
        }
    }

    bert_model m;
    if (bert_model_build(&m, c, hf.params_memory, B, T,
                         train ? (recompute ? BERT_TRAIN_RECOMPUTE : BERT_TRAIN) : BERT_INFER, &err)) die(err.msg, NULL);
    m.ops = reference ? &bert_ops_ref : NULL;
    if (bf16) {
        if (!bert_bf16_available()) die("--bf16: this CPU/oneDNN has no bf16 matmul", NULL);
        m.precision = BERT_PREC_BF16;
    }
    if (int8 && bert_set_precision(&m, BERT_PREC_INT8, &err)) die(err.msg, NULL);
    bertc_adamw opt = {0};
    if (train) {
        bertc_adamw_opts ao;
        bertc_adamw_opts_default(&ao);
        ao.weight_decay = 0.01;
        if (bertc_adamw_init_bert(&opt, c, &ao, &err)) die(err.msg, NULL);
    }
    int *ids = calloc((size_t)B * T, sizeof *ids), *mask = calloc((size_t)B * T, sizeof *mask);
    int *labels = calloc((size_t)B, sizeof *labels);
    if (!ids || !mask || !labels) die("out of memory", NULL);
    bertc_rng drop;
    bertc_rng_seed(&drop, 42);
    bert_prof prof;
    double t_zero = 0, t_opt = 0;

    double t_timed = 0;
    long tokens = 0, padded = 0, samples = 0;
    int cursor = 0;
    for (int step = 0; step < warmup + steps; step++) {
        /* next batch, padded to its longest sequence */
        int Tb = pad_max ? T : 0;
        for (int b = 0; b < B; b++) {
            int s = (cursor + b) % nseq;
            if (lens[s] > Tb) Tb = lens[s];
        }
        for (int b = 0; b < B; b++) {
            int s = (cursor + b) % nseq;
            for (int t = 0; t < Tb; t++) {
                int in = t < lens[s];
                ids[b * Tb + t] = in ? all[(size_t)s * T + t] : c->pad_token_id;
                mask[b * Tb + t] = in;
            }
            labels[b] = s % c->num_labels;
            if (step >= warmup) tokens += lens[s];
        }
        cursor = (cursor + B) % nseq;
        if (step == warmup) { /* profile the timed steps only */
            memset(&prof, 0, sizeof prof);
            m.prof = &prof;
        }
        double t0 = now();
        if (train) {
            float loss;
            bert_zero_grad(&m);
            double t1 = now();
            if (bert_forward(&m, ids, NULL, mask, B, Tb, &drop, NULL, NULL, &err)) die(err.msg, NULL);
            if (bert_backward(&m, labels, NULL, &loss, &err)) die(err.msg, NULL);
            double t2 = now();
            /* as the trainer: clipping fused into the AdamW pass */
            float clip = bertc_clip_coef(bertc_l2_norm(m.grads_memory, m.num_params), 1.0);
            bertc_adamw_step_scaled(&opt, hf.params_memory, m.grads_memory, 5e-5, clip);
            if (step >= warmup) {
                t_zero += t1 - t0;
                t_opt += now() - t2;
            }
        } else {
            if (bert_forward(&m, ids, NULL, mask, B, Tb, NULL, NULL, NULL, &err)) die(err.msg, NULL);
        }
        double dt = now() - t0;
        if (step >= warmup) {
            t_timed += dt;
            samples += B;
            padded += (long)B * Tb;
        }
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    /* the encoder's dense FLOPs per step: 2 N C (3C + C + 2F) per layer forward
     * (N = the padded tokens of a step), twice that backward */
    double Cd = c->hidden_size, Fd = c->intermediate_size;
    double dense_fwd = 2.0 * ((double)padded / steps) * Cd * (4.0 * Cd + 2.0 * Fd) * c->num_layers;
    char profile[2048];
    int pn = snprintf(profile, sizeof profile, "{\"dense_gflop_forward\":%.3f,\"dense_gflop_backward\":%.3f",
                      dense_fwd / 1e9, train ? 2.0 * dense_fwd / 1e9 : 0.0);
    for (int ph = 0; ph < (train ? 2 : 1); ph++) {
        pn += snprintf(profile + pn, sizeof profile - (size_t)pn, ",\"%s\":{", ph ? "backward" : "forward");
        for (int k = 0; k < BERT_PROF_KINDS; k++)
            pn += snprintf(profile + pn, sizeof profile - (size_t)pn, "%s\"%s\":%.6f", k ? "," : "",
                           bert_prof_kind_name(k), prof.sec[ph][k] / steps);
        pn += snprintf(profile + pn, sizeof profile - (size_t)pn, "}");
    }
    if (train)
        pn += snprintf(profile + pn, sizeof profile - (size_t)pn, ",\"zero_grad\":%.6f,\"optimizer\":%.6f",
                       t_zero / steps, t_opt / steps);
    snprintf(profile + pn, sizeof profile - (size_t)pn, "}");
    printf("{\"impl\":\"bertc%s%s\",\"mode\":\"%s\",\"batch\":%d,\"length\":%d,\"dynamic\":%s,"
           "\"steps\":%d,\"seconds\":%.6f,\"samples_per_s\":%.4f,\"seconds_per_step\":%.6f,"
           "\"real_tokens\":%ld,\"padded_tokens\":%ld,\"peak_rss_kib\":%ld,\"threads\":%d,"
           "\"openblas_core\":\"%s\",\"int8_kernel\":\"%s\",\"int8_weight_bits\":%d,\"profile\":%s}\n",
           reference ? "-reference" : bf16 ? "-bf16" : "", recompute ? "-recompute" : "", mode, B, T, (idsf && !pad_max) ? "true" : "false", steps, t_timed,
           samples / t_timed, t_timed / steps, tokens, padded, ru.ru_maxrss, omp_get_max_threads(),
           openblas_get_corename(), int8 ? int8_kernel() : "", int8 ? (int8_weight_qmax() == 127 ? 8 : 7) : 0, profile);
    bertc_adamw_free(&opt);
    bert_model_free(&m);
    hf_model_free(&hf);
    free(all);
    free(lens);
    free(ids);
    free(mask);
    free(labels);
    return 0;
}
