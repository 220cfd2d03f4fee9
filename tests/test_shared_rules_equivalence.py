"""The shared SLI rules fire the same alerts, at the same evaluation times, as the per-model rules
they replaced.

tests/fixtures/per-model-rules/before/ holds the rule files the per-model compiler wrote for the
prod environment of the fixture project beside them (``benchmarks/generate.py 12``, checked in
with the rules so that both stay as they were).  Each scenario below compiles that project with
today's compiler, loads the old and the new rules into one promtool test (alerts labelled
``ruleset: old`` / ``new``; the old groups renamed), feeds both the same synthetic traffic, and
checks at *every* evaluation that the firing alerts of one ruleset are the firing alerts of the
other (ignoring the ``namespace`` label the new alerts add).  Page alerts read only raw windows
(5m to 6h) in both rulesets and must agree exactly, at every evaluation.  Ticket alerts read the 1d
and 3d windows, which the shared rules derive from 5m rates sampled at each evaluation: there an
alert of one ruleset must be firing in the other at some point within ``TICKET_BOUND`` either side
(the average of sampled 5m rates weighs the first and last minutes of a window, and the start of
the data, differently from the exact ``rate`` over the window, so a slowly rising ratio crosses a
limit a few minutes earlier or later).  Each scenario also states which alerts must fire (or that none may),
so the comparison is never of two silences alone.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from compile_helpers import ROOT
from conftest import require_tool
from mlgitops.pipeline import compile_project

pytestmark = [pytest.mark.external, pytest.mark.slow]

FIXTURE = ROOT / "tests" / "fixtures" / "per-model-rules"
NS = "ml-prod"
PAGE_EVAL, TICKET_EVAL = 1, 10  # minutes between evaluations
TICKET_BOUND = 10  # minutes
HOUR, DAY = 60, 1440

Segments = list[tuple[int, float]]  # (minutes, increase per minute)


def counter(segments: Segments) -> str:
    """promtool values of a counter from 0 growing by each segment's rate for its minutes."""
    parts, value = [], 0.0
    for index, (minutes, step) in enumerate(segments):
        if index == 0:
            parts.append(f"0+{step:g}x{minutes}")
            value = step * minutes
        else:
            parts.append(f"{value + step:g}+{step:g}x{minutes - 1}")
            value += step * minutes
    return " ".join(parts)


def knative(model: str, revision: str, code: str, segments: Segments) -> dict[str, str]:
    labels = (
        f'namespace_name="{NS}", configuration_name="{model}-predictor", '
        f'revision_name="{model}-predictor-{revision}", response_code_class="{code}", {scraped(model)}'
    )
    return {"series": f"revision_request_count{{{labels}}}", "values": counter(segments)}


def scraped(model: str) -> str:
    """The label the generated PodMonitor adds to every series it scrapes (the old rules ignore it)."""
    return f'mlgitops_model="{model}"'


def requests(model: str, total: Segments, bad_share: list[float], rev: str = "00001") -> list[dict[str, str]]:
    """Knative request counters: per segment, ``total`` requests a minute, ``bad_share`` of them 5xx."""
    good = [(minutes, step * (1 - share)) for (minutes, step), share in zip(total, bad_share, strict=True)]
    bad = [(minutes, step * share) for (minutes, step), share in zip(total, bad_share, strict=True)]
    return [knative(model, rev, "2xx", good), knative(model, rev, "5xx", bad)]


def histogram(
    metric: str, labels: str, bounds: list[str], total: Segments, slow: list[float]
) -> list[dict[str, str]]:
    """Buckets where ``slow`` of the requests take longer than every finite bound but the last."""
    out = []
    for bound in [*bounds, "+Inf"]:
        fast = bound in ("+Inf", bounds[-1])
        segments = [
            (m, step if fast else step * (1 - share)) for (m, step), share in zip(total, slow, strict=True)
        ]
        out.append({"series": f'{metric}{{{labels}, le="{bound}"}}', "values": counter(segments)})
    return out


@dataclass
class Scenario:
    name: str
    models: list[str]
    series: list[dict[str, str]]
    minutes: int
    ticket: bool = False
    must_fire: dict[str, int] = field(default_factory=dict)  # alertname → firing alerts at some time
    at: int = 0  # minute of the must_fire check (0: no alert may fire at any time)


def _steps(minutes: int, *shares: tuple[int, float]) -> tuple[Segments, list[float]]:
    total: Segments = [(m, 1000.0) for m, _ in shares]
    return total, [share for _, share in shares]


