"""Reports of ``compile`` and ``check``: summaries and drift, in text, JSON, GitHub
annotations or SARIF."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlgitops.reporters import Painted, Report, render, visible_controls
from mlgitops.reporters.github import escape_data, escape_property

if TYPE_CHECKING:
    from mlgitops.emit.drift import Drift

MANIFEST_PREFIX = ".mlgitops/"


@dataclass(frozen=True, slots=True)
class CompileSummary:
    """What a successful compile did on disk."""

    total: int
    written: tuple[str, ...]
    pruned: tuple[str, ...]
    up_to_date: bool
    recovered: bool
    vanished: Mapping[str, int] = field(default_factory=dict)

    @property
    def outputs(self) -> list[str]:
        """The generated files written, without mlgitops' own state (the manifest)."""
        return [w for w in self.written if not w.startswith(MANIFEST_PREFIX)]


def compile_summary(done: CompileSummary) -> str:
    """The text summary; spec files that no longer exist (or are no longer included) are
    named with how many of their generated files this compile pruned, not just counted."""
    lines = []
    if done.recovered:
        lines.append("restored the files of an interrupted compile")
    if done.up_to_date:
        lines.append("up to date: nothing changed since the last compile")
    else:
        outputs = done.outputs
        manifest = " (ownership manifest updated)" if len(outputs) != len(done.written) else ""
        lines.append(
            f"compiled {done.total} files: {len(outputs)} written, {len(done.pruned)} pruned, "
            f"{done.total - len(outputs)} unchanged{manifest}"
        )
        lines += [
            f"removed model spec {spec}: pruning its {count} generated file{'s' if count != 1 else ''}"
            for spec, count in sorted(done.vanished.items())
        ]
        lines += [f"  write  {path}" for path in outputs]
        lines += [f"  prune  {path}" for path in done.pruned]
    return "\n".join(lines) + "\n"


def compile_json(report: Report, done: CompileSummary) -> str:
    """The diagnostics document of a successful compile with a ``compile`` section saying
    what it did (paths as seen from where mlgitops runs)."""
    document: dict[str, Any] = json.loads(render(report, "json"))
    outputs = done.outputs
    document["compile"] = {
        "files": done.total,
        "written": len(outputs),
        "pruned": len(done.pruned),
        "unchanged": done.total - len(outputs),
        "up_to_date": done.up_to_date,
        "recovered": done.recovered,
        "warnings": document["summary"]["warnings"],
        "manifest_updated": len(outputs) != len(done.written),
        "written_files": [report.path_prefix + path for path in outputs],
        "pruned_files": [report.path_prefix + path for path in done.pruned],
        "removed_specs": {report.path_prefix + spec: count for spec, count in sorted(done.vanished.items())},
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


_HUNK = re.compile(r"@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")


def first_changed_line(diff: str) -> int:
    """The first line of the new content that a unified diff changes, where an annotation
    points: for a deletion, the line that now follows it; 1 without a diff (the manifest)
    and for a missing or stale file."""
    new_line = 0
    for line in diff.splitlines():
        hunk = _HUNK.match(line)
        if hunk is not None:
            new_line = int(hunk.group(1))
            # "+0,0": the new side is empty (a stale file): nothing to point at but line 1
            new_line = max(new_line, 1)
            continue
        if not new_line or line.startswith("\\"):  # file headers; "\ No newline at end of file"
            continue
        if line.startswith(("+", "-")):
            return new_line
        new_line += 1
    return 1


_DRIFT_RULES = {
    "changed": ("GeneratedFileChanged", "generated file differs from a fresh compile"),
    "missing": ("GeneratedFileMissing", "generated file missing"),
    "stale": ("GeneratedFileStale", "file no longer generated"),
}


def drift_report(
    report: Report, drifts: Sequence[Drift], fmt: str, *, show_diff: bool = True, colour: bool = False
) -> str:
    """Diagnostics (if any) followed by the drift in ``fmt``; with ``report.summary`` off
    (``--quiet``) only the drifting files, without diffs or the closing line."""
    if fmt == "json":
        document: dict[str, Any] = json.loads(render(report, "json"))
        document["ok"] = document["ok"] and not drifts
        document["drift"] = [
            {
                "file": report.path_prefix + d.path,
                "status": d.status,
                "line": first_changed_line(d.diff),
                "message": d.message,
                "diff": d.diff,
            }
            for d in drifts
        ]
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if fmt == "sarif":
        return _drift_sarif(report, drifts)
    head = render(report, fmt, colour=colour) if report.diagnostics else ""
    lines: list[str] = []
    for d in drifts:
        shown = report.path_prefix + d.path
        if fmt == "github":
            lines.append(
                f"::error file={escape_property(shown)},line={first_changed_line(d.diff)},"
                f"title={escape_property('mlgitops check')}::"
                f"{escape_data(f'{shown} {d.message}; run mlgitops compile and commit the result')}"
            )
        else:
            lines.append(f"{shown}: {d.message}")
        if show_diff and report.summary and d.diff and fmt != "github":
            lines.append(d.diff.rstrip("\n"))
    if report.summary and drifts:
        lines.append(
            f"{len(drifts)} file{'s' if len(drifts) != 1 else ''} out of date; run 'mlgitops compile'"
        )
    elif report.summary and (not report.diagnostics or fmt == "text"):
        lines.append("in sync: the generated files match a fresh compile")
    rest = "\n".join(lines) + "\n" if lines else ""
    if isinstance(head, Painted):  # colour: the drift lines escaped here, since the whole is raw
        return Painted(head + visible_controls(rest))
    return head + rest


def _drift_sarif(report: Report, drifts: Sequence[Drift]) -> str:
    from mlgitops.reporters.sarif import dump, physical_location, sarif_log

    statuses = sorted({d.status for d in drifts})
    rules = [
        {
            "id": f"check/{status}",
            "name": _DRIFT_RULES[status][0],
            "shortDescription": {"text": _DRIFT_RULES[status][1]},
            "defaultConfiguration": {"level": "error"},
        }
        for status in statuses
    ]
    results = []
    for d in drifts:
        shown = report.path_prefix + d.path
        results.append(
            {
                "ruleId": f"check/{d.status}",
                "level": "error",
                "message": {"text": f"{shown} {d.message}; run mlgitops compile and commit the result"},
                "locations": [physical_location(shown, first_changed_line(d.diff))],
            }
        )
    return dump(sarif_log(report, rules, results))
