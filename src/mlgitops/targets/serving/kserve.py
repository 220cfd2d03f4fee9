"""KServe target: one ``serving.kserve.io/v1beta1`` InferenceService per model × environment.

Canary semantics (KServe serverless mode): the InferenceService always
describes the *newest* revision.  With ``canaryTrafficPercent: N`` KServe
sends N % of requests to that revision and the rest to the previously rolled
out ready revision.  So a canary deployment renders the canary version's
storage URI with the canary percentage, and the stable version (recorded in
the ``mlgitops.dev/stable-version`` annotation) must be the one currently
rolled out.  Finishing a canary (``promote --finish-canary``) drops the
percentage and KServe moves all traffic to the newest revision.  That split lives
in the cluster's history, not in git, and standard (raw) mode ignores it; with a
``gateway-api`` or ``istio`` router each version gets an InferenceService of its
own and a route splits the traffic (``routes.py``, docs/traffic.md).
"""

from __future__ import annotations

from typing import Any

from mlgitops import ir, platforms
from mlgitops.targets import k8s
from mlgitops.targets.base import OutputFile, RenderContext
from mlgitops.targets.serving import routes

# Our runtime name → KServe modelFormat name
MODEL_FORMATS = {
    "sklearn": "sklearn",
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "pytorch": "pytorch",
    "tensorflow": "tensorflow",
    "onnx": "onnx",
    "triton": "triton",
    "huggingface": "huggingface",
}
# Our protocol name → KServe protocolVersion (OpenAI endpoints are served by the
# Hugging Face runtime next to its v1/v2 endpoints, so "openai" sets none).
PROTOCOLS = {"v1": "v1", "v2": "v2", "grpc-v2": "grpc-v2", "openai": None}


class KServe:
    name = "kserve"
    scope = "model"

    def render(self, project: ir.Project, ctx: RenderContext) -> list[OutputFile]:
        files = []
        for d in project.deployments():
            base = f"{project.output}/{d.environment.name}/{d.model}"
            # Routed (docs/traffic.md): one InferenceService per version, named after it, the
            # route doing the split; otherwise one, with KServe's native canary.
            workloads = (
                [(b, f"{base}/inferenceservice-{b.name}.yaml") for b in routes.backends(d)]
                if project.routed
                else [(None, f"{base}/inferenceservice.yaml")]
            )
            for backend, path in workloads:
                # Without a route the one InferenceService describes the newest revision: the
                # canary's, with its own settings.
                native = d.canary.serving if d.canary and d.canary.serving else d.serving
                serving = backend.serving if backend else native
                context = {
                    "d": d,
                    "s": serving,
                    "project": project,
                    **self._values(d, serving, backend),
                    **k8s.HELPERS,
                }
                files.append(
                    ctx.yaml_file(
                        self.name,
                        "inferenceservice.yaml.j2",
                        context,
                        path=path,
                        source=d.source,
                        environment=d.environment.name,
                    )
                )
        return files

    @staticmethod
    def _values(d: ir.Deployment, s: ir.Serving, backend: routes.Backend | None = None) -> dict[str, Any]:
        # A routed workload is one version's, whatever the split: the route carries the versions
        # and weights, so moving the weights leaves every workload (and its pods) as it is.
        annotations = dict(d.object_annotations) if backend else dict(d.annotations)
        # The user's own serving.kserve.io/* annotations are written as they are (validation
        # made sure they agree with the spec); the spec's fill in what the user left out.
        annotations.update(s.annotations)
        mode = s.deployment_mode
        assert mode is not None, "resolve refuses a null deploymentMode on KServe (MLG330)"
        mode_values = platforms.DEPLOYMENT_MODES[mode]
        annotations.setdefault(platforms.DEPLOYMENT_MODE, mode_values[0])
        metric = s.autoscaling.metric if s.autoscaling else None  # None: left to KServe
        autoscaler = platforms.default_autoscaler_class(mode, metric)
        if autoscaler is not None:
            annotations.setdefault(platforms.AUTOSCALER_CLASS, autoscaler)
        if s.protocol == "openai":
            annotations["mlgitops.dev/protocol"] = "openai"
        storage_uri = d.canary.storage_uri if d.canary else s.storage_uri
        version = d.canary.version if d.canary else d.version
        if backend is not None:
            storage_uri, version = backend.storage_uri, backend.version
        labels = dict(d.labels)
        labels["app.kubernetes.io/version"] = version
        keda = platforms.uses_keda(mode, metric, annotations)
        name = backend.name if backend else d.name
        return {
            "name": name,
            # Only without a route: KServe splits between this revision and the previous one.
            "native_canary": d.canary if backend is None else None,
            "labels": dict(sorted(labels.items())),
            "predictor_labels": predictor_labels(d),
            "annotations": dict(sorted(annotations.items())),
            "model_format": model_format(s),
            # a declared runtime (spec.runtimes) is named; KServe picks a built-in one by format
            "runtime": s.declared_runtime.name if s.declared_runtime else None,
            # None (a null protocol): no protocolVersion, KServe's default applies
            "protocol_version": PROTOCOLS.get(s.protocol) if s.protocol else None,
            "storage_uri": storage_uri,
            "scale_target": _scale_target(s.autoscaling),
            "keda_metrics": keda_metrics(s.autoscaling, d, name, "predictor") if keda else None,
            "transformer_scaling": _transformer_scaling(d, s, name, keda),
            "probes": written_probes(s),
            # serverless mode refuses a rollout (MLG338): Knative rolls out revisions itself
            "deployment_strategy": k8s.rolling_update(s.rollout)
            if s.rollout and mode == "standard"
            else None,
        }


