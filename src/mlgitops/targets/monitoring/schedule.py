"""How long a cron schedule can leave between two runs.

The drift check compares the inputs a model received since its previous run
with the reference data, so it needs to know how far back "since the previous
run" goes.  That is not a property a cron expression states: ``0 9-17 * * 1-5``
runs hourly on weekdays but leaves 64 hours over a weekend.  We take the
longest gap, so that every live request falls into at least one window (the
shorter gaps then overlap, which only repeats a comparison).

Expressions are the validated five-field subset of :mod:`mlgitops.spec.cron`.
Days follow cron's rule (Vixie cron and Kubernetes alike): when both the
day-of-month and the day-of-week field are restricted, a day matches if
*either* does.  The calendar scanned is a fixed span of years (two leap days
included), never today's date, so the answer is the same on every machine.
"""

from __future__ import annotations

import datetime
from functools import cache
from itertools import pairwise

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_NAMES: tuple[dict[str, int], ...] = (
    {},
    {},
    {},
    {name: i + 1 for i, name in enumerate(_MONTHS)},
    {name: i for i, name in enumerate(_DAYS)},
)
_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
# 2025-01-01 .. 2032-12-31: eight years, so a "29 2" schedule shows its four-year gap.
_FIRST_DAY = datetime.date(2025, 1, 1)
_SPAN_DAYS = (datetime.date(2033, 1, 1) - _FIRST_DAY).days
MINUTES_PER_DAY = 24 * 60


def _expand(text: str, field: int) -> frozenset[int]:
    low, high = _BOUNDS[field]
    names = _NAMES[field]
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            first, last = low, high
        else:
            start, dash, end = base.partition("-")
            first = _number(start, names)
            last = _number(end, names) if dash else first
        values.update(range(first, last + 1, step))
    return frozenset(values)


def _number(text: str, names: dict[str, int]) -> int:
    return int(text) if text.isdigit() else names[text.lower()]


@cache
def longest_gap_minutes(expression: str) -> int | None:
    """The longest time between two consecutive runs, in minutes; None if it runs at most once."""
    fields = expression.split()
    minutes, hours = _expand(fields[0], 0), _expand(fields[1], 1)
    times = sorted(h * 60 + m for h in hours for m in minutes)
    run_days = _run_days(fields[2], fields[3], fields[4])
    if not run_days or (len(run_days) == 1 and len(times) == 1):
        return None
    gaps = [later - earlier for earlier, later in pairwise(times)]
    gaps += [
        (later - earlier) * MINUTES_PER_DAY - times[-1] + times[0] for earlier, later in pairwise(run_days)
    ]
    return max(gaps)


@cache
def _run_days(days_text: str, months_text: str, weekdays_text: str) -> tuple[int, ...]:
    """The days (offsets into the scanned span) a schedule runs on; cached apart from the times
    of day, since most schedules share their day fields ("* * *")."""
    days, months, weekdays = _expand(days_text, 2), _expand(months_text, 3), _expand(weekdays_text, 4)
    # A field written with "*" (also "*/2") is unrestricted for the day-matching rule.
    either = not days_text.startswith("*") and not weekdays_text.startswith("*")
    run_days = []
    for offset in range(_SPAN_DAYS):
        day = _FIRST_DAY + datetime.timedelta(days=offset)
        if day.month not in months:
            continue
        by_date, by_weekday = day.day in days, day.isoweekday() % 7 in weekdays
        if (by_date or by_weekday) if either else (by_date and by_weekday):
            run_days.append(offset)
    return tuple(run_days)
