"""What only the merged settings and the chosen serving target tell together: whether the target
can honour them (:mod:`mlgitops.platforms` holds the facts).  Run by :func:`resolve` per
deployment; messages name no environment where the problem is the written value itself, so a
value shared by several environments is reported once."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from mlgitops import platforms
from mlgitops.diagnostics import ENVIRONMENT, Diagnostic, Location, make
from mlgitops.resolve.layers import Merged
from mlgitops.validate import ValidatedModel

Locate = Callable[..., Location]
MaybeLocate = Callable[..., Location | None]

_UNFETCHABLE = {
    "models": "models:/ is an MLflow registry URI, which no storage initializer resolves",
    "runs": "runs:/ is an MLflow run URI, which no storage initializer resolves",
    "mlflow": "mlflow:// is an MLflow URI, which no storage initializer resolves",
    "oci": "only KServe's controller runs an oci:// modelcar image; the storage initializer the "
    "kubernetes target runs cannot",
    "file": "file:// names a path inside the pod, where no artifact store is",
}


def check(
    serving: Merged, target: str, env: str, model: ValidatedModel, fallback: Callable[[], Location]
) -> Iterator[Diagnostic]:
    """``fallback``: where to point when no layer set the field (computed only then: locating
    costs a walk of the document, and most deployments have nothing to report)."""

    def at(*path: str) -> Location:
        return where(*path) or fallback()

    def where(*path: str) -> Location | None:
        origin = serving.origin(*path)
        return origin.location() if origin else None

    yield from _artifact(serving, target, at)
    if target == "kserve":
        yield from _kserve_autoscaling(serving, env, at, where)
        yield from _kserve_annotations(serving, env, at, where)
        yield from _kserve_serverless(serving, env, at, where)
    else:
        yield from _kubernetes_unrendered(serving, env, at)
    yield from _triton_latency(serving, target, model)
    yield from _scrape_port(serving, target, env, model)


def _artifact(serving: Merged, target: str, at: Locate) -> Iterator[Diagnostic]:
    artifact, runtime = serving.get("artifact"), serving.get("runtime")
    # A custom container on plain Kubernetes gets the URI in STORAGE_URI and fetches it itself.
    if not isinstance(artifact, str) or (target == "kubernetes" and runtime == "custom"):
        return
    scheme = platforms.artifact_scheme(artifact)
    accepted = platforms.ARTIFACT_SCHEMES[target]
    if scheme in accepted:
        return
    reason = _UNFETCHABLE.get(scheme, f"no storage initializer knows the scheme {scheme}:")
    yield make(
        "MLG334",
        f"the {target} serving target cannot fetch the artifact {artifact!r}: {reason}",
        at("artifact"),
        f"the {target} target fetches {', '.join(s + '://' for s in accepted)}"
        + (" (an MLflow model's files live in its run's artifact store)" if scheme in _MLFLOW else "")
        + (_OCI_HINT if scheme == "oci" and target == "kubernetes" else ""),
    )


# A modelcar could be an image volume, but only on Kubernetes 1.31+ with the ImageVolume feature
# gate (beta, off by default): too rare a cluster to render it for.
_OCI_HINT = (
    "; serve an oci:// modelcar with serving: kserve (mounting the image as a volume needs "
    "Kubernetes 1.31+ with the ImageVolume feature gate, which this target does not assume)"
)


_MLFLOW = frozenset({"models", "runs", "mlflow"})


def _kserve_autoscaling(serving: Merged, env: str, at: Locate, where: MaybeLocate) -> Iterator[Diagnostic]:
    metric, mode = serving.get("autoscaling", "metric"), serving.get("deploymentMode")
    yield from _transformer_autoscaling(serving, env, at, where)
    if metric not in ("custom", "prometheus"):
        return
    if mode == "serverless":
        yield make(
            "MLG332",
            f"KServe serverless mode cannot scale on a {metric} metric in {ENVIRONMENT}: Knative's "
            "autoscaler scales on concurrency and rps, its HPA class on cpu and memory",
            at("autoscaling", "metric"),
            "set deploymentMode: standard (KServe then scales on the metric with KEDA), or scale on "
            "concurrency, rps, cpu or memory",
            related=_present(where("deploymentMode")),
            environment=env,
        )
    elif (
        metric == "custom"
        and serving.get("autoscaling", "customMetric") is not None
        and serving.get("autoscaling", "prometheusUrl") is None
    ):
        nulled = serving.null("autoscaling", "prometheusUrl")  # an explicit null: point at it
        yield make(
            "MLG332",
            f"KServe scales on customMetric in {ENVIRONMENT} with KEDA, which queries Prometheus, and no "
            "prometheusUrl is set",
            nulled.location() if nulled and nulled.location() else at("autoscaling", "metric"),
            "set autoscaling.prometheusUrl to the Prometheus that scrapes the predictor (per "
            "environment when clusters differ)",
            environment=env,
        )


def _transformer_autoscaling(
    serving: Merged, env: str, at: Locate, where: MaybeLocate
) -> Iterator[Diagnostic]:
    """The transformer scales on its own metric, but in standard mode under the one
    ``serving.kserve.io/autoscalerClass`` of the InferenceService (the user's, or the one the
    predictor's metric chooses); Knative scales it on concurrency, rps, cpu or memory only."""
    metric, mode = serving.get("transformer", "autoscaling", "metric"), serving.get("deploymentMode")
    if metric is None or mode is None:
        return
    if mode == "serverless":
        if metric in ("custom", "prometheus"):
            yield make(
                "MLG332",
                f"KServe serverless mode cannot scale the transformer on a {metric} metric in "
                f"{ENVIRONMENT}: Knative scales on concurrency, rps, cpu and memory",
                at("transformer", "autoscaling", "metric"),
                "set deploymentMode: standard, or scale the transformer on concurrency, rps, cpu or memory",
                environment=env,
            )
        return
    if metric in ("concurrency", "rps"):
        return  # refused as for the predictor (MLG317)
    annotations = serving.get("annotations") or {}
    chosen = annotations.get(
        platforms.AUTOSCALER_CLASS,
        platforms.default_autoscaler_class(mode, serving.get("autoscaling", "metric")),
    )
    classes = platforms.autoscaler_classes(mode, metric)
    if chosen is not None and chosen not in classes:
        yield make(
            "MLG332",
            f"the InferenceService scales with autoscalerClass {chosen!r} in {ENVIRONMENT}, which "
            f"cannot scale the transformer on {metric!r}",
            at("transformer", "autoscaling", "metric"),
            "scale the transformer on a metric its class serves ("
            + ("cpu or memory" if chosen == "hpa" else "cpu, memory, custom or prometheus")
            + "), or change the predictor's metric",
            related=_present(where("autoscaling", "metric")),
            environment=env,
        )


# Settings only KServe renders: plain Kubernetes would drop them (so it refuses them instead).
_KSERVE_ONLY = (
    (("transformer",), "a transformer", "run it as a separate model, or use serving: kserve"),
    (("runtimeVersion",), "runtimeVersion", "pin the version in image instead"),
    (
        ("autoscaling", "prometheusUrl"),
        "autoscaling.prometheusUrl",
        "remove it: the HPA reads a custom metric from the cluster's metrics adapter",
    ),
)


def _kubernetes_unrendered(serving: Merged, env: str, at: Locate) -> Iterator[Diagnostic]:
    if serving.get("autoscaling", "metric") == "prometheus":
        yield make(
            "MLG332",
            f"the kubernetes serving target cannot scale on a prometheus query in {ENVIRONMENT}: its "
            "HorizontalPodAutoscaler reads metrics from the cluster's metrics APIs, and it renders "
            "no KEDA ScaledObject",
            at("autoscaling", "metric"),
            "use metric: custom (a per-pod metric served by a custom metrics adapter), or serving: "
            "kserve in standard mode",
            environment=env,
        )
    mode = serving.origin("deploymentMode")
    if serving.get("deploymentMode") is not None and mode is not None and mode.layer != "mlgitops default":
        yield make(
            "MLG338",
            f"the kubernetes serving target cannot honour deploymentMode in {ENVIRONMENT}: it always "
            "renders a Deployment (with a HorizontalPodAutoscaler), KServe's modes do not apply",
            at("deploymentMode"),
            "remove deploymentMode, or use serving: kserve",
            environment=env,
        )
    for path, what, instead in _KSERVE_ONLY:
        if serving.get(*path) is not None:
            yield make(
                "MLG338",
                f"the kubernetes serving target cannot honour {what} in {ENVIRONMENT}: only KServe "
                "renders it",
                at(*path),
                instead,
                environment=env,
            )


def _kserve_serverless(serving: Merged, env: str, at: Locate, where: MaybeLocate) -> Iterator[Diagnostic]:
    """What KServe does itself: Knative rolls out a serverless InferenceService's revisions and
    serves one port; KServe names and exposes the Services."""
    port = serving.origin("port")
    if serving.get("runtime") != "custom" and port is not None and port.layer != "mlgitops default":
        yield make(
            "MLG338",
            f"KServe cannot honour port in {ENVIRONMENT} for runtime {serving.get('runtime')!r}: its "
            "ServingRuntime fixes the port its model server listens on",
            at("port"),
            "remove port (it sets the port of a custom container), or use runtime: custom",
            environment=env,
        )
    if serving.get("service"):
        yield make(
            "MLG338",
            f"KServe cannot honour service in {ENVIRONMENT}: it names and exposes the "
            "InferenceService's Services itself",
            at("service"),
            "remove service (it sets the plain-Kubernetes Service), or use serving: kubernetes",
            environment=env,
        )
    if serving.get("deploymentMode") != "serverless":
        return
    for key, why, instead in (
        (
            "rollout",
            "Knative rolls out each revision itself (deploymentStrategy applies in standard mode only)",
            "remove rollout (tune Knative's rollout-duration instead)",
        ),
        ("ports", "Knative serves a single container port", "remove ports"),
    ):
        if serving.get(key):
            yield make(
                "MLG338",
                f"KServe serverless mode cannot honour {key} in {ENVIRONMENT}: {why}",
                at(key),
                f"set deploymentMode: standard, or {instead}",
                related=_present(where("deploymentMode")),
                environment=env,
            )


def _kserve_annotations(serving: Merged, env: str, at: Locate, where: MaybeLocate) -> Iterator[Diagnostic]:
    """A user's ``serving.kserve.io/*`` annotation is written as it is; it must mean what the
    spec's deployment mode and scaling metric mean."""
    annotations = serving.get("annotations") or {}
    mode, metric = serving.get("deploymentMode"), serving.get("autoscaling", "metric")
    if mode is None:
        return  # a null deploymentMode is refused on its own (MLG330)
    written = annotations.get(platforms.DEPLOYMENT_MODE)
    modes = platforms.DEPLOYMENT_MODES[mode]
    if written is not None and written not in modes:
        yield make(
            "MLG333",
            f"annotation {platforms.DEPLOYMENT_MODE}: {written!r} contradicts deploymentMode "
            f"{mode!r} in {ENVIRONMENT}",
            at("annotations", platforms.DEPLOYMENT_MODE),
            f"remove the annotation (deploymentMode {mode!r} writes {modes[0]!r}), or change deploymentMode",
            related=_present(where("deploymentMode")),
            environment=env,
        )
    chosen = annotations.get(platforms.AUTOSCALER_CLASS)
    classes = platforms.autoscaler_classes(mode, metric)
    if chosen is not None and chosen not in classes:
        yield make(
            "MLG333",
            f"annotation {platforms.AUTOSCALER_CLASS}: {chosen!r} contradicts scaling on {metric!r} "
            f"in {mode} mode in {ENVIRONMENT}",
            at("annotations", platforms.AUTOSCALER_CLASS),
            f"KServe scales on {metric!r} in {mode} mode with autoscalerClass "
            + " or ".join(repr(c) for c in classes)
            if classes
            else f"Knative scales on {metric!r} without an autoscaler class: remove the annotation",
            related=_present(where("autoscaling", "metric")),
            environment=env,
        )


def _triton_latency(serving: Merged, target: str, model: ValidatedModel) -> Iterator[Diagnostic]:
    """Where the model server's own metrics count (docs/monitoring.md), Triton has no histogram
    of request latency for a latency SLO to count requests under its threshold."""
    runtime, monitoring = serving.get("runtime"), model.spec.spec.monitoring
    if runtime not in platforms.TRITON_RUNTIMES or monitoring is None or monitoring.slos is None:
        return
    latency = monitoring.slos.latency
    if latency is None or (monitoring.metrics is not None and monitoring.metrics.latency is not None):
        return
    if target == "kserve" and serving.get("deploymentMode") == "serverless":
        return  # Knative's queue-proxy times every request whatever the runtime
    yield make(
        "MLG335",
        f"a latency SLO needs a request latency histogram, and Triton (runtime {runtime!r}) exports "
        "none: nv_inference_request_duration_us is a cumulative counter (a mean, not the share of "
        "requests under a threshold), its summaries have fixed quantiles",
        model.doc.locate(("spec", "monitoring", "slos", "latency")),
        "point spec.monitoring.metrics.latency at a histogram in front of Triton (an ingress or "
        "mesh proxy), or serve it with KServe in serverless mode, whose queue-proxy times every request",
    )


def _present(location: Location | None) -> list[Location]:
    return [location] if location is not None else []


def _scrape_port(serving: Merged, target: str, env: str, model: ValidatedModel) -> Iterator[Diagnostic]:
    """``monitoring.scrape.port`` must name a port of the model's pods in every environment."""
    monitoring = model.spec.spec.monitoring
    port = monitoring.scrape.port if monitoring and monitoring.scrape else None
    if port is None:
        return
    extra = [p.name for p in serving.get("ports") or ()]
    if target == "kubernetes":
        named = [
            "http",
            *(["metrics"] if serving.get("runtime") in platforms.TRITON_RUNTIMES else []),
            *extra,
        ]
    elif serving.get("deploymentMode") == "standard":
        named = [*(["http1"] if extra else []), *extra]
    else:
        named = []  # serverless: Knative's queue-proxy is what is scraped
    if port in named:
        return
    yield make(
        "MLG339",
        f"monitoring.scrape.port {port!r} names no port of the {target} pods of {model.name!r} "
        f"in {ENVIRONMENT}",
        model.doc.locate(("spec", "monitoring", "scrape", "port")),
        f"name one of: {', '.join(named)}"
        if named
        else "KServe serverless mode scrapes Knative's queue-proxy; "
        "remove scrape.port, or use deploymentMode: standard with serving.ports",
        environment=env,
    )
