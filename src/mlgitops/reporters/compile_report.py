"""Reports of ``compile`` and ``check``: summaries and drift, in text, JSON or GitHub annotations."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mlgitops.reporters import Report, render
from mlgitops.reporters.github import escape_data, escape_property

if TYPE_CHECKING:
    from mlgitops.emit.drift import Drift


def compile_summary(
    total: int,
    written: tuple[str, ...],
    pruned: tuple[str, ...],
    up_to_date: bool,
    recovered: bool,
    vanished: Mapping[str, int] | None = None,
) -> str:
    """``vanished``: spec files that no longer exist (or are no longer included) → how many of
    their generated files this compile pruned, so a deleted model is named, not just counted."""
    lines = []
    if recovered:
        lines.append("restored the files of an interrupted compile")
    if up_to_date:
        lines.append("up to date: nothing changed since the last compile")
    else:
        outputs = [w for w in written if not w.startswith(".mlgitops/")]
        manifest = " (ownership manifest updated)" if len(outputs) != len(written) else ""
        lines.append(
            f"compiled {total} files: {len(outputs)} written, {len(pruned)} pruned, "
            f"{total - len(outputs)} unchanged{manifest}"
        )
        lines += [
            f"removed model spec {spec}: pruning its {count} generated file{'s' if count != 1 else ''}"
            for spec, count in sorted((vanished or {}).items())
        ]
        lines += [f"  write  {path}" for path in outputs]
        lines += [f"  prune  {path}" for path in pruned]
    return "\n".join(lines) + "\n"


def drift_report(report: Report, drifts: list[Drift], fmt: str, show_diff: bool = True) -> str:
    """Diagnostics (if any) followed by the drift in ``fmt``."""
    head = render(report, fmt) if report.diagnostics else ""
    if fmt == "json":
        document: dict[str, Any] = json.loads(render(report, "json"))
        document["ok"] = document["ok"] and not drifts
        document["drift"] = [
            {"file": report.path_prefix + d.path, "status": d.status, "message": d.message, "diff": d.diff}
            for d in drifts
        ]
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    lines: list[str] = []
    for d in drifts:
        shown = report.path_prefix + d.path
        if fmt == "github":
            lines.append(
                f"::error file={escape_property(shown)},title={escape_property('mlgitops check')}::"
                f"{escape_data(f'{shown} {d.message}; run mlgitops compile and commit the result')}"
            )
        else:
            lines.append(f"{shown}: {d.message}")
        if show_diff and d.diff and fmt != "github":
            lines.append(d.diff.rstrip("\n"))
    if drifts:
        lines.append(
            f"{len(drifts)} file{'s' if len(drifts) != 1 else ''} out of date; run 'mlgitops compile'"
        )
    elif not report.diagnostics or fmt == "text":
        lines.append("in sync: the generated files match a fresh compile")
    return head + ("\n".join(lines) + "\n" if lines else "")
