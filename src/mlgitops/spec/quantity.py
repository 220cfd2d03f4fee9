"""Kubernetes resource quantities (``500m``, ``2Gi``, ``1e3``)."""

from __future__ import annotations

import re
from decimal import Decimal

# The grammar of k8s.io/apimachinery/pkg/api/resource.Quantity, unsigned:
# resources requests and limits are never negative.
QUANTITY_PATTERN = (
    r"^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
    r"(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?$"
)
_QUANTITY = re.compile(QUANTITY_PATTERN)
_SUFFIX = re.compile(r"(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)$")

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}


def is_quantity(text: str) -> bool:
    return _QUANTITY.match(text) is not None


def quantity_value(text: str) -> Decimal:
    """The numeric value of a valid quantity (``500m`` → 0.5), for comparisons."""
    suffix_match = _SUFFIX.search(text)
    suffix = suffix_match.group(0) if suffix_match else ""
    number = Decimal(text[: len(text) - len(suffix)] or "0")
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix[:1] in ("e", "E"):
        return number * Decimal(10) ** int(suffix[1:])
    return number * _DECIMAL[suffix]
