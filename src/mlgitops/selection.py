"""Model files named on the command line (as pre-commit passes them).

The whole project is validated, since cross-file checks need every model; the report
then keeps the named files' diagnostics and the project-level ones, and drops those of
the other models, which the caller did not ask about.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

from mlgitops.diagnostics import Diagnostic, Location, make
from mlgitops.discover import ProjectFiles


def select_files(
    diagnostics: Iterable[Diagnostic],
    files: ProjectFiles,
    models: Collection[str],
    named: Sequence[Path],
    include: Location,
) -> list[Diagnostic]:
    """The diagnostics about the ``named`` files (or the project as a whole), plus an MLG010
    for each named file that is not one of the project's ``models`` (their displayed paths);
    ``include`` locates ``spec.include``."""
    chosen: set[str] = set()
    problems: list[Diagnostic] = []
    for path in named:
        display = _display(files, path)
        if display is None:
            problems.append(
                make(
                    "MLG010",
                    f"{path.as_posix()} is outside the project at {files.root.as_posix()}",
                    None,  # not a project file, so there is no project-relative path to show
                    "name only files of this project, or leave out --project to have each "
                    "file's project found from where the file is",
                )
            )
        elif display not in models:
            problems.append(_not_a_model(path, display, include))
        else:
            chosen.add(display)
    kept = [d for d in diagnostics if _concerns(d, chosen, models)]
    return kept + problems


def _concerns(diagnostic: Diagnostic, chosen: set[str], models: Collection[str]) -> bool:
    """Whether a diagnostic is about a named file or the project as a whole (the project
    file, templates, or no file at all); one about another model is dropped unless it
    points at a named file too (a duplicate name, say)."""
    where = diagnostic.location
    if where is None or where.file in chosen or where.file not in models:
        return True
    return any(related.file in chosen for related in diagnostic.related)


def _not_a_model(path: Path, display: str, include: Location) -> Diagnostic:
    exists = os.path.lexists(path)
    what = "is not matched by spec.include" if exists else "does not exist"
    return make(
        "MLG010",
        f"{display} {what}, so it is not one of the project's model files",
        Location(display),
        "list model files only; to make this one a model, add a pattern matching it "
        "to spec.include (default: models/**/*.yaml)"
        if exists
        else "check the path; only existing model files can be validated",
        related=[include],
    )


def _display(files: ProjectFiles, path: Path) -> str | None:
    """``path`` relative to the project root (its directory resolved, as the root is, but not
    the file itself, which may be a link); None when it lies outside."""
    absolute = path.absolute()
    directory = absolute.parent.resolve()
    try:
        return (directory / absolute.name).relative_to(files.root).as_posix()
    except ValueError:
        return None
