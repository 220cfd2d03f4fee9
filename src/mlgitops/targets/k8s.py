"""Kubernetes building blocks shared by the serving targets' templates."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mlgitops import ir, platforms
from mlgitops.ir.build import LABEL_PREFIX, owner_annotation


def resources(r: ir.Resources | None) -> dict[str, Any]:
    """requests and limits. What an explicit ``null`` left to the platform is absent, so the
    namespace's LimitRange (or nothing) decides it; ``{}`` when everything is."""
    if r is None:
        return {}
    return {key: dict(value) for key, value in (("requests", r.requests), ("limits", r.limits)) if value}


def pod_security(sc: ir.SecurityContext) -> dict[str, Any]:
    """The pod ``securityContext``: Pod Security "restricted" (non-root, seccomp RuntimeDefault)
    with the ids the spec left (None: an explicit ``null``, the image's own)."""
    ids = {"runAsUser": sc.run_as_user, "runAsGroup": sc.run_as_group, "fsGroup": sc.fs_group}
    return {
        "runAsNonRoot": True,
        **{key: value for key, value in ids.items() if value is not None},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security(sc: ir.SecurityContext) -> dict[str, Any]:
    """A container ``securityContext``: no privilege escalation, every capability dropped, and
    a read-only root unless the spec relaxed it (``null``: omitted, Kubernetes' writable root)."""
    spec: dict[str, Any] = {"allowPrivilegeEscalation": False}
    if sc.read_only_root_filesystem is not None:
        spec["readOnlyRootFilesystem"] = sc.read_only_root_filesystem
    spec["capabilities"] = {"drop": ["ALL"]}
    return spec


def writable_volumes(
    sc: ir.SecurityContext, shared_memory: str | None = None, volumes: tuple[ir.Volume, ...] = ()
) -> list[dict[str, Any]]:
    """One ``emptyDir`` per writable path the spec asked for, ``/dev/shm``'s, and the spec's volumes."""
    out: list[dict[str, Any]] = [
        {"name": f"writable-{index}", "emptyDir": {}} for index in range(len(sc.writable_paths))
    ]
    if shared_memory is not None:
        out.append({"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": shared_memory}})
    for volume in volumes:
        entry: dict[str, Any] = {"name": volume.name}
        for kind, fields in volume.source:
            entry[kind] = dict(fields)
            if kind in ("persistentVolumeClaim", "nfs") and volume.read_only:
                entry[kind]["readOnly"] = True
        out.append(entry)
    return out


def writable_mounts(
    sc: ir.SecurityContext, shared_memory: str | None = None, volumes: tuple[ir.Volume, ...] = ()
) -> list[dict[str, Any]]:
    mounts: list[dict[str, Any]] = [
        {"name": f"writable-{index}", "mountPath": path} for index, path in enumerate(sc.writable_paths)
    ]
    if shared_memory is not None:
        mounts.append({"name": "dshm", "mountPath": "/dev/shm"})
    for volume in volumes:
        mount: dict[str, Any] = {"name": volume.name, "mountPath": volume.mount_path}
        if volume.read_only:
            mount["readOnly"] = True
        mounts.append(mount)
    return mounts


def passed_through(text: str | None) -> Any:
    """A Kubernetes object the spec passed through (the IR keeps it as JSON text)."""
    return None if text is None else json.loads(text)


def extra_ports(ports: tuple[ir.Port, ...]) -> list[dict[str, Any]]:
    return [{"name": p.name, "containerPort": p.port, "protocol": p.protocol} for p in ports]


def probe(
    written: ir.Probe, path: str | None, port: int | str, period: int | None, failure: int | None
) -> dict[str, Any] | None:
    """A container probe: what the spec wrote over the target's defaults (``path`` None: a
    ``tcpSocket`` probe); None when an explicit ``null`` removed it."""
    if not written.enabled:
        return None
    path = written.path or path
    port = written.port or port
    spec: dict[str, Any] = (
        {"httpGet": {"path": path, "port": port}} if path else {"tcpSocket": {"port": port}}
    )
    if written.initial_delay_seconds is not None:
        spec["initialDelaySeconds"] = written.initial_delay_seconds
    period = written.period_seconds or period
    failure = written.failure_threshold or failure
    if period is not None:
        spec["periodSeconds"] = period
    if failure is not None:
        spec["failureThreshold"] = failure
    return spec


