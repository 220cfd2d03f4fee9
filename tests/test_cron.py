"""Five-field cron expressions (mlgitops.spec.cron)."""

from __future__ import annotations

import re

import pytest

from mlgitops.spec.cron import cron_problem
from mlgitops.spec.types import CRON_PATTERN


@pytest.mark.parametrize(
    "expression",
    [
        "0 3 * * 1",
        "* * * * *",
        "*/15 * * * *",
        "0 9-17/2 * * 1-5",
        "0 9-17 * * MON-FRI",
        "30 4 1,15 * *",
        "0 0 1 jan,jul *",
        "0 0 1 JAN-JUN/2 *",
        "59 23 31 12 6",
        "0 0 * * sun",
        "  0   3 * *   1  ",  # runs of spaces separate fields
    ],
)
def test_valid(expression: str) -> None:
    assert cron_problem(expression) is None
    assert re.match(CRON_PATTERN, expression), "the JSON Schema refuses a cron the validator accepts"


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("", "a cron expression has 5 fields (minute hour day month weekday), not 0"),
        ("0 3 * *", "a cron expression has 5 fields (minute hour day month weekday), not 4"),
        ("0 0 3 * * *", "a cron expression has 5 fields (minute hour day month weekday), not 6"),
        (
            "@daily",
            "macros such as '@daily' are not understood by every CI; write the five fields, e.g. '0 0 * * *'",
        ),
        ("60 * * * *", "minute field '60': 60 is outside 0-59"),
        ("0 24 * * *", "hour field '24': 24 is outside 0-23"),
        ("0 0 0 * *", "day of month field '0': 0 is outside 1-31"),
        ("0 0 32 * *", "day of month field '32': 32 is outside 1-31"),
        ("0 0 * 13 *", "month field '13': 13 is outside 1-12"),
        ("0 0 * * 7", "day of week field '7': 7 is outside 0-6"),
        ("0 3-1 * * *", "hour field '3-1': range '3-1' runs backwards"),
        ("*/0 * * * *", "minute field '*/0': step '0' must be a positive number"),
        ("0 */x * * *", "hour field '*/x': step 'x' must be a positive number"),
        ("5/15 * * * *", "minute field '5/15': a step needs '*' or a range before it"),
        ("0 0 L * *", "day of month field 'L': 'L' is not a number, range or name"),
        ("0 0 ? * *", "day of month field '?': '?' is not a number, range or name"),
        ("0 0 * * 1#2", "day of week field '1#2': '1#2' is not a number, range or name"),
        ("0,,5 * * * *", "minute field '0,,5': '' is not a number, range or name"),
        ("-5 * * * *", "minute field '-5': '-5' is not a number, range or name"),
        ("0 0 * foo *", "month field 'foo': 'foo' is not a number, range or name"),
        ("0 0 * * monday", "day of week field 'monday': 'monday' is not a number, range or name"),
        ("0 0 * mon * ", "month field 'mon': 'mon' is not a number, range or name"),
        ("0 \u0663 * * *", "hour field '\u0663': '\u0663' is not a number, range or name"),
        ("*/\u00b2 * * * *", "minute field '*/\u00b2': step '\u00b2' must be a positive number"),
    ],
)
# Non-ASCII digits: str.isdigit() takes them, int() does not all ("²"), and no cron reads them.
def test_invalid(expression: str, problem: str) -> None:
    assert cron_problem(expression) == problem


def test_first_problem_is_reported_field_by_field() -> None:
    # Both minute and hour are wrong; the minute comes first.
    assert cron_problem("61 25 * * *") == "minute field '61': 61 is outside 0-59"
