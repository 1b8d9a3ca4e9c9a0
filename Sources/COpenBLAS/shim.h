#include <cblas.h>
// OpenBLAS extensions: thread count control for `lantern bench --threads`.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
// LAPACK, which OpenBLAS ships: eigenvalues (ascending) and eigenvectors of a symmetric matrix.
void dsyev_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w, double *work,
            const int *lwork, int *info);
