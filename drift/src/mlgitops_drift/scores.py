"""Drift scores of one feature: the reference sample against the current window's.

Both follow docs/drift.md: PSI bins numeric values at the reference's deciles and
categorical values by the reference's categories (plus one bin for unseen ones), with
empty bins floored at ``EMPTY_BIN_SHARE``; KS is ``scipy.stats.ks_2samp``'s statistic,
categories ranked by their frequency in the reference.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy.stats import ks_2samp

EMPTY_BIN_SHARE = 0.0001  # an empty bin's share, so ln(current/reference) is defined
DECILES = np.linspace(0.1, 0.9, 9)

Numbers = NDArray[np.float64]


def psi_from_shares(reference: Sequence[float] | Numbers, current: Sequence[float] | Numbers) -> float:
    """Σ (current − reference) · ln(current / reference) over bins, empty bins floored."""
    ref = np.maximum(np.asarray(reference, dtype=np.float64), EMPTY_BIN_SHARE)
    cur = np.maximum(np.asarray(current, dtype=np.float64), EMPTY_BIN_SHARE)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def decile_edges(reference: Numbers) -> Numbers:
    """The reference's distinct deciles: the inner edges of at most ten bins."""
    return np.unique(np.quantile(reference, DECILES))


def numeric_shares(values: Numbers, edges: Numbers) -> Numbers:
    """Share of ``values`` in each bin ``(-inf, e0], (e0, e1], ..., (e_last, inf)``."""
    bins = np.searchsorted(edges, values, side="left")
    counts = np.bincount(bins, minlength=len(edges) + 1).astype(np.float64)
    return counts / len(values)


def psi_numeric(reference: Numbers, current: Numbers) -> float:
    edges = decile_edges(reference)
    return psi_from_shares(numeric_shares(reference, edges), numeric_shares(current, edges))


def categories_by_frequency(reference: Sequence[str]) -> list[str]:
    """The reference's categories, most frequent first (ties by name, so the order is stable)."""
    counts = Counter(reference)
    return sorted(counts, key=lambda category: (-counts[category], category))


def category_shares(values: Sequence[str], categories: list[str]) -> Numbers:
    """Share of each known category, then of values the reference never saw."""
    index = {category: i for i, category in enumerate(categories)}
    counts = np.zeros(len(categories) + 1, dtype=np.float64)
    for value in values:
        counts[index.get(value, len(categories))] += 1
    return counts / len(values)


def psi_categorical(reference: Sequence[str], current: Sequence[str]) -> float:
    categories = categories_by_frequency(reference)
    return psi_from_shares(category_shares(reference, categories), category_shares(current, categories))


def ks_numeric(reference: Numbers, current: Numbers) -> float:
    return float(ks_2samp(reference, current).statistic)


def ks_categorical(reference: Sequence[str], current: Sequence[str]) -> float:
    """KS on the categories' ranks in the reference; unseen categories rank last."""
    categories = categories_by_frequency(reference)
    rank = {category: float(i) for i, category in enumerate(categories)}
    unseen = float(len(categories))
    return ks_numeric(
        np.array([rank[value] for value in reference]),
        np.array([rank.get(value, unseen) for value in current]),
    )


def score(method: str, reference: Numbers | list[str], current: Numbers | list[str]) -> float:
    """The ``method`` score of one feature; both samples numeric arrays or both lists of strings."""
    if isinstance(reference, np.ndarray) and isinstance(current, np.ndarray):
        return psi_numeric(reference, current) if method == "psi" else ks_numeric(reference, current)
    if isinstance(reference, list) and isinstance(current, list):
        return psi_categorical(reference, current) if method == "psi" else ks_categorical(reference, current)
    raise TypeError("reference and current must both be numeric or both categorical")
