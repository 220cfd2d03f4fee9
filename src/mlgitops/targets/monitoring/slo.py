"""SLO arithmetic: windows, error budgets and multiwindow burn-rate thresholds.

The alerting scheme is the one the Google SRE workbook recommends ("Alerting on
SLOs", multiwindow multi-burn-rate alerts).  Each alert condition is a pair of
windows: the long window proves that a given share of the error budget is
really gone, the short one (1/12 of the long) that it is still burning now, so
the alert resets quickly once the burn stops.

    severity  long  short  budget share spent    factor at 30 days
    page      1h    5m     2 %                   14.4
    page      6h    30m    5 %                   6
    ticket    1d    2h     10 %                  3
    ticket    3d    6h     10 %                  1

The factor is the burn rate (multiple of the error rate the objective allows)
that spends ``share`` of the budget within the long window:
``share × SLO window / long window``.  For other SLO windows the factor scales
the same way, but never goes below 1: a burn rate of 1 spends exactly the whole
budget over the SLO window, so alerting on less would page people for a service
that meets its objective (it would happen at 28d for the 3d pair: 0.93, and at
7d for both ticket pairs).

Numbers are kept as exact decimals/fractions and written with at most six
decimals, so the rules read ``(14.4 * 0.001)`` rather than a binary-float
approximation.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_UNIT_MS["y"] = 365 * _UNIT_MS["d"]
_PART = re.compile(r"([0-9]+)(ms|s|m|h|d|w|y)")
_FORMAT_UNITS = (("d", _UNIT_MS["d"]), ("h", _UNIT_MS["h"]), ("m", _UNIT_MS["m"]), ("s", 1000), ("ms", 1))

MINUTE_MS = _UNIT_MS["m"]
# Windows every SLO records ratios for (the SLO window itself is added per SLO).
RECORDED_WINDOWS_MS = (
    5 * MINUTE_MS,
    30 * MINUTE_MS,
    60 * MINUTE_MS,
    120 * MINUTE_MS,
    360 * MINUTE_MS,
    _UNIT_MS["d"],
    3 * _UNIT_MS["d"],
)


def duration_ms(text: str) -> int:
    """Milliseconds in a Prometheus duration (``30d``, ``1h30m``, ``250ms``); validated by the spec."""
    return sum(int(n) * _UNIT_MS[unit] for n, unit in _PART.findall(text))


@functools.cache  # a few distinct windows, formatted for every rule of every deployment
def format_duration(ms: int) -> str:
    """Canonical Prometheus duration, largest units first and no weeks or years: ``7d``, ``1h30m``."""
    if ms <= 0:
        return "0s"
    parts = []
    for unit, size in _FORMAT_UNITS:
        count, ms = divmod(ms, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class BurnWindow:
    """One multiwindow condition of the SRE workbook."""

    severity: str  # "page" | "ticket"
    long_ms: int
    short_ms: int
    budget_share: Fraction  # share of the whole error budget spent within the long window

    @property
    def long(self) -> str:
        return format_duration(self.long_ms)

    @property
    def short(self) -> str:
        return format_duration(self.short_ms)


BURN_WINDOWS = (
    BurnWindow("page", 60 * MINUTE_MS, 5 * MINUTE_MS, Fraction(2, 100)),
    BurnWindow("page", 360 * MINUTE_MS, 30 * MINUTE_MS, Fraction(5, 100)),
    BurnWindow("ticket", _UNIT_MS["d"], 120 * MINUTE_MS, Fraction(10, 100)),
    BurnWindow("ticket", 3 * _UNIT_MS["d"], 360 * MINUTE_MS, Fraction(10, 100)),
)
SEVERITIES = ("page", "ticket")


@functools.cache  # exact fractions, asked for every window of every SLO: a few distinct pairs
def burn_factor(window: BurnWindow, slo_window_ms: int) -> Decimal:
    """The burn-rate factor of ``window`` for an SLO over ``slo_window_ms``, rounded to six decimals."""
    exact = max(Fraction(1), window.budget_share * Fraction(slo_window_ms, window.long_ms))
    return rounded(exact)


@functools.cache  # a few distinct objectives, asked for every SLO of every environment
def error_budget(objective: float) -> Decimal:
    """Allowed share of bad events: 99.9 → 0.001 (from the objective's decimal spelling, not its float)."""
    return (Decimal(100) - Decimal(repr(objective))) / Decimal(100)


def rounded(value: Fraction | Decimal) -> Decimal:
    """At most six decimals, trailing zeros dropped (14.4, 0.933333, 3)."""
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return value.quantize(Decimal("0.000001")).normalize()


def number(value: Decimal | int) -> str:
    """Plain decimal text (never an exponent) for PromQL, promtool and annotations."""
    text = format(Decimal(value).normalize(), "f")
    return text


def recorded_windows(slo_window_ms: int) -> list[int]:
    return sorted({*RECORDED_WINDOWS_MS, slo_window_ms})


def threshold_in(unit: str, threshold_ms: int) -> Decimal:
    """A latency threshold expressed in a histogram's unit ("seconds" or "milliseconds")."""
    return Decimal(threshold_ms) if unit == "milliseconds" else Decimal(threshold_ms) / 1000


def le_spellings(value: Decimal) -> list[str]:
    """Every way a client library writes the bucket boundary ``value`` in the ``le`` label.

    Go clients print ``strconv.FormatFloat(v, 'g', -1, 64)`` (``1``, ``0.25``, ``1e+06``), Python's
    ``prometheus_client`` prints ``repr(float)`` (``1.0``); Prometheus 3 normalises them on
    ingestion, Prometheus 2 does not, so the rules match all spellings.
    """
    as_float = float(value)
    spellings = [go_float(as_float), repr(as_float), number(value)]
    return sorted(set(spellings), key=spellings.index)


def go_float(value: float) -> str:
    """Go's ``strconv.FormatFloat(value, 'g', -1, 64)``: shortest digits, exponent below 1e-4 or from 1e6."""
    if value == 0:
        return "0"
    digits, exponent = _shortest(value)
    if exponent < -4 or exponent >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        sign = "-" if exponent < 0 else "+"
        return f"{'-' if value < 0 else ''}{mantissa}e{sign}{abs(exponent):02d}"
    text = format(Decimal(repr(abs(value))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return ("-" if value < 0 else "") + text


def _shortest(value: float) -> tuple[str, int]:
    """The shortest round-trip digits of ``value`` and its decimal exponent (as in d.ddd × 10^e)."""
    _, digits, exp = Decimal(repr(abs(value))).normalize().as_tuple()
    text = "".join(map(str, digits))
    assert isinstance(exp, int)
    return text, exp + len(text) - 1
