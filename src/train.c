/* train.c: the fine-tuning loop (see train.h and docs/train.md).
 *
 * Sections: the step's MPI parts; setup; the run. Options, data and batches,
 * log.jsonl and events, checkpoints and the output folder live in train_*.c
 * (see train_internal.h). */
#include "augment.h"
#include "train_internal.h"
#include "train_task.h"
#include "heads.h"
#include "ops_bf16.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bert.h"
#include "checkpoint.h"
#include "data.h"
#include "dist.h"
#include "hfmodel.h"
#include "longtext.h"
#include "metrics.h"
#include "optim.h"
#include "report.h"
#include "rng.h"
#include "tokenizer.h"

#define info bertc_trainer_info

/* The dropout generator of micro-batch j >= 1 of a step: derived from the
 * step's generator (as it was at the step's start) and j alone, so that the
 * masks of a micro-batch do not depend on which rank runs it, nor on how many
 * ran before it: N ranks x A micro-batches draw what one process with N x A
 * accumulation draws. Micro-batch 0 draws from the step's generator itself,
 * which carries on to the next step (so a run without accumulation draws
 * exactly what it drew before data parallelism existed). */
static void micro_rng(bertc_rng *out, const bertc_rng *step_rng, long j) {
    bertc_rng c = *step_rng;
    bertc_rng_seed(out, bertc_rng_next(&c) ^ (0x9E3779B97F4A7C15ULL * (uint64_t)(j + 1)));
}

/* Several ranks: starts the sum over the ranks of one part of the gradients as
 * the backward of the rank's last micro-batch finishes it (bert_model's
 * grad_ready): the head (part L), layer l, the embeddings (part -1). Every
 * rank starts the same buckets in the same order; the step waits for them
 * after the backward (bertc_dist_wait). */
static void grads_ready(void *ctx, int part) {
    trainer *t = ctx;
    static const int head[] = {BERT_POOLW, BERT_POOLB, BERT_CLSW, BERT_CLSB};
    static const int emb[] = {BERT_WTE, BERT_WPE, BERT_WTT, BERT_LNEW, BERT_LNEB};
    int L = t->hf.cfg.num_layers;
    size_t sz[BERT_NUM_PARAM_TENSORS];
    bert_param_sizes(sz, &t->hf.cfg);
    t->parts_started++;
    if (t->comm_err.code) return;
    bertc_err *err = &t->comm_err;
    if (part == L) {
        for (size_t k = 0; k < sizeof head / sizeof head[0]; k++)
            if (bertc_dist_isum_f32(bert_param_tensor(&t->m.grads, head[k]), sz[head[k]], err)) return;
    } else if (part < 0) {
        for (size_t k = 0; k < sizeof emb / sizeof emb[0]; k++)
            if (bertc_dist_isum_f32(bert_param_tensor(&t->m.grads, emb[k]), sz[emb[k]], err)) return;
    } else {
        for (int i = BERT_QKVW; i <= BERT_LN2B; i++) { /* layer l's slice of each (L, ...) tensor */
            size_t n = sz[i] / (size_t)L;
            if (bertc_dist_isum_f32(bert_param_tensor(&t->m.grads, i) + n * (size_t)part, n, err)) return;
        }
    }
    bertc_dist_poll();
}

/* ---- evaluation ---- */


/* ---- setup: everything that can fail on bad input, before OUT is touched ---- */

/* The options and the resume point: reads only. */
static int setup_start(trainer *t, bertc_err *err) {
    const bertc_train_opts *o = t->o;
    if (bertc_train_check_opts(o, err)) return err->code;
    t->ga = (long)o->grad_accum * t->nranks;
    /* another run in OUT: fail before the data (rank 0 owns OUT and may hold the lock already) */
    if (t->rank == 0 && bertc_train_lock_out(o->out, 0, NULL, err)) return err->code;
    t->task = o->task == BERT_TASK_TOKEN_CLS ? &bertc_token_train_task
              : o->task == BERT_TASK_QA      ? &bertc_qa_train_task
                                             : &bertc_text_train_task;
    /* resume point (reads only; before the data, so a resume with other settings fails at once) */
    if (o->resume) {
        bertc_err e2 = {0};
        if (strcmp(o->resume, "latest") == 0 && bertc_is_dir(o->out)) {
            if (bertc_ckpt_find_latest(o->out, t->resume_dir, sizeof t->resume_dir, NULL, &e2) == BERTC_OK)
                t->resumed = 1;
            else if (e2.code != BERTC_ERR_NOTFOUND) {
                *err = e2;
                return bertc_err_prefix(err, "--resume latest");
            }
        } else if (strcmp(o->resume, "latest") != 0) {
            if (bertc_ckpt_resolve(t->resume_dir, sizeof t->resume_dir, o->resume, o->out, err))
                return bertc_err_prefix(err, "--resume");
            t->resumed = 1;
        }
        if (t->resumed && bertc_trainer_check_resume(t, err)) return err->code;
        if (t->resumed) info(t, BERTC_TRAIN_INFO, "resuming from %s", t->resume_dir);
        else info(t, BERTC_TRAIN_INFO, "--resume latest: no complete checkpoint in %s; starting at step 0", o->out);
    } else {
        char what[300];
        if (t->rank == 0 && !o->overwrite && bertc_train_previous_run(o->out, what, sizeof what))
            return bertc_fail(err, BERTC_ERR_ARG,
                              "--out: %s already holds a run (%s); use --resume latest to continue it or --overwrite to replace it",
                              o->out, what);
    }
    return BERTC_OK;
}

