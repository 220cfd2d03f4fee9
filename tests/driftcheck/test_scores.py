"""PSI against hand-computed values (empty bins included), KS against scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from mlgitops_drift import scores
from scipy.stats import ks_2samp


def test_psi_of_two_bins_by_hand() -> None:
    # (0.25 - 0.5)·ln(0.25/0.5) + (0.75 - 0.5)·ln(0.75/0.5)
    expected = 0.25 * math.log(2) + 0.25 * math.log(1.5)
    assert scores.psi_from_shares([0.5, 0.5], [0.25, 0.75]) == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(0.274653, abs=1e-6)


def test_psi_floors_an_empty_bin_at_one_in_ten_thousand() -> None:
    # The reference never saw bin 3: its share counts as 0.0001, not 0 (ln would be infinite).
    expected = 0.0 + (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.25 - 0.0001) * math.log(0.25 / 0.0001)
    assert scores.psi_from_shares([0.5, 0.5, 0.0], [0.5, 0.25, 0.25]) == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(2.128516, abs=1e-6)


def test_psi_numeric_bins_at_the_reference_deciles() -> None:
    reference = np.arange(1, 101, dtype=np.float64)  # deciles 10.9, 20.8, ...: ten values per bin
    edges = scores.decile_edges(reference)
    assert edges[0] == pytest.approx(10.9)
    assert list(scores.numeric_shares(reference, edges)) == pytest.approx([0.1] * 10)
    # Every live value in the first bin: 0.9·ln(10) for it, nine empty bins at 0.0001.
    current = np.full(50, 5.0)
    expected = 0.9 * math.log(1 / 0.1) + 9 * (0.0001 - 0.1) * math.log(0.0001 / 0.1)
    assert scores.psi_numeric(reference, current) == pytest.approx(expected, rel=1e-12)
    assert scores.psi_numeric(reference, reference.copy()) == 0.0


def test_a_value_on_a_decile_falls_in_the_lower_bin() -> None:
    edges = np.array([1.0, 2.0])
    assert list(scores.numeric_shares(np.array([1.0, 2.0, 2.5]), edges)) == pytest.approx([1 / 3] * 3)


def test_psi_categorical_has_a_bin_for_unseen_categories() -> None:
    reference = ["a", "a", "b", "b"]
    current = ["a", "b", "c", "c"]  # categories a, b, then unseen
    expected = (0.25 - 0.5) * math.log(0.25 / 0.5) * 2 + (0.5 - 0.0001) * math.log(0.5 / 0.0001)
    assert scores.psi_categorical(reference, current) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ks_equals_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    reference, current = rng.normal(0, 1, 500), rng.normal(0.3, 1.2, 300)
    assert scores.ks_numeric(reference, current) == ks_2samp(reference, current).statistic
    assert scores.score("ks", reference, current) == ks_2samp(reference, current).statistic


def test_ks_categorical_ranks_categories_by_reference_frequency() -> None:
    reference = ["b", "b", "b", "a"]  # b ranks 0, a ranks 1, unseen 2
    current = ["a", "c", "c", "c"]
    expected = ks_2samp([0, 0, 0, 1], [1, 2, 2, 2]).statistic
    # At rank 0 the ECDFs are 3/4 (reference) and 0 (current).
    assert scores.ks_categorical(reference, current) == expected == 0.75


def test_mixed_samples_are_refused() -> None:
    with pytest.raises(TypeError):
        scores.score("psi", np.array([1.0]), ["a"])
