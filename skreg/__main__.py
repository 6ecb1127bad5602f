"""Demo: ``python -m skreg`` fits the sparse regressors on the diabetes data."""

import time

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import skreg


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
    ]
    print(f"{'model':<32} {'alpha':>8} {'nnz':>4} {'test RMSE':>10} {'test MAE':>9} "
          f"{'dual gap':>9} {'time ms':>8}")
    for name, model in models:
        start = time.perf_counter()
        model.fit(X_train, y_train)
        ms = (time.perf_counter() - start) * 1e3
        err = y_test - model.predict(X_test)
        print(f"{name:<32} {model.alpha_:>8.4f} {np.count_nonzero(model.coef_):>4d} "
              f"{np.sqrt(np.mean(err ** 2)):>10.2f} {np.mean(np.abs(err)):>9.2f} "
              f"{model.dual_gap_:>9.1e} {ms:>8.1f}")
    shown = [models[0], models[2], models[3]]
    print("\nCoefficients (0 = not selected):")
    print(f"{'feature':>8} " + " ".join(f"{name[:-2]:>14}" for name, _ in shown))
    for j, feature in enumerate(data.feature_names):
        print(f"{feature:>8} " + " ".join(f"{m.coef_[j]:>14.2f}" for _, m in shown))
    print("\nThe time of the first model includes loading the compiled kernels "
          "(numba cache).")


if __name__ == "__main__":
    main()