/* Several ranks: all go on or all stop, after each part of the setup. A rank
 * that failed keeps its own message; the others name it. */
static int agree(trainer *t, int rc, const char *what, bertc_err *err) {
    if (t->nranks <= 1) return rc;
    int first = rc ? t->rank : t->nranks;
    bertc_err e2 = {0};
    if (bertc_dist_min_int(&first, &e2)) {
        if (!rc) *err = e2;
        return err->code;
    }
    if (first == t->nranks) return BERTC_OK;
    t->agreed_stop = 1;
    if (rc) return rc;
    return bertc_fail(err, BERTC_ERR_ARG, "rank %d: stopped because rank %d failed during %s (its message says why)",
                      t->rank, first, what);
}

/* The data and the model (or the resume point's model and head). */
static int setup_model(trainer *t, bertc_err *err) {
    const bertc_train_opts *o = t->o;
    if (t->task->load(t, err)) return err->code;
    if (o->batch_size > t->n_train)
        return bertc_fail(err, BERTC_ERR_ARG, "--batch-size: %d is larger than the training data (%d examples in %s)",
                          o->batch_size, t->n_train, t->train_path);
    int NL = t->num_labels;
    info(t, BERTC_TRAIN_INFO, "train: %d examples from %s; eval: %d examples; %d labels", t->n_train, t->train_path,
         t->n_eval, NL);

    hf_load_opts lo;
    hf_load_opts_default(&lo);
    lo.num_labels = NL;
    lo.labels = t->labels;
    lo.seed = o->seed;
    lo.task = t->task->task;
    bertc_ckpt_state_init(&t->st);
    if (t->resumed) {
        if (bertc_ckpt_load(t->resume_dir, &t->hf, &lo, NULL, &t->st, err)) return bertc_err_prefix(err, "--resume");
        if (t->hf.new_head) return bertc_fail(err, BERTC_ERR_FORMAT, "--resume: %s has no classifier", t->resume_dir);
        if (bertc_trainer_repoint_vocab(t, err)) return err->code;
    } else if (hf_model_load(&t->hf, o->model, &lo, err)) {
        return bertc_err_prefix(err, "--model");
    }
    if (t->task->check_model && t->task->check_model(t, err)) return err->code;
    if (o->max_length > t->hf.cfg.max_position)
        return bertc_fail(err, BERTC_ERR_ARG, "--max-length: %d is more than the model's max_position_embeddings (%d)",
                          o->max_length, t->hf.cfg.max_position);
    if (hf_model_tokenizer(&t->tok, &t->hf, err)) return err->code;
    t->pad_id = bert_tokenizer_special_ids(t->tok).pad;
    info(t, BERTC_TRAIN_INFO, "model: %s (%d layers, hidden %d, %zu parameters, %s head%s)", t->hf.dir,
         t->hf.cfg.num_layers, t->hf.cfg.hidden_size, t->hf.num_params, bert_head_of(t->hf.cfg.task)->name,
         t->hf.new_head ? ", new" : "");
    return BERTC_OK;
}

/* The encoded sets and the schedule (checked against the resume point's). */
static int setup_schedule(trainer *t, bertc_err *err) {
    const bertc_train_opts *o = t->o;
    int NL = t->num_labels;
    if (t->task->encode(t, 0, &t->train_set, err)) return err->code;
    if (t->has_eval && t->task->encode(t, 1, &t->eval_set, err)) return err->code;

    /* schedule: steps per epoch as Trainer (the last accumulation of an epoch
     * may have fewer micro-batches) */
    t->batches_per_epoch = (t->train_set.n + o->batch_size - 1) / o->batch_size;
    t->steps_per_epoch = (t->batches_per_epoch + t->ga - 1) / t->ga;
    t->total = o->max_steps > 0 ? o->max_steps : t->steps_per_epoch * o->epochs;
    t->eval_steps = o->eval_steps > 0 ? o->eval_steps : o->logging_steps;
    t->sched.kind = o->sched_kind;
    t->sched.base_lr = o->lr;
    t->sched.warmup_steps = o->warmup_steps >= 0 ? o->warmup_steps : bertc_warmup_steps(o->warmup_ratio, t->total);
    t->sched.total_steps = t->total;
    t->sched.num_cycles = 0.5;
    if (t->resumed) {
        if (t->st.max_steps != t->total || t->st.sched.warmup_steps != t->sched.warmup_steps ||
            t->st.sched.kind != t->sched.kind || t->st.sched.base_lr != t->sched.base_lr)
            return bertc_fail(err, BERTC_ERR_ARG,
                              "--resume: %s was saved by a run with other settings (%ld steps, lr %g); resume with the same flags",
                              t->resume_dir, t->st.max_steps, t->st.sched.base_lr);
        if (t->hf.cfg.num_labels != NL)
            return bertc_fail(err, BERTC_ERR_ARG, "--resume: %s has %d labels, the training data %d", t->resume_dir,
                              t->hf.cfg.num_labels, NL);
    }
    return BERTC_OK;
}

