/* allreduce.c: MPI_Allreduce (sum, float, in place) of a buffer the size of a
 * model's gradients, timed on idle ranks: the per-megabyte cost that
 * bench/mpi_scaling.sh uses for its projection. Built and run by that script:
 *   mpirun -np 2 bench/work/allreduce MEGABYTES REPEATS
 * Prints one JSON object (rank 0): bytes, seconds per allreduce (median), MB/s. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    double mb = argc > 1 ? atof(argv[1]) : 90;
    int reps = argc > 2 ? atoi(argv[2]) : 10;
    if (!(mb > 0) || reps < 1 || reps > 1000) {
        if (rank == 0) fprintf(stderr, "usage: allreduce MEGABYTES REPEATS(1..1000)\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    size_t n = (size_t)(mb * 1e6 / sizeof(float));
    float *buf = malloc(n * sizeof(float));
    double *t = malloc((size_t)reps * sizeof(double));
    if (!buf || !t) MPI_Abort(MPI_COMM_WORLD, 1);
    for (size_t i = 0; i < n; i++) buf[i] = 1e-3f * (float)(i % 1000);
    const size_t BUCKET = 1 << 21; /* as src/dist.h */
    for (int r = -1; r < reps; r++) { /* one warm-up */
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        for (size_t off = 0; off < n; off += BUCKET) {
            size_t c = n - off < BUCKET ? n - off : BUCKET;
            MPI_Allreduce(MPI_IN_PLACE, buf + off, (int)c, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        }
        double dt = MPI_Wtime() - t0;
        if (r >= 0) t[r] = dt;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp);
    if (rank == 0)
        printf("{\"ranks\": %d, \"bytes\": %zu, \"repeats\": %d, \"seconds_median\": %.6f, \"seconds_min\": %.6f, "
               "\"seconds_per_mb\": %.6f}\n",
               size, n * sizeof(float), reps, t[reps / 2], t[0], t[reps / 2] / ((double)n * sizeof(float) / 1e6));
    free(buf);
    free(t);
    MPI_Finalize();
    return 0;
}
