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
    """Resources from a merged tree, in either form: the shorthand (``cpu``, ``memory``, ``gpu``)
    and the Kubernetes-native ``requests``/``limits`` by any resource name, the native entry
    winning for the same name. A request absent from the tree is omitted unless ``defaults``
    names one; ``requests: null`` drops every request (limits only, which Kubernetes then also
    takes as the requests). A limit defaults to its request unless an explicit ``null`` removed
    it (``cleared("limits", "cpu")``, or a ``null`` entry in the mapping), which leaves it to the
    platform (the namespace's LimitRange, or none)."""
    requests: dict[str, str] = {}
    for key in ("cpu", "memory"):
        value = values.get(key) or (defaults or {}).get(key)
        if value is not None:
            requests[key] = value
    gpu = values.get("gpu") or 0
    gpu_resource = values.get("gpuResource") or "nvidia.com/gpu"
    if gpu:
        requests[gpu_resource] = str(gpu)
    native = values.get("requests") or {}
    for key in sorted(native):
        if native[key] is None:
            requests.pop(key, None)
        else:
            requests[key] = native[key]
    if cleared("requests") and "requests" not in values:
        requests = {}
    written = values.get("limits") or {}
    all_cleared = cleared("limits") and "limits" not in values

    def limit(key: str) -> str | None:
        if written.get(key) is not None:
            return str(written[key])
        if key in written or all_cleared or cleared("limits", key):
            return None
        return requests.get(key)

    limits = {key: value for key in requests if (value := limit(key)) is not None}
    limits.update({key: value for key in sorted(written) if key not in limits and (value := written[key])})
    return ir.Resources(_ordered(requests), _ordered(limits), gpu, gpu_resource)


def _ordered(values: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """cpu and memory first (as Kubernetes users write them), then the other names sorted."""
    first = [(key, values[key]) for key in ("cpu", "memory") if key in values]
    return (*first, *sorted((k, v) for k, v in values.items() if k not in ("cpu", "memory")))


def resources(spec: ResourcesSpec | None, default_cpu: str, default_memory: str) -> ir.Resources:
    """Resources of a spec that is not layered (training): an unset request takes the
    default given, an explicit ``null`` leaves it (or a limit) to the platform."""
    tree: dict[str, Any] = spec.model_dump(by_alias=True, exclude_unset=True) if spec else {}
    nulls = {key for key, value in tree.items() if value is None}
    tree = {key: value for key, value in tree.items() if value is not None}
    written = spec.model_fields_set if spec else set()
    defaults = {
        key: value for key, value in (("cpu", default_cpu), ("memory", default_memory)) if key not in written
    }
    if "requests" in written:  # the native form says every request itself
        defaults = {}

    def cleared(*path: str) -> bool:
        return len(path) == 1 and path[0] in nulls

    return resources_from_tree(tree, cleared, defaults)


_SECURITY_FIELDS = {
    "runAsUser": "run_as_user",
    "runAsGroup": "run_as_group",
    "fsGroup": "fs_group",
    "readOnlyRootFilesystem": "read_only_root_filesystem",
}


def security_context(values: Mapping[str, Any], cleared: Callable[..., bool]) -> ir.SecurityContext:
    """The hardened default with what the spec relaxed: a written value, or None where an
    explicit ``null`` (on the field or on the whole ``securityContext``) left it to the image."""
    settings: dict[str, Any] = {}
    for key, name in _SECURITY_FIELDS.items():
        if key in values:
            settings[name] = values[key]
        elif cleared(key):
            settings[name] = None
    return ir.SecurityContext(**settings, writable_paths=tuple(values.get("writablePaths") or ()))


def env_vars(values: Mapping[str, Any], ci_names: Mapping[str, str] | None = None) -> tuple[ir.EnvVar, ...]:
    out = []
    for name in sorted(values):
        out.append(env_var(name, values[name], ci_names))
    return tuple(out)


def env_var(name: str, value: object, ci_names: Mapping[str, str] | None = None) -> ir.EnvVar:
    """``ci_names``: the acting environment's ``ciSecrets``, which ``fromCiSecret`` names go through."""
    if isinstance(value, SecretSource):
        if value.from_secret is not None:
            return ir.EnvVar(name, secret=ir.SecretKeyRef(value.from_secret.name, value.from_secret.key))
        source = value.from_ci_secret or ""
        return ir.EnvVar(name, ci_secret=(ci_names or {}).get(source, source))
    return ir.EnvVar(name, value=str(value))


def tolerations(values: Iterable[TolerationSpec]) -> tuple[ir.Toleration, ...]:
    return tuple(ir.Toleration(t.key, t.operator, t.value, t.effect, t.toleration_seconds) for t in values)