/* The model, optimizer and buffers, allocated once; the dropout generator and the settings. */
static int setup_buffers(trainer *t, bertc_err *err) {
    const bertc_train_opts *o = t->o;
    int NL = t->num_labels;
    int Bt = o->batch_size > o->eval_batch_size ? o->batch_size : o->eval_batch_size;
    if (Bt > 4096) return bertc_fail(err, BERTC_ERR_ARG, "--batch-size/--eval-batch-size: at most 4096");
    /* sequences per forward: the training model's (Btr) and the evaluation model's (Bev) */
    int Btr = o->batch_size, Bev = t->has_eval ? o->eval_batch_size : 0;
    if (t->task->batch_rows && t->task->batch_rows(t, &Btr, &Bev, err)) return err->code;
    int Bmax = Btr > Bev ? Btr : Bev;
    t->Bmax = Bmax;
    int mode = o->gradient_checkpointing ? BERT_TRAIN_RECOMPUTE : BERT_TRAIN;
    {
        size_t data_bytes = (size_t)(t->train_set.nseq + t->eval_set.nseq) * 16 + t->text_bytes;
        if (t->train_set.nseq > 0) data_bytes += (t->train_set.off[t->train_set.nseq - 1] + (size_t)t->train_set.len[t->train_set.nseq - 1]) * 8;
        if (t->eval_set.nseq > 0) data_bytes += (t->eval_set.off[t->eval_set.nseq - 1] + (size_t)t->eval_set.len[t->eval_set.nseq - 1]) * 8;
        bert_memory_plan pl, pe = {0};
        if (bert_memory_estimate(&pl, &t->hf.cfg, Btr, o->max_length, mode, data_bytes, err)) return err->code;
        if (Bev > 0 && bert_memory_estimate(&pe, &t->hf.cfg, Bev, o->max_length, BERT_INFER, 0, err)) return err->code;
        const double MiB = 1024.0 * 1024.0;
        char evs[96] = "";
        if (Bev > 0) snprintf(evs, sizeof evs, ", evaluation %.0f MiB for %d x %d", pe.arena / MiB, Bev, o->max_length);
        info(t, BERTC_TRAIN_INFO,
             "memory: about %.2f GiB (parameters %.0f MiB, gradients %.0f MiB, AdamW %.0f MiB, activations %.0f MiB "
             "for %d x %d tokens%s%s, data %.0f MiB, overhead %.0f MiB)",
             (double)(pl.total + pe.arena) / (1024.0 * MiB), pl.params / MiB, pl.grads / MiB, pl.adam / MiB,
             pl.arena / MiB, Btr, o->max_length, o->gradient_checkpointing ? " recomputed per layer" : "", evs,
             pl.data / MiB, pl.overhead / MiB);
    }
    if (bert_model_build(&t->m, &t->hf.cfg, t->hf.params_memory, Btr, o->max_length, mode, err)) return err->code;
    t->m.precision = bert_precision_resolve(o->precision);
    info(t, BERTC_TRAIN_INFO, "precision: %s%s", bert_precision_name(t->m.precision),
         o->precision == BERT_PREC_AUTO ? " (--precision auto on this CPU)" : "");
    if (Bev > 0) {
        if (bert_model_build(&t->eval_model, &t->hf.cfg, t->hf.params_memory, Bev, o->max_length, BERT_INFER, err))
            return err->code;
        t->eval_model.precision = t->m.precision;
    }
    bertc_adamw_opts ao;
    bertc_adamw_opts_default(&ao);
    ao.beta1 = o->adam_beta1;
    ao.beta2 = o->adam_beta2;
    ao.eps = o->adam_eps;
    ao.weight_decay = o->weight_decay;
    if (bertc_adamw_init_bert(&t->opt, &t->hf.cfg, &ao, err)) return err->code;
    if (t->resumed && bertc_ckpt_load(t->resume_dir, NULL, NULL, &t->opt, NULL, err)) return bertc_err_prefix(err, "--resume");
    size_t bt = (size_t)Bmax * (size_t)o->max_length;
    t->b_ids = malloc(bt * sizeof(int));
    t->b_types = malloc(bt * sizeof(int));
    t->b_mask = malloc(bt * sizeof(int));
    t->b_tags = t->train_set.tags ? malloc(bt * sizeof(int)) : NULL;
    t->b_labels = malloc((size_t)Bt * sizeof(int));
    int se = t->train_set.start != NULL;
    t->b_start = se ? malloc((size_t)Bmax * sizeof(int)) : NULL;
    t->b_end = se ? malloc((size_t)Bmax * sizeof(int)) : NULL;
    if (t->ml) t->b_targets = malloc((size_t)Bt * (size_t)NL * sizeof(float));
    t->perm = malloc((size_t)t->train_set.n * sizeof(int));
    if (!t->b_ids || !t->b_types || !t->b_mask || !t->b_labels || !t->perm || (t->train_set.tags && !t->b_tags) ||
        (se && (!t->b_start || !t->b_end)) || (t->ml && !t->b_targets))
        return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory for the batch buffers");
    if (t->task->prepare && t->task->prepare(t, err)) return err->code;
    t->perm_epoch = -1;
    if (t->resumed) {
        if (bertc_ckpt_get_rng(&t->st, "dropout", &t->drop_rng, err)) return bertc_err_prefix(err, "--resume");
    } else {
        bertc_rng_seed(&t->drop_rng, o->seed ^ 0xD1B54A32D192ED03ULL);
        t->st.greater_is_better = o->metric != BERTC_METRIC_LOSS;
        snprintf(t->st.best_metric_name, sizeof t->st.best_metric_name, "%s", bertc_train_metric_key(o->metric));
    }
    t->args = bertc_trainer_settings_json(t);
    t->args_json = t->args ? cJSON_Print(t->args) : NULL;
    if (!t->args_json) return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    return BERTC_OK;
}

