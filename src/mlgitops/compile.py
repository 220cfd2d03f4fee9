"""Stages 5–7 for one project: IR → render (targets) → emit, plus ``check``.

Called by :mod:`mlgitops.pipeline`, which runs discovery and validation first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from mlgitops import __version__, ir
from mlgitops.diagnostics import Diagnostic, Location, make
from mlgitops.emit.manifest import MANIFEST_DIR, Manifest
from mlgitops.emit.plan import Plan, encoded_hashes, plan
from mlgitops.emit.safefs import ProjectTree
from mlgitops.emit.territory import Territory
from mlgitops.ir.build import build_project
from mlgitops.parallel import map_chunks
from mlgitops.render.engine import RenderError, TemplateSource
from mlgitops.render.overrides import check_overrides
from mlgitops.resolve import ResolvedProject
from mlgitops.resources import templates_dir

__all__ = ["Generated", "generate", "templates_dir"]
from mlgitops.targets import registry, selected
from mlgitops.targets.base import OutputFile, RenderContext
from mlgitops.targets.gitops.kustomize import kustomizations


@dataclass(frozen=True)
class Generated:
    files: list[OutputFile]
    project: ir.Project | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # The per-model targets' files of each model, when the built-in templates rendered them
    # (``generate(..., reuse=...)`` of another revision takes those of unchanged models).
    by_model: Mapping[str, tuple[OutputFile, ...]] = field(default_factory=dict)


def template_source(
    root: Path, override: str | None, where: Location
) -> tuple[TemplateSource, list[Diagnostic]]:
    """The built-in templates and the project's overrides (``spec.templates``, at ``where``)."""
    if override is None:
        return TemplateSource(templates_dir()), []
    overrides, problems = check_overrides(root, override, where)
    if overrides is None:
        return TemplateSource(templates_dir()), problems
    return TemplateSource(templates_dir(), overrides.directory, overrides.texts), []


def generate(
    resolved: ResolvedProject,
    root: Path,
    repo_subdir: str,
    *,
    reuse: Generated | None = None,
    cache: bool = False,
) -> Generated:
    """Build the IR and run every selected target; nothing touches the disk.

    ``reuse``: what ``generate`` gave for another revision of the project (``diff`` compiles
    two).  A model whose IR is equal there, in a project whose settings are equal, gets the
    same files from the per-model targets (they read only their model and the project's
    settings), so those are taken over instead of rendered again.  Only with the built-in
    templates on both sides.  ``cache``: also take unchanged models' files from the previous
    compile on disk (:mod:`mlgitops.emit.rendercache`).
    """
    spec = resolved.validated.spec.spec
    where = resolved.validated.doc.locate(("spec", "templates"))
    source, diagnostics = template_source(root, spec.templates, where)
    if diagnostics:
        return Generated([], None, diagnostics)
    project = build_project(resolved, repo_subdir)
    targets = registry()
    names = selected(project)
    per_model = [n for n in names if targets[n].scope == "model"]
    builtin = spec.templates is None
    kept = _reusable(reuse, project) if builtin else {}
    if cache and builtin:
        from mlgitops.emit import rendercache
        from mlgitops.fingerprint import renderer_fingerprint

        on_disk = rendercache.load(root, project, renderer_fingerprint(templates_dir()))
        kept.update({name: files for name, files in on_disk.items() if name not in kept})
    todo = [m for m in project.models if m.name not in kept]
    # Per-model targets render in parallel chunks for large projects; project-wide ones here.
    rendered = map_chunks(partial(_render_models, project, source, per_model), todo)
    failures = [r for r in rendered if isinstance(r, RenderError)]
    by_model = dict(kept)
    by_model.update(r for r in rendered if not isinstance(r, RenderError))
    files = [f for model in project.models for f in by_model.get(model.name, ())]
    ctx = RenderContext(source)
    try:
        if failures:
            raise failures[0]
        for name in names:
            if targets[name].scope == "project":
                files += targets[name].render(project, ctx)
        files += kustomizations(project, files, ctx)
    except RenderError as exc:
        return Generated([], project, [_template_diagnostic(exc, source, root)])
    paths = [f.path for f in files]
    if len(paths) != len(set(paths)):
        duplicates = sorted({p for p in paths if paths.count(p) > 1})
        raise AssertionError(f"two targets generated the same paths: {duplicates}")
    return Generated(sorted(files, key=lambda f: f.path), project, by_model=by_model if builtin else {})


