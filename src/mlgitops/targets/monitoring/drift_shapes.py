"""The drift alerts of one environment, shared by every model with drift monitoring
(docs/monitoring.md).

Each model's ``ModelFeatureDrift`` and drift-check alerts (:func:`prometheus_rules.drift_alert`,
:func:`drift_rules.alerts` describe them as they fire, with the labels and annotations the
promtool tests expect) come from one rule per alert and environment (``ModelDriftCheckMissing``:
one per distinct waiting time, its ``for``), reading two metadata series per model:

* ``mlgitops_drift:threshold`` (value: the drift threshold; labels ``model``, ``method``,
  ``threshold``, ``retrain``, ``schedule``, ``stale_after`` and ``runbook_url`` for the
  annotations, which read them with ``query``);
* ``mlgitops_drift:stale_after:seconds`` (value: twice the longest gap of the schedule; one term
  per distinct waiting time, selecting its models from the threshold series).

``namespace`` comes from the metadata (the drift checker pushes ``model`` and ``environment``),
``owner`` and ``route`` from the routing series of :mod:`.prometheus_shapes`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from mlgitops import ir
from mlgitops.render.engine import Trusted
from mlgitops.targets.monitoring import slo
from mlgitops.targets.monitoring.drift_rules import (
    FAILED,
    FAILED_DESCRIPTION,
    LAST_RUN,
    LAST_RUN_SUCCESS,
    LAST_SUCCESS,
    MISSING,
    STALE,
    missing_description,
    stale_after_seconds,
    stale_description,
)
from mlgitops.targets.monitoring.packing import packed_parts, union
from mlgitops.targets.monitoring.prometheus_rules import DRIFT, DRIFT_METRIC, FEATURE, RETRAIN, VALUE
from mlgitops.targets.monitoring.prometheus_sli import label_text, record, with_metadata

THRESHOLD = "mlgitops_drift:threshold"
STALE_AFTER = "mlgitops_drift:stale_after:seconds"
THRESHOLD_FIELDS = ("model", "method", "threshold", "retrain", "schedule", "stale_after", "runbook_url")
MODEL, ENVIRONMENT = "{{ $labels.model }}", "{{ $labels.environment }}"


def metadata(env: ir.Environment, drifts: list[tuple[ir.Model, ir.Drift]]) -> list[dict[str, Any]]:
    """The two metadata rules of ``env``'s drift-monitored models (none without any)."""
    if not drifts:
        return []
    thresholds: list[tuple[str, tuple[str, ...]]] = []
    limits: dict[str, int] = {}
    for model, drift in drifts:
        limit = stale_after_seconds(drift)
        threshold = slo.number(Decimal(repr(drift.threshold)))
        fields = (
            model.name,
            drift.method,
            threshold,
            "true" if drift.retrain else "false",
            drift.schedule,  # cron: no "|"
            slo.format_duration(limit * 1000),
            model.monitoring.alerts.runbook_url or "",
        )
        thresholds.append((threshold, fields))
        limits[fields[5]] = limit
    # the waiting time follows from the schedule (a few distinct ones): one term per waiting time
    # reads its models from the threshold series, recorded just before in the same group
    by_limit = [
        f'sum by (model) ({THRESHOLD}{{environment="{env.name}", stale_after="{text}"}}) * 0 + {limit}'
        for text, limit in sorted(limits.items(), key=lambda item: item[1])
    ]
    return [
        *(record(THRESHOLD, part, env) for part in packed_parts(THRESHOLD_FIELDS, thresholds)),
        record(STALE_AFTER, union(by_limit), env),
    ]


def alerts(env: ir.Environment, drifts: list[tuple[ir.Model, ir.Drift]], route: str) -> list[dict[str, Any]]:
    """The shared drift alerts; ``route`` is the routing selector whose ``owner`` and ``route`` they
    join (its value is 1: an alert's value stays what the per-model rule's was)."""
    if not drifts:
        return []
    scope = f'{{environment="{env.name}"}}'
    meta = (f"{THRESHOLD}{scope}", f"{STALE_AFTER}{scope}")
    routed = f"\n)\n* on (model) group_left (owner, route)\n{route}"
    by = "max by (model, environment)"
    on = "on (model, environment) group_left (namespace)"
    rules = [
        _rule(
            DRIFT,
            f"(\nmax by (model, environment, feature) ({DRIFT_METRIC}{scope})\n> {on} {meta[0]}{routed}",
            {
                "summary": f"Feature {FEATURE} of {MODEL} ({ENVIRONMENT}) has drifted",
                "description": _read(
                    f"Its {label_text('method')} drift score is {VALUE}, above the threshold "
                    f"{label_text('threshold')}: live inputs no longer look like the reference data."
                    f'{{{{ if eq (label "retrain" .) "true" }}}}{RETRAIN}{{{{ end }}}}'
                ),
            },
        ),
        _rule(
            STALE,
            f"(\ntime() - {by} ({LAST_SUCCESS}{scope})\n> {on} {meta[1]}{routed}",
            {
                "summary": _read(
                    f"The drift check of {MODEL} ({ENVIRONMENT}) has not succeeded for "
                    + label_text("stale_after")
                ),
                "description": _read(stale_description(label_text("schedule"))),
            },
        ),
        _rule(
            FAILED,
            f"(\n{by} ({LAST_RUN_SUCCESS}{scope})\n== {on} (0 * {meta[1]}){routed}",
            {
                "summary": f"The last drift check of {MODEL} ({ENVIRONMENT}) failed",
                "description": FAILED_DESCRIPTION,
            },
        ),
    ]
    # "for" cannot differ by series: one rule per waiting time (a few schedules)
    for limit in sorted({stale_after_seconds(drift) for _, drift in drifts}):
        text = slo.format_duration(limit * 1000)
        rules.append(
            _rule(
                MISSING,
                f"(\n{meta[1]} == {limit}\nunless on (model, environment)\n{LAST_RUN}{scope}{routed}",
                {
                    "summary": f"No drift check of {MODEL} ({ENVIRONMENT}) has reported",
                    "description": missing_description(text),
                },
                for_=text,
            )
        )
    return rules


def _rule(name: str, expr: str, annotations: dict[str, str], for_: str | None = None) -> dict[str, Any]:
    """A shared rule; one of several waiting times (``for_``) is told apart by ``absent_for``
    (promtool reports two rules of one name and labels as duplicates)."""
    rule: dict[str, Any] = {"alert": name, "expr": Trusted(expr)}
    labels = {"severity": "ticket"}
    if for_ is not None:
        rule["for"] = for_
        labels["absent_for"] = for_
    runbook = _read(label_text("runbook_url"))
    rule["labels"] = labels
    rule["annotations"] = {
        key: Trusted(value) for key, value in (annotations | {"runbook_url": runbook}).items()
    }
    return rule


def _read(text: str) -> str:
    """``text`` with the model's drift metadata as ``.`` (its labels printed, never expanded)."""
    return with_metadata(THRESHOLD, ("environment", "model"), text)