/* Everything else that can fail on bad input, before OUT is touched. */
static int setup(trainer *t, bertc_err *err) {
    if (setup_model(t, err) || setup_schedule(t, err) || setup_buffers(t, err)) return err->code;
    return BERTC_OK;
}

/* Is eval step e an evaluation point? */
static int is_eval_point(const trainer *t, long step) {
    if (t->o->eval_strategy == BERTC_STRATEGY_EPOCH) return step % t->steps_per_epoch == 0 || step == t->total;
    if (t->o->eval_strategy == BERTC_STRATEGY_STEPS) return t->eval_steps > 0 && step % t->eval_steps == 0;
    return 0;
}

/* ---- the run ---- */

/* One step's gradients: the forward and backward of this rank's micro-batches
 * and, with several ranks, their sum over the ranks. Adds to sums (loss,
 * non-finite losses, examples); *micro: the step's micro-batches over all ranks;
 * *ts: when the step began. */
static int step_grads(trainer *t, long step, double sums[3], long *micro, double *ts, bertc_err *err) {
    const bertc_train_opts *o = t->o;
    int B = o->batch_size;
    long ep = step / t->steps_per_epoch, k = step % t->steps_per_epoch;
    if (ep != t->perm_epoch) bertc_trainer_make_perm(t, ep);
    /* the step's micro-batches [b0, b1) over all ranks; this rank's share is
     * [m0, m1): --gradient-accumulation-steps of them in a row */
    long b0 = k * t->ga, b1 = b0 + t->ga;
    if (b1 > t->batches_per_epoch) b1 = t->batches_per_epoch;
    long m0 = b0 + (long)t->rank * o->grad_accum, m1 = m0 + o->grad_accum;
    if (m0 > b1) m0 = b1;
    if (m1 > b1) m1 = b1;
    *ts = bertc_train_now();
    bert_zero_grad(&t->m);
    const bertc_rng step_rng = t->drop_rng;
    for (long b = m0; b < m1; b++) {
        long s = b * B;
        int examples = (int)(t->train_set.n - s < B ? t->train_set.n - s : B);
        int S;
        int T = bertc_trainer_fill_batch(t, &t->train_set, t->perm + s, examples, &S);
        float l = 0;
        bertc_rng mrng, *rng = &t->drop_rng;
        if (b > b0) micro_rng(rng = &mrng, &step_rng, b - b0);
        if (bert_forward(&t->m, t->b_ids, t->b_types, t->b_mask, S, T, rng, NULL, NULL, err))
            return err->code;
        if (t->nranks > 1 && b == m1 - 1) { /* the last one here: its backward starts the allreduce */
            t->m.grad_ready = grads_ready;
            t->m.grad_ready_ctx = t;
        }
        int rc = t->task->backward(t, examples, &l, err);
        t->m.grad_ready = NULL;
        if (rc) return rc;
        if (!isfinite(l)) sums[1] += 1;
        sums[0] += l;
        sums[2] += examples;
    }
    if (t->nranks > 1) {
        /* the gradients summed over the ranks: started part by part during the
         * backward (grads_ready); a rank without a micro-batch in this step
         * (an epoch's short last step) sends zeros in the same buckets */
        int L = t->hf.cfg.num_layers;
        double tc = bertc_train_now();
        if (m0 == m1)
            for (int part = L; part >= -1; part--) grads_ready(t, part);
        if (t->comm_err.code) {
            *err = t->comm_err;
            return err->code;
        }
        if (t->parts_started != L + 2)
            return bertc_fail(err, BERTC_ERR_ARG, "the backward reported %d gradient parts, expected %d",
                              t->parts_started, L + 2);
        t->parts_started = 0;
        if (bertc_dist_wait(err)) return err->code;
        t->comm_s += bertc_train_now() - tc; /* the exposed part: what the backward did not hide */
        if (bertc_dist_sum_f64(sums, 3, err)) return err->code;
        /* the step's generator as rank 0 (micro-batch 0) left it: the same on all */
        uint64_t g[4] = {0, 0, 0, 0};
        if (t->rank == 0) memcpy(g, t->drop_rng.s, sizeof g);
        if (bertc_dist_sum_i64((int64_t *)g, 4, err)) return err->code;
        memcpy(t->drop_rng.s, g, sizeof g);
    }
    *micro = b1 - b0;
    return BERTC_OK;
}

