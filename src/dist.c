/* dist.c: see dist.h. Two implementations: MPI (built with -DBERTC_WITH_MPI,
 * see the Makefile's WITH_MPI) and one rank (everything a no-op). */
#include "dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int g_rank = 0, g_size = 1, g_started = 0, g_clean = 0;
static double g_sec = 0, g_bytes = 0;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The world size a launcher announced (0: none, or one that gives no size). */
static int launcher_size(int *launched) {
    const char *v = getenv("OMPI_COMM_WORLD_SIZE");
    if (!v) v = getenv("PMI_SIZE");
    *launched = v != NULL || getenv("PMIX_RANK") != NULL;
    return v ? atoi(v) : 0;
}

void bertc_dist_stats(double *seconds, double *bytes) {
    if (seconds) *seconds = g_sec;
    if (bytes) *bytes = g_bytes;
}

int bertc_dist_rank(void) { return g_rank; }
int bertc_dist_size(void) { return g_size; }

#ifdef BERTC_WITH_MPI
#include <mpi.h>

static char g_lib[MPI_MAX_LIBRARY_VERSION_STRING];

static int mpi_fail(bertc_err *err, const char *what, int rc) {
    char s[MPI_MAX_ERROR_STRING];
    int n = 0;
    if (MPI_Error_string(rc, s, &n) != MPI_SUCCESS) snprintf(s, sizeof s, "MPI error %d", rc);
    return bertc_fail(err, BERTC_ERR_IO, "%s failed: %s (has another rank stopped?)", what, s);
}

static void finalize_at_exit(void);

int bertc_dist_init(bertc_err *err) {
    if (g_started) return BERTC_OK;
    int launched, n = launcher_size(&launched);
    if (!launched || n == 1) return BERTC_OK; /* one process: no MPI at all */
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited) {
        int provided;
        int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
        if (rc != MPI_SUCCESS) return bertc_fail(err, BERTC_ERR_IO, "MPI_Init_thread failed (error %d)", rc);
    }
    /* errors come back as return codes: the trainer names the rank */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    int len = 0;
    MPI_Get_library_version(g_lib, &len);
    char *nl = strchr(g_lib, '\n');
    if (nl) *nl = 0;
    char *comma = strchr(g_lib, ',');
    if (comma) *comma = 0;
    g_started = 1;
    atexit(finalize_at_exit);
    return BERTC_OK;
}

const char *bertc_dist_library(void) { return g_started ? g_lib : "none"; }

int bertc_dist_sum_f32(float *buf, size_t n, bertc_err *err) {
    if (g_size == 1) return BERTC_OK;
    double t0 = now_s();
    enum { MAXREQ = 256 };
    MPI_Request req[MAXREQ];
    size_t off = 0;
    while (off < n) {
        int nr = 0;
        for (; off < n && nr < MAXREQ; nr++) {
            size_t c = n - off < BERTC_DIST_BUCKET ? n - off : BERTC_DIST_BUCKET;
            int rc = MPI_Iallreduce(MPI_IN_PLACE, buf + off, (int)c, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &req[nr]);
            if (rc != MPI_SUCCESS) return mpi_fail(err, "MPI_Iallreduce", rc);
            off += c;
        }
        int rc = MPI_Waitall(nr, req, MPI_STATUSES_IGNORE);
        if (rc != MPI_SUCCESS) return mpi_fail(err, "MPI_Waitall (gradient allreduce)", rc);
    }
    g_sec += now_s() - t0;
    g_bytes += (double)n * sizeof(float);
    return BERTC_OK;
}

static MPI_Request g_req[BERTC_DIST_MAXREQ];
static int g_nreq = 0;
static double g_t0 = 0;

int bertc_dist_isum_f32(float *buf, size_t n, bertc_err *err) {
    if (g_size == 1) return BERTC_OK;
    if (g_nreq == 0) g_t0 = now_s();
    for (size_t off = 0; off < n;) {
        if (g_nreq == BERTC_DIST_MAXREQ)
            return bertc_fail(err, BERTC_ERR_ARG, "more than %d gradient buckets in flight", BERTC_DIST_MAXREQ);
        size_t c = n - off < BERTC_DIST_BUCKET ? n - off : BERTC_DIST_BUCKET;
        int rc = MPI_Iallreduce(MPI_IN_PLACE, buf + off, (int)c, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &g_req[g_nreq]);
        if (rc != MPI_SUCCESS) return mpi_fail(err, "MPI_Iallreduce", rc);
        g_nreq++;
        off += c;
    }
    g_bytes += (double)n * sizeof(float);
    return BERTC_OK;
}

void bertc_dist_poll(void) {
    if (g_nreq == 0) return;
    int done = 0;
    MPI_Testall(g_nreq, g_req, &done, MPI_STATUSES_IGNORE);
    /* (done requests become MPI_REQUEST_NULL; Waitall skips them) */
}

