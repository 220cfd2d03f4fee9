"""promtool unit tests proving that each generated alert fires, and stays silent, when it should.

For every SLO rule group, input series are invented from the rules' own selectors
(label values chosen to satisfy each matcher, regular expressions included) and
fed with these scenarios:

* for each burn-rate window pair, a clean history, then a burst at 1.25 × the
  pair's factor (``>`` is strict: a burn at exactly the factor never fires).  The
  alert must be silent at 80 % of the computed detection time and firing at 110 %;
* a steady bad ratio just inside the objective (0.95 × the budget): nothing fires.

After a clean history of ``h`` and a burst of ratio ``r`` starting at 0, the bad
ratio over a window ``W`` at time ``t`` is ``r × min(t, W) / min(h + t, W)``, so it
passes a limit ``l < r`` at ``t = h × l / (r − l)`` while ``h + t < W``, else at
``W × l / r``: with enough history (``h ≥ W × (1 − l / r)``), the workbook's
detection time.  A pair fires when both its windows pass; an alert when any pair
does.  Each scenario's history is the shortest that gives its own pair the
workbook's detection time without letting another pair fire first, which keeps
days of input cheap for promtool (its cost grows with the evaluations).

Input samples come every minute (page scenarios) or two (ticket scenarios, days long): the 5m
rate needs at least two samples, and the shared rules derive the 1d and 3d windows from it.
Rules are evaluated every 30 minutes and every check falls on that grid; the long windows
then average 48 (1d) or 144 (3d) samples of the 5m rate, which is exact for the
piecewise-constant traffic of these scenarios once a window holds no
change of rate (the detection times checked are 80 % and 110 % of the computed one).

The tests of an environment are per SLI family (the shared rules record a model's bad and
total rates, its metadata and burn rate) and per alert shape (kind, objective, window, alerting),
each with the first SLO of that shape, and per drift shape (method, threshold, retrain, waiting
time) with the first model: not per model.  Each model used has its own test file, which loads
the shared rules built for that model alone (:mod:`.prometheus_test_sample`), so neither the
number of tests nor their cost grows with the project's models.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from mlgitops import ir
from mlgitops.targets.monitoring import drift_rules, promql, slo
from mlgitops.targets.monitoring import prometheus_rules as pr
from mlgitops.targets.monitoring import prometheus_sli as sli
from mlgitops.targets.monitoring.metricmap import slo_series
from mlgitops.targets.monitoring.prometheus_sli import SLIMember
from mlgitops.targets.monitoring.prometheus_test_sample import Slice
from mlgitops.targets.monitoring.prometheus_test_series import (
    PER_SAMPLE,
    availability_series,
    counter,
    latency_series,
    le_value,
    series_text,
)

MINUTE = slo.MINUTE_MS
EVALUATION_MS = 30 * MINUTE
INTERVAL_MS = {"page": MINUTE, "ticket": 2 * MINUTE}  # ≥ 2 samples in every 5m window
MARGIN = Decimal("1.25")
SILENT, FIRING = Decimal("0.8"), Decimal("1.1")  # checks before and after the detection time
STEADY = Decimal("0.95")
DRIFTING, STABLE = "drifting-feature", "stable-feature"


def slice_suite(project: ir.Project, unit: Slice, rules: str) -> dict[str, Any]:
    """The promtool tests of one model of the environment: of the SLI families and alert shapes
    (SLO kind, objective, window, alerting) whose first SLO is one of its own, and of its drift
    shape when it is the first of it.  They load ``rules``, the shared rules built for this model
    alone, and the model's own rule file when it has one."""
    model, d = unit.model, unit.deployment
    tests: list[dict[str, Any]] = []
    order = [g.name for g in unit.groups]  # promtool orders groups only as told (else at random)
    files = [rules]

    def slo_group(member: SLIMember) -> pr.SLORules:
        group = next(
            g
            for g in pr.groups(model, d, member.series)
            if g.slo is not None and g.slo.kind == member.slo.kind
        )
        assert group.slo is not None
        return group.slo

    for member in unit.families:
        tests += _family_test(member, slo_group(member))
    for member in unit.shapes:
        own = [g.name for g in pr.groups(model, d, member.series) if g.rules]
        if own and len(files) == 1:
            files.append(f"{d.model}.rules.yml")
        order += [name for name in own if name not in order]
        tests += _slo_tests(slo_group(member))
    if unit.drift:
        series = slo_series(project.serving, d, model.monitoring.metrics)
        group = next(g for g in pr.groups(model, d, series) if g.drift is not None)
        assert group.drift is not None  # its rules are the shared ones
        tests.append(_drift_test(group.drift))
        # the slice's drift-check rules watch this model alone: its missing run fires alone
        tests += drift_rules.tests(model, d)
    return {
        "rule_files": files,
        "evaluation_interval": slo.format_duration(EVALUATION_MS),
        "group_eval_order": order,
        "tests": tests,
    }


