"""Ordering of model versions (mlgitops.versions), used by the promotion-order check."""

from __future__ import annotations

import pytest

from mlgitops.versions import is_older, version_key

# Each list is strictly increasing.
ORDERED = [
    ["0.9.9", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta", "1.0.0-rc.1", "1.0.0-rc.2", "1.0.0", "1.0.1"],
    ["1.2.0", "1.9.0", "1.10.0", "1.10.1", "2.0.0", "10.0.0"],
    ["1.0.0-rc.2", "1.0.0-rc.9", "1.0.0-rc.10"],
    ["1.0.0-rc.1", "1.0.0-rc.beta"],  # numeric identifiers before alphanumeric ones
    ["2025-12-31", "2026-01-01", "2026-11-01"],
    ["v1.4.2", "v1.5.0", "1.6.0"],
    ["1", "1.0.1", "1.1", "2"],
]


@pytest.mark.parametrize("versions", ORDERED, ids=[" < ".join(v) for v in ORDERED])
def test_ordering(versions: list[str]) -> None:
    for i, low in enumerate(versions):
        for high in versions[i + 1 :]:
            assert is_older(low, high), f"{low} should be older than {high}"
            assert not is_older(high, low), f"{high} should not be older than {low}"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("1.2", "1.2.0"),  # missing numbers count as zero
        ("v1.2.0", "1.2.0"),  # a leading v is ignored
        ("1.2.0+build.7", "1.2.0"),  # build metadata does not order
        ("1.2.0+build.7", "1.2.0+build.8"),
        ("2026.11.01", "2026-11-01"),
    ],
)
def test_equal_precedence(a: str, b: str) -> None:
    assert version_key(a) == version_key(b)
    assert not is_older(a, b)
    assert not is_older(b, a)


@pytest.mark.parametrize("text", ["latest", "nightly-2026", "main", "abc123", "release-1.0", "", "1.0 beta"])
def test_non_numeric_versions_are_not_comparable(text: str) -> None:
    assert version_key(text) is None
    assert not is_older(text, "1.0.0")
    assert not is_older("1.0.0", text)


def test_a_version_is_not_older_than_itself() -> None:
    for version in ["1.0.0", "1.0.0-rc.1", "2026-11-01", "v3"]:
        assert version_key(version) is not None
        assert not is_older(version, version)


def test_pre_release_sorts_before_release_but_after_previous_release() -> None:
    assert is_older("1.5.0-rc1", "1.5.0")
    assert is_older("1.4.9", "1.5.0-rc1")
    # numeric identifiers are compared as numbers
    assert is_older("1.5.0-rc.9", "1.5.0-rc.10")


def test_dashed_numbers_are_numbers_not_pre_releases() -> None:
    """``2026-11-01`` is a date-like version, so ``1.5.0-1`` is 1.5.0.1, after 1.5.0."""
    assert is_older("1.5.0", "1.5.0-1")
    assert is_older("2026-11-01", "2026-11-02")
