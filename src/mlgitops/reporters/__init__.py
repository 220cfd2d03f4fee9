"""Reporters turn diagnostics into text for people, CI annotations or machines.

The core never prints; the CLI picks a reporter from :data:`REPORTERS` and
writes what it returns.  Adding a format is one module and one dict entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from mlgitops.diagnostics import Diagnostic, Location


@dataclass(frozen=True, slots=True)
class Report:
    """What a reporter needs: the diagnostics, the source texts, and how to show paths."""

    diagnostics: Sequence[Diagnostic]
    sources: Mapping[str, str]
    path_prefix: str = ""  # the project's directory as seen from where mlgitops runs
    checked_files: int = 0

    def path(self, location: Location) -> str:
        if location.file.startswith("<"):  # e.g. "<mlgitops templates>/…": not a project file
            return location.file
        return f"{self.path_prefix}{location.file}"


Reporter = Callable[[Report], str]


def _registry() -> dict[str, Reporter]:
    from mlgitops.reporters import github, json_report, sarif, text

    return {
        "text": text.render,
        "json": json_report.render,
        "github": github.render,
        "sarif": sarif.render,
    }


FORMATS = ("text", "json", "github", "sarif")


def render(report: Report, fmt: str) -> str:
    return _registry()[fmt](report)
