"""``explain``: a model's resolved settings per environment, each with where it came from."""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from typing import Any

from mlgitops.diagnostics import Location, did_you_mean
from mlgitops.errors import UserError
from mlgitops.resolve import Origin, ResolvedDeployment, ResolvedProject


@dataclass(frozen=True, slots=True)
class Setting:
    """A resolved value and where it was written; ``platform_default`` when it is an
    explicit ``null`` (``origin`` is the null), which leaves the value to the platform."""

    path: str
    value: Any
    origin: Origin
    platform_default: bool = False


@dataclass(frozen=True, slots=True)
class Explanation:
    model: str
    environment: str
    namespace: str
    settings: tuple[Setting, ...]


@dataclass(frozen=True, slots=True)
class Retirement:
    """Why a model has no settings to explain: its ``lifecycle.stage`` is ``retired``."""

    model: str
    stage: Location  # where `lifecycle.stage: retired` is written
    sunset: datetime.date | None
    replaced_by: str | None
    reason: str | None


def explain(resolved: ResolvedProject, model: str, environment: str | None) -> list[Explanation]:
    """The settings of ``model`` per environment; none for a retired model (see :func:`retirement`)."""
    names = sorted({m.name for m in resolved.validated.models})
    if model not in names:
        hint = did_you_mean(model, names)
        raise UserError(
            f"no model named {model!r}" + (f"; {hint}" if hint else f" (models: {', '.join(names)})")
        )
    items = resolved.for_model(model)
    if environment is not None:
        envs = resolved.validated.environment_names
        if environment not in envs:
            hint = did_you_mean(environment, envs)
            raise UserError(f"no environment named {environment!r}" + (f"; {hint}" if hint else ""))
        if retirement(resolved, model) is not None:
            return []  # not deployed anywhere, which the caller reports as retirement
        items = tuple(i for i in items if i.environment.name == environment)
        if not items:
            raise UserError(f"model {model!r} is not deployed to {environment!r}")
    return [_explain(item) for item in items]


def retirement(resolved: ResolvedProject, model: str) -> Retirement | None:
    """How ``model`` was retired, if it was (a retired model resolves to no deployment)."""
    for validated in resolved.validated.models:
        lifecycle = validated.spec.spec.lifecycle
        if validated.name == model and lifecycle.stage == "retired":
            stage = validated.doc.locate(("spec", "lifecycle", "stage"))
            return Retirement(model, stage, lifecycle.sunset, lifecycle.replaced_by, lifecycle.reason)
    return None


def _explain(item: ResolvedDeployment) -> Explanation:
    deployment = item.origin
    settings = [Setting("version", item.deployment.version, deployment.child("version"))]
    if item.deployment.canary is not None:
        canary = item.deployment.canary
        settings.append(Setting("canary.version", canary.version, deployment.child("canary", "version")))
        settings.append(Setting("canary.traffic", canary.traffic, deployment.child("canary", "traffic")))
    serving = item.serving
    rows = [(path, False) for path in serving.origins] + [(path, True) for path in serving.nulls]
    for path, cleared in sorted(rows):
        name = "serving." + ".".join(path)
        if cleared:
            settings.append(Setting(name, None, serving.nulls[path], platform_default=True))
        else:
            settings.append(Setting(name, _plain(serving.get(*path)), serving.origins[path]))
    return Explanation(item.model.name, item.environment.name, item.environment.namespace, tuple(settings))


def _plain(value: Any) -> Any:
    """Values as a user would write them (secret references shown as references)."""
    if hasattr(value, "model_dump"):
        return _plain(value.model_dump(by_alias=True, exclude_none=True))
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        # Number fields are floats once validated (a target of 4 becomes 4.0); show what was meant.
        return int(value)
    return value
