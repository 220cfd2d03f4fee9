"""What a compile knows about its inputs before validation runs.

Recovery of an interrupted compile and the skip-if-unchanged cache both come before
validation, and both need to know the inputs: which spec files the include patterns
match, a hash of everything the output depends on, and the territory a manifest or
journal may name (:mod:`mlgitops.emit.territory`).  All of it is worked out from the
raw project data, so it is available even when the project is invalid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgitops.diagnostics import Diagnostic, Location, has_errors
from mlgitops.discover import DEFAULT_INCLUDE, ProjectFiles, find_models, project_subdir
from mlgitops.load import SourceDocument, load_document
from mlgitops.render.overrides import check_overrides

if TYPE_CHECKING:  # compile's alone: validate, which finds the model files here, does without
    from mlgitops.emit.territory import Territory

DEFAULT_OUTPUT = "deploy"


@dataclass(frozen=True)
class CompileInputs:
    input_hash: str | None  # None when an input cannot be used as it is (validation says why)
    territory: Territory


def read_inputs(files: ProjectFiles) -> CompileInputs:
    """Hash the spec files and accepted override templates; work out where output may go."""
    from mlgitops.emit.territory import Territory
    from mlgitops.fingerprint import input_hash

    project_display = files.display(files.project_file)
    doc, _problems = load_document(files.project_file, project_display)
    if doc is None:
        subdir = project_subdir(None, files.root)
        return CompileInputs(None, Territory.of(DEFAULT_OUTPUT, [project_display], repo_subdir=subdir))
    models, problems = find_model_files(files, doc)
    spec: Any = doc.data.get("spec")
    override = spec.get("templates") if isinstance(spec, dict) else None
    output = spec.get("output") if isinstance(spec, dict) else None
    output_path = output.get("path") if isinstance(output, dict) else None
    declared_root = spec.get("repositoryRoot") if isinstance(spec, dict) else None
    territory = Territory.of(
        output_path if isinstance(output_path, str) else DEFAULT_OUTPUT,
        [files.display(p) for p in [files.project_file, *models]],
        [override] if isinstance(override, str) else [],
        repo_subdir=project_subdir("." if declared_root == "." else None, files.root),
    )
    if has_errors(problems) or (override is not None and not isinstance(override, str)):
        return CompileInputs(None, territory)
    texts: Mapping[str, str] = {}
    if isinstance(override, str):
        overrides, _problems = check_overrides(files.root, override, doc.location())
        if overrides is None:
            return CompileInputs(None, territory)
        texts = overrides.texts
    return CompileInputs(input_hash(files.root, [files.project_file, *models], texts), territory)


def find_model_files(files: ProjectFiles, doc: SourceDocument | None) -> tuple[list[Path], list[Diagnostic]]:
    """Discover the model files with the patterns of the raw project data, so that models
    load even if the project is invalid; problems are located at the pattern that met them."""
    if doc is None:
        return find_models(files, DEFAULT_INCLUDE, Location(files.display(files.project_file)))
    spec: Any = doc.data.get("spec")
    include = spec.get("include") if isinstance(spec, dict) else None
    where = doc.locate(("spec", "include"))
    if isinstance(include, list) and include and all(isinstance(p, str) for p in include):
        located = [doc.locate(("spec", "include", index)) for index in range(len(include))]
        return find_models(files, tuple(include), where, located)
    return find_models(files, DEFAULT_INCLUDE, where)
