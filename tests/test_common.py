"""scikit-learn conformance of every public estimator, discovered automatically."""

import inspect

import pytest
from sklearn.base import BaseEstimator
from sklearn.utils.estimator_checks import parametrize_with_checks

import skreg


def _public_estimators():
    found = []
    for name in sorted(skreg.__all__):
        obj = getattr(skreg, name)
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
            found.append(obj)
    return found


ESTIMATORS = _public_estimators()


def _instance(cls):
    # Keep the checks quick; every constructor argument has a default.
    params = {}
    if "cv" in inspect.signature(cls).parameters:
        params["cv"] = 3
    if "alphas" in inspect.signature(cls).parameters:
        params["alphas"] = 5
    return cls(**params)


_CV_WEIGHTS_REASON = (
    "Integer sample weights are not equivalent to repeated rows for a "
    "cross-validated estimator: the folds differ, so the chosen alpha can "
    "differ (scikit-learn's LassoCV declares the same)."
)


def _expected_failed_checks(estimator):
    """Expected failures of an estimator, with their reason, by check name."""
    if type(estimator).__name__.endswith("CV"):
        return {
            "check_sample_weight_equivalence_on_dense_data": _CV_WEIGHTS_REASON,
            "check_sample_weight_equivalence_on_sparse_data": _CV_WEIGHTS_REASON,
        }
    return {}


def test_estimators_are_discovered():
    assert len(ESTIMATORS) >= 2


@parametrize_with_checks(
    [_instance(cls) for cls in ESTIMATORS],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_exported_from_linear_model(cls):
    assert getattr(skreg.linear_model, cls.__name__) is cls
