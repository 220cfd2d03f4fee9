"""Conversions from spec values to IR values shared by the IR builders."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mlgitops import ir
from mlgitops.spec.common import Resources as ResourcesSpec
from mlgitops.spec.common import SecretSource
from mlgitops.spec.common import Toleration as TolerationSpec


def resources_from_tree(values: Mapping[str, Any]) -> ir.Resources:
    cpu = values.get("cpu") or "500m"
    memory = values.get("memory") or "1Gi"
    limits = values.get("limits") or {}
    return ir.Resources(
        cpu=cpu,
        memory=memory,
        limit_cpu=limits.get("cpu") or cpu,
        limit_memory=limits.get("memory") or memory,
        gpu=values.get("gpu") or 0,
        gpu_resource=values.get("gpuResource") or "nvidia.com/gpu",
    )


def resources(spec: ResourcesSpec | None, default_cpu: str, default_memory: str) -> ir.Resources:
    tree: dict[str, Any] = spec.model_dump(by_alias=True, exclude_none=True) if spec else {}
    tree.setdefault("cpu", default_cpu)
    tree.setdefault("memory", default_memory)
    return resources_from_tree(tree)


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
