"""Which series count requests, errors and latency: the defaults table and the spec's overrides.

docs/monitoring.md explains each row; keep the two in step.  Defaults differ
by serving target, KServe deployment mode and runtime family:

* KServe serverless: every request passes Knative's queue-proxy, whose
  ``revision_request_*`` metrics exist whatever the runtime (latency in ms).
* KServe standard (raw Deployment) and the plain ``kubernetes`` target: there
  is no proxy, so the model server's own metrics count.  KServe's Python model
  server (sklearn, xgboost, lightgbm, huggingface images) exports the
  ``request_predict_seconds`` histogram but no counter by status code; for
  requests and errors, and for the other servers, the defaults are the
  conventional ``http_requests_total`` / ``http_request_duration_seconds``
  (Go client, most exporters).  Servers without them need
  ``spec.monitoring.metrics``.  Triton (``triton``, ``onnx``) has no latency histogram
  at all: its rows have none (a latency SLO there is MLG335) and name the counters
  whose ratio is the mean latency, for the dashboard.

Label matchers scope each series to one model in one environment; ``{namespace}``
and ``{workload}`` (the model's workload, or each version's with a traffic router) are
filled in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mlgitops import ir, platforms
from mlgitops.targets.monitoring.promql import Matcher, Selector, parse

ANY = "*"
# Runtimes served by KServe's Python model server (the kserve/*server images).
KSERVE_PYTHON = frozenset({"sklearn", "xgboost", "lightgbm", "huggingface"})
TRITON = platforms.TRITON_RUNTIMES  # Triton serves onnx too, on both targets
Template = tuple[str, tuple[tuple[str, str, str], ...]]  # metric, (label, op, value) with placeholders


@dataclass(frozen=True, slots=True)
class Defaults:
    requests: Template
    errors: Template
    latency: Template | None  # a histogram's _bucket series, without le; None: the server has none
    latency_unit: str  # unit of its le label: "seconds" | "milliseconds"
    # Without a histogram: counters of total request time and of requests, and seconds per unit
    # of the first, which give the mean latency (the dashboard shows it; no SLO can use it).
    mean: tuple[Template, Template, float] | None = None


# {workload}: the InferenceService or Service name, the model's own; with a traffic router, one
# per version served (k8s.workload_name), matched together by a regular expression.
_KNATIVE = (("namespace_name", "=", "{namespace}"), ("configuration_name", "=", "{workload}-predictor"))
# Raw-deployment predictor pods are "<workload>-predictor-<replicaset hash>-<pod hash>".
_PREDICTOR_POD = (
    ("namespace", "=", "{namespace}"),
    ("pod", "=~", "{workload}-predictor-[a-z0-9]+-[a-z0-9]+"),
)
_SERVICE = (("namespace", "=", "{namespace}"), ("service", "=", "{workload}"))
_SERVER_ERROR = ("code", "=~", "5..")
_MODEL_NAME = ("model_name", "=", "{workload}")
_TRITON_MEAN = (
    ("nv_inference_request_duration_us", _SERVICE),
    ("nv_inference_request_success", _SERVICE),
    1e-6,
)

# (serving target, deployment mode, runtime family) → defaults; the first matching row wins.
DEFAULTS: dict[tuple[str, str, str], Defaults] = {
    ("kserve", "serverless", ANY): Defaults(
        ("revision_request_count", _KNATIVE),
        ("revision_request_count", (*_KNATIVE, ("response_code_class", "=", "5xx"))),
        ("revision_request_latencies_bucket", _KNATIVE),
        "milliseconds",
    ),
    ("kserve", "standard", "kserve-python"): Defaults(
        ("http_requests_total", _PREDICTOR_POD),
        ("http_requests_total", (*_PREDICTOR_POD, _SERVER_ERROR)),
        ("request_predict_seconds_bucket", (_PREDICTOR_POD[0], _MODEL_NAME)),
        "seconds",
    ),
    ("kserve", "standard", "triton"): Defaults(
        ("http_requests_total", _PREDICTOR_POD),
        ("http_requests_total", (*_PREDICTOR_POD, _SERVER_ERROR)),
        None,
        "seconds",
        (
            ("nv_inference_request_duration_us", _PREDICTOR_POD),
            ("nv_inference_request_success", _PREDICTOR_POD),
            1e-6,
        ),
    ),
    ("kserve", "standard", ANY): Defaults(
        ("http_requests_total", _PREDICTOR_POD),
        ("http_requests_total", (*_PREDICTOR_POD, _SERVER_ERROR)),
        ("http_request_duration_seconds_bucket", _PREDICTOR_POD),
        "seconds",
    ),
    ("kubernetes", ANY, "kserve-python"): Defaults(
        ("http_requests_total", _SERVICE),
        ("http_requests_total", (*_SERVICE, _SERVER_ERROR)),
        ("request_predict_seconds_bucket", (*_SERVICE, _MODEL_NAME)),
        "seconds",
    ),
    ("kubernetes", ANY, "triton"): Defaults(
        ("http_requests_total", _SERVICE),
        ("http_requests_total", (*_SERVICE, _SERVER_ERROR)),
        None,
        "seconds",
        _TRITON_MEAN,
    ),
    ("kubernetes", ANY, ANY): Defaults(
        ("http_requests_total", _SERVICE),
        ("http_requests_total", (*_SERVICE, _SERVER_ERROR)),
        ("http_request_duration_seconds_bucket", _SERVICE),
        "seconds",
    ),
}
_PLACEHOLDERS = re.compile(r"\{(namespace|environment|model)\}")
_MILLISECONDS = re.compile(r"(_ms|_millis|_milliseconds)(_|$)")


@dataclass(frozen=True, slots=True)
class SLOSeries:
    """The selectors one deployment's SLOs are computed from."""

    requests: Selector
    errors: Selector
    latency: Selector | None  # None: the server exports no latency histogram (Triton)
    latency_unit: str
    mean: tuple[Selector, Selector, float] | None = None  # see Defaults.mean
    good: Selector | None = None  # spec's metrics.good: availability = good / requests
    gauge: Selector | None = None  # spec's metrics.gauge: availability = its average over time

    def histogram(self) -> Selector:
        """The latency histogram a latency SLO counts from; validation (MLG335) keeps latency SLOs
        away from servers without one, so its absence here is a bug."""
        if self.latency is None:
            raise ValueError("a latency SLO reached rendering without a latency histogram")
        return self.latency


