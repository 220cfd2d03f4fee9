"""SARIF 2.1.0, for GitHub code scanning and other SARIF consumers."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from mlgitops import __version__
from mlgitops.codes import CODES, Severity
from mlgitops.reporters import Report

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}


def render(report: Report) -> str:
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
                {
                    "physicalLocation": {
                        # A URI reference: relative, '/'-separated, percent-encoded.
                        "artifactLocation": {"uri": quote(report.path(d.location))},
                        "region": {"startLine": d.location.line, "startColumn": d.location.column},
                    }
                }
            ]
        results.append(result)
    log = {
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
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
