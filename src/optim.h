/* optim.h: AdamW, learning-rate schedules, gradient clipping and the small
 * gradient helpers a training loop needs, with the numerics of PyTorch's
 * torch.optim.AdamW (single-tensor path), transformers' get_scheduler and
 * torch.nn.utils.clip_grad_norm_.
 *
 * What it does not do: compute gradients, accumulate micro-batches or decide
 * when to step (the trainer does). It works on flat float arrays, so it serves
 * any parameter layout; bertc_adamw_init_bert builds BERT's decay mask from the
 * bert_params layout (bert.h).
 *
 * Memory: bertc_adamw owns m, v (one allocation each, in the parameters'
 * layout) and its segment list; bertc_adamw_free releases them (harmless on a
 * zeroed struct). bertc_adamw_step allocates nothing.
 *
 *     bertc_adamw_opts ao; bertc_adamw_opts_default(&ao);
 *     ao.weight_decay = 0.01;
 *     bertc_adamw opt = {0};
 *     if (bertc_adamw_init_bert(&opt, &cfg, &ao, &err) != BERTC_OK) ...
 *     bertc_sched sch = {BERTC_SCHED_LINEAR, 5e-5, bertc_warmup_steps(0.1, total), total, 0.5};
 *     for (long step = 0; step < total; step++) {
 *         ... forward/backward into grads (num_params floats) ...
 *         double norm = bertc_clip_grad_norm(grads, n, 1.0);
 *         if (!isfinite(norm)) { ...skip: zero grads, count it, continue... }
 *         bertc_adamw_step(&opt, params, grads, bertc_sched_lr(&sch, step));
 *     }
 *     bertc_adamw_free(&opt);
 *
 * Determinism: every function gives the same bits for the same inputs whatever
 * the OpenMP thread count (the norm sums fixed blocks, then the blocks in order).
 */
#ifndef BERTC_OPTIM_H
#define BERTC_OPTIM_H

#include <stddef.h>
#include "bert.h"
#include "common.h"

/* ---- AdamW ---- */

typedef struct bertc_adamw_opts {
    double beta1;         /* 0.9 */
    double beta2;         /* 0.999 */
    double eps;           /* 1e-8, added after the bias-corrected sqrt(v) */
    double weight_decay;  /* 0.0 (Trainer's default); applied only to segments with decay=1 */
} bertc_adamw_opts;

/* Trainer's defaults: betas (0.9, 0.999), eps 1e-8, weight decay 0. */
void bertc_adamw_opts_default(bertc_adamw_opts *o);

/* A contiguous run of parameters and whether weight decay applies to it.
 * Parameters outside every segment are frozen: the step leaves them alone. */
typedef struct bertc_param_segment {
    size_t offset;  /* first float, in [0, n) */
    size_t count;   /* floats */
    int decay;      /* 1: decoupled weight decay applies; 0: not (biases, LayerNorm) */
} bertc_param_segment;

typedef struct bertc_adamw {
    size_t n;                   /* floats in the parameter block */
    float *m;                   /* (n) first moment, exp_avg */
    float *v;                   /* (n) second moment, exp_avg_sq */
    long step;                  /* AdamW steps taken (torch's state["step"]) */
    bertc_adamw_opts opts;
    bertc_param_segment *seg;   /* (nseg) sorted by offset, non-overlapping; owned */
    int nseg;
} bertc_adamw;

/* Allocates m and v (zeroed) for n parameters and copies the segment list.
 * Segments must lie inside [0, n) and not overlap (any order; stored sorted).
 * BERTC_ERR_ARG names a bad segment or option; BERTC_ERR_NOMEM if m/v do not fit. */
int bertc_adamw_init(bertc_adamw *o, size_t n, const bertc_param_segment *seg, int nseg,
                     const bertc_adamw_opts *opts, bertc_err *err);

/* Which BERT tensors get weight decay, as Trainer's get_decay_parameter_names:
 * weight matrices and the three embedding tables yes; biases and LayerNorm
 * weights/biases no. decay[i] for i in the BERT_* enum of bert.h. */
void bertc_bert_decay_mask(int decay[BERT_NUM_PARAM_TENSORS]);

/* bertc_adamw_init over bert_num_params(cfg) floats with one segment per
 * tensor of bert_param_sizes and the mask above. */
int bertc_adamw_init_bert(bertc_adamw *o, const bert_config *cfg, const bertc_adamw_opts *opts,
                          bertc_err *err);

void bertc_adamw_free(bertc_adamw *o);

/* Zeroes m and v and the step count (a fresh optimizer, same layout). */
void bertc_adamw_reset(bertc_adamw *o);