def model_format(s: ir.Serving) -> dict[str, str] | None:
    """``predictor.model.modelFormat``: a declared runtime's first format, or the built-in
    runtime's; None for a custom container."""
    if s.declared_runtime is not None:
        first = s.declared_runtime.model_formats[0]  # KServe requires one (MLG382)
        return {"name": first.name, **({"version": first.version} if first.version else {})}
    name = MODEL_FORMATS.get(s.runtime)
    return {"name": name} if name else None


def _transformer_scaling(d: ir.Deployment, s: ir.Serving, name: str, keda: bool) -> dict[str, Any]:
    """The transformer's own replica bounds and metric, under the InferenceService's autoscaler
    class (validate made sure the class can scale on it, MLG332)."""
    a = s.transformer.autoscaling if s.transformer else None
    if a is None:
        return {}
    out: dict[str, Any] = {}
    if a.min_replicas is not None:
        out["minReplicas"] = a.min_replicas
    if a.max_replicas is not None:
        out["maxReplicas"] = a.max_replicas
    if keda:
        metrics = keda_metrics(a, d, name, "transformer")
        if metrics:
            out["autoScaling"] = {"metrics": metrics}
        return out
    if a.metric is not None:
        out["scaleMetric"] = a.metric
    target = _scale_target(a)
    if target is not None:
        out["scaleTarget"] = target
    return out


def keda_metrics(
    a: ir.Autoscaling | None, d: ir.Deployment, name: str, component: str
) -> list[dict[str, Any]] | None:
    """``spec.<component>.autoScaling.metrics``, which KServe turns into a KEDA ScaledObject.

    A custom metric is KEDA's Prometheus trigger on the sum of the component's pods' series
    (raw-deployment pods are ``<name>-<component>-<replica set>-<pod>``, ``name`` the
    InferenceService's); a prometheus metric is the spec's own query.  KServe hands KEDA
    only ``target.value`` as the threshold and leaves the trigger's metric type to KEDA's
    default, AverageValue: the value is divided by the replicas, so the target is per replica,
    as the spec says.
    """
    if a is None or a.metric is None or a.target is None:
        return None  # nulls leave the metric to KServe's and KEDA's defaults
    if a.metric == "prometheus":
        external: dict[str, Any] = {
            "metric": {"backend": "prometheus", "serverAddress": a.server_address, "query": a.query},
            "target": {"type": "Value", "value": k8s.quantity(a.target)},
        }
        if a.authentication_ref:
            external["authenticationRef"] = {"authenticationRef": {"name": a.authentication_ref}}
        return [{"type": "External", "external": external}]
    if a.metric == "custom":
        pods = f'namespace="{d.environment.namespace}", pod=~"{name}-{component}-[a-z0-9]+-[a-z0-9]+"'
        return [
            {
                "type": "External",
                "external": {
                    "metric": {
                        "backend": "prometheus",
                        "serverAddress": a.prometheus_url,
                        "query": f"sum({a.custom_metric}{{{pods}}})",
                    },
                    "target": {"type": "Value", "value": k8s.quantity(a.target)},
                },
            }
        ]
    return [
        {
            "type": "Resource",
            "resource": {
                "name": a.metric,
                "target": {"type": "Utilization", "averageUtilization": int(a.target)},
            },
        }
    ]


def written_probes(s: ir.Serving) -> dict[str, Any]:
    """The probes the spec wrote, on the serving port unless it names one; the others are left to
    KServe (and Knative, whose queue-proxy probes the container in serverless mode)."""
    port = s.port or platforms.KSERVE_DEFAULT_PORT
    probes = {
        "readinessProbe": s.probes.readiness,
        "livenessProbe": s.probes.liveness,
        "startupProbe": s.probes.startup,
    }
    out = {}
    for key, written in probes.items():
        spec = k8s.probe(written, None, port, None, None) if written.written else None
        if spec is not None:
            out[key] = spec
    return out


def predictor_labels(d: ir.Deployment) -> dict[str, str]:
    return {
        "app.kubernetes.io/instance": f"{d.model}-{d.environment.name}",
        "app.kubernetes.io/name": d.model,
        k8s.COMPONENT_LABEL: "predictor",
        "mlgitops.dev/environment": d.environment.name,
        "mlgitops.dev/model": d.model,
    }


def _scale_target(autoscaling: ir.Autoscaling | None) -> int | None:
    """None when a null left the target (or all of autoscaling) to KServe's default."""
    if autoscaling is None or autoscaling.target is None:
        return None
    return round(autoscaling.target)
