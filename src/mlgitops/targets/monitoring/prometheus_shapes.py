"""The burn-rate alerts of one environment, shared by all SLOs (docs/monitoring.md).

Every SLO whose ``alerting`` is mlgitops' default fires the same alert as before (name, labels,
annotations: what :func:`prometheus_rules._burn_alert` describes, and the promtool tests expect),
but from a rule shared by all SLOs of one kind and severity, with one condition per window pair
and SLO window (the burn factors scale with it).  The per-SLO values come from one metadata
series per SLO, ``mlgitops_slo:alert:info`` (value: the error budget; labels: ``model``, ``slo``,
``window``, the objective, threshold, budget, burn factors and runbook for its annotations), and
the models' alert routing, ``mlgitops_slo:alert_route:info`` (one packed rule per environment
whatever the number of owners and routes: ``label_replace`` copies a packed text as it is, so spec
text is neither a PromQL string nor a template there):

* the alert's labels: the ratio series' own (``model``, ``environment``, ``namespace``, ``slo``),
  ``owner`` and ``route`` joined from the routing series (``group_left``), ``severity`` from the
  rule (``ticket`` for a page in an environment with ``monitoring.page: false``);
* its annotations: templates reading the metadata series with ``query``.  Spec text (a runbook
  URL) is printed by the template from a label value, never expanded as a template itself.

An SLO with an ``alerting`` of its own keeps its own rules in the model's rule file.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from mlgitops import ir
from mlgitops.render.engine import Trusted
from mlgitops.targets.monitoring import drift_shapes, slo
from mlgitops.targets.monitoring.packing import PACKED, packed_parts, union
from mlgitops.targets.monitoring.prometheus_rules import (
    ALERTS,
    BUCKET_MISSING,
    BUCKET_MISSING_FOR,
    bucket_missing_description,
    shared_alerts,
)
from mlgitops.targets.monitoring.prometheus_sli import (
    BAD,
    TOTAL,
    SharedGroup,
    SLIMember,
    label_text,
    record,
    with_metadata,
)
from mlgitops.targets.monitoring.promql import quote, regex_literal

ALERT_INFO = "mlgitops_slo:alert:info"
ROUTE_INFO = "mlgitops_slo:alert_route:info"
BUCKET_INFO = "mlgitops_slo:latency_bucket:info"
# Labels of the routing series that the alerts carry.
JOINED = ("owner", "route")


# The shared burn-rate alerts by name → the SLO kind whose SLOs each serves.
SHARED_BURN_ALERTS = {name: kind for (kind, _), name in ALERTS.items()}


def served(project: ir.Project, environment: str) -> dict[str, set[str]]:
    """SLO kind → the models whose SLOs of that kind the environment's shared burn-rate alerts
    serve: those :func:`groups` writes an ``mlgitops_slo:alert:info`` term for.  Read from the IR
    (``diff`` asks), so that nothing has to read the generated rules back."""
    out: dict[str, set[str]] = {}
    for model in project.models:
        if any(d.environment.name == environment for d in model.deployments):
            for spec in model.monitoring.slos:
                if shared_alerts(spec.alerting):
                    out.setdefault(spec.kind, set()).add(model.name)
    return out


def _factor_label(window: slo.BurnWindow) -> str:
    return f"factor_{window.long}"


def _info_fields() -> tuple[str, ...]:
    factors = tuple(_factor_label(w) for w in slo.BURN_WINDOWS)
    return ("model", "slo", "window", "objective", "budget_percent", "threshold", *factors, "runbook_url")


INFO_FIELDS = _info_fields()
BUCKET_FIELDS = ("model", "histogram", "le", "threshold", "unit", "runbook_url")


def _info_row(model: ir.Model, m: SLIMember) -> tuple[str, tuple[str, ...]]:
    """The error budget and the labels (:data:`INFO_FIELDS`) of one SLO's ``mlgitops_slo:alert:info``."""
    window_ms = slo.duration_ms(m.slo.window)
    threshold = ""
    if m.slo.kind == "latency" and m.slo.threshold:
        threshold = slo.format_duration(slo.duration_ms(m.slo.threshold))
    fields = (
        model.name,
        m.slo.kind,
        slo.format_duration(window_ms),
        slo.number(Decimal(repr(m.slo.objective))),
        slo.number(slo.error_budget(m.slo.objective) * 100),
        threshold,
        *(slo.number(slo.burn_factor(w, window_ms)) for w in slo.BURN_WINDOWS),
        model.monitoring.alerts.runbook_url or "",
    )
    return slo.number(slo.error_budget(m.slo.objective)), fields


