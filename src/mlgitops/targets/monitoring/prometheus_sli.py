"""Shared SLI recording rules and SLO metadata for one environment (docs/monitoring.md).

Instead of every SLO re-computing its ratios from raw series, each environment gets:

* one group of the SLI *families*: the models whose SLO of one kind is counted from the same
  selectors once the model's name is taken out (``revision_request_count{namespace_name="ml-prod",
  mlgitops_model="{model}"}``) form a family.  Its terms compute the bad and total request rates
  of all those models at the short windows, ``sum by (model)`` after reading the model's name back
  from the label that holds it (``label_replace``); a selector that does not depend on the model
  is summed once and copied to each model of the family.  Each term joins
  ``mlgitops_slo:sli:info`` so that it records only the family's models (two families may read the
  same metric: none records a series twice), and each rule is the ``or`` of every family's term;
* one group of the windows beyond 6h (every window up to 6h is read from raw series) derived
  from the 5m rates: ``avg_over_time`` of the numerator and of the denominator apart (both series
  have the same samples, so their quotient is the request-weighted ratio ``sum_over_time`` gives);
* one group of metadata (objective, error budget, window, the SLI family and the latency
  threshold's ``le`` spellings), each one rule per environment: an ``or`` of a
  ``label_replace(vector(c), "mlgitops_packed", "<model>|<slo>|…", "", "")`` term per SLO, unpacked
  into its labels once around the whole union (``packing.packed``; a rule per SLO would be thousands
  of rules, a ``label_replace`` per label and SLO megabytes);
* one group with the current burn rate and the remaining error budget.

Every recorded series carries ``model``, ``environment``, ``namespace`` and ``slo``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mlgitops import ir
from mlgitops.render.engine import Trusted
from mlgitops.targets.monitoring import slo
from mlgitops.targets.monitoring.metricmap import SLOSeries, slo_series
from mlgitops.targets.monitoring.packing import packed_parts, union
from mlgitops.targets.monitoring.promql import Matcher, Selector, quote, regex_literal

TOTAL = "mlgitops_sli:total:rate"
BAD = "mlgitops_sli:bad:rate"
SLI_INFO = "mlgitops_slo:sli:info"
THRESHOLD_INFO = "mlgitops_slo:latency_threshold:info"
OBJECTIVE = "mlgitops_slo:objective:ratio"
ERROR_BUDGET = "mlgitops_slo:error_budget:ratio"
WINDOW = "mlgitops_slo:window:days"
BURN_RATE = "mlgitops_slo:current_burn_rate:ratio"
BUDGET_REMAINING = "mlgitops_slo:error_budget_remaining:ratio"
# Read from raw series; every other window is derived from the 5m rates.
RAW_WINDOWS_MS = tuple(m * slo.MINUTE_MS for m in (5, 30, 60, 120, 360))
BASE_WINDOW_MS = RAW_WINDOWS_MS[0]
MODEL = "{model}"  # stands for the model's name in a family's selectors
_DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class Family:
    """The selectors of one SLI kind with the model's name left open (:data:`MODEL`)."""

    kind: str  # "availability" | "latency"
    # availability: requests and errors, requests and good (source "good"), or the gauge (source
    # "gauge"); latency: the histogram
    selectors: tuple[Selector, ...]
    source: str = "errors"

    @property
    def name(self) -> str:
        # starts with the kind: metadata_rules reads the "slo" label from it
        digest = hashlib.sha256(repr(self).encode()).hexdigest()[:8]
        return f"{self.kind}-{self.selectors[0].metric.removesuffix('_bucket')}-{digest}"


@dataclass(frozen=True, slots=True)
class SLIMember:
    """One SLO of one deployment, and the family that counts its SLI."""

    deployment: ir.Deployment
    slo: ir.SLO
    series: SLOSeries
    family: Family


def members(model: ir.Model, d: ir.Deployment, serving: str) -> list[SLIMember]:
    series = slo_series(serving, d, model.monitoring.metrics)
    out = []
    for spec in model.monitoring.slos:
        source, chosen = "errors", [series.requests, series.errors]
        if spec.kind == "latency":
            chosen = [series.histogram()]
        elif series.gauge is not None:
            source, chosen = "gauge", [series.gauge]
        elif series.good is not None:
            source, chosen = "good", [series.requests, series.good]
        family = Family(spec.kind, tuple(_open(s, d.model) for s in chosen), source)
        out.append(SLIMember(d, spec, series, family))
    return out