def _reusable(reuse: Generated | None, project: ir.Project) -> dict[str, tuple[OutputFile, ...]]:
    """The files of ``reuse`` for the models of ``project`` whose IR is the same there."""
    if reuse is None or reuse.project is None or not reuse.by_model:
        return {}
    settings = dataclasses.replace(project, models=(), retired=())
    if dataclasses.replace(reuse.project, models=(), retired=()) != settings:
        return {}
    before = {m.name: m for m in reuse.project.models}
    return {
        m.name: reuse.by_model[m.name]
        for m in project.models
        if m.name in reuse.by_model and before.get(m.name) == m
    }


def _render_models(
    project: ir.Project, source: TemplateSource, names: list[str], models: Sequence[ir.Model]
) -> list[tuple[str, tuple[OutputFile, ...]] | RenderError]:
    """Run the per-model targets for some of the models (possibly in a worker process)."""
    ctx = RenderContext(source)
    targets = registry()
    out: list[tuple[str, tuple[OutputFile, ...]] | RenderError] = []
    try:
        for model in models:
            subset = dataclasses.replace(project, models=(model,))
            files: list[OutputFile] = []
            for name in names:
                files += targets[name].render(subset, ctx)
            out.append((model.name, tuple(files)))
    except RenderError as exc:
        return [exc]  # returned, not raised: it must reach the parent with its location
    return out


def _template_diagnostic(exc: RenderError, source: TemplateSource, root: Path) -> Diagnostic:
    origin = source.origin(exc.template)
    try:
        shown = origin.relative_to(root).as_posix()
    except ValueError:
        shown = f"<mlgitops templates>/{exc.template}"
    return make(
        "MLG503",
        str(exc),
        Location(shown, exc.line or 1, 1),
        "fix the template, or remove the override to use the built-in one",
    )


def emit_plan(
    tree: ProjectTree,
    files: list[OutputFile],
    input_hash: str,
    previous: Manifest | None,
    territory: Territory,
    *,
    retired: tuple[str, ...] = (),
    strict: bool = False,
) -> Plan:
    encoded = {f.path: f.content.encode() for f in files}  # once: hashed for the manifest, then compared
    manifest = Manifest(f"mlgitops {__version__}", input_hash, encoded_hashes(encoded), sorted(retired))
    return plan(tree, encoded, manifest, previous, territory, strict=strict)


def vanished_models(previous: Manifest | None, project: ir.Project) -> list[Diagnostic]:
    """A model whose workloads the last compile wrote but whose spec is gone (its file deleted or
    renamed away): compiling would silently tear down what it serves.  Retiring it first
    (``lifecycle.stage: retired``) is the deliberate way, and the manifest remembers that."""
    if previous is None:
        return []
    known = {m.name for m in project.models} | set(project.retired) | set(previous.retired)
    environments = {e.name for e in project.environments}
    deployed: dict[str, set[str]] = {}
    prefix = f"{project.output}/"
    for path in previous.files:
        parts = path[len(prefix) :].split("/") if path.startswith(prefix) else []
        if len(parts) >= 3 and parts[0] in environments and parts[1] not in known:
            deployed.setdefault(parts[1], set()).add(parts[0])
    order = {e.name: e.order for e in project.environments}
    return [
        make(
            "MLG517",
            f"model {model!r} is deployed in {', '.join(sorted(envs, key=order.__getitem__))} "
            "(the last compile's manifest) but its spec is gone",
            Location(f"{MANIFEST_DIR}/manifest.json"),
            "retire it first: restore its file, set lifecycle.stage: retired and remove its "
            "deployments, compile, and only then delete the file",
        )
        for model, envs in sorted(deployed.items())
    ]


def save_render_cache(tree: ProjectTree, generated: Generated, hashes: Mapping[str, str]) -> None:
    """Record each model's IR and files (``hashes``: path → SHA-256 of the rendered content)."""
    if generated.project is None or not generated.by_model:
        return
    from mlgitops.emit import rendercache
    from mlgitops.fingerprint import renderer_fingerprint

    renderer = renderer_fingerprint(templates_dir())
    rendercache.save(tree, generated.project, renderer, generated.by_model, hashes)
