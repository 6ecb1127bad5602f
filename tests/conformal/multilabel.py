"""A fast multilabel data set (sklearn's make_multilabel_classification can
take tens of seconds for some sizes and seeds: it samples by rejection)."""

import numpy as np


def make_multilabel(n_samples, n_features=8, n_classes=5, seed=0):
    """Labels drawn independently from a logistic model of X; at least one per row."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features))
    W = rng.normal(size=(n_features, n_classes))
    logits = X @ W - 1.0
    Y = rng.uniform(size=logits.shape) < 1 / (1 + np.exp(-logits))
    empty = ~Y.any(axis=1)
    Y[empty, np.argmax(logits[empty], axis=1)] = True
    return X, Y.astype(int)
