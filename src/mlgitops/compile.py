"""Stages 5–7 for one project: IR → render (targets) → emit, plus ``check``.

A compile streams (``generate_staged``): each file is decided and staged where it is
rendered; ``check`` and ``diff`` keep the files whole (``generate``).

Called by :mod:`mlgitops.pipeline`, which runs discovery and validation first.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Generic, TypeVar

from mlgitops import __version__, ir
from mlgitops.diagnostics import Diagnostic, Location, has_errors, make
from mlgitops.emit.manifest import Manifest, vanished_models
from mlgitops.emit.plan import Plan, Planner, plan
from mlgitops.emit.safefs import ProjectTree
from mlgitops.emit.staging import PlannedFile, Stager
from mlgitops.emit.territory import Territory
from mlgitops.ir.build import build_project
from mlgitops.parallel import map_chunks, map_chunks_beside
from mlgitops.render.engine import Engine, RenderError, TemplateSource, TextEscape
from mlgitops.render.overrides import check_overrides
from mlgitops.resolve import ResolvedProject
from mlgitops.resources import templates_dir
from mlgitops.targets import k8s, registry, selected
from mlgitops.targets.base import GeneratedPath, OutputFile, RenderContext
from mlgitops.targets.gitops.kustomize import kustomizations, model_kustomizations

__all__ = ["Generated", "Prepared", "generate", "generate_staged", "prepare", "templates_dir"]


F = TypeVar("F", bound=GeneratedPath)

# A model's name, its per-model files, and its IR digest for the render cache ("" without).
RenderedModel = tuple[str, tuple[F, ...], str]
# A model of a compile's slice (``SliceRender``), its files rendered in memory, then staged.
DraftedModel = RenderedModel[OutputFile] | RenderError
StagedModel = RenderedModel[PlannedFile] | RenderError
# The models' rendered files (every model's, in order) and ``beside()``, as the workers that built
# them rendered them (``relayed.RelayedRender.finish``).
Relayed = Callable[[Callable[[], Any]], tuple[list[RenderedModel[F] | RenderError], Any]]

# The parent's chunk of models, as a multiple of a worker's: it renders the project-wide targets
# too (about a ninth of the render's work at 1,000 models, now that the models render faster),
# while the workers render. At 0.85 the parent finished 0.13-0.22 s after the worker.
PROJECT_WIDE_PARENT_SHARE = 0.75


@dataclass(frozen=True)
class Generated(Generic[F]):
    """The generated files: whole (``OutputFile``), or as a streaming compile keeps them once
    decided and staged (``PlannedFile``)."""

    files: list[F]
    project: ir.Project | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # The per-model targets' files of each model, when the built-in templates rendered them
    # (what the render cache keeps for the next compile).
    by_model: Mapping[str, tuple[F, ...]] = field(default_factory=dict)
    # The IR digests the render cache records, of the models rendered (worked out in the render
    # workers, beside each model's files, and not after the commit by the parent alone).
    digests: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Prepared:
    """What rendering needs of a validated project: its IR and its templates.  A compile builds
    it first and then lets the validated and resolved specs go, most of a large compile's
    memory (about 100 KB a model), before the render workers are forked."""

    project: ir.Project
    source: TemplateSource
    builtin: bool  # no override templates: the render cache may be read and written


def prepare(
    resolved: ResolvedProject, root: Path, repo_subdir: str, project: ir.Project | None = None
) -> tuple[Prepared | None, list[Diagnostic]]:
    """The IR (``project`` when the caller has built it) and the templates, or why the
    project's override templates cannot be used."""
    spec = resolved.validated.spec.spec
    where = resolved.validated.doc.locate(("spec", "templates"))
    source, diagnostics = template_source(root, spec.templates, where)
    if diagnostics:
        return None, diagnostics
    built = project or build_project(resolved, repo_subdir)
    return Prepared(built, source, spec.templates is None), []


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
    cache: bool = False,
    project: ir.Project | None = None,
    outline: Collection[str] = (),
) -> Generated[OutputFile]:
    """Build the IR and run every selected target; nothing touches the disk.

    ``cache``: take unchanged models' files from the previous
    compile on disk (:mod:`mlgitops.emit.rendercache`).  ``project``: the IR, when the caller
    has built it already.  ``outline``: models whose per-model files are only wanted for their
    paths (``diff`` of two revisions where they are the same, :func:`same_models`): those
    files come with empty content, their YAML templates not rendered.
    """
    prepared, diagnostics = prepare(resolved, root, repo_subdir, project)
    if prepared is None:
        return Generated([], None, diagnostics)
    return _generate(prepared, root, _whole, cache=cache, outline=outline)


def generate_staged(
    prepared: Prepared,
    root: Path,
    stager: Stager,
    *,
    cache: bool = False,
    relayed: Relayed[PlannedFile] | None = None,
) -> Generated[PlannedFile]:
    """``generate``, each file handed to ``stager`` where it is rendered (in the render
    workers), so that only its :class:`PlannedFile` is kept: memory does not grow with the
    output. ``relayed``: the models were rendered where they were built (``relayed.py``)."""
    return _generate(prepared, root, stager, cache=cache, relayed=relayed)


