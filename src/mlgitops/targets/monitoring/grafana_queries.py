"""The PromQL behind each panel of a model's Grafana dashboard (targets/monitoring/grafana.py).

The dashboard reads the very series the alerts read:

* the SLO recording rules of the PrometheusRule (targets/monitoring/prometheus_rules.py),
  ``mlgitops:slo_errors:ratio_rate<window>`` and ``mlgitops:slo_latency:ratio_rate<window>``
  with labels ``model`` and ``environment``, and the drift check's ``mlgitops_feature_drift``
  gauge (``model``, ``environment``, ``feature``, ``method``);
* the serving series those rules are built from (targets/monitoring/metricmap.py: the serving
  target's defaults or the spec's ``monitoring.metrics``), and kube-state-metrics.

The dashboard's ``environment`` variable has the environment's name as its text and its
namespace as its value (Grafana's ``text : value`` custom-variable syntax).  The series
are built for a deployment whose environment is those two variable references, so a
query says ``environment="${environment:text}"`` or ``namespace="$environment"``.
"""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal
from typing import Any

from mlgitops import ir
from mlgitops.targets.monitoring import slo
from mlgitops.targets.monitoring.metricmap import SLOSeries, slo_series
from mlgitops.targets.monitoring.prometheus_rules import DRIFT_METRIC, RATIO
from mlgitops.targets.monitoring.promql import Matcher, Selector, quote

ENVIRONMENT = "${environment:text}"
NAMESPACE = "$environment"
# Stand-ins for those two references while series are built from the spec's selectors, so that
# rendering tells the dashboard's own references from a '$' the spec wrote (see _string).
_ENVIRONMENT_TOKEN = "\x00environment\x00"
_NAMESPACE_TOKEN = "\x00namespace\x00"
_TOKENS = re.compile(f"({_ENVIRONMENT_TOKEN}|{_NAMESPACE_TOKEN})")
_DOUBLE_BRACKET = re.compile(r"\[(?=\[)")
RATE_MS = 5 * slo.MINUTE_MS  # the panels' rate window: the shortest recording-rule window too
QUANTILES = {"0.5": "p50", "0.95": "p95", "0.99": "p99"}
PAGE = [w for w in slo.BURN_WINDOWS if w.severity == "page"]  # 1h (14.4× at 30d) and 6h (6×)


def placeholder_deployment(d: ir.Deployment) -> ir.Deployment:
    """``d`` in the environment the dashboard's variable selects."""
    env = dataclasses.replace(d.environment, name=_ENVIRONMENT_TOKEN, namespace=_NAMESPACE_TOKEN)
    return dataclasses.replace(d, environment=env)


def series(project: ir.Project, model: ir.Model, d: ir.Deployment) -> SLOSeries:
    return slo_series(project.serving, placeholder_deployment(d), model.monitoring.metrics)


def _target(ref: int, expr: str, legend: str, datasource: dict[str, str]) -> dict[str, Any]:
    return {
        "refId": chr(ord("A") + ref),
        "datasource": datasource,
        "expr": expr,
        "legendFormat": legend,
        "range": True,
        "instant": False,
    }


def _rate(selector: Selector, by: str = "") -> str:
    grouping = f" by ({by})" if by else ""
    return f"sum{grouping}(rate({promql(selector)}[{slo.format_duration(RATE_MS)}]))"


def promql(selector: Selector) -> str:
    """``selector`` as PromQL that Grafana's variable interpolation leaves as it is, but for the
    dashboard's own ``environment`` references."""
    if not selector.matchers:
        return selector.metric
    return (
        selector.metric
        + "{"
        + ", ".join(f"{m.label}{m.op}{_string(m.value)}" for m in selector.matchers)
        + "}"
    )


def _string(value: str) -> str:
    """A PromQL string literal of ``value``.  Grafana replaces ``$name``, ``${...}`` and ``[[name]]``
    anywhere in a query, string literals included, and would put e.g. ``${__user.login}`` into
    the spec's selector; PromQL strings read Go escapes, so ``\\x24`` (``$``) and ``\\x5b``
    (``[``) spell the same characters where Grafana sees none."""
    out = []
    for part in _TOKENS.split(value):
        if part == _ENVIRONMENT_TOKEN:
            out.append(ENVIRONMENT)
        elif part == _NAMESPACE_TOKEN:
            out.append(NAMESPACE)
        else:
            body = quote(part)[1:-1].replace("$", "\\x24")
            out.append(_DOUBLE_BRACKET.sub(r"\\x5b", body))
    return '"' + "".join(out) + '"'


def rule(kind: str, window_ms: int, model: str) -> str:
    """A recording rule of the PrometheusRule, read back by its labels."""
    return f'{RATIO[kind]}{slo.format_duration(window_ms)}{{model="{model}", environment="{ENVIRONMENT}"}}'