def rolling_update(rollout: ir.Rollout | None) -> dict[str, Any]:
    """A Deployment ``strategy`` (KServe: ``deploymentStrategy``); what a ``null`` left out is
    Kubernetes' default (25 % and 25 %)."""
    settings = {"maxSurge": rollout.max_surge, "maxUnavailable": rollout.max_unavailable} if rollout else {}
    present = {key: value for key, value in settings.items() if value is not None}
    return {"type": "RollingUpdate", **({"rollingUpdate": present} if present else {})}


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


def literal(text: str) -> str:
    """``text`` as Kubernetes passes it to a container in ``command``, ``args`` or an ``env``
    value, where it expands ``$(VAR)`` from the container's variables (a spec string naming the
    retraining token would carry it out): ``$$`` is one literal ``$``."""
    return text.replace("$", "$$")


def pairs(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    return dict(items)


def container(
    name: str, c: ir.Container, port: int | None = None, security: ir.SecurityContext | None = None
) -> dict[str, Any]:
    """A user-supplied container; with ``security``, hardened like the pod it shares (and given a
    writable ``/tmp``, from the pod's ``tmp`` volume)."""
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
    if security is not None:
        spec["securityContext"] = container_security(security)
        spec["volumeMounts"] = [{"name": "tmp", "mountPath": "/tmp"}]
    return spec


HELPERS = {
    "k8s_resources": resources,
    "k8s_env": env,
    "k8s_tolerations": tolerations,
    "k8s_container": container,
    "k8s_pod_security": pod_security,
    "k8s_container_security": container_security,
    "k8s_writable_volumes": writable_volumes,
    "k8s_writable_mounts": writable_mounts,
    "k8s_rolling_update": rolling_update,
    "k8s_extra_ports": extra_ports,
    "k8s_passed_through": passed_through,
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
    """The workloads of ``d``: one per version with a traffic router, else none (``d.name``)."""
    if not project.routed:
        return ()
    versions = (d.version, d.canary.version) if d.canary else (d.version,)
    return tuple(workload_name(d.name, v) for v in versions)


def kustomized_labels(project: ir.Project) -> dict[str, dict[str, str]]:
    """Per environment, the labels its kustomization sets on every object: the project's shared
    labels and the environment's name (never selectors: ``includeSelectors`` stays false)."""
    shared = dict(project.shared_labels)
    return {
        env.name: dict(sorted({**shared, f"{LABEL_PREFIX}/environment": env.name}.items()))
        for env in project.environments
    }


# The labels that tell a model's objects apart (the workload's instance, a drift check's; the
# component): every other label of a deployment is on each of its objects.
PER_OBJECT_LABELS = ("app.kubernetes.io/instance", "app.kubernetes.io/component")


@dataclass(frozen=True, slots=True)
class ModelKustomized:
    """What a model directory's ``kustomization.yaml`` sets on the ``metadata`` of every object
    it lists (and the files there leave out): the labels and annotations all of them share."""

    labels: Mapping[str, str]
    annotations: Mapping[str, str]


def model_kustomized(project: ir.Project) -> dict[str, ModelKustomized]:
    """Per model directory (``<output>/<env>/<model>``), what its kustomization sets: the
    deployment's labels but the environment's (``kustomized_labels``) and the per-object ones,
    and the annotations both its objects (``object_annotations``) and its training and drift
    jobs (``training_annotations``) carry. The workload's versions stay on the workload."""
    environment = kustomized_labels(project)
    out = {}
    for model in project.models:
        jobs = training_annotations(model)
        for d in model.deployments:
            env = d.environment.name
            labels = {
                key: value
                for key, value in d.labels
                if key not in environment[env] and key not in PER_OBJECT_LABELS
            }
            annotations = {
                key: value for key, value in d.object_annotations.items() if jobs.get(key) == value
            }
            out[f"{project.output}/{env}/{model.name}"] = ModelKustomized(labels, annotations)
    return out


def training_annotations(model: ir.Model) -> dict[str, str]:
    annotations = {**owner_annotation(model.owner), f"{LABEL_PREFIX}/source": model.source}
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
