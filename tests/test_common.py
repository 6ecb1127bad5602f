"""scikit-learn conformance of every public estimator, discovered automatically.

Estimators are found in the ``__all__`` of each public sub-package listed in
``PUBLIC_MODULES``. Constructor arguments that have no default (a wrapped
``estimator``, ``groups``) come from ``INIT_PARAMS``; everything else uses the
defaults, made quicker where the signature allows.
"""

import importlib
import inspect

import pytest
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.utils.estimator_checks import parametrize_with_checks

import skreg

PUBLIC_MODULES = ("skreg.linear_model", "skreg.ot", "skreg.conformal")


def _public_estimators():
    found = []
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in sorted(module.__all__):
            obj = getattr(module, name)
            if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
                found.append(obj)
    return found


ESTIMATORS = _public_estimators()

# Required constructor arguments of particular estimators, by class name.
# ``groups=2`` means contiguous groups of two features (the last one may be
# smaller), which fits any number of features the checks generate.
INIT_PARAMS = {
    "GroupSLOPE": {"groups": 2},
    "GroupSLOPECV": {"groups": 2},
    "SparseGroupSLOPE": {"groups": 2},
    "SparseGroupSLOPECV": {"groups": 2},
}


def _instance(cls):
    signature = inspect.signature(cls).parameters
    params = dict(INIT_PARAMS.get(cls.__name__, {}))
    if "estimator" in signature and "estimator" not in params:
        # Wrapped models: a classifier for classifier wrappers, else a regressor.
        params["estimator"] = (
            LogisticRegression() if "Classifier" in cls.__name__ else Ridge()
        )
    if "cv" in signature:
        params["cv"] = 3
    if "alphas" in signature:
        params["alphas"] = 5
    return cls(**params)


_CV_WEIGHTS_REASON = (
    "Integer sample weights are not equivalent to repeated rows for a "
    "cross-validated estimator: the folds differ, so the chosen alpha can "
    "differ (scikit-learn's LassoCV declares the same)."
)

_OT_NO_TARGET_REASON = (
    "The common checks give no target domain, so there is nothing to "
    "transport: the OT estimators fit the identity mapping without running "
    "a solver and report n_iter_ = 0 (with a target sample, n_iter_ >= 1)."
)

# Further expected failures, by class name: {check name: reason}.
EXPECTED_FAILURES = {
    "OTMapping": {"check_transformer_n_iter": _OT_NO_TARGET_REASON},
    "OTDomainAdaptationClassifier": {
        "check_non_transformer_estimators_n_iter": _OT_NO_TARGET_REASON,
    },
}


def _expected_failed_checks(estimator):
    """Expected failures of an estimator, with their reason, by check name."""
    name = type(estimator).__name__
    failures = dict(EXPECTED_FAILURES.get(name, {}))
    if name.endswith("CV"):
        failures.update({
            "check_sample_weight_equivalence_on_dense_data": _CV_WEIGHTS_REASON,
            "check_sample_weight_equivalence_on_sparse_data": _CV_WEIGHTS_REASON,
        })
    return failures


def test_estimators_are_discovered():
    assert len(ESTIMATORS) >= 2


@parametrize_with_checks(
    [_instance(cls) for cls in ESTIMATORS],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


LINEAR_ESTIMATORS = [
    cls for cls in ESTIMATORS if cls.__module__.startswith("skreg.linear_model")
]


@pytest.mark.parametrize("cls", LINEAR_ESTIMATORS, ids=lambda c: c.__name__)
def test_linear_models_reexported_from_top_level(cls):
    assert getattr(skreg, cls.__name__) is cls