FAMILY_RATIO = Decimal("0.25")  # exact in binary, so promtool compares it exactly


def _family_test(member: SLIMember, s: pr.SLORules) -> list[dict[str, Any]]:
    """The family's rules record this SLO's bad and total rates (their ratio after an hour of a
    steady bad ratio), its metadata and its burn rate."""
    maker = availability_series(s) if s.kind == "availability" else latency_series(s)
    if maker is None:
        return []
    d = member.deployment
    labels = {
        "environment": d.environment.name,
        "model": d.model,
        "namespace": d.environment.namespace,
        "slo": s.kind,
    }
    scope = series_text("", labels)
    at = slo.format_duration(60 * MINUTE)
    expressions = [
        (f"{sli.BAD}{w}{scope} / {sli.TOTAL}{w}{scope}", FAMILY_RATIO)
        for w in (slo.format_duration(ms) for ms in sli.RAW_WINDOWS_MS[:3])
    ]
    expressions += [
        (f"{sli.OBJECTIVE}{scope}", Decimal(repr(member.slo.objective)) / 100),
        (f"{sli.BURN_RATE}{scope} * {slo.number(s.budget)}", FAMILY_RATIO),
    ]
    return [
        {
            "name": f"{s.kind} family {member.family.name}: the shared rules record {d.model}'s bad and "
            f"total rates and metadata",
            "interval": slo.format_duration(MINUTE),
            "input_series": maker(0, 60, FAMILY_RATIO),
            "promql_expr_test": [
                {
                    # Rounded to six decimals: division leaves the last binary digit to chance.
                    "expr": f"round(({expr}) * 1000000) / 1000000",
                    "eval_time": at,
                    "exp_samples": [{"labels": scope, "value": float(value)}],
                }
                for expr, value in expressions
            ],
        }
    ]


def _expected(alert: pr.Alert, **extra: str) -> dict[str, Any]:
    return {"exp_labels": {**alert.labels, **extra}, "exp_annotations": dict(alert.annotations)}


def _checks(entries: list[tuple[int, pr.Alert, bool]], shared_names: bool) -> dict[str, Any]:
    """The checks of a test.  When an SLO's two alerts share one name (``alerting.name``),
    promtool's alert checks would see both: each is then checked by its own labels in ``ALERTS``
    (without its annotations, which ``ALERTS`` does not carry)."""
    if not shared_names:
        return {"alert_rule_test": [_check(at, alert, firing) for at, alert, firing in entries]}
    checks = []
    for at, alert, firing in entries:
        labels = {"__name__": "ALERTS", "alertname": alert.name, "alertstate": "firing", **alert.labels}
        selector = series_text("ALERTS", {k: v for k, v in labels.items() if k != "__name__"})
        sample = {"labels": series_text("", labels), "value": 1}
        checks.append(
            {
                "expr": selector,
                "eval_time": slo.format_duration(at),
                "exp_samples": [sample] if firing else [],
            }
        )
    return {"promql_expr_test": checks}


