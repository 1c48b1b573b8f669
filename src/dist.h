/* dist.h: data parallelism across processes over MPI (Open MPI or MPICH).
 * Private to the trainer (train.c and the tasks' trainer parts). Not API.
 *
 * What it does: finds out whether this process was started by a launcher
 * (mpirun/mpiexec, Slurm's srun) as one of several ranks, starts MPI then, and
 * offers the few collectives the trainer needs: sums of gradient buckets and of
 * metric counts, a broadcast, and the rank's number and the world's size.
 * What it does not: launch processes, pick devices, or talk to anything but
 * MPI_COMM_WORLD. Without a launcher in the environment, or in a build without
 * MPI (make WITH_MPI=0), there is one rank and every call is a no-op that
 * returns BERTC_OK, so a one-process run does exactly what it did before.
 *
 * A launcher is recognised by OMPI_COMM_WORLD_SIZE (Open MPI's mpirun), PMI_SIZE
 * (MPICH's hydra, srun --mpi=pmi2) or PMIX_RANK (srun --mpi=pmix, PRRTE).
 *
 * Memory: nothing is allocated here; buffers are the caller's and reduced in place.
 * Threads: call from one thread (the trainer's); MPI is started FUNNELED.
 *
 *     bertc_err err = {0};
 *     if (bertc_dist_init(&err)) return err.code;           // once, idempotent
 *     ... each rank computes its gradients into g ...
 *     if (bertc_dist_sum_f32(g, P, &err)) return err.code;  // g = sum over ranks
 *     if (bertc_dist_rank() == 0) write_checkpoint();
 *     bertc_dist_done(1);                                    // MPI_Finalize at exit
 */
#ifndef BERTC_DIST_H
#define BERTC_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

/* Starts MPI when a launcher started this process (see above); else one rank.
 * Idempotent. Fails (BERTC_ERR_ARG) when launched as several ranks by a bertc
 * built without MPI, since N independent runs would write the same --out. */
int bertc_dist_init(bertc_err *err);
int bertc_dist_rank(void);        /* 0..size-1; 0 without MPI */
int bertc_dist_size(void);        /* ranks in the job; 1 without MPI */
const char *bertc_dist_library(void); /* "Open MPI v4.1.4", "MPICH ...", or "none" */

/* In-place sums over all ranks. Every rank gets the same bits (the sum of a
 * bucket is computed once and sent to all, as Open MPI's and MPICH's allreduce
 * algorithms do). f32 goes in buckets of BERTC_DIST_BUCKET floats, all
 * started at once (MPI_Iallreduce) and waited for together. */
#define BERTC_DIST_BUCKET (1 << 21) /* floats: 8 MiB */
int bertc_dist_sum_f32(float *buf, size_t n, bertc_err *err);
/* The same sum started now and finished by bertc_dist_wait (buf must stay
 * untouched until then): buckets go out while the caller goes on computing.
 * bertc_dist_poll lets MPI move the started ones along (Open MPI and MPICH
 * progress non-blocking collectives only inside MPI calls). At most
 * BERTC_DIST_MAXREQ buckets in flight; more fail with BERTC_ERR_ARG. */
#define BERTC_DIST_MAXREQ 1024
int bertc_dist_isum_f32(float *buf, size_t n, bertc_err *err);
void bertc_dist_poll(void);
int bertc_dist_wait(bertc_err *err);
int bertc_dist_sum_f64(double *buf, size_t n, bertc_err *err);
int bertc_dist_sum_i64(int64_t *buf, size_t n, bertc_err *err);
/* Element-wise largest over the ranks, in place (int32). */
int bertc_dist_max_i32(int32_t *buf, size_t n, bertc_err *err);
/* Every rank's v, the smallest / largest of them. */
int bertc_dist_min_int(int *v, bertc_err *err);
int bertc_dist_max_int(int *v, bertc_err *err);
/* Copies root's bytes to every rank. */
int bertc_dist_bcast(void *buf, size_t bytes, int root, bertc_err *err);
int bertc_dist_barrier(bertc_err *err);

/* Time spent in bertc_dist_sum_f32 and the bytes it reduced, since init
 * (what bench/ and run.json report as the communication share). */
void bertc_dist_stats(double *seconds, double *bytes);

/* The end of this rank's work. clean = 1: every rank ends together (success, or
 * a stop they agreed on): MPI_Finalize runs at process exit, after the caller
 * has printed what it prints; it waits for all ranks. clean = 0: this rank
 * failed on its own; it exits without finalizing and the launcher stops the
 * job, naming the rank (mpirun: "process rank 1 ... exited on signal 9"). Rank
 * and size keep their values. */
void bertc_dist_done(int clean);

#endif /* BERTC_DIST_H */
