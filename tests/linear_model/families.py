"""The convex penalised families under test, with their references."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import reference_models as ref
import scipy.sparse as sp

import skreg


@dataclass
class Family:
    name: str
    estimator: type
    path: Callable
    cvxpy: Callable
    objective: Callable


FAMILIES = [
    Family("lasso", skreg.WeightedLasso, skreg.weighted_lasso_path,
           ref.lasso_cvxpy, ref.lasso_objective),
    Family("sqrt_lasso", skreg.SqrtLasso, skreg.sqrt_lasso_path,
           ref.sqrt_lasso_cvxpy, ref.sqrt_lasso_objective),
]
if hasattr(skreg, "LADLasso"):
    FAMILIES.append(Family("lad_lasso", skreg.LADLasso, skreg.lad_lasso_path,
                           ref.lad_lasso_cvxpy, ref.lad_lasso_objective))


def make_problem(n=40, p=15, sparse=False, seed=0, density=0.3):
    rng = np.random.default_rng(seed)
    if sparse:
        X = sp.random(n, p, density=density, format="csc", random_state=seed,
                      data_rvs=rng.standard_normal)
        Xd = X.toarray()
    else:
        X = rng.standard_normal((n, p))
        Xd = X
    beta = np.zeros(p)
    beta[: min(4, p)] = [2.0, -1.5, 1.0, 0.5][: min(4, p)]
    y = Xd @ beta + 0.5 * rng.standard_normal(n) + 1.0
    return X, y


def alpha_max(family, X, y, **kwargs):
    return float(family.path(X, y, alphas=1, **kwargs)[0][0])
