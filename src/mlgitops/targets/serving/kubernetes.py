"""Plain Kubernetes target: Deployment + Service + HorizontalPodAutoscaler + PodDisruptionBudget.

Secure by default: non-root, read-only root filesystem (writable ``/tmp`` and
model directory as emptyDirs), no privilege escalation, every capability
dropped, seccomp RuntimeDefault, no service-account token, requests and
limits, and readiness/liveness/startup probes.

Canary: a second Deployment (``<model>-canary``, label
``mlgitops.dev/track: canary``) behind the same Service.  The Service balances
per pod, so traffic follows the replica ratio: the canary gets
``round(minReplicas × p / (100 − p))`` replicas (at least 1) while the stable
Deployment scales with its HPA.  That split is approximate, so validate refuses a
canary here unless ``spec.traffic`` names a router (MLG340): then each version is a
Deployment, Service and HPA of its own and a route splits the requests exactly
(``routes.py``, docs/traffic.md).
"""

from __future__ import annotations

from typing import Any

from mlgitops import ir, platforms
from mlgitops.targets import k8s
from mlgitops.targets.base import OutputFile, RenderContext
from mlgitops.targets.serving import routes
from mlgitops.targets.serving.runtimes import MODEL_DIR, RUNTIMES, STORAGE_INITIALIZER, declared, fill

TRACK_LABEL = "mlgitops.dev/track"
VERSION_LABEL = "app.kubernetes.io/version"


