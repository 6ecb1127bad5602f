"""Cross-validated Group SLOPE and Sparse-group SLOPE (the grid and folds of ``PathCV``)."""


from ._cv import _CV_DOC, PathCV
from ._group_slope import (
    _group_slope_problem,
    group_slope_problem,
    sparse_group_slope_problem,
)
from ._group_slope_groups import check_l1_ratio
from ._slope import check_screening


def _cv_doc(name, sequences, extra_attributes):
    doc = _CV_DOC.format(name=name, loss_name="mean squared error", path_attr="mse_path_",
                         tol="1e-4", extra_params=_EXTRA.format(seq=sequences))
    doc = doc.replace(
        "    weights : array-like of shape (n_features,), default=None\n"
        f"        Non-negative penalty weights (see :class:`{name}`).\n", "")
    doc = doc.replace("max_iter : int, default=1000", "max_iter : int, default=10000")
    return doc.rstrip() + "\n" + extra_attributes.lstrip("\n")


class _GroupPathCV(PathCV):
    """``PathCV`` without per-feature weights: groups and sequences are validated once."""

    def _check_params(self):
        super()._check_params()
        check_screening(self.screening)

    def _make_problem(self, X, y, q):
        # The folds reuse the validated groups and sequences of the whole data.
        problem = self._group_problem(X, y, q)
        fold_problem, options = self._fold_problem(problem)
        return problem, fold_problem, options, None

    def _set_penalty_attributes(self, problem):
        self._set_lambdas(problem, self.alpha_)


_EXTRA = """
    groups : int, array-like of shape (n_features,) or list of lists
        The groups (see :class:`GroupSLOPE`).{seq}
    q : float, default=0.1
        Level of the "bh" and "gaussian" sequences.
    screening : {{"strong", None}}, default="strong"
        Group strong rule with KKT checks along every path."""


class GroupSLOPECV(_GroupPathCV):
    __doc__ = _cv_doc(
        "GroupSLOPE",
        '\n    lambdas : {"bh", "gaussian", "oscar"} or array-like, default="bh"'
        "\n        Sequence over the groups.", """
    lambdas_ : ndarray of shape (n_groups,)
        Scaled sequence of the final fit.


    Examples
    --------
    >>> import numpy as np
    >>> from skreg import GroupSLOPECV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 6))
    >>> y = X[:, 0] + X[:, 1] + 0.1 * rng.standard_normal(60)
    >>> model = GroupSLOPECV(groups=[0, 0, 1, 1, 2, 2], alphas=10, cv=3).fit(X, y)
    >>> model.coef_[:2].round(1)
    array([1., 1.])
    """)

    def __init__(self, *, groups, lambdas="bh", q=0.1, alphas=100, eps=1e-3,
                 fit_intercept=True, screening="strong", max_iter=10_000, tol=1e-4,
                 cv=None, n_jobs=None):
        self.groups = groups
        self.lambdas = lambdas
        self.q = q
        self.alphas = alphas
        self.eps = eps
        self.fit_intercept = fit_intercept
        self.screening = screening
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.n_jobs = n_jobs

    def _group_problem(self, X, y, sw):
        return _group_slope_problem(X, y, sw, self.fit_intercept, self.groups,
                                    self.lambdas, self.q, self.screening)

    def _fold_problem(self, problem):
        return group_slope_problem, {"groups": problem.partition, "lambdas": problem.lambdas,
                                     "screening": self.screening}

    def _set_lambdas(self, problem, alpha):
        self.lambdas_ = alpha * problem.lambdas


class SparseGroupSLOPECV(_GroupPathCV):
    __doc__ = _cv_doc(
        "SparseGroupSLOPE",
        "\n    l1_ratio : float, default=0.95\n        Share of the variable-level "
        'penalty, in [0, 1].\n    var_lambdas : {"bh", "gaussian", "oscar"} or '
        'array-like, default="bh"\n    group_lambdas : {"bh", "gaussian", "oscar"} '
        'or array-like, default="bh"', """
    var_lambdas_, group_lambdas_ : ndarray
        Scaled sequences of the final fit; ``lambdas_`` is the pair.

    Examples
    --------
    >>> import numpy as np
    >>> from skreg import SparseGroupSLOPECV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 6))
    >>> y = X[:, 0] + 0.1 * rng.standard_normal(60)
    >>> model = SparseGroupSLOPECV(groups=2, l1_ratio=0.5, alphas=10, cv=3).fit(X, y)
    >>> bool(model.coef_[0] > 0.5)
    True
    """)

    def __init__(self, *, groups, l1_ratio=0.95, var_lambdas="bh", group_lambdas="bh",
                 q=0.1, alphas=100, eps=1e-3, fit_intercept=True, screening="strong",
                 max_iter=10_000, tol=1e-4, cv=None, n_jobs=None):
        self.groups = groups
        self.l1_ratio = l1_ratio
        self.var_lambdas = var_lambdas
        self.group_lambdas = group_lambdas
        self.q = q
        self.alphas = alphas
        self.eps = eps
        self.fit_intercept = fit_intercept
        self.screening = screening
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.n_jobs = n_jobs

    def _check_params(self):
        super()._check_params()
        check_l1_ratio(self.l1_ratio)

    def _group_problem(self, X, y, sw):
        return sparse_group_slope_problem(
            X, y, sw, None, self.fit_intercept, groups=self.groups, l1_ratio=self.l1_ratio,
            var_lambdas=self.var_lambdas, group_lambdas=self.group_lambdas, q_level=self.q,
            screening=check_screening(self.screening))

    def _fold_problem(self, problem):
        return sparse_group_slope_problem, {
            "groups": problem.partition if problem.l1_ratio < 1.0 else self.groups,
            "l1_ratio": problem.l1_ratio, "var_lambdas": problem.var_lambdas,
            "group_lambdas": problem.group_lambdas, "screening": self.screening}

    def _set_lambdas(self, problem, alpha):
        a = problem.l1_ratio
        self.var_lambdas_ = alpha * a * problem.var_lambdas
        self.group_lambdas_ = alpha * (1.0 - a) * problem.group_lambdas
        self.lambdas_ = (self.var_lambdas_, self.group_lambdas_)
