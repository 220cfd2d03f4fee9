"""``diff --base REF``: what a change does to the generated output, for reviewers.

Both sides are compiled in memory: the base from git objects (see
:mod:`mlgitops.gitsource`), the head from the working tree.  Both are validated
first; a model whose IR is the same on both sides (in projects whose settings are
equal) has the same files on both, so its YAML is not rendered at all, only its
paths worked out (``compile.generate(..., outline=...)``: the kustomizations list
them).  A change to one model costs two validations and that model's rendering,
with or without a render cache.  The result combines a
semantic summary per model × environment (versions, canary traffic, replicas,
resources, alerts, retirements) with the file-level unified diffs.
"""

from __future__ import annotations

import datetime
import difflib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from mlgitops import ir
from mlgitops.compile import generate, same_models
from mlgitops.diagnostics import Diagnostic
from mlgitops.discover import PROJECT_FILE, ProjectRef, find_project, repository_subdir
from mlgitops.errors import UserError
from mlgitops.gitsource import Repository, SpecHistory, materialize, repository
from mlgitops.ir.build import BuiltModels, build_project
from mlgitops.parallel import map_chunks_beside
from mlgitops.pipeline import validate_project
from mlgitops.resolve import ResolvedProject
from mlgitops.results import CompileResult, ValidationResult
from mlgitops.targets.base import OutputFile
from mlgitops.targets.monitoring.prometheus_shapes import SHARED_BURN_ALERTS, served
from mlgitops.validate.specfiles import KnownModels

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True)
class FileChange:
    path: str
    status: str  # "added" | "changed" | "removed"
    diff: str


