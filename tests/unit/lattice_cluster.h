/* Shared by the unit tests of the lattice growth models (eden, ballistic): the check
 * that a grown cluster is a valid lattice cluster. Include after cmocka.h. */
#ifndef SWEEP_TESTS_LATTICE_CLUSTER_H
#define SWEEP_TESTS_LATTICE_CLUSTER_H

#include "common/xalloc.h"
#include "models/cluster.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* Every site integral, the first at the origin, none twice, each a nearest neighbour
 * of an earlier one (so the cluster is connected), on a grid around the cluster. */
static void check_cluster(const struct cluster *c, size_t n, int dim)
{
    int64_t lo = 0, hi = 0, side;
    uint8_t *grid;

    assert_int_equal(c->n, n);
    assert_int_equal(c->dim, dim);
    for (int a = 0; a < 3; a++)
        assert_true(c->pos[a] == 0);
    for (size_t i = 0; i < 3 * n; i++) {
        assert_true(c->pos[i] == floor(c->pos[i]));
        lo = c->pos[i] < (double)lo ? (int64_t)c->pos[i] : lo;
        hi = c->pos[i] > (double)hi ? (int64_t)c->pos[i] : hi;
    }
    if (dim == 2)
        for (size_t i = 0; i < n; i++)
            assert_true(c->pos[3 * i + 2] == 0);
    lo--;
    side = hi - lo + 2;
    grid = xcalloc((size_t)(side * side * side), 1);
    for (size_t i = 0; i < n; i++) {
        int64_t x = (int64_t)c->pos[3 * i] - lo, y = (int64_t)c->pos[3 * i + 1] - lo;
        int64_t z = (int64_t)c->pos[3 * i + 2] - lo;
        size_t k = (size_t)(x + side * (y + side * z));
        int touching = grid[k - 1] + grid[k + 1] + grid[k - (size_t)side] +
                       grid[k + (size_t)side] + grid[k - (size_t)(side * side)] +
                       grid[k + (size_t)(side * side)];

        assert_int_equal(grid[k], 0);
        assert_true(i == 0 || touching > 0);
        grid[k] = 1;
    }
    free(grid);
}

#endif