def environment_members(project: ir.Project, env: ir.Environment) -> list[SLIMember]:
    return [
        member
        for model in project.models
        for d in model.deployments
        if d.environment.name == env.name
        for member in members(model, d, project.serving)
    ]


def _open(selector: Selector, model: str) -> Selector:
    """``selector`` with the model's name in one exact or regular-expression matcher replaced by
    :data:`MODEL`, so that one rule reads it for every model.  A selector naming the model
    otherwise (twice, or in a negative matcher) stays as it is: a family of its own."""
    holding = [m for m in selector.matchers if model in m.value or MODEL in m.value]
    if len(holding) != 1 or holding[0].op not in ("=", "=~"):
        return selector
    matcher = holding[0]
    value = matcher.value if MODEL in matcher.value else matcher.value.replace(model, MODEL)
    if value.count(MODEL) != 1 or (matcher.op == "=~" and model in value.replace(MODEL, "")):
        return selector
    return selector.with_matchers(Matcher(matcher.label, matcher.op, value))


@dataclass(frozen=True, slots=True)
class _Shape:
    """How a family selector is read per model."""

    selector: Selector  # with the model's matcher widened to every model
    label: str | None  # the label holding the model's name; None: the selector does not depend on it
    extract: str = ""  # regular expression capturing the model's name (group "model")


def _shape(selector: Selector) -> _Shape:
    holding = [m for m in selector.matchers if MODEL in m.value]
    if not holding:
        return _Shape(selector, None)
    matcher = holding[0]
    before, after = matcher.value.split(MODEL)
    if matcher.op == "=":
        before, after = regex_literal(before), regex_literal(after)
    wide = Matcher(matcher.label, "=~", f"{before}.+{after}")
    return _Shape(selector.with_matchers(wide), matcher.label, f"{before}(?P<model>.+){after}")


def _rate(
    shape: _Shape, window: str, *extra: Matcher, by: str = "model", func: str = "rate", agg: str = "sum"
) -> str:
    """``sum by (<by>)`` of the rate of ``shape``'s series, the model's name read into ``model``;
    for a selector that does not depend on the model, ``sum`` (by ``le`` for buckets).  A gauge
    takes ``func="avg_over_time", agg="avg"``."""
    rate = f"{func}({shape.selector.with_matchers(*extra).render()}[{window}])"
    if shape.label is None:
        return f"{agg}({rate})" if by == "model" else f"{agg} by (le) ({rate})"
    rate = f'label_replace({rate}, "model", "${{model}}", {quote(shape.label)}, {quote(shape.extract)})'
    return f"{agg} by ({by}) ({rate})"


def _scoped(shape: _Shape, per_model: str, info: str) -> str:
    """``per_model`` kept for the family's models (copied to each when it does not depend on the
    model), labelled with ``slo``."""
    if shape.label is None:
        return f"sum by (model, slo) ({info}) * on () group_left () {per_model}"
    return f"{per_model} * on (model) group_left (slo) {info}"


def _family_terms(family: Family, env: ir.Environment) -> dict[str, str]:
    """The family's expression of each recorded name (bad and total at each raw window)."""
    info = f'{SLI_INFO}{{environment="{env.name}", family="{family.name}"}}'
    threshold = f'{THRESHOLD_INFO}{{environment="{env.name}"}}'
    terms = {}
    for window_ms in RAW_WINDOWS_MS:
        window = slo.format_duration(window_ms)
        if family.source == "gauge":
            # Time-based: each 5m average of the 0..1 gauge counts as one event of weight 1.
            gauge = _shape(family.selectors[0])
            average = _rate(gauge, window, func="avg_over_time", agg="avg")
            total = _scoped(gauge, f"({average} * 0 + 1)", info)
            bad = _scoped(gauge, f"(1 - {average})", info)
        elif family.source == "good":
            requests, good_events = (_shape(s) for s in family.selectors)
            total = _scoped(requests, _rate(requests, window), info)
            matching = "on (model)" if good_events.label is not None else "on ()"
            bad = f"(\n  {total}\n)\n- {matching} group_left ()\n{_rate(good_events, window)}"
        elif family.kind == "availability":
            requests, errors = (_shape(s) for s in family.selectors)
            total = _scoped(requests, _rate(requests, window), info)
            # No error series yet (Knative creates one per status code on first use) means no errors.
            bad = f"{_scoped(errors, _rate(errors, window), info)}\nor on (model)\n0 * {total}"
        else:
            histogram = _shape(family.selectors[0])
            total = _scoped(histogram, _rate(histogram, window, Matcher("le", "=", "+Inf")), info)
            if histogram.label is None:
                buckets = _rate(histogram, window, by="le")
                good = f"sum by (model) (\n  {buckets}\n  * on (le) group_right () {threshold}\n)"
            else:
                buckets = _rate(histogram, window, by="model, le")
                good = f"sum by (model) (\n  {buckets}\n  * on (model, le) group_left () {threshold}\n)"
            # Without the threshold bucket there is no bad series (not 1): ModelLatencyBucketMissing says so.
            bad = f"(\n  {total}\n)\n- on (model) group_left ()\n{good}"
        terms[f"{BAD}{window}"], terms[f"{TOTAL}{window}"] = bad, total
    return terms