/* Rank 0, after the loop: the final model (the best checkpoint's with
 * --load-best-model-at-end), run.json and the report. */
static int write_final(trainer *t, long step, double wall, double sps, int has_ev, const train_eval *ev, double ev_loss,
                       double ev_acc, double ev_f1, int stopped_early, bertc_err *err) {
    const bertc_train_opts *o = t->o;
    int NL = t->hf.cfg.num_labels;
    /* the final model: the best checkpoint's weights with --load-best-model-at-end */
    if (o->load_best && t->st.has_best && t->st.best_step != step) {
        char bdir[4096];
        snprintf(bdir, sizeof bdir, "%.4000s/checkpoint-%ld", o->out, t->st.best_step);
        hf_model best = {0};
        hf_load_opts lo;
        hf_load_opts_default(&lo);
        lo.num_labels = NL;
        lo.task = t->task->task;
        if (bertc_ckpt_verify(bdir, 1, err) || bertc_ckpt_load(bdir, &best, &lo, NULL, NULL, err)) {
            hf_model_free(&best);
            return bertc_err_prefix(err, "--load-best-model-at-end");
        }
        memcpy(t->hf.params_memory, best.params_memory, t->hf.num_params * sizeof(float));
        hf_model_free(&best);
        info(t, BERTC_TRAIN_INFO, "loaded the best model (step %ld, %s %.4f)", t->st.best_step, t->st.best_metric_name,
             t->st.best_metric);
    }
    if (bertc_ckpt_save_final(o->out, &t->hf, err)) return err->code;
    info(t, BERTC_TRAIN_SAVE, "%s/model", o->out);

    cJSON *rj = cJSON_CreateObject();
    cJSON_AddStringToObject(rj, "model", o->model);
    cJSON_AddNumberToObject(rj, "wall_seconds", wall);
    cJSON_AddNumberToObject(rj, "train_samples_per_second", sps);
    cJSON_AddNumberToObject(rj, "global_step", (double)step);
    cJSON_AddNumberToObject(rj, "train_examples", t->train_set.n);
    cJSON_AddNumberToObject(rj, "eval_examples", t->eval_set.n);
    cJSON_AddNumberToObject(rj, "skipped_steps", (double)t->st.skipped_steps);
    if (t->resumed) cJSON_AddStringToObject(rj, "resumed_from", t->resume_dir);
    if (has_ev) {
        cJSON_AddNumberToObject(rj, "eval_accuracy", ev_acc);
        cJSON_AddNumberToObject(rj, "eval_loss", ev_loss);
        cJSON_AddNumberToObject(rj, "eval_f1", ev_f1);
        for (int x = 0; x < ev->nextra; x++) cJSON_AddNumberToObject(rj, ev->extra[x].key, ev->extra[x].value);
    }
    if (t->st.has_best) {
        cJSON_AddNumberToObject(rj, "best_metric", t->st.best_metric);
        cJSON_AddNumberToObject(rj, "best_step", (double)t->st.best_step);
    }
    if (stopped_early) cJSON_AddBoolToObject(rj, "stopped_early", 1);
    if (t->nranks > 1) {
        /* rank 0's own timings: the gradient allreduce against the whole step */
        double cb = (double)t->m.num_params * sizeof(float) * (double)t->steps_done, inflight;
        bertc_dist_stats(&inflight, NULL);
        cJSON *d = cJSON_AddObjectToObject(rj, "distributed");
        cJSON_AddNumberToObject(d, "ranks", t->nranks);
        cJSON_AddStringToObject(d, "mpi", bertc_dist_library());
        cJSON_AddNumberToObject(d, "steps_timed", (double)t->steps_done);
        cJSON_AddNumberToObject(d, "step_seconds", t->step_s);
        cJSON_AddNumberToObject(d, "allreduce_seconds", t->comm_s); /* waited for after the backward */
        cJSON_AddNumberToObject(d, "allreduce_inflight_seconds", inflight); /* first start to end, overlapped part included */
        cJSON_AddNumberToObject(d, "allreduce_bytes", cb);
        cJSON_AddNumberToObject(d, "communication_share", t->step_s > 0 ? t->comm_s / t->step_s : 0);
    }
    cJSON_AddItemToObject(rj, "settings", t->args);
    t->args = NULL;
    int rc = bertc_train_write_json(o->out, "run.json", rj, err);
    cJSON_Delete(rj);
    if (rc) return rc;
    if (o->report) {
        bertc_err re = {0};
        if (bertc_report_write(o->out, &re)) info(t, BERTC_TRAIN_WARN, "report not written: %s", re.msg);
        else info(t, BERTC_TRAIN_INFO, "report: %s/report.html", o->out);
    }
    return BERTC_OK;
}