@dataclass(frozen=True)
class SliceRender:
    """How a compile's worker renders a model of the slice it built (``relayed.py``): ``draft``
    renders every per-model file of it in memory, with the built-in templates, and gives its IR
    digest for the render cache; ``stage`` then hands the files to the stager (only once the
    project is known valid: a process drafts while it waits for that)."""

    draft: Callable[[ir.Model], DraftedModel]
    stage: Callable[[DraftedModel], StagedModel]


def slice_renderer(stager: Stager) -> Callable[[ir.Project], SliceRender]:
    """Given the project's IR holding a slice of the models, how to render one of them."""
    # One set of engines (their compiled templates) for every slice a process renders: the
    # parent renders its own, then takes over the end of a worker's.
    return partial(_model_renderer, TemplateSource(templates_dir()), stager, {})


def _model_renderer(
    source: TemplateSource, stager: Stager, engines: dict[tuple[str, int], Engine], project: ir.Project
) -> SliceRender:
    per_model = _scoped(project, "model")
    context = RenderContext(
        source,
        engines,
        kustomized=k8s.kustomized_labels(project),
        model_kustomized=k8s.model_kustomized(project),
    )
    render = partial(_render_models, project, lambda: context, per_model, _whole, True)
    return SliceRender(lambda model: render((model,))[0], partial(_staged, stager))


def _staged(stager: Stager, rendered: DraftedModel) -> StagedModel:
    if isinstance(rendered, RenderError):
        return rendered
    name, files, digest = rendered
    return name, tuple(map(stager, files)), digest


def _scoped(project: ir.Project, scope: str) -> list[str]:
    """The names of the targets that run for ``project`` whose scope is ``scope`` ("model": a
    file set per model; "project"), in their fixed order."""
    targets = registry()
    return [name for name in selected(project) if targets[name].scope == scope]


def _whole(file: OutputFile) -> OutputFile:
    return file


def _generate(
    prepared: Prepared,
    root: Path,
    keep: Callable[[OutputFile], F],
    *,
    cache: bool = False,
    outline: Collection[str] = (),
    relayed: Relayed[F] | None = None,
) -> Generated[F]:
    project, source, builtin = prepared.project, prepared.source, prepared.builtin
    per_model = _scoped(project, "model")
    kept: dict[str, tuple[F, ...]] = {}
    if cache and builtin:
        from mlgitops.emit import rendercache
        from mlgitops.fingerprint import renderer_fingerprint

        renderer = renderer_fingerprint(templates_dir())
        kept.update(rendercache.load(root, project, renderer, keep))
    todo = [m for m in project.models if m.name not in kept and m.name not in outline]
    sketch = [m for m in project.models if m.name not in kept and m.name in outline]
    directories = k8s.model_kustomized(project)
    context = partial(
        RenderContext, source, kustomized=k8s.kustomized_labels(project), model_kustomized=directories
    )
    ctx = context()
    project_wide = partial(_render_project_wide, project, ctx, _scoped(project, "project"), keep)
    # Per-model targets render in parallel chunks for large projects; project-wide ones here,
    # while the workers render their chunks.
    if relayed is not None:  # the workers that built the models render them (nothing kept)
        assert builtin and not kept and not outline
        rendered, project_files = relayed(project_wide)
    else:
        rendered, project_files = map_chunks_beside(
            partial(_render_models, project, context, per_model, keep, builtin),
            todo,
            project_wide,
            parent_share=PROJECT_WIDE_PARENT_SHARE,
        )
    if sketch:
        rendered += map_chunks(
            partial(
                _render_models,
                project,
                partial(Outline, source, model_kustomized=directories),
                per_model,
                keep,
                False,
            ),
            sketch,
        )
    failures = [r for r in rendered if isinstance(r, RenderError)]
    by_model = dict(kept)
    by_model.update((r[0], r[1]) for r in rendered if not isinstance(r, RenderError))
    digests = {r[0]: r[2] for r in rendered if not isinstance(r, RenderError) and r[2]}
    files = [f for model in project.models for f in by_model.get(model.name, ())]
    try:
        if failures:
            raise failures[0]
        if isinstance(project_files, RenderError):
            raise project_files
        files += project_files
        files += map(keep, kustomizations(project, files, ctx))
    except RenderError as exc:
        return Generated([], project, [_template_diagnostic(exc, source, root)])
    # a model directory's kustomization lists only that model's files (``_render_models``)
    stray = [f.path for f in project_files if f.environment and f.path.rpartition("/")[0] in directories]
    if stray:
        raise AssertionError(f"project-wide targets generated files in model directories: {stray}")
    paths = [f.path for f in files]
    if len(paths) != len(set(paths)):
        duplicates = sorted({p for p in paths if paths.count(p) > 1})
        raise AssertionError(f"two targets generated the same paths: {duplicates}")
    kept_by_model = by_model if builtin else {}
    return Generated(sorted(files, key=lambda f: f.path), project, by_model=kept_by_model, digests=digests)


