"""Design matrix as the numeric kernels see it.

The least-squares and square-root data terms are invariant to centring, so an
intercept is handled by (weighted) centring of ``y`` and of the columns of
``X``. The centring of ``X`` is implicit: ``X`` is never copied or densified,
the kernels subtract the column means on the fly (dense) or carry the constant
part of the residual in a scalar ``shift`` (sparse, like scikit-learn's sparse
coordinate descent). Sample weights are normalised to ``q = s / sum(s)``, so
every data term is written with weights that sum to one, e.g.
``(1/2) sum_i q_i r_i^2`` for the Lasso.
"""

import numpy as np
import scipy.sparse as sp

_DUMMY_INT = np.empty(0, dtype=np.int32)


def vdot(a, b):
    """Dot product of two vectors without BLAS.

    OpenBLAS threads ``ddot`` above 10,000 entries, which costs milliseconds
    of thread wake-up on a busy machine for microseconds of work.
    """
    return float(np.einsum("i,i->", a, b))


class LinearDesign:
    """Centred, weighted view of ``(X, y)`` shared by the solvers.

    Parameters
    ----------
    X : ndarray (Fortran order) or scipy.sparse CSC matrix, float32 or float64
    y : ndarray of shape (n_samples,), float64
    q : ndarray of shape (n_samples,), non-negative, sums to one
    center : bool
        Centre ``X`` and ``y`` with the weights ``q`` (used to fit an intercept).
    """

    def __init__(self, X, y, q, center):
        self.n_samples, self.n_features = X.shape
        self.sparse = sp.issparse(X)
        self.dtype = X.dtype
        self.X_input = X
        if self.sparse:
            # A (2, 2) Fortran placeholder: an empty or 1x1 array would be
            # typed C-contiguous by numba and compile a second specialisation.
            self.X = np.empty((2, 2), dtype=X.dtype, order="F")
            self.data, self.indices, self.indptr = X.data, X.indices, X.indptr
            self._Xsp = X
        else:
            self.X = X
            self.data = np.empty(0, dtype=X.dtype)
            self.indices = self.indptr = _DUMMY_INT
        self.q = q
        self.uniform = bool(np.all(q == q[0]))
        self.center = center
        if center:
            self.X_mean = np.asarray(self.rmatvec_raw(q), dtype=np.float64)
            self.y_mean = float(q @ y)
        else:
            self.X_mean = np.zeros(self.n_features)
            self.y_mean = 0.0
        self.y = y - self.y_mean
        # numba is imported on first use, which keeps ``import skreg`` light.
        from ._kernels import column_sq_norms

        self.lipschitz = column_sq_norms(
            self.X, self.data, self.indices, self.indptr, self.sparse,
            self.X_mean, q, self.n_features,
        )

    def kernel_args(self):
        """The arrays every kernel takes first, in order."""
        return (self.X, self.data, self.indices, self.indptr, self.sparse,
                self.X_mean, self.q, self.uniform)

    def rmatvec_raw(self, v):
        """``X^T v`` for the uncentred ``X``."""
        if self.sparse:
            return self._Xsp.T @ v
        return self.X.T @ v

    def corr(self, r):
        """``X_c^T (q * r)``: minus the gradient of the Lasso data term."""
        if self.sparse:
            from ._kernels import sparse_corr

            out = np.empty(self.n_features)
            sparse_corr(self.data, self.indices, self.indptr, self.X_mean, self.q,
                        self.uniform, r, 0.0, out)
            # The kernel assumes sum_i q_i r_i = 0 (true of centred residuals).
            return out - self.X_mean * vdot(self.q, r)
        qr = self.q * r
        return self.X.T @ qr - self.X_mean * qr.sum()


    def matvec(self, b):
        """``X_c b`` for the centred ``X``."""
        if self.sparse:
            Xb = self._Xsp @ b
        else:
            Xb = self.X @ b
        return Xb - self.X_mean @ b

    def residual(self, b):
        """Stored residual and shift for coefficients ``b`` (see kernels)."""
        from ._kernels import residual_from_coef

        r = np.empty(self.n_samples)
        shift = np.zeros(1)
        residual_from_coef(*self.kernel_args(), self.y, b, r, shift)
        return r, shift

    def columns(self, idx):
        """Dense centred copy of the columns ``idx``, shape (n_samples, len(idx))."""
        if self.sparse:
            cols = self._Xsp[:, idx].toarray()
        else:
            cols = np.asarray(self.X[:, idx], dtype=np.float64)
        return cols - self.X_mean[idx]

    def intercept(self, b):
        """Intercept matching coefficients ``b`` (0 without centring)."""
        if not self.center:
            return 0.0
        return self.y_mean - float(self.X_mean @ b)


class LassoDesign(LinearDesign):
    """``LinearDesign`` that also knows ``corr_y = X_c^T (q * y_c)``.

    The correlations of the target are the optimality check of a fit started
    from zero. For a dense ``X`` they come with the column means and norms
    out of one pass over ``X`` (``dense_column_stats``), where
    ``LinearDesign`` streams ``X`` twice and a first solver iteration a third
    time. For sparse ``X`` (cheap passes) ``corr_y`` is ``None``.
    """

    def __init__(self, X, y, q, center):
        if sp.issparse(X):
            super().__init__(X, y, q, center)
            self.corr_y = None
            return
        from ._kernels import dense_column_stats

        self.n_samples, self.n_features = X.shape
        self.sparse = False
        self.dtype = X.dtype
        self.X_input = X
        self.X = X
        self.data = np.empty(0, dtype=X.dtype)
        self.indices = self.indptr = _DUMMY_INT
        self.q = q
        self.uniform = bool(np.all(q == q[0]))
        self.center = center
        self.y_mean = float(q @ y) if center else 0.0
        self.y = y - self.y_mean
        self.X_mean = np.empty(self.n_features)
        self.lipschitz = np.empty(self.n_features)
        self.corr_y = np.empty(self.n_features)
        dense_column_stats(X, q, self.uniform, self.y, center, self.X_mean,
                           self.lipschitz, self.corr_y)