int bertc_dist_wait(bertc_err *err) {
    if (g_nreq == 0) return BERTC_OK;
    int rc = MPI_Waitall(g_nreq, g_req, MPI_STATUSES_IGNORE);
    g_nreq = 0;
    g_sec += now_s() - g_t0;
    return rc == MPI_SUCCESS ? BERTC_OK : mpi_fail(err, "MPI_Waitall (gradient allreduce)", rc);
}

static int sum_typed(void *buf, size_t n, MPI_Datatype ty, MPI_Op op, const char *what, bertc_err *err) {
    if (g_size == 1 || n == 0) return BERTC_OK;
    int rc = MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, ty, op, MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? BERTC_OK : mpi_fail(err, what, rc);
}

int bertc_dist_sum_f64(double *buf, size_t n, bertc_err *err) {
    return sum_typed(buf, n, MPI_DOUBLE, MPI_SUM, "MPI_Allreduce (double)", err);
}
int bertc_dist_sum_i64(int64_t *buf, size_t n, bertc_err *err) {
    return sum_typed(buf, n, MPI_INT64_T, MPI_SUM, "MPI_Allreduce (int64)", err);
}
int bertc_dist_max_i32(int32_t *buf, size_t n, bertc_err *err) {
    return sum_typed(buf, n, MPI_INT32_T, MPI_MAX, "MPI_Allreduce (int32 max)", err);
}
int bertc_dist_min_int(int *v, bertc_err *err) { return sum_typed(v, 1, MPI_INT, MPI_MIN, "MPI_Allreduce (min)", err); }
int bertc_dist_max_int(int *v, bertc_err *err) { return sum_typed(v, 1, MPI_INT, MPI_MAX, "MPI_Allreduce (max)", err); }

int bertc_dist_bcast(void *buf, size_t bytes, int root, bertc_err *err) {
    if (g_size == 1) return BERTC_OK;
    int rc = MPI_Bcast(buf, (int)bytes, MPI_BYTE, root, MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? BERTC_OK : mpi_fail(err, "MPI_Bcast", rc);
}

int bertc_dist_barrier(bertc_err *err) {
    if (g_size == 1) return BERTC_OK;
    int rc = MPI_Barrier(MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? BERTC_OK : mpi_fail(err, "MPI_Barrier", rc);
}

/* At exit: MPI_Finalize when this rank ended in step with the others. It
 * waits for every rank (a fence in Open MPI and MPICH), so no rank leaves
 * before rank 0 has written its files and printed its line. */
static void finalize_at_exit(void) {
    int fin = 0;
    MPI_Finalized(&fin);
    if (g_clean && !fin) MPI_Finalize();
}

void bertc_dist_done(int clean) { g_clean = clean; }

#else /* one rank: a build without MPI */

int bertc_dist_init(bertc_err *err) {
    int launched, n = launcher_size(&launched);
    if (n > 1)
        return bertc_fail(err, BERTC_ERR_ARG,
                          "started as one of %d ranks, but this bertc was built without MPI (make WITH_MPI=0); "
                          "install libopenmpi-dev and rebuild, or run one process",
                          n);
    (void)g_started, (void)g_clean;
    return BERTC_OK;
}
const char *bertc_dist_library(void) { return "none"; }
int bertc_dist_sum_f32(float *buf, size_t n, bertc_err *err) { (void)buf, (void)n, (void)err; (void)now_s; return BERTC_OK; }
int bertc_dist_sum_f64(double *buf, size_t n, bertc_err *err) { (void)buf, (void)n, (void)err; return BERTC_OK; }
int bertc_dist_isum_f32(float *buf, size_t n, bertc_err *err) { (void)buf, (void)n, (void)err; return BERTC_OK; }
void bertc_dist_poll(void) {}
int bertc_dist_wait(bertc_err *err) { (void)err; return BERTC_OK; }
int bertc_dist_sum_i64(int64_t *buf, size_t n, bertc_err *err) { (void)buf, (void)n, (void)err; return BERTC_OK; }
int bertc_dist_max_i32(int32_t *buf, size_t n, bertc_err *err) { (void)buf, (void)n, (void)err; return BERTC_OK; }
int bertc_dist_min_int(int *v, bertc_err *err) { (void)v, (void)err; return BERTC_OK; }
int bertc_dist_max_int(int *v, bertc_err *err) { (void)v, (void)err; return BERTC_OK; }
int bertc_dist_bcast(void *buf, size_t bytes, int root, bertc_err *err) { (void)buf, (void)bytes, (void)root, (void)err; return BERTC_OK; }
int bertc_dist_barrier(bertc_err *err) { (void)err; return BERTC_OK; }
void bertc_dist_done(int clean) { (void)clean; }

#endif