def same_models(before: ir.Project, after: ir.Project) -> set[str]:
    """The models whose per-model files are the same in both projects (the per-model targets
    read only their model and the project's settings): none unless the settings are equal."""
    settings = dataclasses.replace(after, models=(), retired=())
    if dataclasses.replace(before, models=(), retired=()) != settings:
        return set()
    earlier = {m.name: m for m in before.models}
    return {m.name for m in after.models if earlier.get(m.name) == m}


class Outline(RenderContext):
    """A render context that gives each YAML file its path and no content: for the models
    whose files are the same on both sides of a diff, whose paths the kustomizations list."""

    paths_only = True

    def yaml_file(
        self,
        target: str,
        template: str,
        context: Mapping[str, Any],
        *,
        path: str,
        source: str,
        environment: str | None = None,
        escape: TextEscape | None = None,
    ) -> OutputFile:
        return OutputFile(path, "", source, environment)


def _render_models(
    project: ir.Project,
    context: Callable[[], RenderContext],
    names: list[str],
    keep: Callable[[OutputFile], F],
    digest: bool,
    models: Sequence[ir.Model],
) -> list[RenderedModel[F] | RenderError]:
    """Run the per-model targets for some of the models (possibly in a worker process), then
    the kustomizations of each model's directories, which list those files, and ``keep`` what is
    to be kept of each file; ``digest``: with each model's IR digest for the render cache ("" without)."""
    from mlgitops.emit.rendercache import model_digest

    ctx = context()
    targets = registry()
    out: list[RenderedModel[F] | RenderError] = []
    try:
        for model in models:
            subset = dataclasses.replace(project, models=(model,))
            rendered: list[OutputFile] = []
            for name in names:
                rendered += targets[name].render(subset, ctx)
            rendered += model_kustomizations(model, rendered, ctx)
            files = [keep(f) for f in rendered]
            out.append((model.name, tuple(files), model_digest(model) if digest else ""))
    except RenderError as exc:
        return [exc]  # returned, not raised: it must reach the parent with its location
    return out


def _render_project_wide(
    project: ir.Project, ctx: RenderContext, names: list[str], keep: Callable[[OutputFile], F]
) -> list[F] | RenderError:
    """Run the project-wide targets (in the parent, while the workers render models)."""
    files: list[F] = []
    try:
        for name in names:
            files += map(keep, registry()[name].render(project, ctx))
    except RenderError as exc:
        return exc  # reported after a model's template failure, as the models come first
    return files


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
    files: list[PlannedFile],
    input_hash: str,
    previous: Manifest | None,
    territory: Territory,
    *,
    retired: tuple[str, ...] = (),
) -> Plan:
    hashes = {f.path: f.digest for f in files}
    manifest = Manifest(f"mlgitops {__version__}", input_hash, hashes, sorted(retired))
    return plan(tree, files, manifest, previous, territory)


def save_render_cache(
    tree: ProjectTree, generated: Generated[OutputFile] | Generated[PlannedFile], hashes: Mapping[str, str]
) -> None:
    """Record each model's IR and files (``hashes``: path → SHA-256 of the rendered content)."""
    if generated.project is None or not generated.by_model:
        return
    from mlgitops.emit import rendercache
    from mlgitops.fingerprint import renderer_fingerprint

    renderer = renderer_fingerprint(templates_dir())
    rendercache.save(tree, generated.project, renderer, generated.by_model, hashes, generated.digests)


@dataclass(frozen=True)
class Written:
    """What ``write_project`` did: the generated paths, the plan it applied (None when it
    stopped before: a template failed, or the plan has errors) and the diagnostics."""

    paths: tuple[str, ...]
    plan: Plan | None
    diagnostics: list[Diagnostic]


def write_project(
    tree: ProjectTree,
    prepared: Prepared,
    input_hash: str,
    previous: Manifest | None,
    territory: Territory,
    *,
    cache: bool,
    planner: Planner,
    staging: contextlib.AbstractContextManager[object],
    relayed: Relayed[PlannedFile] | None = None,
) -> Written:
    """Render, staging each file as it is rendered (in ``staging``: ``staging_area``, or the
    one entered already for ``relayed``), then apply one transaction."""
    from mlgitops.emit import transaction

    with staging:
        generated = generate_staged(prepared, tree.root, Stager(planner), cache=cache, relayed=relayed)
        paths = tuple(f.path for f in generated.files)
        if generated.diagnostics:
            return Written(paths, None, generated.diagnostics)
        gone = vanished_models(previous, generated.project) if generated.project else []
        if gone:
            return Written(paths, None, gone)
        retired = generated.project.retired if generated.project else ()
        emit = emit_plan(tree, generated.files, input_hash, previous, territory, retired=retired)
        if has_errors(emit.diagnostics):
            return Written(paths, None, emit.diagnostics)
        transaction.apply(emit, tree)
    with contextlib.suppress(OSError):  # the files are committed: the cache is only an optimisation
        save_render_cache(tree, generated, emit.manifest.files)
    return Written(paths, emit, emit.diagnostics)
