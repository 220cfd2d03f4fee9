"""Alerts on the drift check itself: a check that stopped running, never ran, or failed.

The drift check (drift/, docs/drift.md) pushes with every run
``mlgitops_drift_last_run_timestamp_seconds``, ``mlgitops_drift_last_run_success`` (1 or 0)
and, when it succeeded, ``mlgitops_drift_last_success_timestamp_seconds``, all labelled
``model`` and ``environment``.  Per model × environment:

* ``ModelDriftCheckStale``: the last success is older than twice the longest gap of the
  check's schedule (one missed run is tolerated, two are not);
* ``ModelDriftCheckFailed``: the last run failed (bad input, unreachable store, ...);
* ``ModelDriftCheckMissing``: no run was ever recorded for that long (the CronJob never ran,
  or the Pushgateway is not scraped with ``honor_labels``).

Without these a broken check is silent: no score means no drift alert.  Each comes with a
promtool unit test.  The rules are the environment's shared ones (:mod:`.drift_shapes`);
:func:`alerts` describes each as it fires for one model (``ModelDriftCheckMissing`` carries
``absent_for``, its waiting time; an alert of a model without a runbook an empty
``runbook_url``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlgitops import ir
from mlgitops.render.engine import Trusted
from mlgitops.targets.monitoring import slo
from mlgitops.targets.monitoring.prometheus_rules import Alert, alert_labels
from mlgitops.targets.monitoring.promql import Matcher, Selector
from mlgitops.targets.monitoring.schedule import longest_gap_minutes

LAST_RUN = "mlgitops_drift_last_run_timestamp_seconds"
LAST_SUCCESS = "mlgitops_drift_last_success_timestamp_seconds"
LAST_RUN_SUCCESS = "mlgitops_drift_last_run_success"
STALE, FAILED, MISSING = "ModelDriftCheckStale", "ModelDriftCheckFailed", "ModelDriftCheckMissing"
EVALUATION_SECONDS = 30 * 60  # prometheus_tests.EVALUATION_MS, the grid promtool evaluates on
ONCE_GAP_MINUTES = 24 * 60  # a schedule that fires at most once: treat it as daily


def stale_after_seconds(drift: ir.Drift) -> int:
    """Twice the longest time the schedule leaves between two runs."""
    gap = longest_gap_minutes(drift.schedule)
    return 2 * 60 * (gap if gap is not None else ONCE_GAP_MINUTES)


def _selector(metric: str, d: ir.Deployment) -> str:
    matchers = (Matcher("model", "=", d.model), Matcher("environment", "=", d.environment.name))
    return Selector(metric, matchers).render()


def _annotations(model: ir.Model, summary: str, description: str) -> dict[str, str]:
    runbook = model.monitoring.alerts.runbook_url
    return {"summary": Trusted(summary), "description": Trusted(description), "runbook_url": runbook or ""}


FAILED_DESCRIPTION = (
    "The check could not read or score its inputs (its log says why: a missing feature "
    "column, an empty window, an unreadable URI) or could not start retraining."
)


def stale_description(schedule: str) -> str:
    return (
        f"Its last success is older than twice its schedule ({schedule}): drift scores are "
        "stale and a drifting feature would not alert. Look at the CronJob's recent Jobs."
    )


def missing_description(limit_text: str) -> str:
    return (
        f"No run was recorded for {limit_text}: the CronJob does not run, cannot reach the "
        "Pushgateway, or the Pushgateway is scraped without honor_labels."
    )


def alerts(model: ir.Model, d: ir.Deployment, drift: ir.Drift) -> list[Alert]:
    limit = stale_after_seconds(drift)
    limit_text = slo.format_duration(limit * 1000)
    where = f"{d.model} ({d.environment.name})"
    labels = alert_labels(model, d, "ticket", None)
    missing = labels | {"absent_for": limit_text}
    by = "max by (model, environment)"
    return [
        Alert(
            STALE,
            f"time() - {by} ({_selector(LAST_SUCCESS, d)}) > {limit}",
            labels,
            _annotations(
                model,
                f"The drift check of {where} has not succeeded for {limit_text}",
                stale_description(drift.schedule),
            ),
        ),
        Alert(
            FAILED,
            f"{by} ({_selector(LAST_RUN_SUCCESS, d)}) == 0",
            labels,
            _annotations(
                model,
                f"The last drift check of {where} failed",
                FAILED_DESCRIPTION,
            ),
        ),
        Alert(
            MISSING,
            f"absent({_selector(LAST_RUN, d)})",
            missing,
            _annotations(model, f"No drift check of {where} has reported", missing_description(limit_text)),
            for_=limit_text,
        ),
    ]


def _expected(alert: Alert) -> dict[str, Any]:
    return {"exp_labels": dict(alert.labels), "exp_annotations": dict(alert.annotations)}


def tests(model: ir.Model, d: ir.Deployment, others: Sequence[ir.Deployment] = ()) -> list[dict[str, Any]]:
    """promtool tests: each alert silent before its condition holds and firing after.

    ``others``: deployments whose drift-check rules the same test file loads; their runs are
    recorded throughout, so that only ``d``'s missing run fires."""
    drift = model.monitoring.drift
    if drift is None:
        return []
    stale, failed, missing = alerts(model, d, drift)
    limit = stale_after_seconds(drift)
    # promtool evaluates the rules every EVALUATION_SECONDS (the file's evaluation_interval): the
    # checks and the input samples sit on that grid, just before and just after the limit.
    before = (limit - 1) // EVALUATION_SECONDS * EVALUATION_SECONDS
    after = (limit // EVALUATION_SECONDS + 1) * EVALUATION_SECONDS
    at = slo.format_duration
    grid = at(EVALUATION_SECONDS * 1000)
    return [
        {
            "name": f"drift check: a last success older than {at(limit * 1000)} fires {stale.name}",
            "interval": grid,
            "input_series": [
                {"series": _selector(LAST_SUCCESS, d), "values": f"0x{after // EVALUATION_SECONDS + 1}"}
            ],
            "alert_rule_test": [
                {"eval_time": at(before * 1000), "alertname": stale.name, "exp_alerts": []},
                {"eval_time": at(after * 1000), "alertname": stale.name, "exp_alerts": [_expected(stale)]},
            ],
        },
        {
            "name": f"drift check: a failed run fires {failed.name}, a successful one does not",
            "interval": grid,
            "input_series": [
                {"series": _selector(LAST_RUN_SUCCESS, d), "values": "1 0 1"},
                {"series": _selector(LAST_RUN, d), "values": f"0+{EVALUATION_SECONDS}x2"},
            ],
            "alert_rule_test": [
                {"eval_time": "0s", "alertname": failed.name, "exp_alerts": []},
                {"eval_time": grid, "alertname": failed.name, "exp_alerts": [_expected(failed)]},
                {"eval_time": at(2 * EVALUATION_SECONDS * 1000), "alertname": failed.name, "exp_alerts": []},
                {"eval_time": grid, "alertname": missing.name, "exp_alerts": []},
            ],
        },
        {
            "name": f"drift check: no run recorded for {at(limit * 1000)} fires {missing.name}",
            "interval": grid,
            "input_series": [
                {
                    "series": _selector(LAST_RUN, other),
                    "values": f"0+{EVALUATION_SECONDS}x{after // EVALUATION_SECONDS + 1}",
                }
                for other in others
            ],
            "alert_rule_test": [
                {"eval_time": at(before * 1000), "alertname": missing.name, "exp_alerts": []},
                {
                    "eval_time": at(after * 1000),
                    "alertname": missing.name,
                    "exp_alerts": [_expected(missing)],
                },
            ],
        },
    ]
