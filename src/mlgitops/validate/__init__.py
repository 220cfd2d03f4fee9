"""Stage 3, validate: schema checks per file, semantic checks across files, policies.

The validated project is handed to :mod:`mlgitops.resolve`; policies need the
resolved values and are therefore run by the pipeline after resolution.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlgitops.discover import ProjectFiles
from mlgitops.load import SourceDocument
from mlgitops.spec import ModelSpec, ProjectSpec


@dataclass(frozen=True, slots=True)
class ValidatedModel:
    """A model spec that passed schema validation, with the document it came from."""

    doc: SourceDocument
    spec: ModelSpec

    @property
    def name(self) -> str:
        return self.spec.metadata.name


@dataclass(frozen=True, slots=True)
class ValidatedProject:
    """The project spec and every model spec that passed schema validation."""

    files: ProjectFiles
    doc: SourceDocument
    spec: ProjectSpec
    models: tuple[ValidatedModel, ...]

    @property
    def environment_names(self) -> tuple[str, ...]:
        return tuple(env.name for env in self.spec.spec.environments)
