"""Regex matchers of metric selectors must compile under RE2 (Go's regexp, which Prometheus uses).

Both ways of checking are tested on one table: RE2 itself (the ``re2`` extra, part of
``dev``) and the conservative fallback used when it is not installed.
"""

from __future__ import annotations

import pytest

from mlgitops.spec import re2syntax
from mlgitops.spec.re2syntax import re2_problem, selector_problem, subset_problem

VALID = [
    "5..",
    "[a-z]+",
    ".*-predictor-[a-z0-9]+-[a-z0-9]+",
    "a{1000}",
    "x{,3}",
    r"\z",
    r"\pL\p{Greek}\PN",
    "(?i)a(?s)b",
    "(?i-s:a)",
    "(?U)a*",
    "[[:alpha:]][[:^digit:]]",
    "(?P<n>a)(?<m>b)",
    "a*?b+?c??",
    r"\Q.*\E",
    r"\12",
    r"\x41\x{263a}",
    "[]a]",
    "\\(?=",  # an escaped parenthesis, then an optional '='
    "é",
    "a|b|(c)",
]
INVALID = [
    "(?=a)",
    "(?!x)",
    "(?<=a)b",
    "(?<!a)b",
    "(?>a)",
    "(?#comment)",
    "(?P=n)",
    r"(a)\1",
    r"\8",
    "a*+",
    "a?+",
    "a{2}+",
    "a**",
    "a{2000}",
    "a{3,2}",
    r"\Z",
    r"\u0041",
    r"\e",
    r"\k<n>",
    r"\é",
    r"[\b]",
    r"\C",
    "(?x)a",
    "(?i-)",
    "(a|b",
    "a)",
    "[abc",
    "*a",
]


@pytest.mark.parametrize("pattern", VALID)
def test_valid_with_re2(pattern: str) -> None:
    assert re2_problem(pattern) is None


@pytest.mark.parametrize("pattern", INVALID)
def test_invalid_with_re2(pattern: str) -> None:
    assert re2_problem(pattern) is not None


@pytest.mark.parametrize("pattern", VALID)
def test_valid_with_the_fallback(pattern: str) -> None:
    assert subset_problem(pattern) is None


@pytest.mark.parametrize("pattern", INVALID)
def test_invalid_with_the_fallback(pattern: str) -> None:
    assert subset_problem(pattern) is not None


def test_re2_is_the_library_when_installed() -> None:
    """The dev install has google-re2, so the table above ran RE2 itself."""
    assert re2syntax._re2_compiler() is not None
    assert re2_problem("(?=a)") == "invalid perl operator: (?="


def test_fallback_when_re2_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(re2syntax, "_re2_compiler", lambda: None)
    assert re2_problem("(?=a)") == "RE2 has no lookahead (?=...)"
    assert re2_problem("a*+") == "'*+': RE2 has no possessive quantifier"
    assert re2_problem("5..") is None


def test_selector_checks_only_regex_matchers_and_fills_placeholders() -> None:
    assert selector_problem('m{a="(?=x)", b!="\\\\1"}') is None  # equality matchers are no regex
    assert selector_problem('m{pod=~"{model}-predictor-.*"}') is None
    assert selector_problem('m{a="x=~\\"(?=\\"", code=~"5.."}') is None  # '=~' inside a value
    problem = selector_problem('m{code=~"5..", path!~"(?>a)"}')
    assert problem == 'the regex of path!~"(?>a)" is not valid RE2: invalid perl operator: (?>'