static int run(trainer *t, bertc_train_stats *res, bertc_err *err) {
    const bertc_train_opts *o = t->o;
    long step = t->st.global_step;
    if (t->resumed) {
        info(t, BERTC_TRAIN_INFO, "continuing at step %ld of %ld", step, t->total);
        /* evaluations since the best one (early stopping's counter) */
        if (t->st.has_best)
            for (long s = t->st.best_step + 1; s <= step - t->st.eval_pending; s++) t->patience += is_eval_point(t, s);
    }
    /* a checkpoint written when the evaluation at its step was interrupted:
     * that evaluation runs first, as it would have without the interruption */
    int pending = t->resumed && t->st.eval_pending && t->has_eval;
    t->st.eval_pending = 0;
    t->last_saved = t->resumed ? step : -1;
    int bad_run = 0;
    double interval_loss = 0;
    long interval_n = 0;
    double last_norm = NAN;
    int stopped_early = 0, interrupted = 0;
    double ev_loss = NAN, ev_acc = NAN, ev_f1 = NAN, ev_ham = NAN;
    train_eval ev = {0};
    int has_ev = 0;
    size_t P = t->m.num_params;
    while (step < t->total || pending) {
        bertc_train_event e = {0};
        int improved = 0, eval_stopped = 0;
        double t1 = 0;
        if (pending) {
            pending = 0;
            e.kind = BERTC_TRAIN_STEP;
            e.step = step;
            e.epoch = epoch_of(t, step);
            e.loss = e.grad_norm = NAN;
            e.lr = bertc_sched_lr(&t->sched, step);
            goto evaluate_now;
        }
        double ts = 0, sums[3] = {0, 0, 0}; /* loss, non-finite losses, examples */
        long micro = 0;
        int grc = step_grads(t, step, sums, &micro, &ts, err);
        if (grc) return grc;
        double loss_sum = sums[0];
        int bad = sums[1] > 0;
        t->samples_done += (long)sums[2];
        /* Trainer divides each micro-batch's loss by the accumulation steps */
        if (micro > 1) bertc_scale(t->m.grads_memory, P, 1.0f / (float)micro);
        double step_loss = loss_sum / (double)micro;
        /* clip_grad_norm_'s factor goes into the AdamW pass (bertc_adamw_step_scaled):
         * the same bits as scaling the gradients first, one pass over them fewer */
        double norm = bertc_l2_norm(t->m.grads_memory, P);
        float clip = bertc_clip_coef(norm, o->max_grad_norm);
        double lr = bertc_sched_lr(&t->sched, step);
        step++;
        t->step_s += bertc_train_now() - ts; /* (the AdamW update is not counted) */
        t->steps_done++;
        if (bad || !isfinite(norm)) {
            t->st.skipped_steps++;
            bad_run++;
            info(t, BERTC_TRAIN_SKIP, "step %ld skipped: non-finite %s (%g); %d in a row", step,
                 bad ? "loss" : "gradient norm", bad ? step_loss : norm, bad_run);
            if (bad_run >= o->max_bad_steps)
                return bertc_fail(err, BERTC_ERR_NUMERIC,
                                  "%d steps in a row had a non-finite loss or gradient (last at step %ld); stopped, "
                                  "keeping the last good checkpoint (try a lower --lr)",
                                  bad_run, step);
        } else {
            bertc_adamw_step_scaled(&t->opt, t->hf.params_memory, t->m.grads_memory, lr, clip);
            bad_run = 0;
            interval_loss += step_loss;
            interval_n++;
            last_norm = norm;
        }
        e.kind = BERTC_TRAIN_STEP;
        e.step = step;
        e.epoch = epoch_of(t, step);
        e.loss = step_loss;
        e.lr = bertc_sched_lr(&t->sched, step);
        e.grad_norm = norm;
        bertc_trainer_emit(t, &e);

        if (o->logging_steps > 0 && step % o->logging_steps == 0) {
            char line[512];
            size_t at = (size_t)snprintf(line, sizeof line, "{\"step\": %ld", step);
            bertc_train_jnum(line, sizeof line, &at, "epoch", epoch_of(t, step));
            double mean = interval_n > 0 ? interval_loss / (double)interval_n : NAN;
            bertc_train_jnum(line, sizeof line, &at, "loss", mean);
            bertc_train_jnum(line, sizeof line, &at, "learning_rate", e.lr);
            bertc_train_jnum(line, sizeof line, &at, "grad_norm", last_norm);
            at += (size_t)snprintf(line + at, sizeof line - at, "}\n");
            if (bertc_trainer_log_write(t, line, at, err)) return err->code;
            e.kind = BERTC_TRAIN_LOG;
            e.loss = mean;
            e.grad_norm = last_norm;
            bertc_trainer_emit(t, &e);
            interval_loss = 0;
            interval_n = 0;
        }

    evaluate_now:
        if (t->has_eval && is_eval_point(t, step)) {
            t1 = bertc_train_now();
            memset(&ev, 0, sizeof ev);
            ev.loss = ev.accuracy = ev.f1 = NAN;
            if (t->task->evaluate(t, &ev, err)) {
                if (err->code != BERTC_ERR_INTERRUPTED) return err->code;
                eval_stopped = 1; /* the checkpoint below runs it again on resume */
            }
        }
        if (!eval_stopped && t->has_eval && is_eval_point(t, step)) {
            ev_loss = ev.loss, ev_acc = ev.accuracy, ev_f1 = ev.f1;
            for (int x = 0; x < ev.nextra; x++)
                if (strcmp(ev.extra[x].key, "eval_hamming_loss") == 0) ev_ham = ev.extra[x].value;
            double dt = bertc_train_now() - t1;
            has_ev = 1;
            char line[512];
            size_t at = (size_t)snprintf(line, sizeof line, "{\"step\": %ld", step);
            bertc_train_jnum(line, sizeof line, &at, "epoch", epoch_of(t, step));
            bertc_train_jnum(line, sizeof line, &at, "eval_loss", ev_loss);
            bertc_train_jnum(line, sizeof line, &at, "eval_accuracy", ev_acc);
            bertc_train_jnum(line, sizeof line, &at, "eval_f1", ev_f1);
            for (int x = 0; x < ev.nextra; x++) bertc_train_jnum(line, sizeof line, &at, ev.extra[x].key, ev.extra[x].value);
            bertc_train_jnum(line, sizeof line, &at, "eval_runtime", dt);
            bertc_train_jnum(line, sizeof line, &at, "eval_samples_per_second", dt > 0 ? t->eval_set.n / dt : NAN);
            at += (size_t)snprintf(line + at, sizeof line - at, "}\n");
            if (bertc_trainer_log_write(t, line, at, err)) return err->code;
            bertc_train_event ee = e;
            ee.kind = BERTC_TRAIN_EVAL;
            ee.eval_loss = ev_loss;
            ee.eval_accuracy = ev_acc;
            ee.eval_f1 = ev_f1;
            ee.eval_hamming = ev_ham;
            bertc_trainer_emit(t, &ee);
            double v = o->metric == BERTC_METRIC_ACCURACY ? ev_acc : o->metric == BERTC_METRIC_F1 ? ev_f1 : ev_loss;
            if (isfinite(v) && (!t->st.has_best || (t->st.greater_is_better ? v > t->st.best_metric : v < t->st.best_metric))) {
                improved = 1;
                t->st.has_best = 1;
                t->st.best_metric = v;
                t->st.best_step = step;
                snprintf(t->st.best_checkpoint, sizeof t->st.best_checkpoint, "%.900s/checkpoint-%ld", o->out, step);
                t->patience = 0;
            } else {
                t->patience++;
            }
            if (o->early_stopping_patience > 0 && t->patience >= o->early_stopping_patience) stopped_early = 1;
        }

        int save = 0;
        if (o->save_strategy == BERTC_STRATEGY_STEPS) save = step % o->save_steps == 0 || step == t->total;
        else if (o->save_strategy == BERTC_STRATEGY_EPOCH) save = step % t->steps_per_epoch == 0 || step == t->total;
        else if (o->save_strategy == BERTC_STRATEGY_BEST) save = improved;
        int stop = o->stop && *o->stop;
        if (t->nranks > 1 && bertc_dist_max_int(&stop, err)) return err->code; /* a signal to any rank stops all */
        interrupted = eval_stopped || stop;
        t->st.eval_pending = eval_stopped;
        if (stopped_early && o->save_strategy != BERTC_STRATEGY_NO && o->save_strategy != BERTC_STRATEGY_BEST) save = 1;
        if (save || interrupted) {
            if (bad_run > 0) {
                info(t, BERTC_TRAIN_WARN, "checkpoint at step %ld not written: the last step was skipped", step);
            } else if (bertc_trainer_save_checkpoint(t, step, err)) {
                return err->code;
            }
        }
        if (interrupted) {
            t->agreed_stop = 1;
            if (res) res->steps = step;
            return bertc_fail(err, BERTC_ERR_INTERRUPTED, "interrupted at step %ld of %ld%s; continue with --resume latest",
                              step, t->total, eval_stopped ? " during its evaluation" : "");
        }
        if (stopped_early) {
            info(t, BERTC_TRAIN_INFO, "early stopping at step %ld: %d evaluations without improvement", step, t->patience);
            break;
        }
    }
    t->st.global_step = step;
    double wall = bertc_train_now() - t->t0;
    double sps = wall > 0 ? (double)t->samples_done / wall : 0;
    if (res) {
        res->steps = step;
        res->skipped_steps = t->st.skipped_steps;
        res->wall_seconds = wall;
        res->train_samples_per_second = sps;
        res->has_eval = has_ev;
        res->eval_loss = ev_loss;
        res->eval_accuracy = ev_acc;
        res->eval_f1 = ev_f1;
        res->has_best = t->st.has_best;
        res->best_metric = t->st.best_metric;
        res->best_step = t->st.best_step;
        res->stopped_early = stopped_early;
    }
    if (t->rank != 0) return BERTC_OK; /* rank 0 alone writes the model, run.json and the report */
    return write_final(t, step, wall, sps, has_ev, &ev, ev_loss, ev_acc, ev_f1, stopped_early, err);
}