/* One AdamW step at learning rate lr (finite, >= 0) over params (n) using
 * grads (n), as torch's _single_tensor_adam with decoupled_weight_decay:
 *   step += 1
 *   p  *= 1 - lr*wd                         (decay segments, when wd != 0)
 *   m   = lerp(m, g, 1 - beta1)
 *   v   = v*beta2 + (1 - beta2)*g*g
 *   bc1 = 1 - beta1^step,  bc2 = 1 - beta2^step          (double)
 *   p  += (-lr/bc1) * m / (sqrt(v)/sqrt(bc2) + eps)
 * Scalars are computed in double and rounded to float once, as torch does;
 * elementwise maths is fp32. Allocates nothing. */
void bertc_adamw_step(bertc_adamw *o, float *params, const float *grads, double lr);

/* The same step on the gradients times gscale (as fp32: g * gscale rounded
 * once), without writing them: bit for bit bertc_scale(grads, n, gscale) then
 * bertc_adamw_step, with one pass over memory instead of two. The trainer
 * passes bertc_clip_coef's coefficient (gradient clipping fused into the
 * update); gscale 1 is bertc_adamw_step. */
void bertc_adamw_step_scaled(bertc_adamw *o, float *params, const float *grads, double lr, float gscale);

/* ---- Learning-rate schedules (transformers' get_scheduler) ---- */

typedef enum bertc_sched_kind {
    BERTC_SCHED_LINEAR = 0,           /* "linear": warmup, then linear decay to 0 (default) */
    BERTC_SCHED_COSINE,               /* "cosine": warmup, then half a cosine to 0 */
    BERTC_SCHED_CONSTANT,             /* "constant": base lr throughout; ignores warmup */
    BERTC_SCHED_CONSTANT_WITH_WARMUP  /* "constant_with_warmup": warmup, then base lr */
} bertc_sched_kind;

typedef struct bertc_sched {
    int kind;            /* a bertc_sched_kind */
    double base_lr;      /* the optimizer's lr (Trainer: 5e-5) */
    long warmup_steps;   /* optimizer steps of linear warmup from 0 */
    long total_steps;    /* optimizer steps in the whole run */
    double num_cycles;   /* cosine only: 0.5 = decay to 0 once */
} bertc_sched;

/* "linear", "cosine", "constant", "constant_with_warmup" -> *kind.
 * BERTC_ERR_ARG names the accepted values otherwise. */
int bertc_sched_parse(const char *name, int *kind, bertc_err *err);
/* The name of a kind ("linear", ...), never NULL. */
const char *bertc_sched_name(int kind);

/* Warmup steps as TrainingArguments.get_warmup_steps: warmup >= 1 is a step
 * count (truncated), a fraction in [0, 1) is ceil(warmup * total_steps). */
long bertc_warmup_steps(double warmup, long total_steps);

/* The multiplier LambdaLR applies after `step` scheduler steps (step 0 is the
 * first optimizer step), computed with transformers' formulas in double. */
double bertc_sched_lambda(const bertc_sched *s, long step);

/* base_lr * bertc_sched_lambda(s, step): the lr for the optimizer step with
 * 0-based index `step`, bit for bit what LambdaLR puts in param_group["lr"]. */
double bertc_sched_lr(const bertc_sched *s, long step);

/* ---- Gradients ---- */

/* Global L2 norm of x (n), accumulated in double over fixed blocks (deterministic
 * for any thread count). Non-finite if and only if some x[i] is non-finite. */
double bertc_l2_norm(const float *x, size_t n);

/* torch.nn.utils.clip_grad_norm_(max_norm): total = bertc_l2_norm(g, n); when
 * total is finite, g *= min(1, max_norm / (total + 1e-6)) (as fp32). Returns the
 * pre-clip norm (for logging). When the norm is non-finite g is left unchanged
 * and the non-finite norm returned: the caller skips the step. max_norm <= 0
 * disables clipping (the norm is still returned). */
double bertc_clip_grad_norm(float *g, size_t n, double max_norm);

/* The factor bertc_clip_grad_norm multiplies g by for a pre-clip norm total:
 * min(1, max_norm / (total + 1e-6)) as torch forms it in fp32, or 1 (nothing to
 * do) when total is non-finite, max_norm <= 0 or the factor is >= 1. */
float bertc_clip_coef(double total, double max_norm);

/* x *= s over n floats (gradient accumulation: s = 1 / accumulation steps). */
void bertc_scale(float *x, size_t n, float s);

/* 1 if all n floats are finite; else 0 and *first_bad (if not NULL) = the
 * index of the first non-finite one. Changes nothing. */
int bertc_all_finite(const float *x, size_t n, size_t *first_bad);

#endif /* BERTC_OPTIM_H */
