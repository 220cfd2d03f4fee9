"""Ordering of model versions, for the promotion-order check.

Versions are free text, but most are semantic versions (``1.4.2``,
``v2.0.0-rc.1``) or dates (``2026-11-01``).  Two versions are ordered only when
both start with a dotted number; anything else is "not comparable" and the
caller falls back to exact matching.

Within comparable versions the rules are those of semantic versioning: numbers
compare numerically and missing ones count as 0 (``1.2`` = ``1.2.0``); a
pre-release sorts before its release (``1.5.0-rc.1`` < ``1.5.0``); pre-release
identifiers compare numerically when numeric (``rc.9`` < ``rc.10``), numeric
before alphanumeric; build metadata after ``+`` is ignored.
"""

from __future__ import annotations

import re

_VERSION = re.compile(
    r"^v?(?P<main>[0-9]+(?:[.-][0-9]+)*)"
    r"(?:[-_.]?(?P<pre>[A-Za-z][A-Za-z0-9.-]*))?"
    r"(?:\+[A-Za-z0-9.-]*)?$"
)
_WIDTH = 8  # numbers are padded with zeros to this many parts

Identifier = tuple[int, int | str]
VersionKey = tuple[tuple[int, ...], int, tuple[Identifier, ...]]


def version_key(version: str) -> VersionKey | None:
    """Sort key (numbers, release flag, pre-release identifiers), or None when not a version number."""
    match = _VERSION.match(version)
    if match is None:
        return None
    numbers = tuple(int(part) for part in re.split(r"[.-]", match.group("main")))
    numbers += (0,) * (_WIDTH - len(numbers))
    pre = match.group("pre")
    if not pre:
        return (numbers, 1, ())
    identifiers = tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"[.-]", pre) if part
    )
    # A pre-release sorts before the release of the same numbers: 1.5.0-rc1 < 1.5.0.
    return (numbers, 0, identifiers)


def is_older(version: str, than: str) -> bool:
    """True when both are comparable and ``version`` comes strictly before ``than``."""
    a, b = version_key(version), version_key(than)
    if a is None or b is None:
        return False
    return a < b
