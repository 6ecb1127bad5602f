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


# Expected failures, with their reason, keyed by (estimator, check name).
EXPECTED_FAILED_CHECKS = {}


def test_estimators_are_discovered():
    assert len(ESTIMATORS) >= 2


@parametrize_with_checks(
    [_instance(cls) for cls in ESTIMATORS],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(type(est).__name__, {}),
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_exported_from_linear_model(cls):
    assert getattr(skreg.linear_model, cls.__name__) is cls