def scenarios() -> list[Scenario]:
    f, r, c = "forecasting-model-0006", "risk-model-0000", "risk-model-0007"
    out = []
    total, share = _steps(0, (2 * HOUR, 0.0), (2 * HOUR, 0.02), (3 * HOUR, 0.0))
    out.append(
        Scenario(
            "fast burn, then recovery: 20x the 99.9% budget for 2h in one model, 2x the 99% budget in "
            "another model of the same family",
            [f, r],
            requests(f, total, share) + requests(r, total, share),
            7 * HOUR,
            must_fire={"ModelAvailabilityFastBurn": 1},
            at=3 * HOUR,
        )
    )
    total, share = _steps(0, (8 * HOUR, 0.00095))
    out.append(
        Scenario("just below the budget (0.95x): nothing fires", [f], requests(f, total, share), 8 * HOUR)
    )
    stable, _ = _steps(0, (2 * HOUR, 0.0), (6 * HOUR, 0.0))
    stable = [(m, 900.0) for m, _ in stable]
    canary = [(2 * HOUR, 0.0), (6 * HOUR, 100.0)]
    out.append(
        Scenario(
            "canary version: a new revision taking 10% of the traffic fails every request",
            [r],
            requests(r, stable, [0.0, 0.0]) + requests(r, canary, [0.0, 1.0], rev="00002"),
            8 * HOUR,
            must_fire={"ModelAvailabilityFastBurn": 1},
            at=8 * HOUR,
        )
    )
    uneven: Segments = [(3 * HOUR, 5000.0), (2 * HOUR, 200.0), (2 * HOUR, 5000.0)]
    out.append(
        Scenario(
            "uneven traffic: a burst of errors while traffic is low (request-weighted ratios)",
            [f],
            requests(f, uneven, [0.0005, 0.3, 0.0005]),
            7 * HOUR,
            must_fire={"ModelAvailabilityFastBurn": 1},
            at=4 * HOUR,
        )
    )
    total, slow = _steps(0, (2 * HOUR, 0.0), (3 * HOUR, 0.8))
    labels = (
        f'namespace_name="{NS}", configuration_name="{f}-predictor", revision_name="{f}-predictor-00001", '
        + scraped(f)
    )
    out.append(
        Scenario(
            "latency fast burn: 80% of requests slower than the 150ms threshold (95% objective)",
            [f],
            histogram("revision_request_latencies_bucket", labels, ["100", "150", "200"], total, slow)
            + requests(f, total, [0.0, 0.0]),
            5 * HOUR,
            must_fire={"ModelLatencyFastBurn": 1},
            at=5 * HOUR,
        )
    )
    total, share = _steps(0, (2 * HOUR, 0.0), (2 * HOUR, 0.02))
    custom = [
        {
            "series": f'http_requests_total{{namespace="{NS}", service="{c}", code="200"}}',
            "values": counter([(m, s * (1 - b)) for (m, s), b in zip(total, share, strict=True)]),
        },
        {
            "series": f'http_requests_total{{namespace="{NS}", service="{c}", code="503"}}',
            "values": counter([(m, s * b) for (m, s), b in zip(total, share, strict=True)]),
        },
    ]
    out.append(
        Scenario(
            "a model with its own selectors (spec.monitoring.metrics) burns 40x its 99.95% budget",
            [c],
            custom,
            4 * HOUR,
            must_fire={"ModelAvailabilityFastBurn": 1},
            at=4 * HOUR,
        )
    )
    g = "growth-model-0008"
    pod = f'namespace="{NS}", pod="{g}-predictor-5d8f7-x2x9k", {scraped(g)}'
    total, share = _steps(0, (2 * HOUR, 0.0), (2 * HOUR, 0.3))
    series = [
        {
            "series": f'http_requests_total{{{pod}, code="200"}}',
            "values": counter([(m, s * (1 - b)) for (m, s), b in zip(total, share, strict=True)]),
        },
        {
            "series": f'http_requests_total{{{pod}, code="500"}}',
            "values": counter([(m, s * b) for (m, s), b in zip(total, share, strict=True)]),
        },
    ]
    series += histogram("request_latency_ms_bucket", f'namespace="{NS}"', ["100", "250", "500"], total, share)
    out.append(
        Scenario(
            "raw-deployment pods (pod regex) and a latency histogram shared by the namespace: both burn",
            [g],
            series,
            4 * HOUR,
            must_fire={"ModelAvailabilityFastBurn": 1, "ModelLatencyFastBurn": 1},
            at=4 * HOUR,
        )
    )
    total, share = _steps(0, (DAY, 0.0), (36 * HOUR, 0.0035), (12 * HOUR, 0.0))
    out.append(
        Scenario(
            "slow burn, then recovery: 3.5x the 99.9% budget for 36h opens a ticket, which resolves",
            [f],
            requests(f, total, share),
            3 * DAY,
            ticket=True,
            must_fire={"ModelAvailabilitySlowBurn": 1},
            at=2 * DAY,
        )
    )
    total, share = _steps(0, (3 * DAY, 0.00095))
    out.append(
        Scenario(
            "just below the budget over days: no ticket",
            [f, r],
            requests(f, total, share) + requests(r, total, [0.0095]),
            3 * DAY,
            ticket=True,
        )
    )
    return out


