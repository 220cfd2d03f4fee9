"""Prometheus rule groups for one model in one environment: the multiwindow multi-burn-rate alerts
(see :mod:`mlgitops.targets.monitoring.slo`) of SLOs with an ``alerting`` of their own (the others'
come from the shared rules of :mod:`.prometheus_shapes`, which fire the very alerts described
here), the latency bucket check, and a description of the drift alert as it fires (its rule is
the environment's shared one, :mod:`.drift_shapes`).

The alerts read the bad and total request rates that the environment's shared recording
rules (:mod:`mlgitops.targets.monitoring.prometheus_sli`) keep for every model, by the
labels ``model``, ``environment`` and ``slo``.

Alert labels and annotations are Prometheus templates: spec text is escaped by
the target's escape function when rendered, and only text written here (the drift
alert's ``{{ $labels.feature }}``) is :class:`Trusted`.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from mlgitops import ir
from mlgitops.render.engine import Trusted
from mlgitops.targets.monitoring import slo
from mlgitops.targets.monitoring.metricmap import SLOSeries
from mlgitops.targets.monitoring.prometheus_sli import BAD, TOTAL
from mlgitops.targets.monitoring.promql import Matcher, Selector

DRIFT_METRIC = "mlgitops_feature_drift"  # gauge {model, environment, feature, method}, see docs/monitoring.md
RATIO = {
    "availability": "mlgitops:slo_errors:ratio_rate",
    "latency": "mlgitops:slo_latency:ratio_rate",
}
ALERTS = {
    ("availability", "page"): "ModelAvailabilityFastBurn",
    ("availability", "ticket"): "ModelAvailabilitySlowBurn",
    ("latency", "page"): "ModelLatencyFastBurn",
    ("latency", "ticket"): "ModelLatencySlowBurn",
}
BUCKET_MISSING = "ModelLatencyBucketMissing"
DRIFT = "ModelFeatureDrift"
BUCKET_MISSING_FOR = "1h"
FEATURE = "{{ $labels.feature }}"
VALUE = "{{ $value }}"
RETRAIN = " The drift check starts a retraining run (drift.retrain)."


@dataclass(frozen=True)
class Alert:
    """An alerting rule, with its labels and annotations as raw (unescaped) text."""

    name: str
    expr: str
    labels: dict[str, str]
    annotations: dict[str, str]
    for_: str | None = None

    def rule(self) -> dict[str, Any]:
        rule: dict[str, Any] = {"alert": self.name, "expr": Trusted(self.expr)}
        if self.for_:
            rule["for"] = self.for_
        rule["labels"] = self.labels
        rule["annotations"] = dict(self.annotations)
        return rule


@dataclass(frozen=True)
class SLORules:
    """Everything known about one SLO of one deployment, shared by the rules and their tests."""

    kind: str  # "availability" | "latency"
    objective: float
    window_ms: int
    budget: Decimal
    series: SLOSeries
    threshold_ms: int = 0  # latency only
    alerts: dict[str, Alert] = field(default_factory=dict)  # severity → alert
    bucket_missing: Alert | None = None

    @property
    def le(self) -> Matcher:
        """The ``le`` matcher of the threshold bucket, in every spelling clients use."""
        spellings = slo.le_spellings(slo.threshold_in(self.series.latency_unit, self.threshold_ms))
        if len(spellings) == 1:
            return Matcher("le", "=", spellings[0])
        return Matcher("le", "=~", "|".join(re.escape(s) for s in spellings))

    def factor(self, window: slo.BurnWindow) -> Decimal:
        return slo.burn_factor(window, self.window_ms)


@dataclass(frozen=True)
class DriftRules:
    alert: Alert
    threshold: Decimal
    method: str


@dataclass(frozen=True)
class Group:
    name: str
    rules: list[dict[str, Any]]
    slo: SLORules | None = None
    drift: DriftRules | None = None


def groups(model: ir.Model, d: ir.Deployment, series: SLOSeries) -> list[Group]:
    out = [_slo_group(model, d, s, series) for s in model.monitoring.slos]
    if model.monitoring.drift is not None:
        drift = model.monitoring.drift
        alert = drift_alert(model, d, drift)
        rules = DriftRules(alert, Decimal(repr(drift.threshold)), drift.method)
        # the rule is the environment's shared one (drift_shapes.py): none of the model's own
        out.append(Group(f"mlgitops/{d.environment.name}/{d.model}/drift", [], drift=rules))
    return out


def own_groups(model: ir.Model, d: ir.Deployment, series: SLOSeries) -> list[Group]:
    """The groups of :func:`groups` that hold rules (the model's rule file), built alone: an SLO
    whose alerts are the shared ones (most of them) has nothing of its own to write, and
    describing its alerts is most of the per-model monitoring work."""
    return [_slo_group(model, d, s, series) for s in model.monitoring.slos if _own_alerts(s)]


def alert_labels(model: ir.Model, d: ir.Deployment, severity: str, kind: str | None) -> dict[str, str]:
    labels = {"severity": severity}
    if kind is not None:
        labels["slo"] = kind
    labels |= {
        "model": d.model,
        "environment": d.environment.name,
        "namespace": d.environment.namespace,
        "owner": model.owner,
    }
    if model.monitoring.alerts.route is not None:
        labels["route"] = model.monitoring.alerts.route
    return labels


def _annotations(model: ir.Model, summary: str, description: str) -> dict[str, str]:
    out = {"summary": summary, "description": description}
    if model.monitoring.alerts.runbook_url is not None:
        out["runbook_url"] = model.monitoring.alerts.runbook_url
    return out


def _slo_group(model: ir.Model, d: ir.Deployment, spec: ir.SLO, series: SLOSeries) -> Group:
    threshold_ms = slo.duration_ms(spec.threshold) if spec.threshold else 0
    base = SLORules(
        spec.kind,
        spec.objective,
        slo.duration_ms(spec.window),
        slo.error_budget(spec.objective),
        series,
        threshold_ms,
    )
    rules: list[dict[str, Any]] = []
    alerts = {
        severity: _shaped(_burn_alert(model, d, base, severity), spec.alerting, severity, d)
        for severity in slo.SEVERITIES
        if not spec.alerting.disable
    }
    # the bucket check is the environment's shared rule (prometheus_shapes.py): described here
    missing = _bucket_missing(model, d, base) if spec.kind == "latency" else None
    if not shared_alerts(spec.alerting):
        rules += [a.rule() for a in alerts.values()]
    full = dataclasses.replace(base, alerts=alerts, bucket_missing=missing)
    return Group(f"mlgitops/{d.environment.name}/{d.model}/{spec.kind}", rules, slo=full)


def has_own_rules(model: ir.Model) -> bool:
    """Whether :func:`groups` gives the model rules of its own (and so a rule file): an SLO whose
    alerts are not the shared ones and not disabled."""
    return any(_own_alerts(s) for s in model.monitoring.slos)


def _own_alerts(spec: ir.SLO) -> bool:
    return not shared_alerts(spec.alerting) and not spec.alerting.disable


def shared_alerts(spec: ir.SLOAlerting) -> bool:
    """Whether the SLO's burn-rate alerts come from the environment's shared rule of their shape
    (:mod:`.prometheus_shapes`): its ``alerting`` is the default.  Else the model's rule file
    holds them.  Either way ``SLORules.alerts`` describes them as they fire."""
    return spec == ir.SLOAlerting()


def _shaped(alert: Alert, spec: ir.SLOAlerting, severity: str, d: ir.Deployment) -> Alert:
    """``alert`` as the SLO's ``alerting`` and the environment's ``monitoring.page`` shape it.
    The labels identifying the SLO (validation refuses them in the spec) stay mlgitops'."""
    own = spec.page if severity == "page" else spec.ticket
    identity = {k: alert.labels[k] for k in ("slo", "model", "environment", "namespace")}
    labels = alert.labels | dict(spec.labels) | dict(own.labels) | identity
    if spec.name is not None:
        # Both alerts carry the one name: this label keeps them apart whatever `severity` says.
        labels["burn"] = "fast" if severity == "page" else "slow"
    if severity == "page" and not d.environment.page:
        labels["severity"] = "ticket"
    annotations = dict(alert.annotations)
    if spec.runbook_url is not None:
        annotations["runbook_url"] = spec.runbook_url
    annotations |= dict(spec.annotations)
    if shared_alerts(spec):
        annotations.setdefault("runbook_url", "")  # the shared rule's template prints one for every SLO
    return dataclasses.replace(
        alert, name=spec.name or alert.name, labels=labels, annotations=annotations, for_=own.for_
    )


def _burn_alert(model: ir.Model, d: ir.Deployment, s: SLORules, severity: str) -> Alert:
    scope = f'{{model="{d.model}", environment="{d.environment.name}", slo="{s.kind}"}}'
    budget = slo.number(s.budget)
    conditions = []
    windows = [w for w in slo.BURN_WINDOWS if w.severity == severity]
    factors = [slo.number(s.factor(w)) for w in windows]
    for window, factor in zip(windows, factors, strict=True):
        limit = f"> ({factor} * {budget})"
        long, short = (f"({BAD}{w}{scope} / {TOTAL}{w}{scope})" for w in (window.long, window.short))
        conditions.append(f"(\n  {long} {limit}\n  and\n  {short} {limit}\n)")
    env = d.environment.name
    what = (
        f"error ratio of {d.model} in {env}"
        if s.kind == "availability"
        else f"share of requests to {d.model} in {env} slower than {_threshold(s)}"
    )
    pace = "fast" if severity == "page" else "slowly"
    summary = f"{d.model} ({env}) is burning its {s.kind} error budget {pace}"
    (first, second), percent = windows, slo.number(s.budget * 100)
    description = (
        f"The {what} is above {factors[0]}× its error budget ({percent}% of requests) over {first.long} "
        f"and {first.short}, or {factors[1]}× over {second.long} and {second.short}. {_objective(s)}"
    )
    return Alert(
        ALERTS[(s.kind, severity)],
        "\nor\n".join(conditions),
        alert_labels(model, d, severity, s.kind),
        _annotations(model, summary, description),
    )


def _threshold(s: SLORules) -> str:
    return slo.format_duration(s.threshold_ms)


def _objective(s: SLORules) -> str:
    window = slo.format_duration(s.window_ms)
    objective = slo.number(Decimal(repr(s.objective)))
    if s.kind == "availability":
        return f"SLO: {objective}% of requests succeed over {window}."
    return f"SLO: {objective}% of requests faster than {_threshold(s)} over {window}."


def _bucket_missing(model: ir.Model, d: ir.Deployment, s: SLORules) -> Alert:
    histogram = s.series.histogram()
    total = histogram.with_matchers(Matcher("le", "=", "+Inf"))
    good = histogram.with_matchers(s.le)
    unit = s.series.latency_unit
    value = slo.number(slo.threshold_in(unit, s.threshold_ms))
    annotations = _annotations(
        model,
        f"The latency SLO of {d.model} ({d.environment.name}) cannot be computed",
        bucket_missing_description(histogram.metric, value, _threshold(s), unit),
    )
    annotations.setdefault("runbook_url", "")  # the shared rule prints one for every SLO
    return Alert(
        BUCKET_MISSING,
        f"count({total.render()})\nunless\ncount({good.render()})",
        alert_labels(model, d, "ticket", s.kind),
        annotations,
        BUCKET_MISSING_FOR,
    )


def bucket_missing_description(metric: str, le: str, threshold: str, unit: str) -> str:
    return (
        f"The histogram {metric} has no bucket le={le} ({threshold} in {unit}), "
        "so the latency burn-rate alerts cannot fire. Make the threshold a bucket boundary, or point "
        "spec.monitoring.metrics.latency at a histogram that has it."
    )


def drift_alert(model: ir.Model, d: ir.Deployment, drift: ir.Drift) -> Alert:
    selector = Selector(
        DRIFT_METRIC, (Matcher("model", "=", d.model), Matcher("environment", "=", d.environment.name))
    )
    threshold = slo.number(Decimal(repr(drift.threshold)))
    retrain = RETRAIN if drift.retrain else ""
    summary = f"Feature {FEATURE} of {d.model} ({d.environment.name}) has drifted"
    description = (
        f"Its {drift.method} drift score is {VALUE}, above the threshold {threshold}: live inputs no longer "
        f"look like the reference data.{retrain}"
    )
    annotations: dict[str, str] = {
        "summary": Trusted(summary),
        "description": Trusted(description),
        "runbook_url": model.monitoring.alerts.runbook_url
        or "",  # the shared rule prints one for every model
    }
    return Alert(
        DRIFT,
        f"max by (model, environment, feature) ({selector.render()}) > {threshold}",
        alert_labels(model, d, "ticket", None),
        annotations,
    )


def expand(text: str, feature: str = "", value: str = "") -> str:
    """What Prometheus makes of an annotation written here (for the expected alerts of the tests)."""
    return text.replace(FEATURE, feature).replace(VALUE, value)
