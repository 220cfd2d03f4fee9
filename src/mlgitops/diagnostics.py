"""Diagnostics: problems found in the user's input, as data.

A :class:`Diagnostic` is what every stage returns instead of raising; the
reporters turn a list of them into text, JSON, GitHub annotations or SARIF.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from mlgitops.codes import Severity, info


@dataclass(frozen=True, slots=True, order=True)
class Location:
    """A point in a source file: 1-based line and column, path relative to the project."""

    file: str
    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    location: Location | None = None
    hint: str | None = None
    related: tuple[Location, ...] = field(default=())

    @property
    def title(self) -> str:
        return info(self.code).title

    def sort_key(self) -> tuple[str, int, int, str, str]:
        loc = self.location
        if loc is None:
            return ("", 0, 0, self.code, self.message)
        return (loc.file, loc.line, loc.column, self.code, self.message)


def make(
    code: str,
    message: str,
    location: Location | None = None,
    hint: str | None = None,
    *,
    severity: Severity | None = None,
    related: Iterable[Location] = (),
) -> Diagnostic:
    """Build a diagnostic whose severity defaults to the code's catalogue entry."""
    return Diagnostic(
        code=code,
        severity=severity or info(code).severity,
        message=message,
        location=location,
        hint=hint,
        related=tuple(related),
    )


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sort by file, line, column and code, dropping exact duplicates."""
    return sorted(set(diagnostics), key=Diagnostic.sort_key)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A "did you mean 'x'?" hint for a misspelt key or value, if one is close."""
    import difflib

    options = sorted(set(choices))
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in options}
        if word.lower() in lowered:
            close = [lowered[word.lower()]]
    return f"did you mean {close[0]!r}?" if close else None
