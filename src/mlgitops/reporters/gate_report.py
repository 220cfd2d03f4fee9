"""The table printed by ``gate``."""

from __future__ import annotations

import json

from mlgitops.gate import GateOutcome
from mlgitops.reporters.github import escape_data, escape_property


def render(model: str, outcomes: list[GateOutcome], fmt: str) -> str:
    passed = all(o.passed for o in outcomes)
    if fmt == "json":
        document = {
            "version": 1,
            "ok": passed,
            "model": model,
            "passed": passed,
            "gates": [
                {"metric": o.metric, "value": o.value, "min": o.minimum, "max": o.maximum, "passed": o.passed}
                for o in outcomes
            ],
        }
        return json.dumps(document, indent=2) + "\n"
    if fmt == "github":
        return _table(model, outcomes, passed) + "".join(map(_annotation, outcomes))
    if fmt == "markdown":
        return _markdown(model, outcomes, passed)
    return _table(model, outcomes, passed)


def _markdown(model: str, outcomes: list[GateOutcome], passed: bool) -> str:
    """The gates as a Markdown table; metric names are spec text, so ``|`` and line breaks in
    them are escaped."""
    if not outcomes:
        return f"{_cell(model)}: no evaluation gates are defined\n"
    lines = ["| metric | value | threshold | result |", "| --- | --- | --- | --- |"]
    for o in outcomes:
        value = "missing" if o.value is None else f"{o.value:g}"
        lines.append(
            f"| {_cell(o.metric)} | {value} | {_cell(o.threshold)} | {'pass' if o.passed else 'FAIL'} |"
        )
    failed = sum(not o.passed for o in outcomes)
    verdict = "all gates passed" if passed else f"{failed} of {len(outcomes)} gates failed"
    return "\n".join(lines) + f"\n\n{_cell(model)}: {verdict}\n"


def _cell(text: str) -> str:
    return "".join(" " if ord(c) < 32 else c for c in text).replace("|", "\\|")


def _annotation(outcome: GateOutcome) -> str:
    if outcome.passed:
        return ""
    measured = "is missing from the metrics file" if outcome.value is None else f"is {outcome.value:g}"
    message = f"{outcome.metric} {measured}; the gate wants {outcome.threshold}"
    return f"::error title={escape_property('evaluation gate failed')}::{escape_data(message)}\n"


def _table(model: str, outcomes: list[GateOutcome], passed: bool) -> str:
    if not outcomes:
        return f"{model}: no evaluation gates are defined; nothing to check\n"
    rows = [("metric", "value", "threshold", "result")]
    rows += [
        (
            o.metric,
            "missing" if o.value is None else f"{o.value:g}",
            o.threshold,
            "pass" if o.passed else "FAIL",
        )
        for o in outcomes
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    failed = sum(not o.passed for o in outcomes)
    verdict = "all gates passed" if passed else f"{failed} of {len(outcomes)} gates failed"
    return "\n".join(lines) + f"\n{model}: {verdict}\n"
