"""Every relaxation of the pods' hardening, made visible (MLG337) or refused by the policy
``forbidSecurityRelaxations`` (MLG406). Runs on the resolved settings, since a relaxation may
come from any layer (project defaults, environment, model, override)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mlgitops.diagnostics import ENVIRONMENT, Diagnostic, Location, make
from mlgitops.resolve import ResolvedProject
from mlgitops.resolve.layers import Merged, Origin

_KEY = "securityContext"
_NOTE_HINT = "listed so that a reviewer sees it; the policy forbidSecurityRelaxations makes it an error"
_POLICY_HINT = "remove the relaxation, or use an image that runs as a non-root user with a read-only root"


def check_hardening(resolved: ResolvedProject) -> list[Diagnostic]:
    spec = resolved.validated.spec.spec
    forbidden = set(spec.policies.forbid_security_relaxations)
    diagnostics: list[Diagnostic] = []
    for item in resolved.deployments:
        env = item.environment.name
        for setting, origin in _serving_relaxations(item.serving):
            what = f"{item.model.name!r} relaxes its serving pods' hardening in {ENVIRONMENT}: {setting}"
            diagnostics.append(_diagnostic(what, origin.location(), env in forbidden, env))
    # Training runs in the first environment's namespace (targets/ci/training.py).
    first = spec.environments[0].name if spec.environments else None
    for model in resolved.validated.models:
        training = model.spec.spec.training
        if training is None or "security_context" not in training.model_fields_set:
            continue
        path: tuple[str | int, ...] = ("spec", "training", _KEY)
        for setting, where in _written(training.security_context, path):
            what = f"{model.name!r} relaxes its training pod's hardening in {ENVIRONMENT}: {setting}"
            location = model.doc.locate(where)
            diagnostics.append(_diagnostic(what, location, first in forbidden, first or "-"))
    return diagnostics


def _diagnostic(what: str, location: Location | None, forbidden: bool, env: str) -> Diagnostic:
    if forbidden:
        message = what + ", which the policy forbidSecurityRelaxations forbids"
        return make("MLG406", message, location, _POLICY_HINT, environment=env)
    return make("MLG337", what, location, _NOTE_HINT, environment=env)


def _serving_relaxations(serving: Merged) -> Iterator[tuple[str, Origin]]:
    """``name: value`` of each relaxation in force and the origin of the layer that wrote it."""
    for path, origin in sorted(serving.nulls.items()):
        if path[0] == _KEY:
            yield f"{'.'.join(path)}: null", origin
    for index, volume in enumerate(serving.get("volumes") or ()):
        found = serving.origin("volumes")
        if volume.nfs is not None and found is not None:
            yield (
                f"volumes[{index}] {volume.name!r} is an NFS volume, which Pod Security restricted forbids",
                found,
            )
    written = serving.get(_KEY)
    if isinstance(written, dict):
        for key in sorted(written):
            found = serving.origin(_KEY, key)
            if found is not None:
                yield f"{_KEY}.{key}: {_show(written[key])}", found


def _written(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[str, tuple[str | int, ...]]]:
    if value is None:
        yield f"{_KEY}: null", path
        return
    for key, item in sorted(value.model_dump(by_alias=True, exclude_unset=True).items()):
        yield f"{_KEY}.{key}: {_show(item)}", (*path, key)


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)
