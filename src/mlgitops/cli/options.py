"""Options shared by several commands."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

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


def format_option(choices: tuple[str, ...]) -> Callable[[F], F]:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default="text",
        show_default=True,
        help=FORMAT_HELP
        if "sarif" in choices
        else FORMAT_HELP.replace(" or sarif (code scanning)", "").replace(", github", " or github"),
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
