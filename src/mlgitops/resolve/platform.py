"""What an explicit ``null`` leaves to the serving platform, target by target.

A ``null`` removes every lower layer's value, mlgitops' own defaults included, so
the target omits the field and the platform's default applies (KServe's, the
Kubernetes API's, the cluster's LimitRange). Where the target cannot omit the
field, because the API requires it or the rest of the output depends on it, the
null is an error here, in ``validate``, located on the null, saying what to write
instead. Nothing is filled back in behind the user's back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from mlgitops.diagnostics import ENVIRONMENT, Diagnostic, Location, make
from mlgitops.resolve.layers import Merged, Origin

BUILTIN_LAYER = "mlgitops default"
_HPA_DEFAULT = "the HPA's own default (80% average CPU utilization)"


def without_orphan_target(serving: Merged) -> Merged:
    """Drop mlgitops' default ``autoscaling.target`` when no metric is left for it.

    The built-in target belongs to the built-in metric (10 concurrent requests, 80 %
    CPU); once a ``null`` removed the metric, the platform's default metric comes
    with the platform's default target, so ours would be a number for the wrong thing.
    """
    autoscaling = serving.values.get("autoscaling")
    if not isinstance(autoscaling, dict) or "metric" in autoscaling or "target" not in autoscaling:
        return serving
    origin = serving.origins.get(("autoscaling", "target"))
    if origin is None or origin.layer != BUILTIN_LAYER:
        return serving
    values = {**serving.values, "autoscaling": {k: v for k, v in autoscaling.items() if k != "target"}}
    origins = {p: o for p, o in serving.origins.items() if p != ("autoscaling", "target")}
    return Merged(values, origins, serving.nulls)


def refused_nulls(
    serving: Merged, env: str, target: str, fallback: Callable[[], Location]
) -> Iterator[Diagnostic]:
    """The nulls ``target`` cannot turn into an omitted field (MLG330, MLG331)."""

    def at_null(*path: str) -> Location:
        return _location(serving.null(*path)) or fallback()

    gpu_name = serving.null("resources", "gpuResource")
    if serving.get("resources", "gpu") and gpu_name is not None:
        yield make(
            "MLG330",
            f"resources.gpuResource: null in {ENVIRONMENT}: requesting GPUs needs the name of their "
            "extended resource, and Kubernetes has no default for it",
            at_null("resources", "gpuResource"),
            "write the name, e.g. gpuResource: nvidia.com/gpu, or remove the null",
            environment=env,
        )
    if target == "kserve":
        if serving.get("deploymentMode") is None:
            yield make(
                "MLG330",
                f"deploymentMode: null in {ENVIRONMENT} leaves the KServe mode to the cluster's "
                "configuration, but the annotations, scaling checks and monitoring generated "
                "for this InferenceService depend on the mode",
                at_null("deploymentMode"),
                "write deploymentMode: serverless or deploymentMode: standard",
                environment=env,
            )
        return
    if serving.get("port") is None:
        yield make(
            "MLG330",
            f"port: null in {ENVIRONMENT}: the plain Kubernetes Deployment needs the port the model "
            "server listens on (its probes, its Service and the runtime's arguments use it), "
            "and Kubernetes has no default for it",
            at_null("port"),
            "write the port, e.g. port: 8080 (where the built-in runtimes listen)",
            environment=env,
        )
    autoscaling = serving.get("autoscaling")
    if not isinstance(autoscaling, dict):
        return  # no HorizontalPodAutoscaler: the Deployment's replica count applies
    if autoscaling.get("maxReplicas") is None:
        yield make(
            "MLG330",
            f"autoscaling.maxReplicas: null in {ENVIRONMENT}: a HorizontalPodAutoscaler requires "
            "maxReplicas, so Kubernetes has no default to fall back on",
            at_null("autoscaling", "maxReplicas"),
            "write maxReplicas, or autoscaling: null for no HPA (the Deployment's default of 1 replica)",
            environment=env,
        )
    metric, value = autoscaling.get("metric"), autoscaling.get("target")
    if metric is not None and value is None:
        yield make(
            "MLG330",
            f"autoscaling.target: null in {ENVIRONMENT} leaves the HPA's {metric!r} metric without a "
            "target, and Kubernetes has no default target for a metric that is named",
            at_null("autoscaling", "target"),
            f"write a target, or set metric: null as well so that {_HPA_DEFAULT} applies",
            environment=env,
        )
    if metric is None and value is not None:
        target_origin = _location(serving.origin("autoscaling", "target"))
        yield make(
            "MLG331",
            f"autoscaling.metric: null in {ENVIRONMENT} leaves target {value:g} without a metric: "
            "a HorizontalPodAutoscaler cannot take a target without its metric",
            at_null("autoscaling", "metric"),
            f"name the metric the target is for, or remove the target so that {_HPA_DEFAULT} applies",
            related=[target_origin] if target_origin else [],
            environment=env,
        )


def _location(origin: Origin | None) -> Location | None:
    return origin.location() if origin is not None else None