def groups(project: ir.Project, env: ir.Environment, slis: list[SLIMember]) -> list[SharedGroup]:
    """The metadata of the SLOs with default alerting and of the drift-monitored models, their
    routing, one alert per kind and severity (promtool refuses two rules of one alert name with
    the same labels) and the drift alerts (:mod:`.drift_shapes`)."""
    models = {model.name: model for model in project.models}
    chosen = sorted(
        (m for m in slis if shared_alerts(m.slo.alerting)), key=lambda m: (m.deployment.model, m.slo.kind)
    )
    drifts = [
        (model, model.monitoring.drift)
        for model in project.models
        if model.monitoring.drift is not None
        and any(d.environment.name == env.name for d in model.deployments)
    ]
    latency = sorted((m for m in slis if m.slo.kind == "latency"), key=lambda m: m.deployment.model)
    if not chosen and not drifts and not latency:
        return []
    windows: dict[str, set[int]] = {}
    for m in chosen:
        windows.setdefault(m.slo.kind, set()).add(slo.duration_ms(m.slo.window))
    info = [_info_row(models[m.deployment.model], m) for m in chosen]
    rules = [record(ALERT_INFO, part, env) for part in packed_parts(INFO_FIELDS, info)]
    rules += drift_shapes.metadata(env, drifts)
    if latency:
        buckets = [_bucket_row(models[m.deployment.model], m) for m in latency]
        for part in packed_parts(BUCKET_FIELDS, buckets):
            rule = record(BUCKET_INFO, part, env)
            rule["labels"]["slo"] = "latency"
            rules.append(rule)
    routed = {model.name: model for model in [models[m.deployment.model] for m in chosen + latency]}
    routed |= {model.name: model for model, _ in drifts}
    # the metadata series recorded above name every routed model; all three are read even where
    # some are absent, so that a term's text never depends on the other models (a promtool slice's
    # terms are the real ones, tests/test_promtool_scale.py)
    sources = [ALERT_INFO, BUCKET_INFO, drift_shapes.THRESHOLD]
    rules.append(_route_rule([routed[name] for name in sorted(routed)], env, sources))
    for kind, kind_windows in sorted(windows.items()):
        rules += [_alert(kind, severity, sorted(kind_windows), env) for severity in slo.SEVERITIES]
    route = f'{ROUTE_INFO}{{environment="{env.name}"}}'
    if latency:
        rules.append(_bucket_missing(env, route))
    rules += drift_shapes.alerts(env, drifts, route)
    return [SharedGroup(f"mlgitops-slo/{env.name}/5-alerts", rules)]


def _route_rule(routed: list[ir.Model], env: ir.Environment, sources: list[str]) -> dict[str, Any]:
    """The routing series of every alerted model (value 1): one rule, however many owners and
    routes, whose terms are grouped by value (:func:`by_value`): the owners' union, one term per
    distinct owner, joined on ``model`` with the routes' union, one term per distinct route (a
    model without a route is in the term of the empty text, which sets no label).  Each term
    selects its models from the metadata series ``sources``, recorded just before in the same
    group, so a model adds only its name to each union."""
    owners = by_value("owner", {model.name: model.owner for model in routed}, sources, env)
    routes = {model.name: model.monitoring.alerts.route or "" for model in routed}
    joined = (
        f"(\n{owners}\n)\n* on (model) group_left (route)\n(\n{by_value('route', routes, sources, env)}\n)"
    )
    return record(ROUTE_INFO, joined, env)


def by_value(label: str, texts: dict[str, str], sources: list[str], env: ir.Environment) -> str:
    """One series per model of ``texts`` (model → its text) with ``label`` set to its text (an
    empty text sets none), written as one term per distinct text,
    ``label_replace(<sources>{model=~"a|b|c"}, "mlgitops_packed", "<text>", "", "")``: one
    ``group by`` around the union keeps a series per model, and the packed label is unpacked once
    as :func:`packing.packed` does.  ``label_replace`` copies the text as it is (``$``
    written ``$$``, since it expands group references): never a template, never PromQL.  The
    model names are quoted as a regular expression."""
    models: dict[str, list[str]] = {}
    for model, text in texts.items():
        models.setdefault(text, []).append(model)
    selector = f'{{__name__=~"{"|".join(sources)}", environment="{env.name}", model=~'
    terms = []
    for text, names in sorted(models.items()):
        listed = quote("|".join(regex_literal(name) for name in sorted(names)))
        replacement = quote(text.replace("$", "$$"))
        terms.append(f'label_replace({selector}{listed}}}, "{PACKED}", {replacement}, "", "")')
    grouped = f"group by (model, {PACKED}) (\n{union(terms)}\n)"
    unpacked = f'label_replace(\n{grouped},\n"{label}", "$1", "{PACKED}", "((?s:.*))")'
    return f'label_replace(\n{unpacked},\n"{PACKED}", "", "", "")'


