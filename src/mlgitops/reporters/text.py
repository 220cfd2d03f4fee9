"""Human-readable diagnostics with the offending source line and a caret."""

from __future__ import annotations

from mlgitops.codes import Severity
from mlgitops.diagnostics import Diagnostic
from mlgitops.reporters import Report, visible_controls


def render(report: Report) -> str:
    lines_cache: dict[str, list[str]] = {}
    blocks = [_block(report, d, lines_cache) for d in report.diagnostics]
    blocks.append(summary(report))
    return "\n".join(blocks) + "\n"


def _block(report: Report, diagnostic: Diagnostic, cache: dict[str, list[str]]) -> str:
    head = f"{diagnostic.severity.value}[{diagnostic.code}]: {diagnostic.message}"
    loc = diagnostic.location
    if loc is None:
        out = [head]
    else:
        out = [f"{report.path(loc)}:{loc.line}:{loc.column}: {head}"]
        if loc.file not in cache:
            cache[loc.file] = report.sources.get(loc.file, "").splitlines()
        source = cache[loc.file]
        if 0 < loc.line <= len(source):
            text = source[loc.line - 1].replace("\t", " ")
            gutter = " " * len(str(loc.line))
            out += [
                f"{gutter} |",
                f"{loc.line} | {text}",
                # the CLI spells control characters out (cli/output.py): the caret follows
                f"{gutter} | {' ' * len(visible_controls(text[: loc.column - 1]))}^",
            ]
    if diagnostic.hint:
        out.append(f"  = hint: {diagnostic.hint}")
    for related in diagnostic.related:
        out.append(f"  = see also: {report.path(related)}:{related.line}:{related.column}")
    return "\n".join(out) + "\n"


def summary(report: Report) -> str:
    errors = sum(d.severity is Severity.ERROR for d in report.diagnostics)
    warnings = sum(d.severity is Severity.WARNING for d in report.diagnostics)
    files = f"{report.checked_files} file{'s' if report.checked_files != 1 else ''}"
    if not errors and not warnings:
        return f"ok: {files} valid"
    parts = [f"{errors} error{'s' if errors != 1 else ''}"]
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return f"{' and '.join(parts)} in {files}"
