// Open MPI's C interface, wrapped in functions: MPI_COMM_WORLD, MPI_DOUBLE, MPI_SUM and
// MPI_IN_PLACE are macros over Open MPI's globals that Swift cannot import.
#define OMPI_SKIP_MPICXX 1
#include <mpi.h>

static inline int revsearch_mpi_init(void) {
    int provided = 0;
    return MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
}

static inline int revsearch_mpi_rank(void) {
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    return rank;
}

static inline int revsearch_mpi_size(void) {
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    return size;
}

/// Sums `count` doubles over all ranks in place.
static inline int revsearch_mpi_sum(double *values, int count) {
    return MPI_Allreduce(MPI_IN_PLACE, values, count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

/// Every rank's `count` doubles, in rank order, on every rank.
static inline int revsearch_mpi_gather(const double *mine, int count, double *all) {
    return MPI_Allgather(mine, count, MPI_DOUBLE, all, count, MPI_DOUBLE, MPI_COMM_WORLD);
}

static inline int revsearch_mpi_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }

static inline void revsearch_mpi_abort(int status) { MPI_Abort(MPI_COMM_WORLD, status); }

static inline int revsearch_mpi_finalize(void) { return MPI_Finalize(); }
