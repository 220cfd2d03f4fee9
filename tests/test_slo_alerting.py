"""Alerting as SLO users write it: every field of an SLO's ``alerting``, the environment's
``monitoring.page`` and ``spec.prometheus`` reach the generated rules (one test per field), and the
generated promtool tests still pass with them (``for:`` delays the firing checks)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

import packed_series
from compile_helpers import copy_specs, edit_yaml, example
from conftest import require_tool
from mlgitops.pipeline import compile_project

ALERTING = {
    "name": "IrisAvailabilityBudgetBurn",
    "labels": {"team": "data-science", "tier": "gold"},
    "annotations": {"dashboard": "https://grafana.acme.internal/d/iris", "summary": "Iris is failing"},
    "runbookUrl": "https://runbooks.acme.internal/iris-availability",
    "page": {"labels": {"severity": "critical"}, "for": "2m"},
    "ticket": {"labels": {"queue": "ml-tickets"}, "for": "1h"},
}


def _compile(tmp_path: Path, change_model: Any = None, change_project: Any = None) -> Path:
    root = copy_specs(example("quickstart"), tmp_path / "project")
    edit_yaml(root / "mlgitops.yaml", lambda d: d["spec"].update(prometheus={"format": "files"}))
    if change_model is not None:
        edit_yaml(root / "models/iris-classifier.yaml", change_model)
    if change_project is not None:
        edit_yaml(root / "mlgitops.yaml", change_project)
    result = compile_project(root, use_cache=False)
    assert result.ok, [f"{d.code} {d.message}" for d in result.diagnostics]
    return root


def _alerts(root: Path, env: str = "prod") -> dict[tuple[str, str], dict[str, Any]]:
    """(alert name, "page" or "ticket" by its windows) → rule, for the availability SLO."""
    data = yaml.safe_load((root / f"deploy/prometheus/{env}/iris-classifier.rules.yml").read_text())
    out = {}
    for group in data["groups"]:
        if group["name"].endswith("/availability"):
            for rule in group["rules"]:
                kind = "page" if "rate5m{" in rule["expr"] else "ticket"
                out[(rule["alert"], kind)] = rule
    return out


@pytest.fixture(scope="module")
def shaped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    def change(model: Any) -> None:
        model["spec"]["monitoring"]["slos"]["availability"]["alerting"] = ALERTING

    def quiet_dev(project: Any) -> None:
        project["spec"]["environments"][0]["monitoring"] = {"page": False}

    return _compile(tmp_path_factory.mktemp("alerting"), change, quiet_dev)


def test_name(shaped: Path) -> None:
    assert {name for name, _ in _alerts(shaped)} == {ALERTING["name"]}


def test_labels(shaped: Path) -> None:
    for rule in _alerts(shaped).values():
        assert rule["labels"]["team"] == "data-science" and rule["labels"]["tier"] == "gold"
        assert rule["labels"]["model"] == "iris-classifier" and rule["labels"]["slo"] == "availability"


def test_annotations_and_runbook(shaped: Path) -> None:
    for rule in _alerts(shaped).values():
        assert rule["annotations"]["dashboard"] == ALERTING["annotations"]["dashboard"]
        assert rule["annotations"]["summary"] == "Iris is failing"
        assert rule["annotations"]["runbook_url"] == ALERTING["runbookUrl"]


def test_page_and_ticket_labels_and_for(shaped: Path) -> None:
    rules = _alerts(shaped)
    page, ticket = rules[(ALERTING["name"], "page")], rules[(ALERTING["name"], "ticket")]
    assert page["labels"]["severity"] == "critical" and page["for"] == "2m"
    assert page["labels"]["burn"] == "fast" and ticket["labels"]["burn"] == "slow"
    assert ticket["labels"]["severity"] == "ticket" and ticket["labels"]["queue"] == "ml-tickets"
    assert ticket["for"] == "1h"


def test_environment_without_paging_opens_tickets(tmp_path: Path) -> None:
    root = _compile(tmp_path, None, lambda p: p["spec"]["environments"][0].update(monitoring={"page": False}))
    # default alerting: the alerts are the environment's shared rules
    dev = yaml.safe_load((root / "deploy/prometheus/dev/_slo.rules.yml").read_text())
    prod = yaml.safe_load((root / "deploy/prometheus/prod/_slo.rules.yml").read_text())

    def severities(data: Any) -> dict[str, str]:
        return {
            r["alert"]: r["labels"]["severity"] for g in data["groups"] for r in g["rules"] if "alert" in r
        }

    assert severities(dev)["ModelAvailabilityFastBurn"] == "ticket"
    assert severities(prod)["ModelAvailabilityFastBurn"] == "page"


def test_disable(tmp_path: Path) -> None:
    def change(model: Any) -> None:
        model["spec"]["monitoring"]["slos"]["availability"]["alerting"] = {"disable": True}

    root = _compile(tmp_path, change)
    # no rule of its own: the latency burn-rate and bucket alerts are shared ones
    assert not (root / "deploy/prometheus/prod/iris-classifier.rules.yml").exists()
    shared = yaml.safe_load((root / "deploy/prometheus/prod/_slo.rules.yml").read_text())
    rules = [r for g in shared["groups"] for r in g["rules"]]
    alerts = {r["alert"] for r in rules if "alert" in r}
    assert {"ModelLatencyFastBurn", "ModelLatencySlowBurn", "ModelLatencyBucketMissing"} <= alerts
    assert not alerts & {"ModelAvailabilityFastBurn", "ModelAvailabilitySlowBurn"}
    (alert_info,) = [r["expr"] for r in rules if r.get("record") == "mlgitops_slo:alert:info"]
    assert {labels["slo"] for _, labels in packed_series.series(alert_info)} == {"latency"}
    (sli_info,) = [r["expr"] for r in rules if r.get("record") == "mlgitops_slo:sli:info"]
    # the family's name starts with the SLO kind, which the rule reads into "slo"
    recorded = {
        (labels["model"], labels["family"].split("-")[0]) for _, labels in packed_series.series(sli_info)
    }
    assert '"slo", "$1", "family", "(availability|latency)-.*"' in sli_info
    assert ("iris-classifier", "availability") in recorded  # still recorded


def test_api_group_and_operator_format(tmp_path: Path) -> None:
    def own_alerting(model: Any) -> None:  # so that the model has a rule file of its own
        model["spec"]["monitoring"]["slos"]["availability"]["alerting"] = {"name": "IrisDown"}

    root = _compile(
        tmp_path,
        own_alerting,
        lambda p: p["spec"].update(prometheus={"format": "operator", "apiGroup": "monitoring.rhobs"}),
    )
    assert not (root / "deploy/prometheus").exists()
    for path in [
        *sorted(root.glob("deploy/prod/prometheusrule-slo-*.yaml")),
        root / "deploy/prod/iris-classifier/prometheusrule.yaml",
    ]:
        assert yaml.safe_load(path.read_text())["apiVersion"] == "monitoring.rhobs/v1"
    monitor = yaml.safe_load((root / "deploy/prod/iris-classifier/podmonitor.yaml").read_text())
    assert monitor["apiVersion"] == "monitoring.rhobs/v1"


@pytest.mark.external
def test_promtool_tests_pass_with_shaped_alerts(shaped: Path) -> None:
    promtool = require_tool("promtool")
    for env in ("dev", "prod"):
        folder = shaped / "deploy/prometheus" / env
        run = subprocess.run(
            [promtool, "test", "rules", *sorted(p.name for p in folder.glob("*.rules.test.yml"))],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert run.returncode == 0, run.stdout[-4000:] + run.stderr


@pytest.mark.parametrize(
    ("metrics", "expected"),
    [
        (
            {"gauge": 'probe_success{job="blackbox", instance="{model}.acme.internal"}'},
            "avg_over_time(probe_success{",
        ),
        (
            {
                "requests": 'inference_total{service="{model}"}',
                "good": 'inference_ok_total{service="{model}"}',
            },
            "rate(inference_ok_total{",
        ),
    ],
    ids=["gauge", "good"],
)
def test_gauge_and_good_slis_reach_the_rules_and_their_tests_pass(
    tmp_path: Path, metrics: dict[str, str], expected: str
) -> None:
    """metrics.gauge (time-based, e.g. a blackbox probe) and metrics.good (good/total) become the
    availability SLI of the shared rules; the generated promtool tests fire the burn-rate alerts on them."""

    def change(model: Any) -> None:
        model["spec"]["monitoring"]["metrics"] = metrics
        del model["spec"]["monitoring"]["slos"]["latency"]

    root = _compile(tmp_path, change)
    shared = (root / "deploy/prometheus/prod/_slo.rules.yml").read_text(encoding="utf-8")
    assert expected in shared
    promtool = require_tool("promtool")
    folder = root / "deploy/prometheus/prod"
    run = subprocess.run(
        [promtool, "test", "rules", *sorted(p.name for p in folder.glob("*.rules.test.yml"))],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr
