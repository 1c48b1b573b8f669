/* test_sweep_space.c: the search space and trials of a sweep (src/sweep.h) and
 * the seeds statistics (src/experiment.h): grid order (first parameter
 * slowest), seeded random draws (the same per seed, no repeats, ranges within
 * bounds and log-uniform), a --space JSON file, halving's ranking (ties to the
 * lower index, NaN last) and the sample standard deviation. */
#include <cjson/cJSON.h>

#include "../src/experiment.h"
#include "../src/sweep.h"
#include "test.h"

int main(void) {
    bertc_err err = {0};
    bertc_space sp = {0};
    bertc_trial *t = NULL;
    int n = 0;
    CHECK(bertc_space_add_list(&sp, "lr", "1e-5,3e-5,5e-5", &err) == BERTC_OK, "%s", err.msg);
    CHECK(bertc_space_add_list(&sp, "batch-size", "8,16", &err) == BERTC_OK, "%s", err.msg);
    CHECK(bertc_sweep_trials(&sp, BERTC_SEARCH_GRID, 0, 42, &t, &n, &err) == BERTC_OK && n == 6, "grid of 6: %d", n);
    const char *want[6][2] = {{"1e-5", "8"}, {"1e-5", "16"}, {"3e-5", "8"}, {"3e-5", "16"}, {"5e-5", "8"}, {"5e-5", "16"}};
    for (int i = 0; i < n && n == 6; i++)
        CHECK(!strcmp(t[i].values[0], want[i][0]) && !strcmp(t[i].values[1], want[i][1]), "grid trial %d: %s %s", i,
              t[i].values[0], t[i].values[1]);
    bertc_trials_free(t, n);
    CHECK(bertc_sweep_trials(&sp, BERTC_SEARCH_GRID, 4, 42, &t, &n, &err) == BERTC_OK && n == 4, "--trials 4 keeps the first 4");
    bertc_trials_free(t, n);

    /* random: 6 draws of 6 combinations are all different; the same seed, the same draws */
    bertc_trial *a = NULL, *b = NULL;
    int na = 0, nb = 0;
    CHECK(bertc_sweep_trials(&sp, BERTC_SEARCH_RANDOM, 6, 7, &a, &na, &err) == BERTC_OK && na == 6, "random 6");
    CHECK(bertc_sweep_trials(&sp, BERTC_SEARCH_RANDOM, 6, 7, &b, &nb, &err) == BERTC_OK && nb == 6, "random 6 again");
    int same = 1, distinct = 1;
    for (int i = 0; i < 6; i++) {
        same &= !strcmp(a[i].values[0], b[i].values[0]) && !strcmp(a[i].values[1], b[i].values[1]);
        for (int j = 0; j < i; j++)
            distinct &= strcmp(a[i].values[0], a[j].values[0]) || strcmp(a[i].values[1], a[j].values[1]);
    }
    CHECK(same, "random: the same seed draws the same trials");
    CHECK(distinct, "random: no trial drawn twice");
    bertc_trials_free(a, na);
    bertc_trials_free(b, nb);
    /* halving: the grid when --trials is 0 */
    CHECK(bertc_sweep_trials(&sp, BERTC_SEARCH_HALVING, 0, 1, &t, &n, &err) == BERTC_OK && n == 6, "halving: the grid");
    bertc_trials_free(t, n);
    bertc_space_free(&sp);

    /* errors */
    CHECK(bertc_space_add_list(&sp, "dropout", "0.1", &err) == BERTC_ERR_ARG && strstr(err.msg, "cannot be swept"), "dropout refused");
    CHECK(bertc_space_add_list(&sp, "lr", "1e-5,,2e-5", &err) == BERTC_ERR_ARG, "empty value refused");
    CHECK(bertc_space_add_list(&sp, "lr", "1e-5,1e-5", &err) == BERTC_ERR_ARG && strstr(err.msg, "twice"), "repeated value refused");
    CHECK(bertc_sweep_trials(&sp, BERTC_SEARCH_GRID, 0, 1, &t, &n, &err) == BERTC_ERR_ARG, "empty space refused");
    bertc_space_free(&sp);

    /* a --space file with a log range (random only) */
    const char *path = "/tmp/bertc_test_sweep_space.json";
    FILE *f = fopen(path, "w");
    REQUIRE(f, "cannot write %s", path);
    fputs("{\"learning_rate\": {\"min\": 1e-5, \"max\": 1e-3, \"log\": true}, \"batch_size\": [8, 16], \"epochs\": {\"min\": 1, \"max\": 4}}", f);
    fclose(f);
    CHECK(bertc_space_load(&sp, path, &err) == BERTC_OK && sp.n == 3, "space file: %s", err.msg);
    CHECK(sp.n == 3 && !strcmp(sp.p[0].flag, "lr") && !strcmp(sp.p[1].flag, "batch-size") && sp.p[0].log && sp.p[2].integer,
          "space file: learning_rate -> lr, batch_size -> batch-size, epochs integer");
    CHECK(bertc_sweep_trials(&sp, BERTC_SEARCH_GRID, 0, 1, &t, &n, &err) == BERTC_ERR_ARG && strstr(err.msg, "random"),
          "a range needs random search");
    CHECK(bertc_sweep_trials(&sp, BERTC_SEARCH_RANDOM, 200, 3, &t, &n, &err) == BERTC_OK && n == 200, "200 draws");
    int below = 0, in_range = 1, ints = 1;
    for (int i = 0; i < n; i++) {
        double lr = strtod(t[i].values[0], NULL);
        in_range &= lr >= 0.99e-5 && lr <= 1.01e-3;
        below += lr < 1e-4; /* log-uniform: half below the geometric middle 1e-4 */
        char *end;
        long e = strtol(t[i].values[2], &end, 10);
        ints &= !*end && e >= 1 && e <= 4;
    }
    CHECK(in_range, "lr draws within [1e-5, 1e-3]");
    CHECK(below > 70 && below < 130, "log-uniform: %d of 200 below 1e-4 (binomial 100 +- 30)", below);
    CHECK(ints, "epochs drawn as integers in 1..4");
    bertc_trials_free(t, n);
    bertc_space_free(&sp);
    remove(path);

    /* ranking */
    double sc[5] = {0.5, 0.7, NAN, 0.7, 0.1};
    int order[5];
    bertc_sweep_rank(sc, 5, 0, order);
    CHECK(order[0] == 1 && order[1] == 3 && order[2] == 0 && order[3] == 4 && order[4] == 2,
          "higher is better, ties to the lower index, NaN last: %d %d %d %d %d", order[0], order[1], order[2], order[3], order[4]);
    bertc_sweep_rank(sc, 5, 1, order);
    CHECK(order[0] == 4 && order[1] == 0 && order[2] == 1 && order[3] == 3 && order[4] == 2, "lower is better");

    /* mean and sample std (ddof 1): 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sum of squares 32, std sqrt(32/7) */
    double x[8] = {2, 4, 4, 4, 5, 5, 7, 9}, m, s;
    bertc_mean_std(x, 8, &m, &s);
    CHECK(m == 5 && fabs(s - sqrt(32.0 / 7.0)) < 1e-15, "mean %g std %.17g", m, s);
    bertc_mean_std(x, 1, &m, &s);
    CHECK(m == 2 && isnan(s), "one value: no std");
    uint64_t *seeds;
    int ns;
    CHECK(bertc_seeds_parse("42,43,44", &seeds, &ns, &err) == BERTC_OK && ns == 3 && seeds[2] == 44, "seeds parse");
    free(seeds);
    CHECK(bertc_seeds_parse("42,-1", &seeds, &ns, &err) == BERTC_ERR_ARG, "negative seed refused");
    return TEST_END();
}
