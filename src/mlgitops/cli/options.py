"""Options shared by several commands."""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from mlgitops.cli.names import complete_environments

if TYPE_CHECKING:
    from mlgitops.diagnostics import Diagnostic, Location
    from mlgitops.discover import ProjectRef
    from mlgitops.reporters import Report
    from mlgitops.results import ValidationResult

FORMAT_HELP = (
    "Output format: text (people), json (machines), github (PR annotations) or sarif (code scanning)."
)


F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class ProjectChoice:
    """How the command line placed the command: ``-C DIR`` and the project it named, if any
    (``--project`` or the positional PATH, relative to DIR)."""

    directory: Path | None
    named: Path | None

    @property
    def base(self) -> Path:
        """Where relative paths on the command line start, as git's ``-C``."""
        return self.directory if self.directory is not None else Path()

    def ref(self) -> ProjectRef:
        """The named project, or where to search for it upward (the directory run in)."""
        from mlgitops.discover import Upward

        return self.base / self.named if self.named is not None else Upward(self.base)


def project_options(*, positional: bool) -> Callable[[F], F]:
    """``-C DIR`` and ``--project PATH``, and with ``positional`` an optional PATH argument
    meaning the same as ``--project``; the command receives one ``project: ProjectChoice``.

    Without any, the project is searched for from the current directory upward to the
    git repository's top level, as git finds its repository.
    """

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def with_project(
            *args: Any,
            directory: Path | None,
            project_path: Path | None,
            path: Path | None = None,
            **kwargs: Any,
        ) -> Any:
            if path is not None and project_path is not None:
                raise click.UsageError("name the project once: either PATH or --project")
            named = project_path if project_path is not None else path
            return command(*args, project=ProjectChoice(directory, named), **kwargs)

        decorators = [
            click.option(
                "-C",
                "directory",
                type=click.Path(path_type=Path, exists=True, file_okay=False),
                metavar="DIR",
                help="Run as if mlgitops had been started in DIR (like git -C).",
            ),
            click.option(
                "--project",
                "project_path",
                type=click.Path(path_type=Path),
                metavar="PATH",
                help="The project directory or its mlgitops.yaml (default: the nearest "
                "mlgitops.yaml from the current directory up to the git repository's top level).",
            ),
        ]
        if positional:
            decorators.append(
                click.argument("path", type=click.Path(path_type=Path), required=False, metavar="[PATH]")
            )
        wrapped: Any = with_project
        for decorator in decorators:
            wrapped = decorator(wrapped)
        return cast(F, wrapped)

    return decorate


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


def environment_option(flag: str, help_text: str, *, required: bool = False) -> Callable[[F], F]:
    """An environment of the project named by ``flag`` (``--env``, ``--to``), passed as
    ``environment`` and completed from the project's environments on the shell."""
    return click.option(
        flag,
        "environment",
        shell_complete=complete_environments,
        required=required,
        metavar="ENV",
        help=help_text,
    )


def quiet_option(command: F) -> F:
    """``--quiet``/``-q``: errors only; warnings and summaries are left out."""
    return click.option(
        "-q",
        "--quiet",
        is_flag=True,
        help="Print only errors (no warnings, no summary); the exit code tells the rest. "
        "json and sarif still print a whole document, holding only the errors.",
    )(command)


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


def leave_for_exit(value: object) -> None:
    """Keep ``value`` until the process ends. ``main`` ends with ``os._exit``, which frees
    nothing, while dropping a large project's objects one by one on the way out of a command
    takes tens of milliseconds (a tenth of a ``validate`` of 1,000 models)."""
    context = click.get_current_context(silent=True)
    if context is not None and isinstance(context.obj, list):
        context.obj.append(value)


def report_for(diagnostics: Sequence[Diagnostic], validation: ValidationResult) -> Report:
    """The reporter input for a command's diagnostics over the validated project's sources."""
    from mlgitops.reporters import Report

    sources = validation.sources
    return Report(diagnostics, sources, path_prefix(validation.root), len(sources))


def merged_report(results: Sequence[ValidationResult]) -> Report:
    """One report over several projects' results (files of several projects in one
    ``validate``): each project's paths are made relative to the current directory."""
    from mlgitops.diagnostics import sort_diagnostics
    from mlgitops.reporters import Report

    if len(results) == 1:
        return report_for(results[0].diagnostics, results[0])
    diagnostics: list[Diagnostic] = []
    sources: dict[str, str] = {}
    for result in results:
        prefix = path_prefix(result.root)
        diagnostics += [_prefixed(d, prefix) for d in result.diagnostics]
        sources.update({prefix + name: text for name, text in result.sources.items()})
    return Report(sort_diagnostics(diagnostics), sources, "", len(sources))


def _prefixed(diagnostic: Diagnostic, prefix: str) -> Diagnostic:
    def move(location: Location) -> Location:
        if location.file.startswith("<"):  # e.g. "<mlgitops templates>/…": not a project file
            return location
        return dataclasses.replace(location, file=prefix + location.file)

    where = diagnostic.location
    return dataclasses.replace(
        diagnostic,
        location=None if where is None else move(where),
        related=tuple(move(r) for r in diagnostic.related),
    )


def progress_options(command: F) -> F:
    """``--progress`` and ``--verbose``; the command receives ``progress``, a
    :class:`~mlgitops.cli.progress.TerminalProgress` to pass to the pipeline and finish."""

    @functools.wraps(command)
    def with_progress(*args: Any, show_progress: bool, verbose: bool, **kwargs: Any) -> Any:
        from mlgitops.cli.progress import TerminalProgress

        progress = TerminalProgress(forced=show_progress, verbose=verbose)
        try:
            return command(*args, progress=progress, **kwargs)
        finally:
            progress.finish()

    wrapped: Any = click.option(
        "--progress",
        "show_progress",
        is_flag=True,
        help="Show the stages on stderr even on a pipe or in CI (on a terminal a run over a second "
        "shows them anyway).",
    )(with_progress)
    wrapped = click.option("-v", "--verbose", is_flag=True, help="Print each stage's time on stderr.")(
        wrapped
    )
    return cast(F, wrapped)
