"""The only module that knows the order of the stages.

discover → load → validate (schema, secrets, semantics) → resolve → policies
→ IR → render → emit.  Each stage returns data and diagnostics; this module
decides how far to go and collects everything into a result.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from mlgitops.diagnostics import Diagnostic, Location, has_errors, merge_environments, sort_diagnostics
from mlgitops.discover import (
    PROJECT_FILE,
    ProjectFiles,
    ProjectRef,
    find_project,
    project_subdir,
)
from mlgitops.inputs import find_model_files
from mlgitops.parallel import map_chunks
from mlgitops.progress import SILENT, Observer
from mlgitops.results import CompileResult, ValidationResult

# The parent's share of the models to resolve and build, against a worker's: it checks the references
# and takes in the worker's IR too (a sixth of the work), a worker pickles its IR (a quarter).
RESOLVE_AND_BUILD_PARENT_SHARE = 0.85

T = TypeVar("T")
R = TypeVar("R")

if TYPE_CHECKING:
    # The validation stages (pydantic) are imported when validation runs, so that a compile
    # answered from the cache starts fast; likewise the render and emit stages, so that
    # `validate` (run on every pre-commit) does not pay for Jinja and the targets.
    from mlgitops import compile as compiler
    from mlgitops import ir
    from mlgitops.emit.safefs import ProjectTree
    from mlgitops.ir.build import Stable
    from mlgitops.relayed import RelayedRender
    from mlgitops.targets.base import OutputFile
    from mlgitops.validate import ValidatedProject
    from mlgitops.validate.deployments import Findings, NameGroup
    from mlgitops.validate.promotion import ServedBefore
    from mlgitops.validate.salvage import Distrust
    from mlgitops.validate.specfiles import KnownModels


def validate_project(
    path: ProjectRef,
    *,
    today: datetime.date | None = None,
    overlay: Mapping[Path, bytes] | None = None,
    only: Sequence[Path] | None = None,
    progress: Observer = SILENT,
    history: ServedBefore | None = None,
    keep_resolved: bool = True,
    known: KnownModels | None = None,
    build: bool = False,
    relayed: RelayedRender | None = None,
    while_loading: Callable[[], object] | None = None,
) -> ValidationResult:
    """Load, validate and resolve the project at ``path`` (a directory or its mlgitops.yaml,
    or where to search upward from).

    ``overlay`` maps file paths to contents that replace what is on disk (``promote``
    validates its edit before writing it).  ``only``: model files named on the command
    line; the whole project is still validated, but only their diagnostics and the
    project-level ones are returned (``selection.py``).  ``history``: what the spec files
    served before, from git up to a base revision (``gitsource.SpecHistory``), for the
    promotion order and deprecated models.  ``keep_resolved`` false (``validate``, which wants
    the diagnostics only): the result has no resolved project, and a large project's models
    are resolved and checked in several processes (``validate/deployments.py``).  ``known``:
    model files another validation in this process loaded cleanly (``diff``'s two revisions),
    taken as they are where their bytes are the same, and their resolved deployments where the
    project spec is equal too (``validate/deployments.KnownDeployments``); filled with this one's.
    ``build`` (compile): the IR of a project that loaded cleanly is built too, each slice of its
    models where it was resolved, a large project's in several processes (``_resolve_and_build``),
    and kept in the result (``built``) instead of the resolved deployments. ``relayed`` (with
    ``build``): the processes that build the IR go on to render it (:class:`RelayedRender`).
    ``while_loading``: done in this process while the workers load the model files.
    """
    from mlgitops.validate import ValidatedModel, ValidatedProject, specfiles
    from mlgitops.validate.salvage import trusted

    progress.stage("discover", 1)
    files, diagnostics = find_project(path)
    if files is None:
        return ValidationResult(diagnostics)
    sources: dict[str, str] = {}
    overlay = overlay or {}
    project_doc = specfiles.load_spec(files, files.project_file, sources, diagnostics, overlay)
    distrusted: dict[str, Distrust] = {}  # salvaged files: see validate/salvage.py
    project = specfiles.project_spec(files, project_doc, diagnostics, distrusted)
    model_paths, problems = find_model_files(files, project_doc)
    diagnostics += problems
    progress.stage("load and check the schema", len(model_paths) + 1)
    models: list[ValidatedModel] = []
    for display, text, doc, spec, distrust, problems in specfiles.load_models(
        files, overlay, model_paths, known, share=keep_resolved, meanwhile=while_loading
    ):
        sources[display] = text
        diagnostics += problems
        if doc is not None and spec is not None:
            models.append(ValidatedModel(doc, spec))
        if distrust is not None:
            distrusted[display] = distrust
    resolved = validated = None
    parts: list[tuple[ir.Model, ...] | None] = []  # each slice's IR, when built
    if project is not None and project_doc is not None:
        # Imported here, after the workers loading the files have started without them.
        from mlgitops.validate import deployments
        from mlgitops.validate.references import check_references as references_of

        validated = ValidatedProject(files, project_doc, project, tuple(models))
        progress.stage("check references, resolve, policies", len(models))
        references: list[Diagnostic] = []
        check_references = partial(references_of, validated, today, history, references)
        build_ir = build and keep_resolved and known is None and not has_errors(diagnostics)
        relay = relayed if build_ir and relayed is not None and relayed.takes(validated) else None
        slices, parts = _resolve_slices(
            validated,
            check_references,
            keep=keep_resolved,
            build=build_ir,
            known=None if overlay else known,
            relayed=relay,
        )
        diagnostics += trusted(references, distrusted, merged=False)
        whole, merged = deployments.combine(validated, slices)
        diagnostics += trusted(merged, distrusted, merged=True)
        resolved = whole if keep_resolved else None
    diagnostics = merge_environments(diagnostics)  # the same problem in several environments: once
    if relayed is not None and relayed.started and not has_errors(diagnostics):
        parts = relayed.proceed()  # the workers go on to render while their IR comes in
    built = None
    if parts and all(part is not None for part in parts) and not has_errors(diagnostics):
        built = tuple(model for part in parts for model in part or ())
    if only is not None:
        from mlgitops.selection import select_files

        include = project_doc.locate(("spec", "include")) if project_doc else Location(PROJECT_FILE)
        model_files = {files.display(p) for p in model_paths}
        diagnostics = select_files(diagnostics, files, model_files, only, include)
    return ValidationResult(sort_diagnostics(diagnostics), sources, resolved, files.root, validated, built)


def _resolve_slices(
    validated: ValidatedProject,
    check_references: Callable[[], None],
    *,
    keep: bool,
    build: bool,
    known: KnownModels | None,
    relayed: RelayedRender | None = None,
) -> tuple[list[Findings], list[tuple[ir.Model, ...] | None]]:
    """The models resolved and checked in slices (``check_references`` called meanwhile), and
    with ``build`` each slice's IR; ``keep``: the slices keep the resolved deployments (unless
    they are built into the IR). ``relayed``: the slices' processes stay to render them, and
    their IR comes later (:meth:`RelayedRender.proceed`)."""
    from mlgitops.validate import deployments

    groups = deployments.name_groups(validated.models)
    if build:
        from mlgitops.ir.build import stable_versions

        # A worker sends back diagnostics and IR, not the merged settings (costlier to pickle).
        resolve = partial(_resolve_and_build, validated, stable_versions(validated))
        if relayed is not None:
            return relayed.start(validated, resolve, groups, check_references), []
        built = map_chunks(
            partial(_as_list, resolve),
            groups,
            parent_share=RESOLVE_AND_BUILD_PARENT_SHARE,
            meanwhile=check_references,
        )
        return [found for found, _ in built], [models for _, models in built]
    if keep:
        check_references()
        if known is not None:
            return known.deployments.check(validated, groups), []
        return deployments.check_slice(validated, groups, keep=True), []
    # The workers send their diagnostics only; the parent checks the references across
    # models meanwhile, which takes about a sixth of the resolution: a smaller share.
    slices = map_chunks(
        partial(deployments.check_slice, validated, keep=False),
        groups,
        parent_share=0.75,
        meanwhile=check_references,
    )
    return slices, []


def _as_list(work: Callable[[Sequence[T]], R], items: Sequence[T]) -> list[R]:
    """``work(items)`` as ``map_chunks`` wants it: a list of one."""
    return [work(items)]


def _resolve_and_build(
    validated: ValidatedProject, stable: Stable, groups: Sequence[NameGroup]
) -> tuple[Findings, tuple[ir.Model, ...] | None]:
    """A compile's resolution of a slice of the models: what it found, and the slice's IR
    unless it found an error (None then: the compile stops)."""
    from mlgitops.ir.build import build_models
    from mlgitops.resolve import ResolvedProject
    from mlgitops.validate import deployments

    [found] = deployments.check_slice(validated, groups, keep=True)
    models = None
    if not has_errors([*found.diagnostics, *found.limits]):
        resolved = ResolvedProject(validated, found.deployments).by_model
        models = build_models(validated, (model for group in groups for model in group), resolved, stable)
    return dataclasses.replace(found, deployments=()), models


def compile_project(
    path: ProjectRef,
    *,
    today: datetime.date | None = None,
    use_cache: bool = True,
    strict: bool = False,
    progress: Observer = SILENT,
) -> CompileResult:
    """Validate, render and write the project; a failure writes nothing.

    ``strict``: refuse to overwrite a generated file that was edited by hand (MLG515)."""
    from mlgitops.emit.safefs import ProjectTree
    from mlgitops.emit.state import StateError, cannot_write

    files, problems = find_project(path)
    if files is None:
        return CompileResult(ValidationResult(problems))
    day = today or datetime.date.today()
    try:
        with ProjectTree(files.root) as tree:
            return _compile_in(tree, files, day, use_cache=use_cache, strict=strict, progress=progress)
    except StateError as exc:
        return CompileResult(ValidationResult([], root=files.root), extra=exc.diagnostics)
    except OSError as exc:  # disk full, read-only tree, permissions: the user's to fix, not a bug
        return CompileResult(ValidationResult([], root=files.root), extra=[cannot_write(exc)])


def _compile_in(
    tree: ProjectTree,
    files: ProjectFiles,
    day: datetime.date,
    *,
    use_cache: bool,
    strict: bool,
    progress: Observer,
) -> CompileResult:
    from mlgitops import fingerprint
    from mlgitops.emit import state, transaction
    from mlgitops.resources import templates_dir

    with transaction.session(tree, files) as (inputs, recovered):
        previous = state.read_manifest(tree)
        spec_hash = inputs.input_hash
        subdir = inputs.territory.repo_subdir
        key = fingerprint.cache_key(spec_hash, templates_dir(), day, subdir) if spec_hash else None
        if use_cache and key is not None and fingerprint.is_up_to_date(tree, previous, key):
            return CompileResult(ValidationResult([], root=files.root), up_to_date=True, recovered=recovered)
        from mlgitops.emit.state import RENDER_CACHE_PATH
        from mlgitops.relayed import RelayedRender, RenderStack

        # Rendering's modules are imported while the model files load (``relayed.py``).
        stack = RenderStack(tree, previous.files if previous else {}, inputs.territory, strict=strict)
        # With no render cache to read, the workers that build the models' IR render it too.
        relay = not use_cache or tree.lstat(RENDER_CACHE_PATH) is None
        staging = contextlib.ExitStack()  # the staging area, once the project is valid
        with staging, RelayedRender(stack.render_slice, partial(stack.stage_into, staging)) as relayed:
            validation = validate_project(
                files.project_file,
                today=day,
                progress=progress,
                build=True,
                relayed=relayed if relay else None,
                while_loading=stack.load,
            )
            if not validation.ok or validation.resolved is None:
                return CompileResult(validation, recovered=recovered)
            from mlgitops import compile as compiler  # imported while loading (``stack.load``)
            from mlgitops.emit.staging import staging_area

            progress.stage("render and write", len(validation.resolved.validated.models))
            prepared, problems = _prepared(validation, files.root)
            if prepared is None:
                return CompileResult(validation, extra=problems, recovered=recovered)
            # The IR holds what rendering needs: the model specs go (before the render workers fork,
            # unless the workers that built the IR render it).
            validation = validation.without_models()
            written = compiler.write_project(
                tree,
                prepared,
                spec_hash or "",
                previous,
                inputs.territory,
                cache=use_cache,
                planner=stack.planner,
                staging=staging if relayed.proceeded else staging_area(tree),
                relayed=relayed.finish if relayed.proceeded else None,
            )
        if written.plan is None or has_errors(written.diagnostics):
            extra = written.diagnostics
            return CompileResult(validation, paths=written.paths, extra=extra, recovered=recovered)
        if key is not None:  # the files are committed: a cache is an optimisation, no failure an error
            with contextlib.suppress(OSError):
                fingerprint.write_cache(tree, key, written.paths, written.plan.stats)
        from mlgitops.validate.ci_stores import first_write_notes

        return CompileResult(
            validation,
            paths=written.paths,
            written=written.plan.written,
            pruned=written.plan.deletes,
            recovered=recovered,
            extra=[*written.diagnostics, *first_write_notes(validation.resolved, written.plan.written)],
            vanished=written.plan.vanished,
        )


def _prepared(validation: ValidationResult, root: Path) -> tuple[compiler.Prepared | None, list[Diagnostic]]:
    """``compile.prepare`` for a valid project whose models' IR validation built (a function of
    its own, so that no local name of the caller keeps the specs)."""
    from mlgitops import compile as compiler
    from mlgitops.ir.build import assemble_project

    assert validation.resolved is not None and validation.built is not None
    validated = validation.resolved.validated
    place = project_subdir(validated.spec.spec.repository_root, root)
    project = assemble_project(validated, validation.built, place)
    return compiler.prepare(validation.resolved, root, place, project)


def recover_interrupted(path: ProjectRef) -> bool:
    """Roll back an interrupted compile of the project at ``path`` now (compile does it first
    anyway); True when there was one.  StateError when its journal cannot be trusted."""
    from mlgitops.emit import transaction
    from mlgitops.emit.safefs import ProjectTree
    from mlgitops.emit.state import StateError

    files, problems = find_project(path)
    if files is None:
        raise StateError(problems)
    with ProjectTree(files.root) as tree, transaction.session(tree, files) as (_inputs, recovered):
        return recovered


def check_project(
    path: ProjectRef, *, today: datetime.date | None = None, progress: Observer = SILENT
) -> CompileResult:
    """Compile in memory and compare with the tree on disk; never writes the tree.

    Having rendered every model, it leaves the render cache behind (see
    ``has_gitignore`` below), so a ``diff`` after it in the same CI job renders only
    the models a change touches."""
    from mlgitops.emit.safefs import ProjectTree
    from mlgitops.emit.state import StateError, cannot_write

    validation = validate_project(path, today=today, progress=progress, build=True)
    generated = _generate(validation, progress=progress)
    if not validation.ok or generated is None or generated.diagnostics:
        return CompileResult(validation, extra=generated.diagnostics if generated else [])
    progress.stage("compare with the tree", len(generated.files))
    assert validation.root is not None
    try:
        with ProjectTree(validation.root) as tree:
            return _check_in(tree, validation, generated)
    except StateError as exc:
        return CompileResult(validation, generated.files, extra=exc.diagnostics)
    except OSError as exc:  # the repository root above the project cannot be reached safely
        return CompileResult(validation, generated.files, extra=[cannot_write(exc)])


def _check_in(
    tree: ProjectTree, validation: ValidationResult, generated: compiler.Generated[OutputFile]
) -> CompileResult:
    from mlgitops.checking import check_tree

    assert validation.root is not None and validation.resolved is not None
    files_at = partial(_files_at, validation)
    subdir = project_subdir(validation.resolved.validated.spec.spec.repository_root, validation.root)
    drift, extra = check_tree(tree, validation.resolved, validation.sources, generated, files_at, subdir)
    return CompileResult(validation, generated.files, drift=drift, extra=extra)


def _files_at(validation: ValidationResult, repo_subdir: str) -> list[OutputFile] | None:
    """The project's files were it at ``repo_subdir`` in its repository (None if that fails)."""
    generated = _generate(validation, repo_subdir)
    return None if generated is None or generated.diagnostics else generated.files


