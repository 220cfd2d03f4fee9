"""What the pipeline's runs return: ``validate``'s result and ``compile``'s or ``check``'s.

Plain data that the CLI's reporters, ``diff`` and ``promote`` read; ``pipeline.py`` fills them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from mlgitops.diagnostics import Diagnostic, has_errors, sort_diagnostics

if TYPE_CHECKING:
    from mlgitops import ir
    from mlgitops.emit.drift import Drift
    from mlgitops.resolve import ResolvedProject
    from mlgitops.targets.base import OutputFile
    from mlgitops.validate import ValidatedProject


@dataclass(frozen=True)
class ValidationResult:
    """Everything ``validate`` learnt: diagnostics, the sources they point into, the resolved project."""

    diagnostics: list[Diagnostic]
    sources: Mapping[str, str] = field(default_factory=dict)
    resolved: ResolvedProject | None = None
    root: Path | None = None
    # The validated project, also when it was not resolved. Kept by the result: a large project's
    # objects take tens of milliseconds to free one by one, for nothing when the CLI exits next.
    validated: ValidatedProject | None = None
    # The IR of the models (every one not retired, by name), when a compile had validation build
    # it where each slice was resolved (``pipeline.validate_project(build=True)``): ``resolved``
    # then holds no deployments.
    built: tuple[ir.Model, ...] | None = None

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)

    def without_models(self) -> ValidationResult:
        """This result without its model specs, resolved deployments and models' IR (most of its
        memory): what a compile still reads once the IR is built (diagnostics, sources, the project
        spec; ``compile.Prepared`` holds the IR).
        Both references to the models go, ``validated``'s too: it alone would keep every spec
        alive through the render."""
        if self.resolved is None:
            return self
        from mlgitops.resolve import ResolvedProject

        validated = replace(self.resolved.validated, models=())
        return replace(self, resolved=ResolvedProject(validated, ()), validated=validated, built=None)


@dataclass(frozen=True)
class CompileResult:
    """What ``compile`` or ``check`` did: diagnostics, generated files and what changed on disk."""

    validation: ValidationResult
    files: list[OutputFile] = field(default_factory=list)  # in memory (check, generate_files)
    paths: tuple[str, ...] = ()  # what a compile generated (streamed to disk, not kept)
    written: tuple[str, ...] = ()
    pruned: tuple[str, ...] = ()
    up_to_date: bool = False
    recovered: bool = False
    drift: list[Drift] = field(default_factory=list)
    extra: list[Diagnostic] = field(default_factory=list)
    vanished: Mapping[str, int] = field(default_factory=dict)  # spec gone → its files pruned
    project: ir.Project | None = None  # the IR, when rendering ran

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return sort_diagnostics([*self.validation.diagnostics, *self.extra])

    @property
    def file_count(self) -> int:
        return len(self.files) or len(self.paths)

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)
