/* mem_large.c MODEL_DIR: loads a (bert-large-sized) model, predicts one batch,
 * prints bert_memory_estimate for training at B=2, T=64, then builds a training
 * model and AdamW and runs 2 steps, and prints the measured peak RSS
 * (getrusage ru_maxrss) against the estimate. Built and run by bench/mem_large.sh;
 * exits 1 when the estimate is more than 20% off. */
#include "../src/bert.h"
#include "../src/hfmodel.h"
#include "../src/optim.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static double peak_mib(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_maxrss / 1024.0; /* KiB on Linux */
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: mem_large MODEL_DIR\n"); return 2; }
    bertc_err err = {0};
    hf_model hf = {0};
    enum { B = 2, T = 64 };
    if (hf_model_load(&hf, argv[1], NULL, &err)) { fprintf(stderr, "load: %s\n", err.msg); return 1; }
    bert_memory_plan plan;
    if (bert_memory_estimate(&plan, &hf.cfg, B, T, 1, 0, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    printf("model: %d layers, hidden %d, %zu parameters (%.0f MiB)\n", hf.cfg.num_layers, hf.cfg.hidden_size,
           hf.num_params, plan.params / 1048576.0);
    printf("estimate (training B=%d T=%d): params %.0f + grads %.0f + adam %.0f + arena %.0f + overhead %.0f = %.0f MiB\n",
           B, T, plan.params / 1048576.0, plan.grads / 1048576.0, plan.adam / 1048576.0, plan.arena / 1048576.0,
           plan.overhead / 1048576.0, plan.total / 1048576.0);
    int ids[B * T], mask[B * T], labels[B] = {0, 1};
    for (int i = 0; i < B * T; i++) ids[i] = 1000 + (i * 37) % 20000, mask[i] = 1;
    ids[0] = ids[T] = 101;
    bert_model inf;
    if (bert_model_build(&inf, &hf.cfg, hf.params_memory, B, T, 0, &err) ||
        bert_forward(&inf, ids, NULL, mask, B, T, NULL, NULL, NULL, &err)) { fprintf(stderr, "predict: %s\n", err.msg); return 1; }
    printf("predict: probs[0] = %.4f %.4f; peak RSS after load+predict %.0f MiB\n", inf.probs[0], inf.probs[1], peak_mib());
    bert_model_free(&inf);
    bert_model m;
    bertc_adamw_opts ao;
    bertc_adamw_opts_default(&ao);
    bertc_adamw opt = {0};
    if (bert_model_build(&m, &hf.cfg, hf.params_memory, B, T, 1, &err) ||
        bertc_adamw_init_bert(&opt, &hf.cfg, &ao, &err)) { fprintf(stderr, "build: %s\n", err.msg); return 1; }
    for (int step = 0; step < 2; step++) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        float loss;
        bert_zero_grad(&m);
        if (bert_forward(&m, ids, NULL, mask, B, T, NULL, NULL, NULL, &err) ||
            bert_backward(&m, labels, NULL, &loss, &err)) { fprintf(stderr, "step: %s\n", err.msg); return 1; }
        bertc_adamw_step(&opt, hf.params_memory, m.grads_memory, 2e-5);
        clock_gettime(CLOCK_MONOTONIC, &b);
        printf("step %d: loss %.4f (%.1f s)\n", step + 1, loss, (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
    }
    double peak = peak_mib(), est = plan.total / 1048576.0;
    printf("peak RSS %.0f MiB, estimate %.0f MiB: %+.1f%%\n", peak, est, 100 * (est - peak) / peak);
    bertc_adamw_free(&opt);
    bert_model_free(&m);
    hf_model_free(&hf);
    return (est > 1.2 * peak || est < 0.8 * peak) ? 1 : 0;
}