def defaults_for(serving: str, mode: str, runtime: str) -> Defaults:
    family = "kserve-python" if runtime in KSERVE_PYTHON else "triton" if runtime in TRITON else runtime
    for (target, row_mode, row_family), defaults in DEFAULTS.items():
        if target == serving and row_mode in (mode, ANY) and row_family in (family, ANY):
            return defaults
    raise KeyError((serving, mode, runtime))


def slo_series(
    serving: str, d: ir.Deployment, overrides: ir.MetricSelectors, workloads: tuple[str, ...] = ()
) -> SLOSeries:
    """Defaults for ``d`` on the ``serving`` target, each replaced by the spec's override when set.
    ``workloads``: the per-version workload names when a route splits the traffic (else the
    model's name is the workload's)."""
    # KServe always has a mode here: resolve refuses `deploymentMode: null` on it (MLG330).
    mode = (d.serving.deployment_mode or ANY) if serving == "kserve" else ANY
    defaults = defaults_for(serving, mode, d.serving.runtime)
    names = workloads or (d.name,)
    values = {
        "namespace": d.environment.namespace,
        "environment": d.environment.name,
        "model": d.model,
        "workload": names[0] if len(names) == 1 else f"({'|'.join(names)})",
    }
    latency_unit = overrides.latency_unit or (
        _unit_of(overrides.latency) if overrides.latency else defaults.latency_unit
    )
    latency = _override(overrides.latency, values)
    if latency is None and defaults.latency is not None:
        latency = _build(defaults.latency, values)
    mean = None
    if latency is None and defaults.mean is not None:
        total, count, scale = defaults.mean
        mean = (_build(total, values), _build(count, values), scale)
    return SLOSeries(
        _override(overrides.requests, values) or _build(defaults.requests, values),
        _override(overrides.errors, values) or _build(defaults.errors, values),
        latency,
        latency_unit,
        mean,
        _override(overrides.good, values),
        _override(overrides.gauge, values),
    )


def _build(template: Template, values: dict[str, str]) -> Selector:
    metric, matchers = template
    several = values["workload"].startswith("(")  # several versions: an alternation
    return Selector(
        metric,
        tuple(
            Matcher(label, "=~" if several and "{workload}" in value else op, value.format(**values))
            for label, op, value in matchers
        ),
    )


def _override(text: str | None, values: dict[str, str]) -> Selector | None:
    """The spec's selector with {namespace}/{environment}/{model} filled in.  A selector that names
    neither a namespace nor a placeholder is scoped to the deployment's namespace, because the same
    selector serves every environment of the model."""
    if text is None:
        return None
    selector = parse(text)
    templated = any(_PLACEHOLDERS.search(m.value) for m in selector.matchers)
    filled = tuple(
        Matcher(m.label, m.op, _PLACEHOLDERS.sub(lambda found: values[found.group(1)], m.value))
        for m in selector.matchers
    )
    selector = Selector(selector.metric, filled)
    if not templated and "namespace" not in selector.labels():
        selector = selector.with_matchers(Matcher("namespace", "=", values["namespace"]))
    return selector


def _unit_of(selector: str) -> str:
    """The unit a histogram's name announces; Prometheus naming says seconds unless it says otherwise."""
    return "milliseconds" if _MILLISECONDS.search(parse(selector).metric) else "seconds"
