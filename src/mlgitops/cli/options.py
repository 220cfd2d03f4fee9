"""Options shared by several commands."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from mlgitops.diagnostics import Diagnostic
    from mlgitops.pipeline import ValidationResult
    from mlgitops.reporters import Report

FORMAT_HELP = (
    "Output format: text (people), json (machines), github (PR annotations) or sarif (code scanning)."
)


F = TypeVar("F", bound=Callable[..., Any])


def project_argument() -> Callable[[F], F]:
    return click.argument(
        "path",
        type=click.Path(path_type=Path, exists=False),
        default=Path(),
        metavar="[PATH]",
    )


def format_option(choices: tuple[str, ...], help_text: str | None = None) -> Callable[[F], F]:
    """``--format`` among ``choices`` (default text); ``help_text`` replaces the generic help."""
    generic = (
        FORMAT_HELP
        if "sarif" in choices
        else FORMAT_HELP.replace(" or sarif (code scanning)", "").replace(", github", " or github")
    )
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default="text",
        show_default=True,
        help=help_text or generic,
    )


def path_prefix(root: Path | None) -> str:
    """How the project directory looks from the current directory, for clickable paths."""
    if root is None:
        return ""
    cwd = Path.cwd().resolve()
    try:
        relative = root.relative_to(cwd).as_posix()
    except ValueError:
        relative = os.path.relpath(root, cwd) if root.anchor == cwd.anchor else root.as_posix()
        relative = Path(relative).as_posix()
    return "" if relative in ("", ".") else relative.rstrip("/") + "/"


def project_option() -> Callable[[F], F]:
    """``--project PATH`` for commands whose argument is something else (a model)."""
    return click.option(
        "--project",
        "path",
        type=click.Path(path_type=Path),
        default=Path(),
        show_default=True,
        help="Project directory or its mlgitops.yaml.",
    )


def report_for(diagnostics: Sequence[Diagnostic], validation: ValidationResult) -> Report:
    """The reporter input for a command's diagnostics over the validated project's sources."""
    from mlgitops.reporters import Report

    sources = validation.sources
    return Report(diagnostics, sources, path_prefix(validation.root), len(sources))