def _check(at_ms: int, alert: pr.Alert, firing: bool) -> dict[str, Any]:
    return {
        "eval_time": slo.format_duration(at_ms),
        "alertname": alert.name,
        "exp_alerts": [_expected(alert)] if firing else [],
    }


def _slo_tests(s: pr.SLORules) -> list[dict[str, Any]]:
    maker = availability_series(s) if s.kind == "availability" else latency_series(s)
    if maker is None:
        return []  # no series satisfies the selectors (documented in docs/monitoring.md)
    tests: list[dict[str, Any]] = []
    if not s.alerts:  # alerting.disable
        return [_bucket_missing_test(s, s.bucket_missing)] if s.bucket_missing is not None else []
    shared = s.alerts["page"].name == s.alerts["ticket"].name
    for severity in slo.SEVERITIES:
        alert = s.alerts[severity]
        # `for:` delays firing by that long, counted in evaluations
        pending = _grid(Decimal(slo.duration_ms(alert.for_)), ROUND_CEILING) if alert.for_ else 0
        pairs = [(w, s.factor(w) * s.budget) for w in slo.BURN_WINDOWS if w.severity == severity]
        seen: set[Decimal] = set()
        for window, limit in pairs:
            ratio = min(limit * MARGIN, Decimal(1))
            if limit >= 1 or ratio in seen:
                continue  # cannot fire (more than every request would have to fail), or tested already
            seen.add(ratio)
            history = _history(ratio, (window, limit), pairs)
            if history is None:
                continue  # another pair sees this burst as soon as this one does: its own scenario covers it
            detection = _detection(ratio, history, pairs)
            assert detection is not None  # ratio > limit
            silent = _grid(detection * SILENT, ROUND_FLOOR)
            fire = _grid(detection * FIRING, ROUND_CEILING) + pending
            interval = INTERVAL_MS[severity]
            name = (
                f"{s.kind}: a burn at {slo.number(ratio / s.budget)}x the error budget "
                f"({window.long}/{window.short} windows) fires {alert.name} after "
                f"{slo.format_duration(int(detection))}: not at {slo.format_duration(silent)}, "
                f"by {slo.format_duration(fire)}"
            )
            checks = [(history + silent, alert, False), (history + fire, alert, True)]
            test = {
                "name": name,
                "interval": slo.format_duration(interval),
                "input_series": maker(history // interval, fire // interval, ratio),
                **_checks(checks, shared),
            }
            tests.append(test)
    steady_ms = max(w.long_ms for w in slo.BURN_WINDOWS if w.severity == "page") + EVALUATION_MS
    steady_checks = [(steady_ms, s.alerts[severity], False) for severity in slo.SEVERITIES]
    steady = {
        "name": f"{s.kind}: a steady bad ratio of {slo.number(STEADY)}x the error budget fires nothing",
        "interval": slo.format_duration(MINUTE),
        "input_series": maker(0, steady_ms // MINUTE, STEADY * s.budget),
        **_checks(steady_checks, shared),
    }
    if s.bucket_missing is not None:
        steady.setdefault("alert_rule_test", []).append(_check(steady_ms, s.bucket_missing, firing=False))
    tests.append(steady)
    if s.bucket_missing is not None:
        tests.append(_bucket_missing_test(s, s.bucket_missing))
    return tests


Pair = tuple[slo.BurnWindow, Decimal]  # a window pair and the bad ratio it alerts above


def _grid(ms: Decimal, rounding: str) -> int:
    """``ms`` rounded to the rule evaluation grid."""
    return int((ms / EVALUATION_MS).to_integral_value(rounding)) * EVALUATION_MS


def _crossing(ratio: Decimal, limit: Decimal, history: Decimal, window: int) -> Decimal | None:
    """When the bad ratio over ``window`` passes ``limit`` after a burst of ``ratio`` (module docstring)."""
    if ratio <= limit:
        return None
    early = history * limit / (ratio - limit)
    return early if history + early < window else window * limit / ratio


def _detection(ratio: Decimal, history: int, pairs: list[Pair]) -> Decimal | None:
    times = []
    for window, limit in pairs:
        long = _crossing(ratio, limit, Decimal(history), window.long_ms)
        short = _crossing(ratio, limit, Decimal(history), window.short_ms)
        if long is not None and short is not None:
            times.append(max(long, short))
    return min(times, default=None)


def _history(ratio: Decimal, target: Pair, pairs: list[Pair]) -> int | None:
    """The clean history before the burst (see the module docstring), on the evaluation grid; None when
    another pair would detect the burst as early as ``target`` whatever the history (its scenario
    covers it: at 30 days the 1d and 3d ticket pairs both see a 3.75x burn after 19h12m)."""
    window, limit = target
    detection = window.long_ms * limit / ratio
    history = window.long_ms * (1 - limit / ratio)
    for other, other_limit in pairs:
        if other is window or ratio <= other_limit:
            continue
        if other.long_ms * other_limit / ratio <= detection:
            return None
        # enough history to keep the other pair's long window below its limit until ours passes
        delay = min(
            detection * (ratio - other_limit) / other_limit, other.long_ms * (1 - other_limit / ratio)
        )
        history = max(history, delay)
    return _grid(history, ROUND_CEILING)


def _bucket_missing_test(s: pr.SLORules, alert: pr.Alert) -> dict[str, Any]:
    histogram = promql.Selector(
        s.series.histogram().metric, tuple(m for m in s.series.histogram().matchers if m.label != "le")
    )
    labels = promql.series(histogram) or {}
    other = slo.go_float(float(slo.threshold_in(s.series.latency_unit, s.threshold_ms) * 10))
    return {
        "name": f"latency: a histogram without the le={le_value(s)} bucket fires {alert.name} "
        f"after {pr.BUCKET_MISSING_FOR}",
        "interval": slo.format_duration(MINUTE),
        "input_series": [
            {
                "series": series_text(histogram.metric, {**labels, "le": "+Inf"}),
                "values": counter(120, PER_SAMPLE, 0, PER_SAMPLE),
            },
            {
                "series": series_text(histogram.metric, {**labels, "le": other}),
                "values": counter(120, PER_SAMPLE, 0, PER_SAMPLE),
            },
        ],
        "alert_rule_test": [
            _check(30 * MINUTE, alert, firing=False),
            _check(90 * MINUTE, alert, firing=True),
        ],
    }


def _drift_test(drift: pr.DriftRules) -> dict[str, Any]:
    """One feature drifts past the threshold after 30 minutes; another sits at it (``>`` is strict)."""
    alert, threshold = drift.alert, drift.threshold
    labels = {
        "model": alert.labels["model"],
        "environment": alert.labels["environment"],
        "method": drift.method,
    }
    high = threshold * Decimal("1.5")
    expected = {
        "exp_labels": {**alert.labels, "feature": DRIFTING},
        "exp_annotations": {
            key: pr.expand(value, DRIFTING, slo.go_float(float(high)))
            for key, value in alert.annotations.items()
        },
    }
    return {
        "name": f"drift: a feature scoring above {slo.number(threshold)} fires {alert.name}, "
        "one at the threshold does not",
        "interval": "10m",
        "input_series": [
            {
                "series": series_text(pr.DRIFT_METRIC, {**labels, "feature": DRIFTING}),
                "values": f"{slo.number(threshold / 2)}x3 {slo.number(high)}x4",
            },
            {
                "series": series_text(pr.DRIFT_METRIC, {**labels, "feature": STABLE}),
                "values": f"{slo.number(threshold)}x8",
            },
        ],
        "alert_rule_test": [
            {"eval_time": "30m", "alertname": alert.name, "exp_alerts": []},
            {"eval_time": "1h", "alertname": alert.name, "exp_alerts": [expected]},
        ],
    }
