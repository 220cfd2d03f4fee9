"""The burn-rate thresholds in the generated rules are the SRE workbook's arithmetic.

A project with one model per objective (99, 99.5, 99.9, 99.95) and SLO window (7d,
28d, 30d) is compiled in memory; every burn-rate alert expression is parsed back
(``ratio_rate<window>{...} > (<factor> * <budget>)``) and compared with an
independent computation, here, from the workbook's table ("Alerting on SLOs",
multiwindow multi-burn-rate alerts):

    severity  long  short  budget spent   factor = spent × SLO window / long window
    page      1h    5m     2 %            14.4 at 30d
    page      6h    30m    5 %            6
    ticket    1d    2h     10 %           3
    ticket    3d    6h     10 %           1

scaled to the SLO window and never below 1 (a burn rate of 1 spends exactly the
budget over the window; docs/monitoring.md explains the floor).
"""

from __future__ import annotations

import re
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml

import packed_series
from mlgitops.pipeline import generate_files

OBJECTIVES = ("99", "99.5", "99.9", "99.95")
WINDOWS = {"7d": 7 * 24, "28d": 28 * 24, "30d": 30 * 24}  # hours
# long window → (hours, short window, severity, share of the budget)
WORKBOOK = {
    "1h": (1, "5m", "page", Fraction(2, 100)),
    "6h": (6, "30m", "page", Fraction(5, 100)),
    "1d": (24, "2h", "ticket", Fraction(10, 100)),
    "3d": (72, "6h", "ticket", Fraction(10, 100)),
}
CONDITION = re.compile(
    r"\(mlgitops_sli:bad:rate(?P<window>\w+)\{[^}]*\} / mlgitops_sli:total:rate(?P=window)\{[^}]*\}\) > "
    r"\((?P<factor>[0-9.]+) \* (?P<budget>[0-9.]+)\)"
)


def model_name(objective: str, window: str) -> str:
    return f"m-{objective.replace('.', '-')}-{window}"


