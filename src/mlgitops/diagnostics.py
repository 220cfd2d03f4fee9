"""Diagnostics: problems found in the user's input, as data.

A :class:`Diagnostic` is what every stage returns instead of raising; the
reporters turn a list of them into text, JSON, GitHub annotations or SARIF.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from mlgitops.codes import Severity, info

# Where a per-environment message names its environment: ``make(..., environment=env)``
# puts the name there, and :func:`merge_environments` a list of names when the same problem
# turns up in several environments.  A control character, because every user string in a
# message is shown with ``!r``, which escapes it, so user input cannot forge the slot.
ENVIRONMENT = "\x1f"


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
    # For a problem found per environment: the environments it was found in, and the
    # message's text before and after their names (so that merging never parses messages).
    environments: tuple[str, ...] = field(default=())
    around_environments: tuple[str, str] | None = None

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
    environment: str | None = None,
) -> Diagnostic:
    """Build a diagnostic whose severity defaults to the code's catalogue entry.

    ``environment``: the problem was found in that environment, named in ``message`` where
    :data:`ENVIRONMENT` stands, so the same problem in several environments is reported once."""
    around = None
    if environment is not None and ENVIRONMENT in message:
        before, after = message.split(ENVIRONMENT, 1)
        around = (before, after)
        message = before + repr(environment) + after
    return Diagnostic(
        code=code,
        severity=severity or info(code).severity,
        message=message,
        location=location,
        hint=hint,
        related=tuple(related),
        environments=(environment,) if around is not None and environment is not None else (),
        around_environments=around,
    )


def merge_environments(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Report a problem found in several environments once, naming them all.

    Diagnostics merge when they agree on everything but the environment: code, severity,
    location, hint, related locations and the message around the environment's name.
    The first one's position in the list is kept, the environments in the order found."""
    merged: dict[tuple[object, ...], Diagnostic] = {}
    result: list[Diagnostic | tuple[object, ...]] = []
    for diagnostic in diagnostics:
        around = diagnostic.around_environments
        if around is None:
            result.append(diagnostic)
            continue
        d = diagnostic
        key = (d.code, d.severity, d.location, d.hint, d.related, around)
        first = merged.get(key)
        if first is None:
            merged[key] = diagnostic
            result.append(key)
            continue
        names = first.environments + tuple(e for e in diagnostic.environments if e not in first.environments)
        merged[key] = replace(first, environments=names, message=around[0] + names_list(names) + around[1])
    return [merged[item] if isinstance(item, tuple) else item for item in result]


def names_list(names: Iterable[str]) -> str:
    """'dev'; 'dev' and 'prod'; 'dev', 'staging' and 'prod'."""
    quoted = [repr(name) for name in names]
    if len(quoted) <= 1:
        return "".join(quoted)
    return f"{', '.join(quoted[:-1])} and {quoted[-1]}"


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
