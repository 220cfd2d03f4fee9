"""Ordering of model versions, for the promotion-order check.

Versions are free text, but most are semantic versions (``1.4.2``,
``v2.0.0-rc1``) or dates (``2026-11-01``).  Two versions are ordered only when
both start with a dotted number; anything else is "not comparable" and the
caller falls back to exact matching.
"""

from __future__ import annotations

import re

_VERSION = re.compile(r"^v?(?P<main>[0-9]+(?:[.-][0-9]+)*)(?:[-+_.]?(?P<pre>[A-Za-z][A-Za-z0-9.]*))?$")


def version_key(version: str) -> tuple[tuple[int, ...], int, str] | None:
    """Sort key (numbers, release flag, pre-release tag), or None when not a version number."""
    match = _VERSION.match(version)
    if match is None:
        return None
    numbers = tuple(int(part) for part in re.split(r"[.-]", match.group("main")))
    pre = match.group("pre")
    # A pre-release sorts before the release of the same numbers: 1.5.0-rc1 < 1.5.0.
    return (numbers, 0 if pre else 1, pre or "")


def is_older(version: str, than: str) -> bool:
    """True when both are comparable and ``version`` comes strictly before ``than``."""
    a, b = version_key(version), version_key(than)
    if a is None or b is None:
        return False
    return _padded(a) < _padded(b)


def _padded(key: tuple[tuple[int, ...], int, str]) -> tuple[tuple[int, ...], int, str]:
    numbers, release, pre = key
    return (numbers + (0,) * (8 - len(numbers)), release, pre)
