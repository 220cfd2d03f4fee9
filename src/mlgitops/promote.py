"""``promote``: move a version to an environment by editing the model's spec.

A promotion is a git edit, never a deploy: this module computes the edit,
checks that the edited project still validates, and returns the new text
with a suggested commit message and pull-request title.  Writing the file is
the caller's decision (the CLI writes it atomically).
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from yaml.nodes import MappingNode, Node

from mlgitops import textedit
from mlgitops.diagnostics import Diagnostic, did_you_mean
from mlgitops.discover import ProjectRef
from mlgitops.errors import UserError
from mlgitops.pipeline import validate_project
from mlgitops.results import ValidationResult
from mlgitops.spec.model import Deployment
from mlgitops.validate import ValidatedModel
from mlgitops.versions import is_older


@dataclass(frozen=True)
class Request:
    model: str
    environment: str
    version: str | None = None
    canary: int | None = None
    finish_canary: bool = False
    force: bool = False
    weight: int | None = None  # move the current canary to this percentage
    abort_canary: bool = False  # remove the canary, the stable version stays
    reason: str | None = None  # with force: why the order is waived

    @property
    def waiver(self) -> str:
        """The flow entries a forced promotion adds to a new deployment mapping."""
        if not self.force:
            return ""
        reason = f", reason: {textedit.scalar_text(self.reason)}" if self.reason else ""
        return f", waivePromotionOrder: true{reason}"


@dataclass(frozen=True)
class Promotion:
    model: str
    environment: str
    version: str
    kind: str  # "promote" | "canary" | "finish-canary" | "weight" | "abort-canary"
    spec_path: Path
    spec_display: str
    before: str
    after: str
    canary: int | None = None
    traffic_before: int | None = None  # the canary's share before a --weight move

    @property
    def title(self) -> str:
        if self.kind == "canary":
            return f"Canary {self.model} {self.version} at {self.canary}% in {self.environment}"
        if self.kind == "finish-canary":
            return f"Finish the canary of {self.model} {self.version} in {self.environment}"
        if self.kind == "weight" and self.canary is not None and self.traffic_before is not None:
            old, new = self.traffic_before, self.canary
            return (
                f"Canary {self.model} {self.version} in {self.environment}: "
                f"traffic {100 - old}/{old} → {100 - new}/{new}"
            )
        if self.kind == "abort-canary":
            return f"Abort the canary of {self.model} in {self.environment}, back to {self.version}"
        return f"Promote {self.model} {self.version} to {self.environment}"

    @property
    def commit_message(self) -> str:
        return f"{self.title}\n\nEdited {self.spec_display} with mlgitops promote."

    @property
    def branch(self) -> str:
        return f"mlgitops/{self.kind}-{self.model}-{self.environment}-{self.version}"

    @property
    def body(self) -> str:
        return (
            f"{self.title}.\n\nThis pull request was opened by `mlgitops promote`; merging it lets "
            "the GitOps controller roll the change out."
        )


def plan_promotion(project_path: ProjectRef, request: Request) -> tuple[Promotion, ValidationResult]:
    """Compute and check the edit; raises UserError with diagnostics when it is not possible."""
    result = validate_project(project_path)
    if not result.ok or result.resolved is None:
        raise UserError("the project has errors; fix them before promoting", result.diagnostics)
    validated = result.resolved.validated
    models = {m.name: m for m in validated.models}
    model = models.get(request.model)
    if model is None:
        hint = did_you_mean(request.model, models)
        raise UserError(f"no model named {request.model!r}" + (f"; {hint}" if hint else ""))
    environments = list(validated.environment_names)
    if request.environment not in environments:
        hint = did_you_mean(request.environment, environments)
        raise UserError(f"no environment named {request.environment!r}" + (f"; {hint}" if hint else ""))
    deployments = model.spec.spec.deployments
    current = deployments.get(request.environment)
    previous = _previous(environments, deployments, request.environment)
    moves_canary = request.finish_canary or request.abort_canary or request.weight is not None
    if moves_canary and (current is None or current.canary is None):
        verb = "finish" if request.finish_canary else "abort" if request.abort_canary else "move"
        raise UserError(f"{request.model} has no canary in {request.environment} to {verb}")
    if moves_canary:
        assert current is not None and current.canary is not None
        if request.abort_canary:
            version, kind = current.version, "abort-canary"
        else:
            version = current.canary.version
            kind = "finish-canary" if request.finish_canary else "weight"
    else:
        version = request.version or (previous[1].version if previous else None)  # type: ignore[assignment]
        if version is None:
            raise UserError(
                f"{request.environment} is the first environment of {request.model}: pass --version"
            )
        kind = "canary" if request.canary is not None else "promote"
        if previous is not None and not request.force:
            _check_order(request, version, *previous)
    served = {
        v for d in deployments.values() for v in (d.version, *((d.canary.version,) if d.canary else ()))
    }
    if model.spec.spec.lifecycle.stage == "deprecated" and version not in served:
        raise UserError(
            f"{request.model} is deprecated: it takes no new version ({version} is served nowhere); "
            f"promote one it serves ({', '.join(sorted(served))}) or a rollback to one of them, or "
            "make it active again (lifecycle.stage) first"
        )
    if request.canary is not None and current is None:
        raise UserError(
            f"a canary needs a stable version: {request.model} is not in {request.environment} yet"
        )
    if kind in ("promote", "finish-canary"):  # the stable version changes
        _check_literal_artifact(request, current, version)
    # A waiver is for a version that moves into the environment, never for one it already serves.
    served = {current.version} | ({current.canary.version} if current.canary else set()) if current else set()
    if request.force and (moves_canary or version in served):
        request = dataclasses.replace(request, force=False)
    after = _edit(model, request, current, version)
    promotion = Promotion(
        request.model,
        request.environment,
        version,
        kind,
        model.doc.path,
        model.doc.display,
        model.doc.text,
        after,
        request.weight if request.weight is not None else request.canary,
        current.canary.traffic if current and current.canary and request.weight is not None else None,
    )
    checked = validate_project(project_path, overlay={model.doc.path: after.encode()})
    if not checked.ok:
        raise UserError(
            "the edited spec would not validate; nothing was written", _errors(checked.diagnostics)
        )
    return promotion, checked


def _previous(
    environments: list[str], deployments: dict[str, Deployment], target: str
) -> tuple[str, Deployment] | None:
    """The nearest environment before ``target`` that runs the model."""
    for name in reversed(environments[: environments.index(target)]):
        if name in deployments:
            return name, deployments[name]
    return None


def _check_literal_artifact(request: Request, current: Deployment | None, version: str) -> None:
    """A deployment's literal artifact (no ``{version}``) is its stable version's: it cannot
    follow a new stable version."""
    literal = current.artifact if current is not None else None
    if current is None or not literal or "{version}" in literal or version == current.version:
        return
    raise UserError(
        f"the artifact of {request.model} in {request.environment} is written without "
        f"{{version}} ({literal}), so it would not follow version {version}: edit "
        f"deployments.{request.environment}.version and its artifact by hand"
    )


def _check_order(request: Request, version: str, previous_name: str, previous: Deployment) -> None:
    available = {previous.version} | ({previous.canary.version} if previous.canary else set())
    if version not in available and not is_older(version, previous.version):
        raise UserError(
            f"{request.model} {version} has not been deployed to {previous_name!r}, which comes before "
            f"{request.environment!r} (it serves {', '.join(sorted(available))}); promote it there first, "
            "or pass --force (which also marks the deployment waivePromotionOrder: true)"
        )


def _edit(model: ValidatedModel, request: Request, current: Deployment | None, version: str) -> str:
    text = model.doc.text
    try:
        root = textedit.parse(text)
        shared = textedit.shared_nodes(root)
        spec = textedit.child(root, "spec")
        if spec is None or not isinstance(spec[1], MappingNode):
            raise textedit.EditError("it has no spec mapping")
        found = textedit.child(spec[1], "deployments")
        env = request.environment
        if found is None:
            _own(spec[1], shared, "spec")
            waiver = request.waiver
            value = f"{{{env}: {{version: {textedit.scalar_text(version)}{waiver}}}}}"
            splices = [textedit.add_entry(text, spec[1], "deployments", value)]
        elif not isinstance(found[1], MappingNode):
            raise textedit.EditError("spec.deployments is not a mapping")
        else:
            _own(found[1], shared, "spec.deployments")
            splices = _deployment_edit(text, found[1], request, current, version, shared)
    except textedit.EditError as exc:
        raise UserError(f"cannot edit {model.doc.display}: {exc}; make this change by hand") from None
    return textedit.apply(text, splices)


def _own(node: Node, shared: set[int], where: str) -> None:
    """Refuse to edit a node that is an anchor used by aliases (or an alias): the edit would
    change every place that shares it, not only ``where``."""
    if id(node) in shared:
        raise textedit.EditError(
            f"{where} is shared through a YAML anchor and alias (&name / *name); "
            "editing it would also change the other places that use it"
        )


def _deployment_edit(
    text: str,
    deployments: MappingNode,
    request: Request,
    current: Deployment | None,
    version: str,
    shared: set[int],
) -> list[textedit.Splice]:
    env = request.environment
    entry = textedit.child(deployments, env)
    if entry is None or current is None:
        waiver = request.waiver
        return [
            textedit.add_entry(
                text, deployments, env, f"{{version: {textedit.scalar_text(version)}{waiver}}}"
            )
        ]
    node = entry[1]
    where = f"deployments.{env}"
    if not isinstance(node, MappingNode):
        raise textedit.EditError(f"{where} is not a mapping")
    _own(node, shared, where)
    splices: list[textedit.Splice] = []
    version_node = textedit.child(node, "version")
    canary_node = textedit.child(node, "canary")
    if request.weight is not None or request.abort_canary:
        if canary_node is None:
            raise textedit.EditError(f"{where} has no canary")
        if request.weight is None:  # --abort-canary
            return [textedit.remove_entry(text, node, "canary")]
        canary_map = canary_node[1]
        if not isinstance(canary_map, MappingNode):
            raise textedit.EditError(f"{where}.canary is not a mapping")
        _own(canary_map, shared, f"{where}.canary")
        field = textedit.child(canary_map, "traffic")
        if field is None:
            raise textedit.EditError(f"{where}.canary has no traffic")
        _own(field[1], shared, f"{where}.canary.traffic")
        return [textedit.replace_scalar(field[1], request.weight)]
    if request.canary is not None:
        value = f"{{version: {textedit.scalar_text(version)}, traffic: {request.canary}}}"
        if canary_node is None:
            splices.append(textedit.add_entry(text, node, "canary", value))
        else:
            canary_map = canary_node[1]
            if not isinstance(canary_map, MappingNode):
                raise textedit.EditError(f"{where}.canary is not a mapping")
            _own(canary_map, shared, f"{where}.canary")
            for key, new in (("version", version), ("traffic", request.canary)):
                field = textedit.child(canary_map, key)
                if field is None:
                    raise textedit.EditError(f"{where}.canary has no {key}")
                _own(field[1], shared, f"{where}.canary.{key}")
                splices.append(textedit.replace_scalar(field[1], new))
    else:
        if version_node is None:
            raise textedit.EditError(f"{where} has no version")
        _own(version_node[1], shared, f"{where}.version")
        splices.append(textedit.replace_scalar(version_node[1], version))
        if canary_node is not None and (
            request.finish_canary or (current.canary and current.canary.version == version)
        ):
            splices.append(textedit.remove_entry(text, node, "canary"))
    if request.force and textedit.child(node, "waivePromotionOrder") is None:
        # splices at one place apply last-listed first: the reason lands after the waiver
        if request.reason and textedit.child(node, "reason") is None:
            splices.append(textedit.add_entry(text, node, "reason", textedit.scalar_text(request.reason)))
        splices.append(textedit.add_entry(text, node, "waivePromotionOrder", "true"))
    return splices


def _errors(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.severity.value == "error"]


def write_spec(path: Path, text: str) -> None:
    """Replace the spec in one rename, keeping its permissions.

    The temporary file is created with ``O_EXCL | O_NOFOLLOW`` under a name nobody could
    have planted: a committed symlink at a predictable name would otherwise be written
    through, and promote runs with a token that can push.
    """
    mode = path.stat().st_mode & 0o7777
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.mlgitops-tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    handle = os.open(temporary, flags, 0o600)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            os.fchmod(stream.fileno(), mode)
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
