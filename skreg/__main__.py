"""Demo: ``python -m skreg`` fits the sparse regressors on the diabetes data,
then calibrates prediction intervals by conformal risk control."""

import time

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import skreg
from skreg.conformal import ConformalRiskRegressor


def main():
    data = load_diabetes()
    X = StandardScaler().fit_transform(data.data)
    X_train, X_test, y_train, y_test = train_test_split(X, data.target, random_state=0)
    print(f"skreg {skreg.__version__}: sparse regression on scikit-learn's diabetes data")
    print(f"({X_train.shape[0]} training / {X_test.shape[0]} test samples, "
          f"{X.shape[1]} standardised features; alpha chosen by 5-fold CV along a "
          "100-point path)\n")
    # Age and sex are left unpenalised (weight 0) in the second model.
    free = np.r_[0.0, 0.0, np.ones(X.shape[1] - 2)]
    models = [
        ("WeightedLassoCV", skreg.WeightedLassoCV()),
        ("WeightedLassoCV (age, sex free)", skreg.WeightedLassoCV(weights=free)),
        ("SqrtLassoCV", skreg.SqrtLassoCV()),
        ("LADLassoCV", skreg.LADLassoCV()),
        ("SLOPECV (BH sequence)", skreg.SLOPECV()),
        ("WeightedOMPCV (greedy)", skreg.WeightedOMPCV()),
    ]
    print(f"{'model':<32} {'alpha':>8} {'nnz':>4} {'test RMSE':>10} {'test MAE':>9} "
          f"{'dual gap':>9} {'time ms':>8}")
    for name, model in models:
        start = time.perf_counter()
        model.fit(X_train, y_train)
        ms = (time.perf_counter() - start) * 1e3
        err = y_test - model.predict(X_test)
        # Greedy fits have no duality gap.
        gap = getattr(model, "dual_gap_", None)
        gap = "-" if gap is None else f"{gap:.1e}"
        print(f"{name:<32} {model.alpha_:>8.4f} {np.count_nonzero(model.coef_):>4d} "
              f"{np.sqrt(np.mean(err ** 2)):>10.2f} {np.mean(np.abs(err)):>9.2f} "
              f"{gap:>9} {ms:>8.1f}")
    shown = [models[0], models[2], models[3]]
    print("\nCoefficients (0 = not selected):")
    print(f"{'feature':>8} " + " ".join(f"{name[:-2]:>14}" for name, _ in shown))
    for j, feature in enumerate(data.feature_names):
        print(f"{feature:>8} " + " ".join(f"{m.coef_[j]:>14.2f}" for _, m in shown))
    print("\nThe time of the first model of each family includes loading (or, on a "
          "fresh machine, compiling) its numba kernels.")

    print("\nConformal risk control: 90% prediction intervals around SqrtLassoCV")
    print(f"{'interval shape':<16} {'lambda_hat':>10} {'test coverage':>14} {'mean width':>11}")
    for shape in ("absolute", "normalized"):
        crr = ConformalRiskRegressor(skreg.SqrtLassoCV(), alpha=0.1,
                                     conformity_score=shape, random_state=0)
        crr.fit(X_train, y_train)
        lower, upper = crr.predict_interval(X_test).T
        covered = np.mean((lower <= y_test) & (y_test <= upper))
        print(f"{shape:<16} {crr.lambda_hat_:>10.3f} {covered:>14.3f} "
              f"{np.mean(upper - lower):>11.1f}")


if __name__ == "__main__":
    main()
