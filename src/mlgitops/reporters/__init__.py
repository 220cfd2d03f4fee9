"""Reporters turn diagnostics into text for people, CI annotations or machines.

The core never prints; the CLI picks a reporter from :data:`REPORTERS` and
writes what it returns.  Adding a format is one module and one dict entry.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from mlgitops.codes import Severity
from mlgitops.diagnostics import Diagnostic, Location


@dataclass(frozen=True, slots=True)
class Report:
    """What a reporter needs: the diagnostics, the source texts, and how to show paths."""

    diagnostics: Sequence[Diagnostic]
    sources: Mapping[str, str]
    path_prefix: str = ""  # the project's directory as seen from where mlgitops runs
    checked_files: int = 0
    summary: bool = True  # False under --quiet: the diagnostics alone, no closing count

    def quiet(self) -> Report:
        """The report under ``--quiet``: errors only (no warnings, no notes), no closing count."""
        errors = [d for d in self.diagnostics if d.severity is Severity.ERROR]
        return Report(errors, self.sources, self.path_prefix, self.checked_files, summary=False)

    def path(self, location: Location) -> str:
        if location.file.startswith("<"):  # e.g. "<mlgitops templates>/…": not a project file
            return location.file
        return f"{self.path_prefix}{location.file}"


Reporter = Callable[[Report], str]


class Painted(str):
    """Text a reporter has already made safe for a terminal: every control character of the
    input spelt out (:func:`visible_controls`), with colour codes only around text that
    mlgitops generates.  ``cli/output.py`` writes it as it is; anything built from it by
    concatenation is a plain ``str`` again and is escaped whole (colour codes shown, not run).
    """

    __slots__ = ()


# C0 and C1 controls but newline and tab, DEL, and the bidirectional overrides (which
# reorder what is displayed).  Shown as ASCII escapes: any non-ASCII stand-in would put
# bytes 0x80-0x9f on the wire, which a terminal in an 8-bit mode reads as C1 controls.
# Lone surrogates too (a forged path in a JSON state file): no terminal encoding can print them.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def visible_controls(text: str) -> str:
    """``text`` with every control character that could drive a terminal spelt ``\\x1b``."""
    if _CONTROL.search(text) is None:  # the common case: nothing to replace
        return text
    return _CONTROL.sub(_escape, text)


def _escape(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def _registry() -> dict[str, Reporter]:
    from mlgitops.reporters import github, json_report, sarif, text

    return {
        "text": text.render,
        "json": json_report.render,
        "github": github.render,
        "sarif": sarif.render,
    }


FORMATS = ("text", "json", "github", "sarif")


def render(report: Report, fmt: str, *, colour: bool = False) -> str:
    """The report in ``fmt``; ``colour`` (text only) gives :class:`Painted` text for a terminal."""
    if colour and fmt == "text":
        from mlgitops.reporters import text

        return text.render_painted(report)
    return _registry()[fmt](report)