def generate_files(
    path: ProjectRef, *, today: datetime.date | None = None, repo_subdir: str | None = None
) -> CompileResult:
    """Validate and render in memory only (for ``diff`` and tests).

    ``repo_subdir`` overrides where the project sits in its repository (``diff``
    compiles an old revision from a temporary directory outside the repository).
    """
    validation = validate_project(path, today=today)
    generated = _generate(validation, repo_subdir)
    if generated is None:
        return CompileResult(validation)
    return CompileResult(validation, generated.files, extra=generated.diagnostics, project=generated.project)


def _generate(
    validation: ValidationResult,
    repo_subdir: str | None = None,
    *,
    cache: bool = False,
    progress: Observer = SILENT,
) -> compiler.Generated[OutputFile] | None:
    from mlgitops import compile as compiler

    if not validation.ok or validation.resolved is None or validation.root is None:
        return None
    progress.stage("render", len(validation.resolved.validated.models))
    declared = validation.resolved.validated.spec.spec.repository_root
    subdir = project_subdir(declared, validation.root) if repo_subdir is None else repo_subdir
    project = None
    if validation.built is not None:  # validation built the models' IR (check)
        from mlgitops.ir.build import assemble_project

        project = assemble_project(validation.resolved.validated, validation.built, subdir)
    return compiler.generate(validation.resolved, validation.root, subdir, cache=cache, project=project)
