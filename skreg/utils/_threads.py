"""Thread pools: one threadpoolctl controller for the package.

The solvers run their hot loops in numba (parallel ones on numba's OpenMP
threads) and make small BLAS calls in between. Multi-threaded BLAS is a
loss there: waking its threads costs more than such a call, and after one
they spin for a while, taking the cores from the next numba kernel. The
solvers therefore run with single-threaded BLAS (:func:`single_threaded_blas`);
the LAD solver gives the caller's BLAS threads back to the calls big enough
to pay (:func:`blas_threads` reads how many there were).
"""

import functools

from threadpoolctl import ThreadpoolController


@functools.lru_cache(maxsize=1)
def blas_controller():
    """The process's controller (finding the libraries takes about a millisecond,
    limiting them through it about 15 microseconds)."""
    return ThreadpoolController()


def blas_threads():
    """The number of threads BLAS runs on now (1 if there is no BLAS)."""
    infos = blas_controller().select(user_api="blas").info()
    return max([info["num_threads"] for info in infos] or [1])


def single_threaded_blas():
    """Context in which BLAS runs on one thread."""
    return blas_controller().limit(limits=1, user_api="blas")
