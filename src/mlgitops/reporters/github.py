"""GitHub Actions workflow commands: one ``::error``/``::warning`` annotation per diagnostic.

See "Workflow commands for GitHub Actions": data escapes ``%``, CR and LF;
property values also escape ``:`` and ``,``.
"""

from __future__ import annotations

from mlgitops.codes import Severity
from mlgitops.reporters import Report
from mlgitops.reporters.text import summary

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(report: Report) -> str:
    lines = []
    for d in report.diagnostics:
        props = [f"title={escape_property(f'{d.code} {d.title}')}"]
        if d.location is not None:
            props[:0] = [
                f"file={escape_property(report.path(d.location))}",
                f"line={d.location.line}",
                f"col={d.location.column}",
            ]
        message = d.message + (f"\nhint: {d.hint}" if d.hint else "")
        lines.append(f"::{_COMMAND[d.severity]} {','.join(props)}::{escape_data(message)}")
    if report.summary:
        lines.append(summary(report))
    return "".join(line + "\n" for line in lines)