def project(root: Path) -> None:
    spec = {
        "apiVersion": "mlgitops/v1",
        "kind": "Project",
        "metadata": {"name": "arithmetic"},
        "spec": {
            "repository": "https://github.com/acme/arithmetic.git",
            "serving": "kserve",
            "gitops": "argocd",
            "registry": {"kind": "mlflow", "trackingUri": "https://mlflow.acme.internal"},
            "environments": [{"name": "prod", "namespace": "ml-prod"}],
            "prometheus": {"format": "files"},
        },
    }
    (root / "models").mkdir(parents=True)
    (root / "mlgitops.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    for objective in OBJECTIVES:
        for window in WINDOWS:
            model = {
                "apiVersion": "mlgitops/v1",
                "kind": "Model",
                "metadata": {"name": model_name(objective, window), "owner": "sre"},
                "spec": {
                    "serving": {"runtime": "sklearn", "artifact": "s3://models/{model}/{version}/"},
                    "deployments": {"prod": {"version": "1.0.0"}},
                    "monitoring": {
                        "slos": {
                            "availability": {"objective": float(objective), "window": window},
                            "latency": {
                                "objective": float(objective),
                                "threshold": "250ms",
                                "window": window,
                            },
                        }
                    },
                },
            }
            path = root / "models" / f"{model_name(objective, window)}.yaml"
            path.write_text(yaml.safe_dump(model), encoding="utf-8")


# The shared burn-rate alerts (docs/monitoring.md): one rule per kind and severity, whose
# conditions compare a ratio with "<factor> * mlgitops_slo:alert:info{…, slo, window}", the
# metadata series whose value is the SLO's error budget.
SHARED_CONDITION = re.compile(
    r"(?P<ratio>\(mlgitops_sli:bad:rate(?P<w>\w+)\{[^}]*\} / mlgitops_sli:total:rate(?P=w)\{[^}]*\}\))"
    r"\s*> on \(model, slo\) (?:group_left \(\) )?"
    r"\((?P<factor>[0-9.]+) \* mlgitops_slo:alert:info"
    r'\{environment="prod", slo="(?P<slo>\w+)", window="(?P<window>\w+)"\}\)'
)


def instantiated(shared: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """model → the shared alerts as they apply to it: each condition of its SLO's kind and window,
    written ``ratio > (factor * budget)`` with the budget its metadata series holds (what promtool
    evaluates; tests/test_shared_rules_equivalence.py runs them)."""
    (info,) = [r["expr"] for r in shared if r.get("record") == "mlgitops_slo:alert:info"]
    out: dict[str, list[dict[str, Any]]] = {}
    for budget, labels in packed_series.series(info):
        for rule in (r for r in shared if "alert" in r):
            matches = [
                c
                for c in SHARED_CONDITION.finditer(rule["expr"])
                if (c["slo"], c["window"]) == (labels["slo"], labels["window"])
            ]
            conditions = [f"{c['ratio']} > ({c['factor']} * {budget})" for c in matches]
            for long in matches[0::2]:
                # the annotations print the factors from the metadata: the expression's numbers
                assert labels[f"factor_{long['w']}"] == long["factor"], (rule["alert"], labels)
            if conditions:
                text = "\nor\n".join(
                    " and ".join(conditions[i : i + 2]) for i in range(0, len(conditions), 2)
                )
                out.setdefault(labels["model"], []).append({**rule, "expr": text})
    return out


@pytest.fixture(scope="module")
def rules() -> dict[str, list[dict[str, Any]]]:
    """model → its alerting rules: its own (plain rule files) and the shared ones as they apply to it."""
    with tempfile.TemporaryDirectory(prefix="mlgitops-slo-") as tmp:
        root = Path(tmp)
        project(root)
        result = generate_files(root)
    assert result.ok, [f"{d.code} {d.message}" for d in result.diagnostics]
    out: dict[str, list[dict[str, Any]]] = {}
    for file in result.files:
        if not file.path.endswith(".rules.yml"):
            continue
        groups = yaml.safe_load(file.content)["groups"]
        found = [rule for group in groups for rule in group["rules"]]
        if file.path.endswith("/_slo.rules.yml"):
            for model, alerts in instantiated(found).items():
                out.setdefault(model, []).extend(alerts)
        else:
            model = file.path.rsplit("/", 1)[1].removesuffix(".rules.yml")
            out.setdefault(model, []).extend(rule for rule in found if "alert" in rule)
    return out


def expected_factor(long: str, slo_hours: int) -> Fraction:
    hours, _, _, share = WORKBOOK[long]
    return max(Fraction(1), share * slo_hours / hours)


@pytest.mark.parametrize("window", list(WINDOWS))
@pytest.mark.parametrize("objective", OBJECTIVES)
def test_thresholds_match_the_workbook(
    rules: dict[str, list[dict[str, Any]]], objective: str, window: str
) -> None:
    budget = 1 - Fraction(objective) / 100
    seen: dict[tuple[str, str], list[str]] = {}
    for rule in rules[model_name(objective, window)]:
        conditions = list(CONDITION.finditer(rule["expr"]))
        if not conditions:
            continue  # not a burn-rate alert (the latency histogram check)
        severity = rule["labels"]["severity"]
        # "(long > limit and short > limit) or (...)": conditions come in pairs, long window first
        for long, short in zip(conditions[0::2], conditions[1::2], strict=True):
            _, short_window, row_severity, _ = WORKBOOK[long["window"]]
            assert short["window"] == short_window, (
                f"{rule['alert']}: {long['window']} paired with {short['window']}"
            )
            assert row_severity == severity, (
                f"{rule['alert']}: the {long['window']} pair alerts as {severity}"
            )
            expected = expected_factor(long["window"], WINDOWS[window])
            for found in (long, short):
                factor, spent = Fraction(found["factor"]), Fraction(found["budget"])
                assert spent == budget, f"{rule['alert']}: budget {spent} != {budget}"
                # written with at most six decimals
                assert abs(factor - expected) <= Fraction(1, 10**6), (
                    f"{rule['alert']} {long['window']}: {factor} != {expected}"
                )
            seen.setdefault((rule["alert"], severity), []).extend([long["window"], short["window"]])
    for kind in ("Availability", "Latency"):
        assert seen[(f"Model{kind}FastBurn", "page")] == ["1h", "5m", "6h", "30m"]
        assert seen[(f"Model{kind}SlowBurn", "ticket")] == ["1d", "2h", "3d", "6h"]


def test_the_workbook_numbers_at_30_days(rules: dict[str, list[dict[str, Any]]]) -> None:
    """The textbook case, spelled out: 14.4, 6, 3 and 1 at 99.9 % over 30 days."""
    text = "\n".join(rule["expr"] for rule in rules[model_name("99.9", "30d")])
    for long, short, factor in (
        ("1h", "5m", "14.4"),
        ("6h", "30m", "6"),
        ("1d", "2h", "3"),
        ("3d", "6h", "1"),
    ):
        for window in (long, short):
            scope = '{environment="prod", slo="availability"}'  # a shared rule: every model's ratio
            ratio = f"(mlgitops_sli:bad:rate{window}{scope} / mlgitops_sli:total:rate{window}{scope})"
            assert f"{ratio} > ({factor} * 0.001)" in text


def test_factors_below_one_are_raised_to_one(rules: dict[str, list[dict[str, Any]]]) -> None:
    """At 7 days the ticket pairs would be 0.7 and 0.233, at 28 days the 3d pair 0.933: alerting on a
    burn rate below 1 would fire for a service that meets its objective."""
    seven = "\n".join(rule["expr"] for rule in rules[model_name("99", "7d")])
    assert "mlgitops_sli:bad:rate1h{" in seven and "> (3.36 * 0.01)" in seven
    assert "> (1.4 * 0.01)" in seven
    assert "> (0.7 * 0.01)" not in seven and "> (1 * 0.01)" in seven
    twenty_eight = "\n".join(rule["expr"] for rule in rules[model_name("99", "28d")])
    assert "> (13.44 * 0.01)" in twenty_eight and "> (5.6 * 0.01)" in twenty_eight
    assert "> (2.8 * 0.01)" in twenty_eight and "> (1 * 0.01)" in twenty_eight
