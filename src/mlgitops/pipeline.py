"""The only module that knows the order of the stages.

discover → load → validate (schema, secrets, semantics) → resolve → policies
→ IR → render → emit.  Each stage returns data and diagnostics; this module
decides how far to go and collects everything into a result.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgitops.diagnostics import Diagnostic, Location, has_errors, make, sort_diagnostics
from mlgitops.discover import DEFAULT_INCLUDE, ProjectFiles, find_models, find_project
from mlgitops.load import MAX_FILE_BYTES, SourceDocument, load_document
from mlgitops.resolve import ResolvedProject, resolve
from mlgitops.spec import API_VERSION, ModelSpec, ProjectSpec
from mlgitops.validate import ValidatedModel, ValidatedProject
from mlgitops.validate.policies import check_policies
from mlgitops.validate.schema import validate_document
from mlgitops.validate.secrets import find_secrets
from mlgitops.validate.semantic import check_project


@dataclass(frozen=True)
class ValidationResult:
    """Everything ``validate`` learnt: diagnostics, the sources they point into, the resolved project."""

    diagnostics: list[Diagnostic]
    sources: Mapping[str, str] = field(default_factory=dict)
    resolved: ResolvedProject | None = None
    root: Path | None = None

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


def validate_project(path: Path, *, today: datetime.date | None = None) -> ValidationResult:
    """Load, validate and resolve the project at ``path`` (a directory or its mlgitops.yaml)."""
    files, diagnostics = find_project(path)
    if files is None:
        return ValidationResult(diagnostics)
    sources: dict[str, str] = {}
    project_doc = _load(files, files.project_file, sources, diagnostics)
    project: ProjectSpec | None = None
    include: tuple[str, ...] = DEFAULT_INCLUDE
    if project_doc is not None:
        include = _include_patterns(project_doc)
        if _check_header(project_doc, "Project", diagnostics):
            project, problems = validate_document(project_doc, ProjectSpec)
            diagnostics += problems
    where = (
        project_doc.locate(("spec", "include"))
        if project_doc
        else Location(files.display(files.project_file))
    )
    model_paths, problems = find_models(files, include, where)
    diagnostics += problems
    models: list[ValidatedModel] = []
    for model_path in model_paths:
        doc = _load(files, model_path, sources, diagnostics)
        if doc is None or not _check_header(doc, "Model", diagnostics):
            continue
        spec, problems = validate_document(doc, ModelSpec)
        diagnostics += problems
        if spec is not None:
            models.append(ValidatedModel(doc, spec))
    resolved = None
    if project is not None and project_doc is not None:
        validated = ValidatedProject(files, project_doc, project, tuple(models))
        diagnostics += check_project(validated, today or datetime.date.today())
        resolved, problems = resolve(validated)
        diagnostics += problems
        diagnostics += check_policies(resolved)
    return ValidationResult(sort_diagnostics(diagnostics), sources, resolved, files.root)


def _load(
    files: ProjectFiles, path: Path, sources: dict[str, str], diagnostics: list[Diagnostic]
) -> SourceDocument | None:
    display = files.display(path)
    doc, problems = load_document(path, display)
    if doc is not None:
        sources[display] = doc.text
        diagnostics += find_secrets(doc)
    else:
        diagnostics += problems
        sources[display] = _best_effort_text(path)
    return doc


def _best_effort_text(path: Path) -> str:
    """The file's text for showing context next to a load error (never raises)."""
    try:
        if path.stat().st_size <= MAX_FILE_BYTES:
            return path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        pass
    return ""


def _include_patterns(doc: SourceDocument) -> tuple[str, ...]:
    """Model patterns from the raw project data, so models load even if the project is invalid."""
    spec: Any = doc.data.get("spec")
    include = spec.get("include") if isinstance(spec, dict) else None
    if isinstance(include, list) and include and all(isinstance(p, str) for p in include):
        return tuple(include)
    return DEFAULT_INCLUDE


def _check_header(doc: SourceDocument, kind: str, diagnostics: list[Diagnostic]) -> bool:
    """apiVersion and kind decide which schema applies, so they are checked first."""
    api_version, actual_kind = doc.data.get("apiVersion"), doc.data.get("kind")
    if api_version != API_VERSION:
        shown = "is missing" if api_version is None else f"is {api_version!r}"
        diagnostics.append(
            make(
                "MLG109",
                f"apiVersion {shown}; this mlgitops reads {API_VERSION!r}",
                doc.locate(("apiVersion",)),
                f"start the file with 'apiVersion: {API_VERSION}'",
            )
        )
        return False
    if actual_kind != kind:
        shown = "is missing" if actual_kind is None else f"is {actual_kind!r}"
        expected = "the project file" if kind == "Project" else "a model file"
        diagnostics.append(
            make(
                "MLG110",
                f"kind {shown}; {expected} must have 'kind: {kind}'",
                doc.locate(("kind",)),
                "model specs live under the include patterns, the project in mlgitops.yaml",
            )
        )
        return False
    return True