def traffic(project: ir.Project, model: ir.Model, d: ir.Deployment, s: SLOSeries) -> list[tuple[str, str]]:
    """(expression, legend) of each version's share of the requests."""
    total = f"scalar({_rate(s.requests)})"
    if project.serving == "kubernetes":
        # Stable and canary pods sit behind one Service; the canary Deployment's pods are
        # named "<model>-canary-<replica set>-<pod>" (targets/serving/kubernetes.py).
        canary = f"{model.name}-canary-.*"

        def share(op: str) -> str:
            pods = s.requests.with_matchers(Matcher("pod", op, canary), replace_labels=False)
            return f"{_rate(pods)} / {total}"

        return [(share("!~"), "stable"), (share("=~"), "canary")]
    if d.serving.deployment_mode == "serverless" and model.monitoring.metrics.requests is None:
        # KServe keeps the stable and the canary version as two Knative revisions.
        return [(f"{_rate(s.requests, 'revision_name')} / {total}", "{{revision_name}}")]
    return [(f"{_rate(s.requests)} / {total}", "all versions")]


def targets(
    project: ir.Project, model: ir.Model, d: ir.Deployment, datasource: dict[str, str]
) -> dict[str, Any]:
    """Every panel's queries, by panel; ``d`` is the deployment whose serving decides the series."""
    s = series(project, model, d)
    slos = model.monitoring.slos
    kinds = {spec.kind for spec in slos}
    scope = f'model="{model.name}", environment="{ENVIRONMENT}"'
    if "availability" in kinds:
        error_ratio = rule("availability", RATE_MS, model.name)  # what the availability alerts read
    else:
        error_ratio = f"({_rate(s.errors)} or vector(0)) / {_rate(s.requests)}"
    return {
        "alerts": f'ALERTS{{{scope}, alertstate="firing"}}',
        "request_rate": [_target(0, _rate(s.requests), "requests/s", datasource)],
        "error_ratio": [_target(0, error_ratio, "errors", datasource)],
        "latency": latency(s, datasource),
        "traffic": [
            _target(i, e, legend, datasource) for i, (e, legend) in enumerate(traffic(project, model, d, s))
        ],
        "replicas": replicas(project, model, datasource),
        "drift": [_target(0, f"{DRIFT_METRIC}{{{scope}}}", "{{feature}}", datasource)],
        "error_budget": [
            _target(
                i,
                f"1 - {rule(spec.kind, slo.duration_ms(spec.window), model.name)} / {_budget(spec)}",
                f"{spec.kind} ({slo.number(Decimal(repr(spec.objective)))}% over {spec.window})",
                datasource,
            )
            for i, spec in enumerate(slos)
        ],
        "burn_rate": [
            _target(
                len(PAGE) * i + j,
                f"{rule(spec.kind, window.long_ms, model.name)} / {_budget(spec)}",
                f"{spec.kind} {window.long}",
                datasource,
            )
            for i, spec in enumerate(slos)
            for j, window in enumerate(PAGE)
        ],
    }


def latency(s: SLOSeries, datasource: dict[str, str]) -> list[dict[str, Any]]:
    """Quantiles of the latency histogram; a server without one (Triton) gets the mean from its
    counters of request time and requests; none at all: no query (the panel stays empty)."""
    if s.latency is not None:
        buckets = _rate(s.latency, "le")
        scale = " / 1000" if s.latency_unit == "milliseconds" else ""
        return [
            _target(i, f"histogram_quantile({q}, {buckets}){scale}", legend, datasource)
            for i, (q, legend) in enumerate(QUANTILES.items())
        ]
    if s.mean is not None:
        total, count, unit = s.mean
        return [_target(0, f"{_rate(total)} / {_rate(count)} * {unit!r}", "mean", datasource)]
    return []


def latency_panel(s: SLOSeries) -> dict[str, str]:
    """Title and description of the latency panel, saying what its queries show."""
    if s.latency is None:
        return {
            "title": "Latency (mean)",
            "description": "Mean request latency (5m rate) from the server's counters of request time "
            "and requests: it exports no latency histogram, so no quantiles.",
        }
    return {
        "title": "Latency (p50, p95, p99)",
        "description": "Quantiles of the request latency histogram (5m rate).",
    }


def _budget(spec: ir.SLO) -> str:
    return slo.number(slo.error_budget(spec.objective))


def page_burn_rates(model: ir.Model) -> dict[str, float]:
    """The page alerts' burn-rate factors (fast: 1h, slow: 6h) of the model's first SLO window,
    for the burn-rate panel's threshold lines."""
    window_ms = slo.duration_ms(model.monitoring.slos[0].window) if model.monitoring.slos else 30 * 86_400_000
    fast, slow = (float(slo.burn_factor(w, window_ms)) for w in PAGE)
    return {"fast": fast, "slow": slow}


def replicas(project: ir.Project, model: ir.Model, datasource: dict[str, str]) -> list[dict[str, Any]]:
    """Available and desired replicas of the model's Deployments (KServe's: one per revision)."""
    if project.serving == "kserve":
        deployments = f"{model.name}-predictor(-.*)?"
    else:
        deployments = f"{model.name}|{model.name}-canary"
    match = f'namespace="{NAMESPACE}", deployment=~"{deployments}"'
    return [
        _target(
            0,
            f"sum by (deployment) (kube_deployment_status_replicas_available{{{match}}})",
            "{{deployment}} available",
            datasource,
        ),
        _target(1, f"sum(kube_deployment_spec_replicas{{{match}}})", "desired", datasource),
    ]