def _relabel(path: Path, ruleset: str, rename: bool) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for group in data["groups"]:
        if rename:
            group["name"] = f"old/{group['name']}"
        for rule in group["rules"]:
            if "alert" in rule:
                rule["labels"] = {**rule.get("labels", {}), "ruleset": ruleset}
    return data


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("equivalence") / "project"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns("before"))
    result = compile_project(root, use_cache=False)
    assert result.ok, [f"{d.code} {d.message}" for d in result.diagnostics]
    return root / "deploy" / "prometheus" / "prod"


# The drift check's own alerts (stale, failed, missing run: drift_rules.py) came after the
# per-model rules and have no counterpart there; with no drift series in these scenarios the
# "missing" one fires. They are tested in the environments' promtool suites.
NEW_ALERTS = 'alertname!~"ModelDriftCheck(Stale|Failed|Missing)"'


def _comparisons(scenario: Scenario, step: int) -> list[dict[str, Any]]:
    """At every evaluation, each ruleset's firing alerts are the other's, compared on every label
    (severity, slo, model, environment, owner, route) but ``ruleset`` and ``namespace``, which
    only the new alerts carry, and must be the model's namespace."""
    firing = 'ALERTS{{ruleset="{}", alertstate="firing", severity="{}", ' + NEW_ALERTS + "}}"
    bound = f"[{2 * TICKET_BOUND}m] offset -{TICKET_BOUND}m"
    checks = []
    for minute in range(0, scenario.minutes + 1, step):
        checks.append(
            {
                "expr": f'ALERTS{{ruleset="new", namespace!="{NS}"}}',
                "eval_time": f"{minute}m",
                "exp_samples": [],
            }
        )
        for severity in ("page", "ticket"):
            old, new = firing.format("old", severity), firing.format("new", severity)
            old_near, new_near = (
                (old, new)
                if severity == "page"
                else (f"max_over_time({old}{bound})", f"max_over_time({new}{bound})")
            )
            for one, other in ((new, old_near), (old, new_near)):
                expr = f"{one} unless ignoring (ruleset, namespace) {other}"
                checks.append({"expr": expr, "eval_time": f"{minute}m", "exp_samples": []})
    if scenario.must_fire:
        for alertname, count in scenario.must_fire.items():
            for ruleset in ("old", "new"):
                checks.append(
                    {
                        "expr": f'count(ALERTS{{ruleset="{ruleset}", alertstate="firing", '
                        f'alertname="{alertname}"}})',
                        "eval_time": f"{scenario.at}m",
                        "exp_samples": [{"labels": "{}", "value": count}],
                    }
                )
    else:
        for minute in range(0, scenario.minutes + 1, step):
            checks.append(
                {
                    "expr": 'ALERTS{alertstate="firing", ' + NEW_ALERTS + "}",
                    "eval_time": f"{minute}m",
                    "exp_samples": [],
                }
            )
    return checks


@pytest.mark.parametrize("scenario", scenarios(), ids=lambda s: s.name.split(":")[0])
def test_old_and_new_rules_fire_the_same_alerts(compiled: Path, scenario: Scenario, tmp_path: Path) -> None:
    promtool = require_tool("promtool")
    step = TICKET_EVAL if scenario.ticket else PAGE_EVAL
    # the new burn-rate alerts are the shared ones, one rule per kind and severity
    shared = _relabel(compiled / "_slo.rules.yml", "new", rename=False)
    (tmp_path / "_slo.rules.yml").write_text(yaml.safe_dump(shared), encoding="utf-8")
    files = ["_slo.rules.yml"]
    order = [g["name"] for g in shared["groups"]]
    for model in scenario.models:
        for ruleset, source in (
            ("new", compiled / f"{model}.rules.yml"),
            ("old", FIXTURE / "before" / f"{model}.rules.yml"),
        ):
            if not source.exists():  # no rule of the model's own (every alert of it is shared)
                continue
            data = _relabel(source, ruleset, rename=ruleset == "old")
            name = f"{ruleset}-{model}.rules.yml"
            (tmp_path / name).write_text(yaml.safe_dump(data), encoding="utf-8")
            files.append(name)
            order += [g["name"] for g in data["groups"]]
    suite = {
        "rule_files": files,
        "evaluation_interval": f"{step}m",
        "group_eval_order": order,
        "tests": [
            {
                "name": scenario.name,
                "interval": "1m",
                "input_series": scenario.series,
                "promql_expr_test": _comparisons(scenario, step),
            }
        ],
    }
    test_file = tmp_path / "equivalence.test.yml"
    test_file.write_text(yaml.safe_dump(suite, width=1000), encoding="utf-8")
    run = subprocess.run(
        [promtool, "test", "rules", str(test_file)], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-6000:]