def sli_rules(env: ir.Environment, families: list[Family]) -> list[dict[str, Any]]:
    """One rule per recorded name for every family at once: the ``or`` of each family's term
    (each records only its own models, so no two terms share a series).  A rule per family and
    name would grow with the number of families (ten rules each, times each environment)."""
    by_family = [(family, _family_terms(family, env)) for family in families]
    names = list(by_family[0][1]) if by_family else []
    return [
        record(name, "\nor\n".join(f"# family {f.name}\n(\n{terms[name]}\n)" for f, terms in by_family), env)
        for name in names
    ]


def record(name: str, expr: str, env: ir.Environment) -> dict[str, Any]:
    return {
        "record": name,
        "expr": Trusted(expr),
        "labels": {"environment": env.name, "namespace": env.namespace},
    }


def label_text(name: str) -> str:
    """An alert template printing label ``name`` of the series :func:`with_metadata` reads."""
    return f'{{{{ label "{name}" . }}}}'


def with_metadata(metric: str, keys: tuple[str, ...], text: str) -> str:
    """An alert template: ``text`` with the alert's metadata series as ``.`` (``metric`` where the
    labels ``keys`` equal the alert's), whose labels it prints and never expands."""
    matchers = ", ".join(f"{key}=%q" for key in keys)
    values = " ".join(f"$labels.{key}" for key in keys)
    query = f'printf "{metric}{{{matchers}}}" {values} | query'
    return f"{{{{ with {query} }}}}{{{{ with first . }}}}{text}{{{{ end }}}}{{{{ end }}}}"


def _days(window_ms: int) -> str:
    return slo.number(slo.rounded(Decimal(window_ms) / _DAY_MS))


def metadata_rules(env: ir.Environment, slis: list[SLIMember]) -> list[dict[str, Any]]:
    """The constant series of every SLO in ``env``: one rule per metadata name."""
    if not slis:
        return []
    # a family's name hashes its selectors: once per family, not per SLO and comparison
    family = {f: f.name for f in {m.family for m in slis}}
    info = [
        ("1", (m.deployment.model, family[m.family]))
        for m in sorted(slis, key=lambda m: (family[m.family], m.deployment.model))
    ]
    # a family's name starts with its SLO kind (Family.name): "slo" is read from it, not packed
    kinds = "|".join(sorted({m.slo.kind for m in slis}))
    rules = [
        record(SLI_INFO, f'label_replace(\n{part},\n"slo", "$1", "family", "({kinds})-.*")', env)
        for part in packed_parts(("model", "family"), info)
    ]
    thresholds = [
        ("1", (m.deployment.model, le))
        for m in slis
        if m.slo.kind == "latency" and m.slo.threshold
        for le in slo.le_spellings(slo.threshold_in(m.series.latency_unit, slo.duration_ms(m.slo.threshold)))
    ]
    for part in packed_parts(("model", "le"), thresholds):
        rule = record(THRESHOLD_INFO, part, env)
        rule["labels"]["slo"] = "latency"
        rules.append(rule)
    objective = [slo.number(Decimal(repr(m.slo.objective)) / 100) for m in slis]
    window = [_days(slo.duration_ms(m.slo.window)) for m in slis]
    rules.append(record(OBJECTIVE, _by_value(env, slis, objective), env))
    rules.append(record(WINDOW, _by_value(env, slis, window), env))
    rules.append(record(ERROR_BUDGET, f'1 - {OBJECTIVE}{{environment="{env.name}"}}', env))
    return rules


