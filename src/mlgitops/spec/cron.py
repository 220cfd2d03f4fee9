"""Five-field cron expressions, as GitHub Actions, GitLab and Kubernetes CronJobs accept them.

Only the common subset is accepted: numbers, ``*``, ranges ``a-b``, steps
``/n``, lists ``a,b`` and three-letter month and weekday names.  Macros such
as ``@daily`` and seconds fields are rejected because GitHub Actions does not
understand them.
"""

from __future__ import annotations

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")

# (field name, lowest, highest, names mapped to numbers)
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, {name: i + 1 for i, name in enumerate(_MONTHS)}),
    ("day of week", 0, 6, {name: i for i, name in enumerate(_DAYS)}),
)


def cron_problem(expression: str) -> str | None:
    """Return why ``expression`` is not a valid five-field cron expression, or None."""
    fields = expression.split()
    if expression.strip().startswith("@"):
        return (
            "macros such as '@daily' are not understood by every CI; write the five fields, e.g. '0 0 * * *'"
        )
    if len(fields) != 5:
        return f"a cron expression has 5 fields (minute hour day month weekday), not {len(fields)}"
    for text, (name, low, high, names) in zip(fields, _FIELDS, strict=True):
        for part in text.split(","):
            problem = _part_problem(part, low, high, names)
            if problem:
                return f"{name} field {text!r}: {problem}"
    return None


def _part_problem(part: str, low: int, high: int, names: dict[str, int]) -> str | None:
    base, slash, step = part.partition("/")
    if slash and (not _is_number(step) or int(step) == 0):
        return f"step {step!r} must be a positive number"
    if base == "*":
        return None
    first, dash, last = base.partition("-")
    values = [_value(first, names)] + ([_value(last, names)] if dash else [])
    for value in values:
        if value is None:
            return f"{part!r} is not a number, range or name"
        if not low <= value <= high:
            return f"{value} is outside {low}-{high}"
    if dash and values[0] is not None and values[1] is not None and values[0] > values[1]:
        return f"range {base!r} runs backwards"
    if slash and not dash:
        # "5/15" is shorthand for "5-max/15" in Vixie cron but GitHub rejects it.
        return "a step needs '*' or a range before it"
    return None


def _is_number(text: str) -> bool:
    """ASCII digits only: str.isdigit() also takes '٣' and '³', which no cron reads."""
    return text.isascii() and text.isdigit()


def _value(text: str, names: dict[str, int]) -> int | None:
    if _is_number(text):
        return int(text)
    return names.get(text.lower())
