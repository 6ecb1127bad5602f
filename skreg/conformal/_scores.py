r"""Nonconformity scores of the regression intervals.

Each score turns the fitted model(s) into two prediction columns ``c`` for
``X``, a score :math:`r(x, y)` and intervals :math:`\{y : r(x, y) \le
\lambda\}`, so that every loss sees the same nested family of intervals.
"""

import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted


class AbsoluteScore:
    r""":math:`r = |y - f(x)|`, intervals :math:`f(x) \pm \lambda`."""

    lambda_range = (0.0, np.inf)

    def fit(self, est, X, y):
        model = est._fitted_copy(est.estimator)
        if not est.prefit:
            model.fit(X, y)
        return model, None

    def columns(self, est, X):
        f = np.asarray(est.estimator_.predict(X), dtype=np.float64).ravel()
        return np.column_stack([f, np.ones_like(f)])

    def scores(self, c, y):
        return np.abs(y - c[:, 0]) / c[:, 1]

    def interval(self, c, lam):
        return c[:, 0] - lam * c[:, 1], c[:, 0] + lam * c[:, 1]

    def center(self, c):
        return c[:, 0]


class NormalizedScore(AbsoluteScore):
    r""":math:`r = |y - f(x)|/\sigma(x)`, intervals :math:`f(x) \pm \lambda\sigma(x)`.

    :math:`\sigma` is ``scale_estimator`` (default: a clone of ``estimator``)
    fitted to the absolute residuals on the training part, floored at
    ``1e-3`` times their mean so that it stays positive.
    """

    def fit(self, est, X, y):
        model, _ = super().fit(est, X, y)
        scale = est.scale_estimator
        if est.prefit:
            if scale is None:
                raise ValueError('conformity_score="normalized" with prefit=True needs a fitted '
                                 "scale_estimator.")
            est._scale_floor = np.finfo(np.float64).tiny
            return model, est._fitted_copy(scale, "scale_estimator")
        scale = clone(est.estimator if scale is None else scale)
        residual = np.abs(y - np.asarray(model.predict(X), dtype=np.float64).ravel())
        scale.fit(X, residual)
        est._scale_floor = 1e-3 * float(residual.mean()) if residual.mean() > 0 else 1.0
        return model, scale

    def columns(self, est, X):
        c = super().columns(est, X)
        sigma = np.asarray(est.scale_estimator_.predict(X), dtype=np.float64).ravel()
        c[:, 1] = np.maximum(sigma, est._scale_floor)
        return c


class CQRScore:
    r"""Conformalised quantile regression: :math:`r = \max(q_{lo} - y, y - q_{hi})`.

    Intervals :math:`[q_{lo}(x) - \lambda, q_{hi}(x) + \lambda]`, :math:`\lambda`
    of either sign.
    """

    lambda_range = (-np.inf, np.inf)

    def fit(self, est, X, y):
        if est.prefit:
            return est._fitted_copy(est.estimator), None
        keys = [k for k in est.estimator.get_params(deep=True)
                if k == "quantile" or k.endswith("__quantile")]
        if len(keys) != 1:
            raise ValueError(
                'conformity_score="cqr" needs an estimator with one `quantile` parameter '
                "(e.g. QuantileRegressor, HistGradientBoostingRegressor(loss='quantile'), "
                f"or a pipeline ending in one), got {type(est.estimator).__name__}"
                + (f" with {keys}." if keys else "."))
        a = est._alpha
        models = tuple(clone(est.estimator).set_params(**{keys[0]: q}).fit(X, y)
                       for q in (a / 2, 1 - a / 2))
        return models, None

    def columns(self, est, X):
        if isinstance(est.estimator_, tuple):
            return np.column_stack([np.asarray(m.predict(X), dtype=np.float64).ravel()
                                    for m in est.estimator_])
        check_is_fitted(est.estimator_)
        c = np.asarray(est.estimator_.predict(X), dtype=np.float64)
        if c.ndim != 2 or c.shape[1] != 2:
            raise ValueError('conformity_score="cqr" with prefit=True needs estimator.predict to '
                             f"return (n_samples, 2) lower and upper quantiles, got {c.shape}.")
        return c

    def scores(self, c, y):
        return np.maximum(c[:, 0] - y, y - c[:, 1])

    def interval(self, c, lam):
        return c[:, 0] - lam, c[:, 1] + lam

    def center(self, c):
        return 0.5 * (c[:, 0] + c[:, 1])


REGRESSION_SCORES = {"absolute": AbsoluteScore, "normalized": NormalizedScore,
                     "cqr": CQRScore}
