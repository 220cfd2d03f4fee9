"""The IR of a deployment's serving settings (``ir.Serving``), from its merged values.

Defaulted fields are complete after resolution unless an explicit ``null`` removed them: then
they stay None and each target omits them (resolve refuses the nulls a target cannot omit).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from typing import Any

from mlgitops import ir
from mlgitops.ir.convert import env_vars, resources_from_tree, security_context, tolerations
from mlgitops.resolve import ResolvedDeployment
from mlgitops.resolve.layers import Merged
from mlgitops.spec.base import SpecModel
from mlgitops.spec.workload import Volume as VolumeSpec


def canary_settings(item: ResolvedDeployment, stable: ir.Serving, model: str) -> ir.Serving:
    """The stable version's settings with the canary's overrides (image, resources, node
    selector, artifact, env, runtime version) and its own artifact."""
    canary = item.deployment.canary
    assert canary is not None
    artifact = canary.artifact or item.serving.get("artifact")
    changes: dict[str, Any] = {"storage_uri": fill_artifact(artifact, model, canary.version)}
    if canary.image is not None:
        changes["image"] = canary.image
    if canary.runtime_version is not None:
        changes["runtime_version"] = canary.runtime_version
    if canary.node_selector is not None:
        changes["node_selector"] = tuple(sorted(canary.node_selector.items()))
    if canary.resources is not None:
        changes["resources"] = resources_from_tree(
            canary.resources.model_dump(by_alias=True, exclude_none=True)
        )
    if canary.env is not None:
        merged = {**(item.serving.get("env") or {}), **canary.env}
        changes["env"] = env_vars(merged)
    return dataclasses.replace(stable, **changes)


def fill_artifact(template: object, model: str, version: str) -> str | None:
    if not isinstance(template, str):
        return None
    return template.replace("{model}", model).replace("{version}", version)


def serving_settings(serving: Merged, model: str, version: str) -> ir.Serving:
    """Defaulted fields are complete after resolution unless an explicit ``null`` removed
    them: then they stay None and each target omits them (resolve refuses the nulls a
    target cannot omit)."""
    values = serving.values
    transformer = values.get("transformer")
    resources = values.get("resources")
    return ir.Serving(
        runtime=values["runtime"],
        runtime_version=values.get("runtimeVersion"),
        protocol=values.get("protocol"),
        storage_uri=fill_artifact(values.get("artifact"), model, version),
        image=values.get("image"),
        command=tuple(values.get("command") or ()),
        args=tuple(values.get("args") or ()),
        env=env_vars(values.get("env") or {}),
        port=values.get("port"),
        resources=None
        if resources is None
        else resources_from_tree(resources, _cleared(serving, "resources")),
        node_selector=tuple(sorted((values.get("nodeSelector") or {}).items())),
        tolerations=tolerations(values.get("tolerations") or ()),
        service_account=values.get("serviceAccount"),
        autoscaling=_autoscaling(values.get("autoscaling")),
        transformer=_transformer(transformer, serving) if transformer else None,
        deployment_mode=values.get("deploymentMode"),
        annotations=tuple(sorted((values.get("annotations") or {}).items())),
        security=security_context(values.get("securityContext") or {}, _cleared(serving, "securityContext")),
        probes=_probes(values.get("probes") or {}, _cleared(serving, "probes")),
        shared_memory=values.get("sharedMemory"),
        priority_class_name=values.get("priorityClassName"),
        rollout=_rollout(values.get("rollout")),
        ports=tuple(ir.Port(p.name, p.port, p.protocol) for p in values.get("ports") or ()),
        service_name=(values.get("service") or {}).get("name"),
        service_port=(values.get("service") or {}).get("port"),
        volumes=tuple(_volume(v) for v in values.get("volumes") or ()),
        affinity=_passed_through(values.get("affinity")),
        topology_spread_constraints=_passed_through(values.get("topologySpreadConstraints")),
    )


def _passed_through(value: Any) -> str | None:
    """A Kubernetes object the spec passes through, as canonical JSON (merged mappings are dicts
    of spec objects, lists hold spec objects)."""
    if not value:
        return None
    return json.dumps(_plain(value), sort_keys=False, separators=(",", ":"))


def _plain(value: Any) -> Any:
    if isinstance(value, SpecModel):
        return value.model_dump(by_alias=True, exclude_none=True)
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _volume(spec: VolumeSpec) -> ir.Volume:
    source: tuple[tuple[str, str], ...]
    if spec.persistent_volume_claim is not None:
        kind, source = "persistentVolumeClaim", (("claimName", spec.persistent_volume_claim),)
    elif spec.nfs is not None:
        kind, source = "nfs", (("server", spec.nfs.server), ("path", spec.nfs.path))
    elif spec.config_map is not None:
        kind, source = "configMap", (("name", spec.config_map),)
    else:
        kind, source = "secret", (("secretName", spec.secret or ""),)
    return ir.Volume(spec.name, spec.mount_path, spec.read_only, ((kind, source),))


def _probes(values: Mapping[str, Any], cleared: Callable[..., bool]) -> ir.Probes:
    def probe(kind: str) -> ir.Probe:
        if cleared(kind):
            return ir.Probe(enabled=False)
        written = values.get(kind) or {}
        return ir.Probe(
            path=written.get("path"),
            port=written.get("port"),
            period_seconds=written.get("periodSeconds"),
            failure_threshold=written.get("failureThreshold"),
            initial_delay_seconds=written.get("initialDelaySeconds"),
        )

    return ir.Probes(startup=probe("startup"), readiness=probe("readiness"), liveness=probe("liveness"))


def _rollout(values: Mapping[str, Any] | None) -> ir.Rollout | None:
    if not values:
        return None
    return ir.Rollout(values.get("maxSurge"), values.get("maxUnavailable"))


def _cleared(serving: Merged, *under: str) -> Callable[..., bool]:
    """Whether an explicit ``null`` removed the value at ``under`` + path (exactly, or a
    mapping between the two)."""

    # The nulls below ``under``, by their path from there: most deployments have none, and this
    # is asked of every resource, probe and security setting of every deployment.
    depth = len(under)
    below = {path[depth:] for path in serving.nulls if len(path) > depth and path[:depth] == under}
    if not below:
        return _never_cleared

    def cleared(*path: str) -> bool:
        return any(path[:size] in below for size in range(1, len(path) + 1))

    return cleared


def _never_cleared(*path: str) -> bool:
    return False


def _autoscaling(values: Mapping[str, Any] | None) -> ir.Autoscaling | None:
    if values is None:
        return None
    # scaleToZero is mlgitops' switch for minReplicas 0; null (like false) leaves the
    # platform's minimum, so it is never written itself.
    to_zero = bool(values.get("scaleToZero"))
    return ir.Autoscaling(
        min_replicas=0 if to_zero else values.get("minReplicas"),
        max_replicas=values.get("maxReplicas"),
        scale_to_zero=to_zero,
        metric=values.get("metric"),
        target=values.get("target"),
        custom_metric=values.get("customMetric"),
        prometheus_url=values.get("prometheusUrl"),
        query=values.get("query"),
        server_address=values.get("serverAddress"),
        authentication_ref=values.get("authenticationRef"),
    )


# A transformer without resources gets a small request of its own; a null leaves them
# to the platform, and a request left unset in resources it has takes the model's default.
_TRANSFORMER_RESOURCES = {"cpu": "100m", "memory": "256Mi"}
_TRANSFORMER_REQUESTS = {"cpu": "500m", "memory": "1Gi"}


def _transformer(values: Mapping[str, Any], serving: Merged) -> ir.Container:
    cleared = _cleared(serving, "transformer", "resources")
    written = values.get("resources")
    resources: ir.Resources | None
    if written is None:
        nulled = ("transformer", "resources") in serving.nulls
        resources = None if nulled else resources_from_tree(_TRANSFORMER_RESOURCES)
    else:
        defaults = {k: v for k, v in _TRANSFORMER_REQUESTS.items() if not cleared(k)}
        resources = resources_from_tree(written, cleared, defaults)
    return ir.Container(
        image=values["image"],
        command=tuple(values.get("command") or ()),
        args=tuple(values.get("args") or ()),
        env=env_vars(values.get("env") or {}),
        resources=resources,
        autoscaling=_autoscaling(values.get("autoscaling")),
    )