int bertc_train_run(const bertc_train_opts *o, const bertc_train_callbacks *cb, bertc_train_stats *res, bertc_err *err) {
    trainer t;
    memset(&t, 0, sizeof t);
    t.o = o;
    t.cb = cb;
    t.err = err;
    t.logfd = -1;
    t.lockfd = -1;
    t.t0 = bertc_train_now();
    if (res) memset(res, 0, sizeof *res);
    /* one process, or one rank of a data-parallel job (docs/distributed.md) */
    int rc = bertc_dist_init(err);
    t.rank = bertc_dist_rank();
    t.nranks = bertc_dist_size();
    if (rc == BERTC_OK) rc = setup_start(&t, err);
    rc = agree(&t, rc, "the setup", err);
    if (rc == BERTC_OK && t.nranks > 1) {
        /* rank 0's resume point for all (OUT is on a file system every rank reads) */
        int r = t.resumed;
        rc = bertc_dist_bcast(&r, sizeof r, 0, err);
        if (rc == BERTC_OK) rc = bertc_dist_bcast(t.resume_dir, sizeof t.resume_dir, 0, err);
        t.resumed = r;
    }
    if (rc == BERTC_OK) rc = setup(&t, err);
    if (rc == BERTC_OK && t.rank == 0) rc = bertc_trainer_open_out(&t, err);
    rc = agree(&t, rc, "the setup", err);
    if (rc == BERTC_OK) {
        t.t0 = bertc_train_now();
        rc = run(&t, res, err);
    }
    if (t.logfd >= 0) close(t.logfd);
    if (t.lockfd >= 0) close(t.lockfd); /* releases OUT */
    cJSON_Delete(t.args);
    free(t.args_json);
    free(t.b_ids);
    free(t.b_types);
    free(t.b_mask);
    free(t.b_tags);
    free(t.b_labels);
    free(t.b_start);
    free(t.b_end);
    free(t.b_targets);
    if (t.task) t.task->release(&t);
    free(t.perm);
    bertc_adamw_free(&t.opt);
    bert_model_free(&t.m);
    bert_model_free(&t.eval_model);
    bertc_encset_free(&t.train_set);
    bertc_encset_free(&t.eval_set);
    bert_tokenizer_free(t.tok);
    hf_model_free(&t.hf);
    if (t.nranks > 1) {
        /* a clean end on every rank: finalize together; a rank that failed on
         * its own exits without, and the launcher stops the job */
        int clean = rc == BERTC_OK || t.agreed_stop;
        bertc_dist_done(clean);
        if (!clean) bertc_err_prefix(err, "rank %d of %d", t.rank, t.nranks);
    }
    return rc;
}