def _by_value(env: ir.Environment, slis: list[SLIMember], values: list[str]) -> str:
    """A constant per SLO (``values``, in the order of ``slis``; not a dict keyed by member,
    whose hash would walk each whole deployment), as one term per (SLO kind, value) that reads
    the SLOs having it from ``mlgitops_slo:sli:info`` (recorded just before in the same group):
    far shorter than a ``label_replace`` term per SLO, since many SLOs share an objective or a
    window."""
    groups: dict[tuple[str, str], list[str]] = {}
    for m, value in zip(slis, values, strict=True):
        groups.setdefault((m.slo.kind, value), []).append(m.deployment.model)
    terms = []
    for (kind, constant), models in sorted(groups.items()):
        names = quote("|".join(regex_literal(name) for name in sorted(set(models))))
        selector = f'{SLI_INFO}{{environment="{env.name}", slo="{kind}", model=~{names}}}'
        terms.append(f"sum without (family) ({selector}) * 0 + {constant}")
    return union(terms)


def long_window_rules(env: ir.Environment, slis: list[SLIMember]) -> list[dict[str, Any]]:
    """Windows beyond 6h (the alerts' 1d and 3d, each SLO window), from the 5m rates."""
    slo_windows = sorted({slo.duration_ms(m.slo.window) for m in slis} - set(RAW_WINDOWS_MS))
    derived = sorted({slo.BURN_WINDOWS[2].long_ms, slo.BURN_WINDOWS[3].long_ms} | set(slo_windows))
    base = slo.format_duration(BASE_WINDOW_MS)
    scope = f'{{environment="{env.name}"}}'
    rules = []
    for window_ms in derived:
        window = slo.format_duration(window_ms)
        keep = ""
        if window_ms not in (slo.BURN_WINDOWS[2].long_ms, slo.BURN_WINDOWS[3].long_ms):
            # Only the SLOs over this window need it.
            keep = f"\nand on (model, slo)\n({WINDOW}{scope} == {_days(window_ms)})"
        for name in (BAD, TOTAL):
            rules.append(
                record(f"{name}{window}", f"avg_over_time({name}{base}{scope}[{window}]){keep}", env)
            )
    return rules


def budget_rules(env: ir.Environment, slis: list[SLIMember]) -> list[dict[str, Any]]:
    scope = f'{{environment="{env.name}"}}'
    base = slo.format_duration(BASE_WINDOW_MS)
    burn = f"{BAD}{base}{scope} / {TOTAL}{base}{scope}\n/ {ERROR_BUDGET}{scope}"
    remaining = []
    for window_ms in sorted({slo.duration_ms(m.slo.window) for m in slis}):
        window = slo.format_duration(window_ms)
        remaining.append(
            f"(\n  1 - ({BAD}{window}{scope} / {TOTAL}{window}{scope}) / {ERROR_BUDGET}{scope}\n)"
            f"\nand on (model, slo)\n({WINDOW}{scope} == {_days(window_ms)})"
        )
    return [record(BURN_RATE, burn, env), record(BUDGET_REMAINING, "\nor\n".join(remaining), env)]


@dataclass(frozen=True, slots=True)
class SharedGroup:
    name: str
    rules: list[dict[str, Any]]


def shared_groups(env: ir.Environment, slis: list[SLIMember]) -> list[SharedGroup]:
    """Every shared group of ``env``.  promtool evaluates groups in the order of their names, hence
    the numbers: each reads series the ones before it record.  Prometheus runs groups concurrently,
    which lags a reader one evaluation behind at most."""
    if not slis:
        return []
    prefix = f"mlgitops-slo/{env.name}"
    names = {f: f.name for f in {m.family for m in slis}}
    families = sorted(names, key=names.__getitem__)
    groups = [
        SharedGroup(f"{prefix}/1-metadata", metadata_rules(env, slis)),
        SharedGroup(f"{prefix}/2-sli", sli_rules(env, families)),
    ]
    groups.append(SharedGroup(f"{prefix}/3-long-windows", long_window_rules(env, slis)))
    groups.append(SharedGroup(f"{prefix}/4-budget", budget_rules(env, slis)))
    return groups
