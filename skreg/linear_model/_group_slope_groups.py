"""Validation of the ``groups`` and ``l1_ratio`` parameters of the group-SLOPE models.

A partition of the features is stored as two integer arrays, the layout every
numba kernel of the family takes: ``order`` lists the feature indices group by
group, and group ``g`` is ``order[starts[g]:starts[g + 1]]``.
"""

import numbers

import numpy as np


class GroupPartition:
    """A partition of ``range(n_features)`` into non-empty groups.

    Attributes
    ----------
    order : ndarray of int64, shape (n_features,)
        Feature indices, group after group.
    starts : ndarray of int64, shape (n_groups + 1,)
        Group ``g`` holds ``order[starts[g]:starts[g + 1]]``.
    sizes : ndarray of float64, shape (n_groups,)
        Number of features ``p_g`` of each group.
    weights : ndarray of float64, shape (n_groups,)
        ``sqrt(p_g)``, the factor of each group norm in the penalty.
    group_of : ndarray of int64, shape (n_features,)
        Group index of each feature.
    """

    def __init__(self, members):
        sizes = np.array([len(m) for m in members], dtype=np.int64)
        self._set(np.concatenate(members).astype(np.int64), sizes)

    @classmethod
    def from_arrays(cls, order, sizes):
        """Partition from ``order`` (features group after group) and the group sizes."""
        part = cls.__new__(cls)
        part._set(np.asarray(order, dtype=np.int64), np.asarray(sizes, dtype=np.int64))
        return part

    def _set(self, order, sizes):
        self.n_groups = sizes.size
        self.sizes = sizes.astype(np.float64)
        self.starts = np.zeros(self.n_groups + 1, dtype=np.int64)
        np.cumsum(sizes, out=self.starts[1:])
        self.order = order
        self.n_features = order.size
        self.weights = np.sqrt(self.sizes)
        self.group_of = np.empty(self.n_features, dtype=np.int64)
        self.group_of[order] = np.repeat(np.arange(self.n_groups, dtype=np.int64), sizes)
        self._feature_weights = self.weights[self.group_of]
        self._feature_weights.flags.writeable = False

    def feature_weights(self):
        """``sqrt(p_g)`` repeated for every feature of group ``g`` (read-only)."""
        return self._feature_weights

    def features(self, groups):
        """Sorted feature indices of the given groups."""
        groups = np.asarray(groups, dtype=np.int64)
        if groups.size == 0:
            return np.empty(0, dtype=np.int64)
        return np.flatnonzero(np.isin(self.group_of, groups))

    def restrict(self, groups):
        """Partition of the features of ``groups``, renumbered ``0..k-1``.

        Returns the sub-partition and the (sorted) original feature indices,
        so that column ``i`` of the restricted problem is feature ``idx[i]``.
        """
        groups = np.asarray(groups, dtype=np.int64)
        sizes = self.starts[groups + 1] - self.starts[groups]
        # Positions in ``order`` of the members of ``groups``, group after group.
        offsets = np.repeat(self.starts[groups] - np.cumsum(sizes) + sizes, sizes)
        members = self.order[offsets + np.arange(int(sizes.sum()))]
        idx = np.sort(members)
        position = np.empty(self.n_features, dtype=np.int64)
        position[idx] = np.arange(idx.size)
        return GroupPartition.from_arrays(position[members], sizes), idx


def check_groups(groups, n_features):
    """Validate ``groups`` and return a :class:`GroupPartition`.

    Parameters
    ----------
    groups : int, array-like of int of shape (n_features,), or list of lists
        * an int ``g``: contiguous groups of ``g`` features (the last one
          may be smaller);
        * one integer label per feature: features with equal labels form a
          group, groups ordered by label;
        * a list of lists of feature indices covering every feature exactly
          once, in the given order.
    n_features : int

    Returns
    -------
    GroupPartition
    """
    if groups is None:
        raise ValueError("groups is required: give an int, a label per feature, "
                         "or a list of index lists.")
    if isinstance(groups, numbers.Integral) and not isinstance(groups, bool):
        if groups < 1:
            raise ValueError(f"groups, as an int, must be at least 1, got {groups}.")
        return GroupPartition([np.arange(s, min(s + groups, n_features))
                               for s in range(0, n_features, int(groups))])
    if isinstance(groups, (str, bytes, bool, float)):
        raise TypeError(f"groups must be an int, an array of labels or a list of "
                        f"index lists, got {groups!r}.")
    as_list = list(groups)
    if as_list and all(isinstance(m, (list, tuple, range, np.ndarray)) for m in as_list):
        return _from_index_lists(as_list, n_features)
    try:
        labels = np.asarray(as_list)
    except ValueError as exc:
        raise TypeError("groups must be an int, an array of labels or a list of "
                        "index lists.") from exc
    if labels.ndim != 1 or labels.shape[0] != n_features:
        raise ValueError(f"groups, as labels, must have one entry per feature "
                         f"(n_features={n_features}), got shape {labels.shape}.")
    if labels.dtype.kind not in "iu":
        if labels.dtype.kind == "f" and np.all(np.isfinite(labels)) \
                and np.all(labels == np.round(labels)):
            labels = labels.astype(np.int64)
        else:
            raise TypeError("groups, as labels, must be integers.")
    _, inverse = np.unique(labels, return_inverse=True)
    return GroupPartition([np.flatnonzero(inverse == g)
                           for g in range(inverse.max() + 1)])


def _from_index_lists(as_list, n_features):
    members = []
    for g, m in enumerate(as_list):
        idx = np.asarray(m)
        if idx.size == 0:
            raise ValueError(f"groups: group {g} is empty.")
        if idx.dtype.kind not in "iu":
            raise TypeError(f"groups: group {g} must hold integer feature indices.")
        if idx.min() < 0 or idx.max() >= n_features:
            raise ValueError(f"groups: group {g} has indices outside "
                             f"[0, {n_features - 1}].")
        members.append(idx.astype(np.int64))
    counts = np.bincount(np.concatenate(members), minlength=n_features)
    if np.any(counts > 1):
        raise ValueError(f"groups: features {np.flatnonzero(counts > 1)[:10].tolist()} "
                         "belong to more than one group.")
    if np.any(counts == 0):
        raise ValueError(f"groups must cover every feature; features "
                         f"{np.flatnonzero(counts == 0)[:10].tolist()} are in no group.")
    return GroupPartition(members)


def check_l1_ratio(l1_ratio):
    """``l1_ratio`` as a float in [0, 1]."""
    if isinstance(l1_ratio, bool) or not isinstance(l1_ratio, numbers.Real):
        raise TypeError(f"l1_ratio must be a number, got {l1_ratio!r}.")
    if not (0.0 <= float(l1_ratio) <= 1.0):
        raise ValueError(f"l1_ratio must be in [0, 1], got {l1_ratio}.")
    return float(l1_ratio)
