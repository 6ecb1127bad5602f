import pytest
import sklearn.linear_model  # noqa: F401  (loads the BLAS and OpenMP runtimes to limit)
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="session")
def single_threaded_blas():
    """One BLAS/OpenMP thread: the small fits here are much slower with two
    threads competing on a loaded machine (about 0.5 s instead of 0.02 s per
    LogisticRegression)."""
    with threadpool_limits(limits=1):
        yield
