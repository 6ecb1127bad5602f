"""Cross-validated SLOPE: ``alpha`` chosen along the screened path."""


from ._cv import PathCV
from ._slope import SLOPEProblem, check_screening
from ._slope_sequences import check_lambdas


class SLOPECV(PathCV):
    """Cross-validated :class:`SLOPE`: ``alpha`` chosen along the path.

    The sequence :math:`\\lambda` is built once on the whole data; the
    ``alpha`` grid runs from the exact ``alpha_max`` of the whole data down
    to ``eps * alpha_max``. Every fold computes a warm-started, strongly
    screened path on its training part, and the alpha with the lowest mean
    held-out squared error wins; the model is then refitted on all the data.

    Parameters
    ----------
    alphas : int or array-like, default=100
        Number of alphas on the automatic log grid, or the grid itself.
    eps : float, default=1e-3
        Length of the automatic grid (``alpha_min / alpha_max``).
    lambdas : {"bh", "gaussian", "oscar"} or array-like, default="bh"
        The sorted-L1 sequence (see :class:`SLOPE`).
    q : float, default=0.1
        Level of the "bh" and "gaussian" sequences.
    theta1, theta2 : float, default=1.0
        Parameters of the "oscar" sequence.
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.
    screening : {"strong", None}, default="strong"
        Screening of every path (see :func:`slope_path`).
    max_iter : int, default=10000
        Epoch budget of every solve.
    tol : float, default=1e-4
        Relative duality-gap tolerance of every solve.
    cv : int, cross-validation generator or iterable, default=None
        As in scikit-learn (``None``: 5-fold).
    n_jobs : int, default=None
        Number of folds computed in parallel (threads).

    Attributes
    ----------
    alpha_ : float
        The chosen alpha.
    alphas_ : ndarray of shape (n_alphas,)
        The grid.
    mse_path_ : ndarray of shape (n_alphas, n_folds)
        Held-out mean squared error for every alpha and fold.
    coef_ : ndarray of shape (n_features,)
        Coefficients of the final fit at ``alpha_``.
    intercept_ : float
        Intercept of the final fit.
    lambdas_ : ndarray of shape (n_features,)
        The scaled sequence ``alpha_ * lambdas`` of the final fit.
    dual_gap_ : float
        Duality gap of the final fit.
    n_iter_ : int
        Epochs of the final fit.
    n_features_in_ : int
        Number of features seen in ``fit``.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from skreg import SLOPECV
    >>> X, y = make_regression(n_samples=60, n_features=20, n_informative=3,
    ...                        noise=1.0, random_state=0)
    >>> model = SLOPECV(alphas=20, cv=3).fit(X, y)
    >>> int((model.coef_ != 0).sum()) <= 20
    True
    """

    _problem = SLOPEProblem

    def __init__(self, *, alphas=100, eps=1e-3, lambdas="bh", q=0.1, theta1=1.0,
                 theta2=1.0, fit_intercept=True, screening="strong", max_iter=10_000,
                 tol=1e-4, cv=None, n_jobs=None):
        self.alphas = alphas
        self.eps = eps
        self.lambdas = lambdas
        self.q = q
        self.theta1 = theta1
        self.theta2 = theta2
        self.fit_intercept = fit_intercept
        self.screening = screening
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.n_jobs = n_jobs

    def _check_params(self):
        super()._check_params()
        check_screening(self.screening)

    def _make_problem(self, X, y, q):
        lam = check_lambdas(self.lambdas, X.shape[1], q=self.q, n_samples=X.shape[0],
                            theta1=self.theta1, theta2=self.theta2)
        options = {"lambdas": lam, "screening": self.screening}
        problem = SLOPEProblem(X, y, q, None, self.fit_intercept, **options)
        return problem, SLOPEProblem, options, None

    def _set_penalty_attributes(self, problem):
        self.lambdas_ = self.alpha_ * problem.lambdas
