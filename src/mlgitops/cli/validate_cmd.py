"""`mlgitops validate`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mlgitops.cli.options import (
    ProjectChoice,
    format_option,
    leave_for_exit,
    merged_report,
    progress_options,
    project_options,
    quiet_option,
)
from mlgitops.cli.output import colour_wanted, echo

if TYPE_CHECKING:
    from mlgitops.cli.progress import TerminalProgress
    from mlgitops.discover import ProjectRef

# A run: the project, and the model files named in it (None: the whole project).
Run = tuple["ProjectRef", list[Path] | None]


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path), metavar="[PATH]...")
@project_options(positional=False)
@format_option(("text", "json", "github", "sarif"))
@quiet_option
@progress_options
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option(
    "--base",
    metavar="REF",
    help="The git revision the change is based on (in CI, the pull request's base): the spec "
    "files' history up to it tells which versions an environment served before.",
)
@click.option(
    "--merge-base",
    is_flag=True,
    help="In a pull (merge) request's CI job: --base is its merge base with the target branch, "
    "as diff takes without --base (GitHub: check out with fetch-depth: 0).",
)
def validate(
    paths: tuple[Path, ...],
    project: ProjectChoice,
    fmt: str,
    quiet: bool,
    progress: TerminalProgress,
    strict: bool,
    base: str | None,
    merge_base: bool,
) -> int:
    """Check a project and report every problem at once, each with its
    file:line:col and a hint.

    The project is the nearest mlgitops.yaml from the current directory up to
    the git repository's top level, or the one --project names. A PATH that is
    a directory or an mlgitops.yaml names a project (all of it is checked). A
    PATH that is a model file (as pre-commit passes them) is checked in its
    own project, found upward from the file: the whole project is loaded,
    since references cross files, but only that file's problems and the
    project-wide ones are reported. Files of several projects may be mixed.

    Checks the YAML itself, the schema of every field, references across
    files (environments, promotion order, duplicate names), secrets written
    as literals, and the project's policies.

    With --base (or --merge-base, in CI), a version entering an environment with approval: required
    that the previous environment does not serve must be one this environment
    served before in git; a deprecated model takes no version its spec never
    deployed.

    Exits 0 when there are no errors, 1 when there are.
    """
    from mlgitops.codes import Severity
    from mlgitops.discover import find_project
    from mlgitops.pipeline import validate_project
    from mlgitops.reporters import render

    if merge_base:
        from mlgitops.ci_base import default_base
        from mlgitops.errors import UsageError

        if base is not None:
            raise UsageError("give --base or --merge-base, not both")
        base = default_base(project.base.resolve(), os.environ)
    results = []
    for ref, named in _runs(paths, project):
        history = None
        if base is not None:
            from mlgitops.gitsource import SpecHistory  # git: only with --base

            files, _ = find_project(ref)
            history = SpecHistory.at(files.root, base) if files is not None else None
        results.append(
            validate_project(ref, only=named, progress=progress, history=history, keep_resolved=False)
        )
    leave_for_exit(results)
    report = merged_report(results)
    failing = {Severity.ERROR, Severity.WARNING} if strict else {Severity.ERROR}
    failed = any(d.severity in failing for d in report.diagnostics)
    if quiet:
        # --strict --quiet: the warnings that fail the run are its errors, so they are shown
        report = replace(
            report, diagnostics=[d for d in report.diagnostics if d.severity in failing], summary=False
        )
    echo(render(report, fmt, colour=colour_wanted()), nl=False)
    return 1 if failed else 0


def _runs(paths: Sequence[Path], project: ProjectChoice) -> list[Run]:
    """One run per project: whole projects for the projects named, and each other
    project with the model files named in it."""
    from mlgitops.discover import Upward, search_project

    if not paths:
        return [(project.ref(), None)]
    whole: dict[str, ProjectRef] = {}
    partial: dict[str, tuple[ProjectRef, list[Path]]] = {}
    for given in paths:
        path = project.base / given
        if _names_project(path):
            if project.named is not None:
                raise click.UsageError(f"{given} names a project, and so does --project; name it once")
            whole.setdefault(_key(path if path.is_dir() else path.parent), path)
            continue
        ref: ProjectRef
        if project.named is not None:
            chosen = project.base / project.named
            ref, key = chosen, _key(chosen if chosen.is_dir() else chosen.parent)
        else:
            found, _ = search_project(path)  # when none is found, the run reports where it looked
            ref = found if found is not None else Upward(path)
            key = _key(found) if found is not None else f"not found from {path}"
        partial.setdefault(key, (ref, []))[1].append(path)
    runs: list[Run] = [(ref, None) for ref in whole.values()]
    runs += [(ref, named) for key, (ref, named) in partial.items() if key not in whole]
    return runs


def _names_project(path: Path) -> bool:
    """A directory, an mlgitops.yaml, or a path that is not there and not a YAML file (as
    before, it is taken as a project, which reports the missing mlgitops.yaml)."""
    from mlgitops.discover import PROJECT_FILE

    if path.name == PROJECT_FILE or path.is_dir():
        return True
    return not os.path.lexists(path) and path.suffix not in (".yaml", ".yml")


def _key(directory: Path) -> str:
    return os.path.realpath(directory)
