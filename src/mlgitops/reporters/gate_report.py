"""The table printed by ``gate``."""

from __future__ import annotations

import json

from mlgitops.gate import GateOutcome


def render(model: str, outcomes: list[GateOutcome], fmt: str) -> str:
    passed = all(o.passed for o in outcomes)
    if fmt == "json":
        document = {
            "model": model,
            "passed": passed,
            "gates": [
                {"metric": o.metric, "value": o.value, "min": o.minimum, "max": o.maximum, "passed": o.passed}
                for o in outcomes
            ],
        }
        return json.dumps(document, indent=2) + "\n"
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