class Kubernetes:
    name = "kubernetes"
    scope = "model"

    def render(self, project: ir.Project, ctx: RenderContext) -> list[OutputFile]:
        files = []
        for d in project.deployments():
            base = f"{project.output}/{d.environment.name}/{d.model}"
            common = {"d": d, "s": d.serving, "project": project, **k8s.HELPERS}
            selector = {
                "app.kubernetes.io/instance": f"{d.model}-{d.environment.name}",
                "app.kubernetes.io/name": d.model,
            }
            renders = self._routed(d, selector) if project.routed else self._single(d, selector)
            for template, filename, values in renders:
                files.append(
                    ctx.yaml_file(
                        self.name,
                        template,
                        {**common, **values},
                        path=f"{base}/{filename}",
                        source=d.source,
                        environment=d.environment.name,
                    )
                )
        return files

    def _single(self, d: ir.Deployment, selector: dict[str, str]) -> list[tuple[str, str, dict[str, Any]]]:
        """One Deployment, Service, PodDisruptionBudget and HPA: the model without a traffic router
        (which has no canary: a split by pod count is refused, MLG340)."""
        assert d.canary is None, "a canary without a router is refused in validate (MLG340)"
        labels = dict(d.labels)
        stable = self._workload(d, d.version, d.serving.storage_uri, "stable", selector)
        renders: list[tuple[str, str, dict[str, Any]]] = [
            ("deployment.yaml.j2", "deployment.yaml", stable),
            (
                "service.yaml.j2",
                "service.yaml",
                {
                    "name": d.serving.service_name or d.name,
                    "labels": labels,
                    "selector": selector,
                    "metrics_port": k8s.metrics_port(d.serving),
                },
            ),
            (
                "pdb.yaml.j2",
                "pdb.yaml",
                {"labels": labels, "selector": {**selector, TRACK_LABEL: "stable"}},
            ),
        ]
        autoscaling = d.serving.autoscaling
        if autoscaling is not None:  # `autoscaling: null`: no HPA, the Deployment's 1 replica
            metric = self._hpa_metric(autoscaling)
            hpa = {"name": d.name, "labels": labels, "a": autoscaling, "metric": metric}
            renders.insert(2, ("hpa.yaml.j2", "hpa.yaml", hpa))
        return renders

    def _routed(self, d: ir.Deployment, selector: dict[str, str]) -> list[tuple[str, str, dict[str, Any]]]:
        """One Deployment, Service and HPA per version, each named and selecting by its version
        (so finishing a canary prunes exactly the old one and changes no selector), and one
        PodDisruptionBudget over them all; the route splits the traffic (routes.py)."""
        labels = dict(d.labels)
        out: list[tuple[str, str, dict[str, Any]]] = [
            ("pdb.yaml.j2", "pdb.yaml", {"labels": labels, "selector": selector})
        ]
        autoscaling = d.serving.autoscaling
        for b in routes.backends(d):
            pinned = {**selector, VERSION_LABEL: b.version}
            workload = self._workload(d, b.version, b.storage_uri, b.track, selector, b.name, b.serving)
            version_labels = {**labels, VERSION_LABEL: b.version}
            service = {
                "name": b.name,
                "labels": version_labels,
                "selector": pinned,
                "metrics_port": k8s.metrics_port(d.serving),
            }
            out += [
                ("deployment.yaml.j2", f"deployment-{b.name}.yaml", workload),
                ("service.yaml.j2", f"service-{b.name}.yaml", service),
            ]
            if autoscaling is not None:
                hpa = {
                    "name": b.name,
                    "labels": version_labels,
                    "a": autoscaling,
                    "metric": self._hpa_metric(autoscaling),
                }
                out.append(("hpa.yaml.j2", f"hpa-{b.name}.yaml", hpa))
        return out

    @staticmethod
    def _workload(
        d: ir.Deployment,
        version: str,
        storage_uri: str | None,
        track: str,
        selector: dict[str, str],
        pinned_name: str | None = None,
        serving: ir.Serving | None = None,
    ) -> dict[str, Any]:
        """``pinned_name``: the routed workload of one version (routes.py), selected by its
        version and not by a track, which changes when a canary finishes; ``serving``: its
        settings (a canary's overrides applied)."""
        s = serving or d.serving
        runtime = (
            declared(s.declared_runtime, d.name, d.environment.namespace)
            if s.declared_runtime
            else RUNTIMES[s.runtime]
        )
        name = pinned_name or (d.name if track == "stable" else f"{d.name}-canary")
        pod_selector = (
            {**selector, VERSION_LABEL: version} if pinned_name else {**selector, TRACK_LABEL: track}
        )
        labels = (
            {**dict(d.labels), VERSION_LABEL: version}
            if pinned_name
            else {**dict(d.labels), TRACK_LABEL: track}
        )
        pod_labels = {**labels, VERSION_LABEL: version}
        ready, live = runtime.ready_path, runtime.live_path
        if s.protocol == "v2" and s.runtime in ("sklearn", "xgboost", "lightgbm", "huggingface"):
            ready, live = "/v2/health/ready", "/v2/health/live"
        port = s.port or 0  # never 0: resolve refuses a null port on this target (MLG330)
        # a declared runtime's args are filled in already, KServe's way
        filled = runtime.args if s.declared_runtime else [fill(a, d.name, port) for a in runtime.args]
        if storage_uri is None:  # the server fetches the model itself (platforms.MODEL_SOURCE_FLAGS)
            filled = [a for a in filled if not a.startswith("--model_dir=")]
        args = [*filled, *s.args]
        env = k8s.env(s.env)
        if s.runtime == "custom" and storage_uri:
            env.append({"name": "STORAGE_URI", "value": storage_uri})
        replicas = None
        if track == "canary" and d.canary is not None and not pinned_name:
            share = d.canary.traffic / (100 - d.canary.traffic)
            # Without autoscaling or minReplicas (nulls), the stable track runs Kubernetes' default of 1.
            stable = s.autoscaling.min_replicas if s.autoscaling else None
            replicas = max(1, round((1 if stable is None else stable) * share))
        return {
            "s": s,
            "name": name,
            "labels": dict(sorted(labels.items())),
            "pod_labels": dict(sorted(pod_labels.items())),
            # a routed workload leaves the versions and weights to the route (routes.py)
            "annotations": (d.object_annotations if pinned_name else dict(d.annotations))
            | dict(s.annotations),
            "pod_selector": dict(sorted(pod_selector.items())),
            "replicas": replicas,
            "image": s.image or runtime.image,
            "args": args,
            "env": env,
            "model_dir": MODEL_DIR,
            "storage_uri": storage_uri if s.runtime != "custom" else None,
            "storage_initializer": STORAGE_INITIALIZER,
            **_model_volume(storage_uri if s.runtime != "custom" else None),
            "probes": _probes(
                s.probes,
                fill(ready, d.name, port) if ready else None,
                fill(live, d.name, port) if live else None,
            ),
            "metrics_port": k8s.metrics_port(s),
        }

    @staticmethod
    def _hpa_metric(a: ir.Autoscaling) -> dict[str, Any] | None:
        """The HPA's metric; None (a null metric) leaves the HPA's default, 80 % average CPU.
        resolve guarantees a target with a metric (MLG330) and none without (MLG331)."""
        if a.metric is None or a.target is None:
            return None
        if a.metric == "custom":
            return {
                "type": "Pods",
                "pods": {
                    "metric": {"name": a.custom_metric},
                    "target": {"type": "AverageValue", "averageValue": k8s.quantity(a.target)},
                },
            }
        return {
            "type": "Resource",
            "resource": {
                "name": a.metric,
                "target": {"type": "Utilization", "averageUtilization": int(a.target)},
            },
        }


def _model_volume(storage_uri: str | None) -> dict[str, Any]:
    """The model directory: an ``emptyDir`` the storage initializer fills, or, for a
    ``pvc://claim/path``, the claim mounted read-only with ``path`` as its sub-path (as KServe
    mounts one), so nothing is copied."""
    mount: dict[str, Any] = {"name": "model", "mountPath": MODEL_DIR}
    if storage_uri is None or platforms.artifact_scheme(storage_uri) != "pvc":
        return {"model_volume": {"name": "model", "emptyDir": {}}, "model_mount": mount}
    claim, path = platforms.pvc_source(storage_uri)
    return {
        "model_volume": {"name": "model", "persistentVolumeClaim": {"claimName": claim, "readOnly": True}},
        "model_mount": {**mount, **({"subPath": path} if path else {}), "readOnly": True},
    }


def _probes(written: ir.Probes, ready: str | None, live: str | None) -> dict[str, Any]:
    """The runtime's health endpoints (a TCP check when it has none), with what the spec wrote."""
    failure = 3 if ready else None
    probes = {
        "readinessProbe": k8s.probe(written.readiness, ready, "http", 10, failure),
        "livenessProbe": k8s.probe(written.liveness, live if ready else None, "http", 20, failure),
        "startupProbe": k8s.probe(written.startup, live if ready else None, "http", 10, 60),
    }
    return {key: value for key, value in probes.items() if value is not None}
