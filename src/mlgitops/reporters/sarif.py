"""SARIF 2.1.0, for GitHub code scanning and other SARIF consumers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from mlgitops import __version__
from mlgitops.codes import CODES, Severity
from mlgitops.reporters import Report

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}


def render(report: Report) -> str:
    return dump(sarif_log(report))


def dump(log: dict[str, Any]) -> str:
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def physical_location(uri_path: str, line: int, column: int | None = None) -> dict[str, Any]:
    """A SARIF location in a project file; ``uri_path`` as shown to the user (prefix included)."""
    region: dict[str, int] = {"startLine": line}
    if column is not None:
        region["startColumn"] = column
    # A URI reference: relative, '/'-separated, percent-encoded.
    return {"physicalLocation": {"artifactLocation": {"uri": quote(uri_path)}, "region": region}}


def sarif_log(
    report: Report,
    extra_rules: Sequence[dict[str, Any]] = (),
    extra_results: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The SARIF log of the report's diagnostics; a command with findings that are not
    diagnostics (``check``'s drift) adds its own rules, and results naming them by ``ruleId``."""
    used = sorted({d.code for d in report.diagnostics})
    index = {code: i for i, code in enumerate(used)}
    rules = [
        {
            "id": code,
            "name": "".join(
                word.capitalize() for word in CODES[code].title.replace("-", " ").split() if word.isalnum()
            ),
            "shortDescription": {"text": CODES[code].title},
            "defaultConfiguration": {"level": _LEVEL[CODES[code].severity]},
        }
        for code in used
    ]
    results: list[dict[str, Any]] = []
    for d in report.diagnostics:
        result: dict[str, Any] = {
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": _LEVEL[d.severity],
            "message": {"text": d.message + (f" (hint: {d.hint})" if d.hint else "")},
        }
        if d.location is not None:
            result["locations"] = [
                physical_location(report.path(d.location), d.location.line, d.location.column)
            ]
        results.append(result)
    rules += extra_rules
    extra_index = {rule["id"]: len(used) + i for i, rule in enumerate(extra_rules)}
    results += [{**result, "ruleIndex": extra_index[result["ruleId"]]} for result in extra_results]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "mlgitops",
                        "version": __version__,
                        "informationUri": "https://github.com/mlgitops/mlgitops",
                        "rules": rules,
                    }
                },
                # libyaml counts columns in characters, not UTF-16 units (SARIF's default).
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
