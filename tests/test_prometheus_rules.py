"""Prometheus accepts the generated rules and their promtool unit tests pass.

For each example, a KServe standard-mode variant, an "edge" variant (regular
expression and negative matchers, separate error and latency metrics in
milliseconds, Go-template text in the alert route and owner) and the 12-model
benchmark project (``benchmarks/generate.py 12``), compiled into temporary copies once with
``spec.prometheus.format: files`` and once with ``operator``:

* ``promtool check rules`` accepts every plain rule file and ``promtool test rules``
  passes every environment's unit-test file (promtool comes from ``make tools``; missing, it fails);
* each PrometheusRule holds exactly the groups of the plain rule file (and neither format writes
  the other), every alert is checked by its environment's tests both silent and firing, and
  every shared SLI family by a test of what it records;
* PrometheusRule, ServiceMonitor and PodMonitor validate against the vendored
  monitoring.coreos.com schemas, with the PrometheusRule schema's Go-only regular
  expression rewritten in a temporary copy (tests/target-schemas/README.md).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from jsonschema.validators import validator_for

import packed_series
from compile_helpers import (
    ROOT,
    TARGET_SCHEMAS,
    assert_not_in_git,
    copy_specs,
    edit_yaml,
    example,
    promtool_tests_failing,
    yaml_documents,
)
from conftest import require_tool
from mlgitops.pipeline import compile_project

pytestmark = [pytest.mark.external, pytest.mark.slow]

MONITORING_SCHEMAS = TARGET_SCHEMAS / "monitoring.coreos.com"
GO_REGEX = "^(?i)(abort|warn)?$"
ECMA_REGEX = "^([aA][bB][oO][rR][tT]|[wW][aA][rR][nN])?$"
HOSTILE_ROUTE = '{{ $labels.model }} on-call {{ "x" }} }} {{-'
HOSTILE_OWNER = "team {{ .Value }}"


def _standard_mode(root: Path) -> None:
    edit_yaml(
        root / "mlgitops.yaml", lambda d: d["spec"]["defaults"]["serving"].update(deploymentMode="standard")
    )


def _edge(root: Path) -> None:
    def change(model: Any) -> None:
        model["metadata"]["owner"] = HOSTILE_OWNER
        model["spec"]["monitoring"] |= {
            "alerts": {"route": HOSTILE_ROUTE},
            "drift": {"features": ["petal_length"], "method": "ks", "threshold": 0.15},
            "metrics": {
                "requests": 'http_requests_total{job=~"iris(-canary)?", handler!~"/(health|metrics).*"}',
                "errors": 'http_failures_total{job=~"iris.*", reason!=""}',
                "latency": 'inference_latency_ms_bucket{path=~"/v[12]/models/.+"}',
                "latencyUnit": "milliseconds",
            },
        }

    edit_yaml(root / "models/iris-classifier.yaml", change)


def _benchmark(root: Path) -> None:
    shutil.rmtree(root)
    generator = ROOT / "benchmarks" / "generate.py"
    subprocess.run([sys.executable, str(generator), "12", str(root)], check=True, capture_output=True)


# variant → (example to copy, or None for the benchmark, and an edit of the copy)
VARIANTS: dict[str, tuple[str, Callable[[Path], None] | None]] = {
    "quickstart": ("quickstart", None),
    "platform": ("platform", None),
    "gitlab-flux-k8s": ("gitlab-flux-k8s", None),
    "quickstart-standard": ("quickstart", _standard_mode),
    "quickstart-edge": ("quickstart", _edge),
    "benchmark-12": ("quickstart", _benchmark),
}


def _rule_format(root: Path, rule_format: str) -> None:
    edit_yaml(root / "mlgitops.yaml", lambda d: d["spec"].update(prometheus={"format": rule_format}))


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """variant → the project compiled with plain rule files; variant + "-operator" → with
    PrometheusRule objects."""
    out = {}
    for variant, (name, change) in VARIANTS.items():
        for rule_format, key in (("files", variant), ("operator", f"{variant}-operator")):
            root = copy_specs(example(name), tmp_path_factory.mktemp("rules") / key)
            assert_not_in_git(root)
            if change is not None:
                change(root)
            _rule_format(root, rule_format)
            result = compile_project(root, use_cache=False)
            shown = "\n".join(f"{d.location}: {d.code} {d.message}" for d in result.diagnostics)
            assert result.ok, f"{key} does not compile:\n{shown}"
            out[key] = root
    return out


def rule_files(root: Path) -> list[Path]:
    files = sorted(p for p in (root / "deploy/prometheus").rglob("*.rules.yml"))
    assert files, f"no rule files under {root}/deploy/prometheus"
    return files


def unit_test_files(root: Path) -> list[Path]:
    return sorted((root / "deploy/prometheus").rglob("*.rules.test.yml"))


def alert_names(rule_file: Path) -> set[str]:
    groups = yaml.safe_load(rule_file.read_text(encoding="utf-8"))["groups"]
    return {rule["alert"] for group in groups for rule in group["rules"] if "alert" in rule}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_promtool_accepts_every_rule_file(compiled: dict[str, Path], variant: str) -> None:
    promtool = require_tool("promtool")
    files = rule_files(compiled[variant])
    run = subprocess.run(
        [promtool, "check", "rules", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_promtool_unit_tests_pass(compiled: dict[str, Path], variant: str) -> None:
    promtool = require_tool("promtool")

    root = compiled[variant]
    tests = unit_test_files(root)
    environments = {f.parent for f in rule_files(root)}
    assert {t.parent for t in tests} == environments, "an environment without its unit-test file"
    failures = promtool_tests_failing(promtool, tests)
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_alert_and_family_is_tested(compiled: dict[str, Path], variant: str) -> None:
    """Each environment's suite shows every alert of its rule files silent and firing, and checks
    what every shared SLI family records, with one model per alert shape rather than every model."""
    root = compiled[variant]
    for env in sorted({f.parent for f in unit_test_files(root)}):
        alerts = set().union(*(alert_names(f) for f in env.glob("*.rules.yml")))
        suites = [yaml.safe_load(f.read_text(encoding="utf-8")) for f in sorted(env.glob("*.rules.test.yml"))]
        tests = [test for suite in suites for test in suite["tests"]]
        for suite in suites:  # the shared rules built for the suite's model, and real per-model files
            assert suite["rule_files"][0].endswith(".slice-rules.yml")
            own = {f.name for f in env.glob("*.rules.yml")} - {"_slo.rules.yml"}
            assert set(suite["rule_files"][1:]) <= own
        checks = [check for test in tests for check in test.get("alert_rule_test", [])]
        firing = {c["alertname"] for c in checks if c["exp_alerts"]}
        silent = {c["alertname"] for c in checks if not c["exp_alerts"]}
        # an SLO's two alerts sharing one name (alerting.name) are checked through ALERTS
        for test in tests:
            for check in test.get("promql_expr_test", []):
                named = re.match(r'ALERTS\{alertname="([^"]+)"', check["expr"])
                if named:
                    (firing if check["exp_samples"] else silent).add(named.group(1))
        where = env.relative_to(root)
        assert alerts <= firing, f"{where}: never shown firing: {sorted(alerts - firing)}"
        assert alerts <= silent, f"{where}: never shown silent: {sorted(alerts - silent)}"
        shared = yaml.safe_load((env / "_slo.rules.yml").read_text(encoding="utf-8"))["groups"]
        families = {
            family
            for g in shared
            if g["name"].endswith("/2-sli")
            for rule in g["rules"]
            for family in re.findall(r"^# family (\S+)$", rule["expr"], re.MULTILINE)
        }
        assert families
        tested = {t["name"].split()[2].rstrip(":") for t in tests if t["name"].split()[1:2] == ["family"]}
        assert families == tested, f"{where}: families without a test: {sorted(families - tested)}"


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_one_rule_format(compiled: dict[str, Path], variant: str) -> None:
    """``files`` writes no PrometheusRule, ``operator`` no plain rule file; their groups are the same."""
    files, operator = compiled[variant], compiled[f"{variant}-operator"]
    assert not list((files / "deploy").rglob("prometheusrule*.yaml"))
    assert not (operator / "deploy/prometheus").exists()
    for rule_file in rule_files(files):
        env, stem = rule_file.parent.name, rule_file.name.removesuffix(".rules.yml")
        # the shared groups are an object each (prometheus.shared_parts), in the groups' order
        manifests = (
            sorted((operator / "deploy" / env).glob("prometheusrule-slo-*.yaml"))
            if stem == "_slo"
            else [operator / "deploy" / env / stem / "prometheusrule.yaml"]
        )
        plain = yaml.safe_load(rule_file.read_text(encoding="utf-8"))
        objects = [yaml.safe_load(m.read_text(encoding="utf-8")) for m in manifests]
        groups = [g for manifest in objects for g in manifest["spec"]["groups"]]
        assert groups == plain["groups"], f"{rule_file} differs from its PrometheusRule"


@pytest.fixture(scope="module")
def schemas(tmp_path_factory: pytest.TempPathFactory) -> dict[str, jsonschema.protocols.Validator]:
    """kind → validator, from a temporary copy of the schemas with the Go regex rewritten."""
    copy = tmp_path_factory.mktemp("schemas")
    out = {}
    for kind in ("PrometheusRule", "ServiceMonitor", "PodMonitor"):
        source = MONITORING_SCHEMAS / f"{kind.lower()}_v1.json"
        text = source.read_text(encoding="utf-8")
        if kind == "PrometheusRule":
            assert json.dumps(GO_REGEX) in text, "the vendored schema changed: revisit the rewrite"
            text = text.replace(json.dumps(GO_REGEX), json.dumps(ECMA_REGEX))
        (copy / source.name).write_text(text, encoding="utf-8")
        schema = json.loads(text)
        out[kind] = validator_for(schema)(schema)
    return out


def test_the_rewritten_regex_is_in_force(schemas: dict[str, jsonschema.protocols.Validator]) -> None:
    rule = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": {"name": "x"}}
    for strategy, valid in (("abort", True), ("Warn", True), ("", True), ("drop", False)):
        rule["spec"] = {"groups": [{"name": "g", "partial_response_strategy": strategy, "rules": []}]}
        assert schemas["PrometheusRule"].is_valid(rule) is valid, strategy


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_monitoring_objects_match_their_schemas(
    compiled: dict[str, Path], variant: str, schemas: dict[str, jsonschema.protocols.Validator]
) -> None:
    problems, kinds = [], set()
    for path, document in yaml_documents(compiled[f"{variant}-operator"]):
        validator = schemas.get(document["kind"])
        if validator is None or document["apiVersion"] != "monitoring.coreos.com/v1":
            continue
        kinds.add(document["kind"])
        problems += [
            f"{path}: {'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(document)
        ]
    assert not problems, "\n".join(problems)
    monitor = "ServiceMonitor" if variant == "gitlab-flux-k8s" else "PodMonitor"
    assert {"PrometheusRule", monitor} <= kinds, f"{variant}: {sorted(kinds)}"


def test_check_jsonschema_accepts_the_rewritten_schema(compiled: dict[str, Path], tmp_path: Path) -> None:
    """The same with the tool the README names (it refuses the unmodified schema outright)."""
    tool = require_tool("check-jsonschema")
    schema = tmp_path / "prometheusrule_v1.json"
    text = (MONITORING_SCHEMAS / "prometheusrule_v1.json").read_text(encoding="utf-8")
    schema.write_text(text.replace(json.dumps(GO_REGEX), json.dumps(ECMA_REGEX)), encoding="utf-8")
    rules = sorted((compiled["platform-operator"] / "deploy").rglob("prometheusrule*.yaml"))
    run = subprocess.run(
        [tool, "--schemafile", str(schema), *map(str, rules)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_template_text_in_the_spec_reaches_alerts_literally(compiled: dict[str, Path]) -> None:
    """The edge variant's route and owner hold Go-template syntax.  Every alert of the model is a
    shared one, which takes them from the routing series: packed texts that ``label_replace``
    copies without expanding, so they are written verbatim; the unit tests (which passed above)
    expect them back verbatim on the alerts."""
    root = compiled["quickstart-edge"]
    assert not (root / "deploy/prometheus/prod/iris-classifier.rules.yml").exists()
    text = (root / "deploy/prometheus/prod/_slo.rules.yml").read_text(encoding="utf-8")
    rules = [rule for group in yaml.safe_load(text)["groups"] for rule in group["rules"]]
    (routing,) = [rule["expr"] for rule in rules if rule.get("record") == "mlgitops_slo:alert_route:info"]
    owners, routes = (packed_series.series(part) for part in routing.split("group_left (route)"))
    assert owners and all(labels["owner"] == HOSTILE_OWNER for _, labels in owners)
    assert routes and all(labels["route"] == HOSTILE_ROUTE for _, labels in routes)
    # no alert writes them in its own (templated) labels
    assert not any({"owner", "route"} & set(rule.get("labels", {})) for rule in rules if "alert" in rule)
    suites = [yaml.safe_load(f.read_text()) for f in unit_test_files(root) if f.parent.name == "prod"]
    expected = [
        a["exp_labels"]
        for suite in suites
        for t in suite["tests"]
        for c in t.get("alert_rule_test", [])
        for a in c["exp_alerts"]
    ]
    assert expected and all(e["route"] == HOSTILE_ROUTE and e["owner"] == HOSTILE_OWNER for e in expected)
