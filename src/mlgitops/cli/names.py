"""Completion of model and environment names, cheaply.

A shell calls this on every Tab, so it reads only the project file and the names of the
files its include patterns match (a model is offered under its file's name, as ``init``
and the examples name them): no validation, and any problem simply offers nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from click.shell_completion import CompletionItem


def complete_models(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    from mlgitops.inputs import find_model_files

    found = _project(ctx)
    if found is None:
        return []
    files, doc = found
    paths, _problems = find_model_files(files, doc)
    names = sorted({path.stem for path in paths})
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]


def complete_environments(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    found = _project(ctx)
    if found is None or found[1] is None:
        return []
    spec: Any = found[1].data.get("spec")
    environments = spec.get("environments") if isinstance(spec, dict) else None
    if not isinstance(environments, list):
        return []
    names = [e["name"] for e in environments if isinstance(e, dict) and isinstance(e.get("name"), str)]
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]


def _project(ctx: click.Context) -> tuple[Any, Any] | None:
    """The project the command line names so far (``-C``, ``--project``) and its loaded file."""
    from mlgitops.discover import Upward, find_project
    from mlgitops.load import load_document

    base = Path(ctx.params.get("directory") or ".")
    named = ctx.params.get("project_path")
    files, _problems = find_project(base / named if named else Upward(base))
    if files is None:
        return None
    doc, _problems = load_document(files.project_file, files.display(files.project_file))
    return files, doc