@dataclass(frozen=True, slots=True)
class DeploymentChange:
    model: str
    environment: str
    status: str  # "added" | "removed" | "changed" | "retired"
    before: str | None  # version (with " + canary X at N%")
    after: str | None
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class DiffResult:
    base: str
    environments: tuple[str, ...]
    deployments: list[DeploymentChange]
    files: list[FileChange]
    alerts_added: list[str] = field(default_factory=list)
    alerts_removed: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    new_models: list[str] = field(default_factory=list)
    versions: dict[str, dict[str, tuple[str | None, str | None]]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.files


def diff_project(path: ProjectRef, base: str) -> DiffResult:
    today = datetime.date.today()
    files, _ = find_project(path)
    history = SpecHistory.at(files.root, base) if files is not None else None
    # the base's model files that are the head's are neither loaded nor resolved again
    known = KnownModels()
    with tempfile.TemporaryDirectory(prefix="mlgitops-base-") as scratch:
        validate_head = partial(validate_project, path, today=today, history=history, known=known)
        found: Repository | UserError | OSError | None = None
        if files is None:
            head = validate_head()  # no project: its validation says why
        else:
            # The base's files come out of git in a worker while this process validates the
            # head (a few git runs and a thousand small writes, a fifth of a second).
            (found,), head = map_chunks_beside(
                partial(_materialized, files.root, base, Path(scratch), os.getpid()),
                (None,),
                validate_head,
                min_items=1,
                parent_share=0,
            )
        if not head.ok or head.resolved is None or head.root is None:
            raise UserError("the project has errors; fix them before diffing", head.diagnostics)
        if isinstance(found, UserError | OSError):
            raise found
        assert found is not None  # a valid head was found, so its base was read
        repo = found
        earlier = validate_project(Path(scratch), today=today, known=known)
        if not earlier.ok or earlier.resolved is None:
            raise UserError(
                f"the project at {base!r} does not validate, so there is nothing to compare with",
                earlier.diagnostics,
            )
        built = BuiltModels()  # the base's models that resolved the same are not built again
        after_ir = build_project(head.resolved, _place(head.resolved, repository_subdir(head.root)), built)
        before_ir = build_project(earlier.resolved, _place(earlier.resolved, repo.subdir), built)
        builtin = all(v.validated.spec.spec.templates is None for v in (head.resolved, earlier.resolved))
        same = same_models(before_ir, after_ir) if builtin else set()
        # The two sides render at once, the base in a worker process where there is a core for
        # it: each is mostly the project-wide targets, which one process renders alone.
        base_side = partial(_base_files, earlier, before_ir, same)
        (base_files,), after = map_chunks_beside(
            base_side, (None,), partial(_rendered, head, after_ir, same), min_items=1, parent_share=0
        )
        if not after.ok:
            raise UserError("the project has errors; fix them before diffing", after.diagnostics)
        before = CompileResult(earlier, base_files[0], extra=base_files[1], project=before_ir)
    if not before.ok:
        raise UserError(
            f"the project at {base!r} does not validate, so there is nothing to compare with",
            before.diagnostics,
        )
    return compare(base, before, after)


def _materialized(
    root: Path, base: str, scratch: Path, parent: int, _chunk: Sequence[None]
) -> list[Repository | UserError | OSError]:
    """The project's files at ``base`` written under ``scratch`` (``map_chunks``'s form): the
    repository read, or what stopped that. A worker (not ``parent``, when everything runs
    in-process) is niced: it takes the core the head's validation leaves idle while it
    resolves, not one its loading needs."""
    if os.getpid() != parent and hasattr(os, "nice"):
        os.nice(10)
    try:
        repo = repository(root)
        materialize(repo, base, scratch)
    except (UserError, OSError) as exc:  # the parent raises it, as if it had been its own
        return [exc]
    return [repo]


def _place(resolved: ResolvedProject, subdir: str) -> str:
    """Where the project sits in its repository: ``subdir``, or the root it declares itself to be."""
    return "" if resolved.validated.spec.spec.repository_root == "." else subdir


def _rendered(validation: ValidationResult, project: ir.Project, outline: set[str]) -> CompileResult:
    """``validation``'s files, those of the models in ``outline`` with paths only (the same on
    both sides: their content is not compared)."""
    assert validation.resolved is not None and validation.root is not None
    generated = generate(
        validation.resolved, validation.root, project.repo_subdir, project=project, outline=outline
    )
    return CompileResult(validation, generated.files, extra=generated.diagnostics, project=generated.project)


def _base_files(
    validation: ValidationResult, project: ir.Project, outline: set[str], chunk: Sequence[None]
) -> list[tuple[list[OutputFile], list[Diagnostic]]]:
    """:func:`_rendered`'s files and diagnostics, for a chunk of one (``parallel.map_chunks``: in
    a worker, only these travel back; the parent has the rest)."""
    if not chunk:
        return []
    result = _rendered(validation, project, outline)
    return [(result.files, result.extra)]


def compare(base: str, before: CompileResult, after: CompileResult) -> DiffResult:
    assert before.project is not None and after.project is not None
    files = _file_changes(before.files, after.files)
    deployments, versions = _deployment_changes(before.project, after.project)
    # Alerts can only come or go in files that changed: parse those alone (thousands of
    # unchanged rule files in a large project would cost more than the compile).
    changed = {change.path for change in files}
    old_alerts = _alerts([f for f in before.files if f.path in changed], before.project)
    new_alerts = _alerts([f for f in after.files if f.path in changed], after.project)
    old_models = {m.name for m in before.project.models}
    return DiffResult(
        base=base,
        environments=tuple(e.name for e in after.project.environments),
        deployments=deployments,
        files=files,
        alerts_added=sorted(new_alerts - old_alerts),
        alerts_removed=sorted(old_alerts - new_alerts),
        retired=sorted(set(after.project.retired) - set(before.project.retired)),
        new_models=sorted({m.name for m in after.project.models} - old_models - set(before.project.retired)),
        versions=versions,
    )


def _file_changes(before: list[OutputFile], after: list[OutputFile]) -> list[FileChange]:
    old = {f.path: f.content for f in before}
    new = {f.path: f.content for f in after}
    changes = []
    for path in sorted(old.keys() | new.keys()):
        a, b = old.get(path), new.get(path)
        if a == b:
            continue
        status = "added" if a is None else "removed" if b is None else "changed"
        text = "".join(
            difflib.unified_diff(
                (a or "").splitlines(keepends=True),
                (b or "").splitlines(keepends=True),
                fromfile="/dev/null" if a is None else f"a/{path}",
                tofile="/dev/null" if b is None else f"b/{path}",
            )
        )
        changes.append(FileChange(path, status, text))
    return changes


def _shown(d: ir.Deployment | None) -> str | None:
    if d is None:
        return None
    if d.canary is None:
        return d.version
    return f"{d.version} + canary {d.canary.version} at {d.canary.traffic}%"


def _deployment_changes(
    before: ir.Project, after: ir.Project
) -> tuple[list[DeploymentChange], dict[str, dict[str, tuple[str | None, str | None]]]]:
    old = {(d.model, d.environment.name): d for d in before.deployments()}
    new = {(d.model, d.environment.name): d for d in after.deployments()}
    order = {e.name: i for i, e in enumerate(after.environments)}
    changes: list[DeploymentChange] = []
    versions: dict[str, dict[str, tuple[str | None, str | None]]] = {}
    retired = set(after.retired)
    for key in sorted(old.keys() | new.keys(), key=lambda k: (k[0], order.get(k[1], 99), k[1])):
        a, b = old.get(key), new.get(key)
        model, env = key
        versions.setdefault(model, {})[env] = (_shown(a), _shown(b))
        if b is None:
            status = "retired" if model in retired else "removed"
            changes.append(DeploymentChange(model, env, status, _shown(a), None))
        elif a is None:
            changes.append(DeploymentChange(model, env, "added", None, _shown(b)))
        else:
            details = _details(a, b)
            if details or _shown(a) != _shown(b):
                changes.append(DeploymentChange(model, env, "changed", _shown(a), _shown(b), tuple(details)))
    # Models whose versions did not change stay out of the version table.
    versions = {m: envs for m, envs in versions.items() if any(x != y for x, y in envs.values())}
    return changes, versions


def split(d: ir.Deployment) -> str:
    """The stable/canary percentages, e.g. ``90/10`` (``100`` without a canary)."""
    return f"{100 - d.canary.traffic}/{d.canary.traffic}" if d.canary else "100"


def _details(a: ir.Deployment, b: ir.Deployment) -> list[str]:
    out = []
    sa, sb = a.serving, b.serving
    if split(a) != split(b):
        out.append(f"traffic {split(a)} → {split(b)}")
    ra, rb = sa.resources or _PLATFORM_RESOURCES, sb.resources or _PLATFORM_RESOURCES
    for label, x, y in (
        ("replicas", _replicas(sa.autoscaling), _replicas(sb.autoscaling)),
        ("cpu", _or_platform(ra.cpu), _or_platform(rb.cpu)),
        ("memory", _or_platform(ra.memory), _or_platform(rb.memory)),
        ("gpu", str(ra.gpu), str(rb.gpu)),
        ("runtime", sa.runtime, sb.runtime),
        ("image", sa.image or "-", sb.image or "-"),
    ):
        if x != y:
            out.append(f"{label} {x} → {y}")
    return out


def _alerts(files: list[OutputFile], project: ir.Project) -> set[str]:
    """``<file>: <alert> (<severity>)`` for every alerting rule in generated PrometheusRules, and
    ``… for <model>`` for each model a shared rule alerts for.

    Rules are found by their ``kind``, whatever the file is called; the severity is part of
    the key because multi-burn-rate SLO alerts share one name across severities.  A shared
    burn-rate alert (an environment's project-wide rules, docs/monitoring.md) serves every model
    whose SLO of its kind has default alerting there, which the IR tells
    (``prometheus_shapes.served``), so adding or dropping an SLO shows as that model's alerts.
    """
    found: set[str] = set()
    served_in: dict[str, dict[str, set[str]]] = {}  # environment → SLO kind → models
    for output in files:
        if "PrometheusRule" not in output.content:
            continue
        shared = output.source == PROJECT_FILE and output.environment is not None
        for document in yaml.load_all(output.content, Loader=_LOADER):
            if not isinstance(document, dict) or document.get("kind") != "PrometheusRule":
                continue
            spec: Any = document.get("spec") or {}
            for group in spec.get("groups") or []:
                for rule in (group or {}).get("rules") or []:
                    if not isinstance(rule, dict) or "alert" not in rule:
                        continue
                    labels = rule.get("labels")
                    severity = labels.get("severity") if isinstance(labels, dict) else None
                    key = f"{output.path}: {rule['alert']}" + (f" ({severity})" if severity else "")
                    kind = SHARED_BURN_ALERTS.get(str(rule["alert"])) if shared else None
                    if kind is None or output.environment is None:
                        found.add(key)
                        continue
                    env = output.environment
                    if env not in served_in:
                        served_in[env] = served(project, env)
                    found.update(f"{key} for {model}" for model in served_in[env].get(kind, ()))
    return found


# What a null left to the platform shows as in a diff.
_PLATFORM_DEFAULT = "platform default"
_PLATFORM_RESOURCES = ir.Resources((), ())


def _or_platform(value: object) -> str:
    return _PLATFORM_DEFAULT if value is None else str(value)


def _replicas(autoscaling: ir.Autoscaling | None) -> str:
    if autoscaling is None:
        return _PLATFORM_DEFAULT
    return f"{_or_platform(autoscaling.min_replicas)}–{_or_platform(autoscaling.max_replicas)}"
