"""Conversions from spec values to IR values shared by the IR builders."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from mlgitops import ir
from mlgitops.spec.common import Resources as ResourcesSpec
from mlgitops.spec.common import SecretSource
from mlgitops.spec.common import Toleration as TolerationSpec


def _nothing_cleared(*path: str) -> bool:
    return False


def resources_from_tree(
    values: Mapping[str, Any],
    cleared: Callable[..., bool] = _nothing_cleared,
    defaults: Mapping[str, str] | None = None,
) -> ir.Resources:
    """Resources from a merged tree. A request absent from the tree is omitted (``None``)
    unless ``defaults`` names one; a limit defaults to its request unless ``cleared`` says
    an explicit ``null`` removed it (``cleared("limits", "cpu")``), which leaves the limit
    to the platform (the namespace's LimitRange, or none)."""
    cpu = values.get("cpu") or (defaults or {}).get("cpu")
    memory = values.get("memory") or (defaults or {}).get("memory")
    limits = values.get("limits") or {}

    def limit(key: str, request: str | None) -> str | None:
        written: str | None = limits.get(key)
        if written is not None:
            return written
        return None if cleared("limits", key) else request

    return ir.Resources(
        cpu=cpu,
        memory=memory,
        limit_cpu=limit("cpu", cpu),
        limit_memory=limit("memory", memory),
        gpu=values.get("gpu") or 0,
        gpu_resource=values.get("gpuResource") or "nvidia.com/gpu",
    )


def resources(spec: ResourcesSpec | None, default_cpu: str, default_memory: str) -> ir.Resources:
    """Resources of a spec that is not layered (training): an unset request takes the
    default given, an explicit ``null`` leaves it (or a limit) to the platform."""
    tree: dict[str, Any] = spec.model_dump(by_alias=True, exclude_none=True) if spec else {}
    written = spec.model_fields_set if spec else set()
    limits = spec.limits if spec else None
    defaults = {
        key: value for key, value in (("cpu", default_cpu), ("memory", default_memory)) if key not in written
    }

    def cleared(*path: str) -> bool:
        if path[0] != "limits" or "limits" not in written:
            return False
        return limits is None or path[1] in limits.model_fields_set

    return resources_from_tree(tree, cleared, defaults)


def env_vars(values: Mapping[str, Any]) -> tuple[ir.EnvVar, ...]:
    out = []
    for name in sorted(values):
        out.append(env_var(name, values[name]))
    return tuple(out)


def env_var(name: str, value: object) -> ir.EnvVar:
    if isinstance(value, SecretSource):
        if value.from_secret is not None:
            return ir.EnvVar(name, secret=ir.SecretKeyRef(value.from_secret.name, value.from_secret.key))
        return ir.EnvVar(name, ci_secret=value.from_ci_secret)
    return ir.EnvVar(name, value=str(value))


def tolerations(values: Iterable[TolerationSpec]) -> tuple[ir.Toleration, ...]:
    return tuple(ir.Toleration(t.key, t.operator, t.value, t.effect, t.toleration_seconds) for t in values)
