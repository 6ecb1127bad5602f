"""Demo: ``python -m skreg`` fits the sparse regressors on the diabetes data."""

import time

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import skreg


def _row(name, model, X_test, y_test, seconds):
    err = y_test - model.predict(X_test)
    nnz = int(np.count_nonzero(model.coef_))
    return (f"{name:<28} {model.alpha:>8.4f} {nnz:>4d} {np.sqrt(np.mean(err ** 2)):>8.2f} "
            f"{np.mean(np.abs(err)):>8.2f} {model.dual_gap_:>10.2e} {seconds * 1e3:>8.1f}")


def main():
    data = load_diabetes()
    X = StandardScaler().fit_transform(data.data)
    X_train, X_test, y_train, y_test = train_test_split(X, data.target, random_state=0)
    print(f"skreg {skreg.__version__}: sparse regression on scikit-learn's diabetes data")
    print(f"({X_train.shape[0]} training / {X_test.shape[0]} test samples, "
          f"{X.shape[1]} standardised features)\n")
    candidates = [("WeightedLasso", skreg.WeightedLasso(alpha=1.0))]
    # The age and sex features are left unpenalised (weight 0).
    weights = np.r_[0.0, 0.0, np.ones(X.shape[1] - 2)]
    candidates.append(("WeightedLasso (age, sex free)",
                       skreg.WeightedLasso(alpha=1.0, weights=weights)))
    candidates.append(("SqrtLasso", skreg.SqrtLasso(alpha=0.05)))
    for name in ("LADLasso",):
        if hasattr(skreg, name):
            candidates.append((name, getattr(skreg, name)(alpha=0.5)))
    print(f"{'model':<28} {'alpha':>8} {'nnz':>4} {'RMSE':>8} {'MAE':>8} "
          f"{'dual gap':>10} {'fit ms':>8}")
    chosen = {}
    for name, model in candidates:
        start = time.perf_counter()
        model.fit(X_train, y_train)
        print(_row(name, model, X_test, y_test, time.perf_counter() - start))
        chosen[name] = model
    print("\nWeightedLasso coefficients (non-zero):")
    model = chosen["WeightedLasso"]
    for j in np.flatnonzero(model.coef_):
        print(f"  {data.feature_names[j]:>4}: {model.coef_[j]:+8.2f}")


if __name__ == "__main__":
    main()
