"""Machine-readable diagnostics (a stable, versioned JSON document)."""

from __future__ import annotations

import json
from typing import Any

from mlgitops.codes import Severity
from mlgitops.reporters import Report


def render(report: Report) -> str:
    return json.dumps(document(report), indent=2, ensure_ascii=False) + "\n"


def document(report: Report) -> dict[str, Any]:
    """The diagnostics document as data (commands add their own sections)."""
    items: list[dict[str, Any]] = []
    for d in report.diagnostics:
        item: dict[str, Any] = {
            "code": d.code,
            "severity": d.severity.value,
            "title": d.title,
            "message": d.message,
        }
        if d.location is not None:
            item.update(file=report.path(d.location), line=d.location.line, column=d.location.column)
        if d.hint:
            item["hint"] = d.hint
        items.append(item)
    errors = sum(d.severity is Severity.ERROR for d in report.diagnostics)
    warnings = sum(d.severity is Severity.WARNING for d in report.diagnostics)
    return {
        "version": 1,
        "ok": errors == 0,
        "summary": {"errors": errors, "warnings": warnings, "files": report.checked_files},
        "diagnostics": items,
    }
