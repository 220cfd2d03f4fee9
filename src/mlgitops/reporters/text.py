"""Human-readable diagnostics with the offending source line and a caret.

The text is built as segments, each with a style, so that a terminal can be shown
colour (:func:`render_painted`) without a colour code ever landing inside text that
comes from the project: each segment's control characters are spelt out first and
only then wrapped in the style's codes.
"""

from __future__ import annotations

from collections.abc import Iterator

from mlgitops.codes import Severity
from mlgitops.diagnostics import Diagnostic
from mlgitops.reporters import Painted, Report, visible_controls

# (style, text): the style names a key of _SGR, "" for plain text
Segment = tuple[str, str]

# ECMA-48 Select Graphic Rendition: bold, red, yellow, cyan, dim
_SGR = {"bold": "1", "error": "1;31", "warning": "1;33", "note": "1;36", "gutter": "2"}
_RESET = "\x1b[0m"


def render(report: Report) -> str:
    return "".join(text for _, text in _segments(report))


def render_painted(report: Report) -> Painted:
    """The same text as :func:`render`, safe to write raw to a terminal, in colour."""
    return Painted("".join(_paint(style, visible_controls(text)) for style, text in _segments(report)))


def _paint(style: str, safe_text: str) -> str:
    if not style or not safe_text:
        return safe_text
    return f"\x1b[{_SGR[style]}m{safe_text}{_RESET}"


def _segments(report: Report) -> Iterator[Segment]:
    lines_cache: dict[str, list[str]] = {}
    for index, diagnostic in enumerate(report.diagnostics):
        if index:
            yield "", "\n"  # a blank line between blocks
        yield from _block(report, diagnostic, lines_cache)
    if report.summary:
        if report.diagnostics:
            yield "", "\n"
        yield from summary_segments(report)
        yield "", "\n"


def _block(report: Report, diagnostic: Diagnostic, cache: dict[str, list[str]]) -> Iterator[Segment]:
    loc = diagnostic.location
    if loc is not None:
        yield "bold", f"{report.path(loc)}:{loc.line}:{loc.column}:"
        yield "", " "
    yield diagnostic.severity.value, diagnostic.severity.value
    yield "bold", f"[{diagnostic.code}]"
    yield "", f": {diagnostic.message}\n"
    if loc is not None:
        if loc.file not in cache:
            cache[loc.file] = report.sources.get(loc.file, "").splitlines()
        source = cache[loc.file]
        if 0 < loc.line <= len(source):
            text = source[loc.line - 1].replace("\t", " ")
            gutter = " " * len(str(loc.line))
            # the CLI spells control characters out (cli/output.py): the caret follows
            caret = " " * len(visible_controls(text[: loc.column - 1]))
            yield "gutter", f"{gutter} |"
            yield "", "\n"
            yield "gutter", f"{loc.line} |"
            yield "", f" {text}\n"
            yield "gutter", f"{gutter} |"
            yield "", f" {caret}"
            yield diagnostic.severity.value, "^"
            yield "", "\n"
    if diagnostic.hint:
        yield "", "  = "
        yield "bold", "hint"
        yield "", f": {diagnostic.hint}\n"
    for related in diagnostic.related:
        yield "", f"  = see also: {report.path(related)}:{related.line}:{related.column}\n"


def summary(report: Report) -> str:
    return "".join(text for _, text in summary_segments(report))


def summary_segments(report: Report) -> Iterator[Segment]:
    errors = sum(d.severity is Severity.ERROR for d in report.diagnostics)
    warnings = sum(d.severity is Severity.WARNING for d in report.diagnostics)
    files = f"{report.checked_files} file{'s' if report.checked_files != 1 else ''}"
    if not errors and not warnings:
        yield "", f"ok: {files} valid"
        return
    yield "error" if errors else "", f"{errors} error{'s' if errors != 1 else ''}"
    if warnings:
        yield "", " and "
        yield "warning", f"{warnings} warning{'s' if warnings != 1 else ''}"
    yield "", f" in {files}"