def _bucket_row(model: ir.Model, m: SLIMember) -> tuple[str, tuple[str, ...]]:
    unit = m.series.latency_unit
    threshold_ms = slo.duration_ms(m.slo.threshold) if m.slo.threshold else 0
    fields = (
        model.name,
        m.series.histogram().metric,
        slo.number(slo.threshold_in(unit, threshold_ms)),
        slo.format_duration(threshold_ms),
        unit,
        model.monitoring.alerts.runbook_url or "",
    )
    return "1", fields


def _bucket_missing(env: ir.Environment, route: str) -> dict[str, Any]:
    """Every latency SLO whose histogram lacks the threshold's bucket: its family records the total
    (the ``+Inf`` bucket) but no bad rate, which needs that bucket (:mod:`.prometheus_sli`)."""
    sel = f'{{environment="{env.name}", slo="latency"}}'
    missing = f"{TOTAL}5m{sel}\nunless on (model, slo)\n{BAD}5m{sel}"
    expr = f"(\n{missing}\n)\n* on (model) group_left (owner, route)\n{route}"

    def read(text: str) -> str:
        return with_metadata(BUCKET_INFO, ("environment", "model"), text)

    description = bucket_missing_description(
        label_text("histogram"), label_text("le"), label_text("threshold"), label_text("unit")
    )
    summary = "The latency SLO of {{ $labels.model }} ({{ $labels.environment }}) cannot be computed"
    return {
        "alert": BUCKET_MISSING,
        "expr": Trusted(expr),
        "for": BUCKET_MISSING_FOR,
        "labels": {"severity": "ticket"},
        "annotations": {
            "summary": Trusted(summary),
            "description": Trusted(read(description)),
            "runbook_url": Trusted(read(label_text("runbook_url"))),
        },
    }


def _alert(kind: str, severity: str, windows_ms: list[int], env: ir.Environment) -> dict[str, Any]:
    """One window pair's condition per SLO window: each compares with its own factors."""
    sel = f'{{environment="{env.name}", slo="{kind}"}}'
    pairs = [w for w in slo.BURN_WINDOWS if w.severity == severity]
    conditions = []
    for window_ms in windows_ms:
        window = slo.format_duration(window_ms)
        info = f'{ALERT_INFO}{{environment="{env.name}", slo="{kind}", window="{window}"}}'
        for w in pairs:
            factor = slo.number(slo.burn_factor(w, window_ms))
            long, short = (f"({BAD}{x}{sel} / {TOTAL}{x}{sel})" for x in (w.long, w.short))
            conditions.append(
                # group_left () keeps the ratio's labels (a one-to-one "on" keeps only model, slo)
                f"(\n  {long}\n  > on (model, slo) group_left () ({factor} * {info})\n"
                f"  and on (model, slo)\n  {short}\n  > on (model, slo) ({factor} * {info})\n)"
            )
    # the routing series is 1: the alert's value stays the long-window ratio
    route = f'{ROUTE_INFO}{{environment="{env.name}"}}'
    either = "\nor\n".join(conditions)
    expr = f"(\n{either}\n)\n* on (model) group_left ({', '.join(JOINED)})\n{route}"
    return {
        "alert": ALERTS[(kind, severity)],
        "expr": Trusted(expr),
        "labels": {"severity": "ticket" if severity == "page" and not env.page else severity},
        "annotations": _annotations(kind, severity),
    }


def _annotations(kind: str, severity: str) -> dict[str, str]:
    """The texts of :func:`prometheus_rules._burn_alert`, the per-SLO parts read by ``query``; an
    SLO without a runbook gets an empty ``runbook_url``."""
    model, environment = "{{ $labels.model }}", "{{ $labels.environment }}"

    def read(text: str) -> str:
        return with_metadata(ALERT_INFO, ("environment", "model", "slo"), text)

    what = (
        f"error ratio of {model} in {environment}"
        if kind == "availability"
        else f"share of requests to {model} in {environment} slower than {label_text('threshold')}"
    )
    over = f"over {label_text('window')}."
    goal = (
        f"SLO: {label_text('objective')}% of requests succeed {over}"
        if kind == "availability"
        else f"SLO: {label_text('objective')}% of requests faster than {label_text('threshold')} {over}"
    )
    first, second = (w for w in slo.BURN_WINDOWS if w.severity == severity)
    pace = "fast" if severity == "page" else "slowly"
    description = read(
        f"The {what} is above {label_text(_factor_label(first))}× its error budget "
        f"({label_text('budget_percent')}% of requests) over {first.long} and {first.short}, "
        f"or {label_text(_factor_label(second))}× over {second.long} and {second.short}. {goal}"
    )
    return {
        "summary": Trusted(f"{model} ({environment}) is burning its {kind} error budget {pace}"),
        "description": Trusted(description),
        "runbook_url": Trusted(read(label_text("runbook_url"))),
    }
