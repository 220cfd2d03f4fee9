"""Kubernetes building blocks shared by the serving targets' templates."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from mlgitops import ir, platforms
from mlgitops.ir.build import LABEL_PREFIX


def resources(r: ir.Resources | None) -> dict[str, Any]:
    """requests and limits; GPUs go in both (extended resources must match). What an
    explicit ``null`` left to the platform (None) is omitted, so the namespace's
    LimitRange (or nothing) decides it; ``{}`` when everything is."""
    if r is None:
        return {}
    requests = _present({"cpu": r.cpu, "memory": r.memory})
    limits = _present({"cpu": r.limit_cpu, "memory": r.limit_memory})
    if r.gpu:
        requests[r.gpu_resource] = str(r.gpu)
        limits[r.gpu_resource] = str(r.gpu)
    return {key: value for key, value in (("requests", requests), ("limits", limits)) if value}


def _present(values: dict[str, str | None]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def env(variables: Iterable[ir.EnvVar]) -> list[dict[str, Any]]:
    """Container env; CI-only secrets never reach a cluster object."""
    out: list[dict[str, Any]] = []
    for var in variables:
        if var.secret is not None:
            ref = {"secretKeyRef": {"name": var.secret.name, "key": var.secret.key}}
            out.append({"name": var.name, "valueFrom": ref})
        elif var.value is not None:
            out.append({"name": var.name, "value": var.value})
    return out


def tolerations(items: Iterable[ir.Toleration]) -> list[dict[str, Any]]:
    out = []
    for t in items:
        entry: dict[str, Any] = {"operator": t.operator}
        if t.key is not None:
            entry["key"] = t.key
        if t.value is not None:
            entry["value"] = t.value
        if t.effect is not None:
            entry["effect"] = t.effect
        if t.toleration_seconds is not None:
            entry["tolerationSeconds"] = t.toleration_seconds
        out.append(dict(sorted(entry.items())))
    return out


def quantity(value: float) -> str:
    """A metric target as a Kubernetes quantity: whole numbers as they are, else in thousandths."""
    return str(int(value)) if float(value).is_integer() else f"{round(value * 1000)}m"


def pairs(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    return dict(items)


def container(name: str, c: ir.Container, port: int | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": name, "image": c.image}
    if c.command:
        spec["command"] = list(c.command)
    if c.args:
        spec["args"] = list(c.args)
    if c.env:
        spec["env"] = env(c.env)
    if port is not None:
        spec["ports"] = [{"containerPort": port, "protocol": "TCP"}]
    spec["resources"] = resources(c.resources)
    return spec


HELPERS = {
    "k8s_resources": resources,
    "k8s_env": env,
    "k8s_tolerations": tolerations,
    "k8s_container": container,
    "as_dict": pairs,
}


# Kubernetes name and label-value limits (a CronJob adds 11 characters to its Jobs' names).
CRONJOB_NAME_MAX = 52
LABEL_VALUE_MAX = 63

# Labels KServe adds to the predictor pods (``predictor.labels``): the PodMonitor of the
# prometheus target selects on them, and the component label keeps transformer pods out.
COMPONENT_LABEL = "mlgitops.dev/component"


def bounded(name: str, limit: int) -> str:
    """``name`` if it fits in ``limit`` characters, else a prefix and a hash of the whole (stable)."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: limit - 9].rstrip('-.')}-{digest}"


# A version's workload name leaves room for KServe's "-predictor" suffix and the pod hashes
# Kubernetes adds, within the 63 characters of a DNS label.
WORKLOAD_NAME_MAX = 45


def workload_name(model: str, version: str) -> str:
    """The workload serving one version of a model when a route splits the traffic
    (targets/serving/routes.py); monitoring selects its series by it."""
    slug = "".join(c if c.isalnum() else "-" for c in version.lower()).strip("-")
    return bounded(f"{model}-{slug}", WORKLOAD_NAME_MAX).rstrip("-")


def workload_names(project: ir.Project, d: ir.Deployment) -> tuple[str, ...]:
    """The workloads of ``d``: one per version with a traffic router, else none (the model's)."""
    if not project.routed:
        return ()
    versions = (d.version, d.canary.version) if d.canary else (d.version,)
    return tuple(workload_name(d.model, v) for v in versions)


def training_annotations(model: ir.Model) -> dict[str, str]:
    annotations = {f"{LABEL_PREFIX}/owner": model.owner, f"{LABEL_PREFIX}/source": model.source}
    if model.description:
        annotations[f"{LABEL_PREFIX}/description"] = model.description
    if model.stage == "deprecated":
        annotations[f"{LABEL_PREFIX}/deprecated"] = "true"
        if model.sunset is not None:
            annotations[f"{LABEL_PREFIX}/sunset"] = model.sunset.isoformat()
        if model.replaced_by is not None:
            annotations[f"{LABEL_PREFIX}/replaced-by"] = model.replaced_by
    return annotations


def metrics_port(s: ir.Serving) -> int | None:
    """The container port named ``metrics`` when the server exports its metrics apart from the
    serving port (Triton: 8002, at /metrics); ``None``: they are on the ``http`` port."""
    return platforms.TRITON_METRICS_PORT if s.runtime in platforms.TRITON_RUNTIMES else None
