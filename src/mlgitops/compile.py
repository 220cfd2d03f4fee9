"""Stages 5–7 for one project: IR → render (targets) → emit, plus ``check``.

Called by :mod:`mlgitops.pipeline`, which runs discovery and validation first.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path

from mlgitops import __version__, ir
from mlgitops.diagnostics import Diagnostic, Location, make
from mlgitops.emit.drift import Drift, find_drift
from mlgitops.emit.manifest import Manifest
from mlgitops.emit.plan import Plan, file_hashes, plan
from mlgitops.ir.build import build_project
from mlgitops.render.engine import RenderError, TemplateSource
from mlgitops.resolve import ResolvedProject
from mlgitops.resources import templates_dir

__all__ = ["Generated", "generate", "templates_dir"]
from mlgitops.targets import registry, selected
from mlgitops.targets.base import OutputFile, RenderContext
from mlgitops.targets.kustomize import kustomizations


@dataclass(frozen=True)
class Generated:
    files: list[OutputFile]
    project: ir.Project | None
    diagnostics: list[Diagnostic] = field(default_factory=list)


def template_source(root: Path, override: str | None) -> tuple[TemplateSource, list[Diagnostic]]:
    if override is None:
        return TemplateSource(templates_dir()), []
    directory = (root / override).resolve()
    if not directory.is_relative_to(root.resolve()) or not directory.is_dir():
        problem = (
            "is outside the project" if not directory.is_relative_to(root.resolve()) else "does not exist"
        )
        return TemplateSource(templates_dir()), [
            make(
                "MLG504",
                f"template directory {override!r} {problem}",
                Location("mlgitops.yaml"),
                "spec.templates names a directory inside the project holding <target>/<name>.j2 files",
            )
        ]
    return TemplateSource(templates_dir(), directory), []


def generate(resolved: ResolvedProject, root: Path, repo_subdir: str) -> Generated:
    """Build the IR and run every selected target; nothing touches the disk."""
    spec = resolved.validated.spec.spec
    source, diagnostics = template_source(root, spec.templates)
    if diagnostics:
        return Generated([], None, diagnostics)
    project = build_project(resolved, repo_subdir)
    ctx = RenderContext(source)
    targets = registry()
    files: list[OutputFile] = []
    try:
        for name in selected(project):
            files += targets[name].render(project, ctx)
        files += kustomizations(project, files, ctx)
    except RenderError as exc:
        origin = source.origin(exc.template)
        try:
            shown = origin.relative_to(root).as_posix()
        except ValueError:
            shown = f"<mlgitops templates>/{exc.template}"
        return Generated(
            [],
            project,
            [
                make(
                    "MLG503",
                    str(exc),
                    Location(shown, exc.line or 1, 1),
                    "fix the template, or remove the override to use the built-in one",
                )
            ],
        )
    paths = [f.path for f in files]
    if len(paths) != len(set(paths)):
        duplicates = sorted({p for p in paths if paths.count(p) > 1})
        raise AssertionError(f"two targets generated the same paths: {duplicates}")
    return Generated(sorted(files, key=lambda f: f.path), project)


def manifest_for(files: list[OutputFile], input_hash: str) -> Manifest:
    return Manifest(f"mlgitops {__version__}", input_hash, file_hashes(files))


def emit_plan(root: Path, files: list[OutputFile], input_hash: str) -> Plan:
    return plan(root, files, manifest_for(files, input_hash))


def drift(root: Path, files: list[OutputFile]) -> list[Drift]:
    return find_drift(root, files, file_hashes(files))


def is_up_to_date(root: Path, input_hash: str) -> bool:
    """True when the manifest records this input fingerprint and every owned file is intact."""
    from mlgitops.emit.manifest import sha256

    manifest = Manifest.read(root)
    if (
        manifest is None
        or manifest.input_hash != input_hash
        or manifest.generator != f"mlgitops {__version__}"
    ):
        return False
    for path, digest in manifest.files.items():
        try:
            if sha256((root / path).read_bytes()) != digest:
                return False
        except OSError:
            return False
    return True


def today_or(value: datetime.date | None) -> datetime.date:
    return value or datetime.date.today()
