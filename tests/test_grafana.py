"""Grafana dashboards (issue 5, item 6): a JSON file per model and a ConfigMap per environment.

Compiled into temporary copies: every example and the benchmark generator's project with
12 models.  For each:

* every ``deploy/dashboards/<model>.json`` validates against the Grafana dashboard schema
  (``tests/target-schemas/grafana``, strict: no legacy keys), is canonical JSON, and exists
  exactly for each deployed model with monitoring;
* panel ids are unique, fixed per panel, and the same in every compile (another directory,
  another model added, the model's drift removed);
* every panel query names the model (or is the spec's own selector override), is valid
  PromQL (``promtool check rules``), and reads the very recording rules and drift gauge
  that the generated PrometheusRule defines;
* each environment's ``dashboard-configmap.yaml`` validates in strict mode against
  Kubernetes 1.30, carries ``grafana_dashboard: "1"``, is in the kustomization, and holds
  the file's dashboard for that environment (the documented transformation, re-done here).
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from jsonschema.validators import validator_for

from compile_helpers import (
    EXAMPLES,
    ROOT,
    TARGET_SCHEMAS,
    compile_clean,
    copy_specs,
    edit_yaml,
    example,
)
from conftest import require_tool
from mlgitops.pipeline import compile_project

pytestmark = pytest.mark.external

KUBERNETES_VERSION = "1.30"
BENCHMARK = "benchmark-12"
PROJECT_IDS = [p.name for p in EXAMPLES] + [BENCHMARK]
SCHEMA = TARGET_SCHEMAS / "grafana" / "dashboard.jsonschema.json"
# Panel title (up to any parenthesis) → its fixed id.
PANEL_IDS = {
    "Request rate": 1,
    "Error ratio": 2,
    "Latency": 3,
    "Canary versus stable traffic": 4,
    "Replicas": 5,
    "Remaining error budget": 6,
    "Burn rate": 7,
    "Drift per feature": 8,
}
# A recording rule and its matchers (which hold Grafana's "${environment:text}").
RULE_REFERENCE = re.compile(r"(mlgitops:slo_(?:errors|latency):ratio_rate\w+)\{((?:[^{}]|\$\{[^}]*\})*)\}")
UID_MAX = 40


def _generate(destination: Path) -> Path:
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks/generate.py"), "12", str(destination)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return destination


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("grafana")
    out = {p.name: compile_clean(copy_specs(p, base / p.name)) for p in EXAMPLES}
    out[BENCHMARK] = compile_clean(_generate(base / BENCHMARK))
    return out


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _models(root: Path) -> dict[str, Any]:
    return {m["metadata"]["name"]: m for m in map(_load, sorted(root.glob("models/**/*.yaml")))}


def _environments(root: Path) -> dict[str, str]:
    return {e["name"]: e["namespace"] for e in _load(root / "mlgitops.yaml")["spec"]["environments"]}


def _dashboards(root: Path) -> dict[str, Any]:
    return {p.stem: json.loads(p.read_bytes()) for p in sorted((root / "deploy/dashboards").glob("*.json"))}


def _configmaps(root: Path) -> dict[tuple[str, str], Any]:
    """(model, environment) → ConfigMap."""
    return {
        (p.parent.name, p.parent.parent.name): _load(p)
        for p in sorted((root / "deploy").glob("*/*/dashboard-configmap.yaml"))
    }


def _panels(dashboard: Any) -> list[Any]:
    return [inner for panel in dashboard["panels"] for inner in [panel, *panel.get("panels", [])]]


def _queries(dashboard: Any) -> list[tuple[str, str]]:
    """(panel title, expression) of every query, annotations included."""
    out = [(p["title"], t["expr"]) for p in _panels(dashboard) for t in p.get("targets", [])]
    out += [(a["name"], a["expr"]) for a in dashboard["annotations"]["list"] if "expr" in a]
    return out


def test_the_projects_exercise_the_dashboards(projects: dict[str, Path]) -> None:
    titles = {
        p["title"].split(" (")[0]
        for root in projects.values()
        for d in _dashboards(root).values()
        for p in _panels(d)
    }
    assert titles == set(PANEL_IDS), "some panel never occurs: the tests below would not check it"


@pytest.mark.parametrize("project", PROJECT_IDS)
def test_a_dashboard_for_each_deployed_model_with_monitoring(projects: dict[str, Path], project: str) -> None:
    root = projects[project]
    expected = set()
    for name, spec in _models(root).items():
        monitoring = spec["spec"].get("monitoring") or {}
        retired = spec["spec"].get("lifecycle", {}).get("stage") == "retired"
        if spec["spec"].get("deployments") and not retired and monitoring:
            expected.add(name)
    assert set(_dashboards(root)) == expected


@pytest.mark.parametrize("project", PROJECT_IDS)
def test_dashboards_match_the_grafana_schema(projects: dict[str, Path], project: str) -> None:
    schema = json.loads(SCHEMA.read_bytes())
    validator = validator_for(schema)(schema)
    problems = []
    for name, dashboard in _dashboards(projects[project]).items():
        for error in sorted(validator.iter_errors(dashboard), key=lambda e: list(e.absolute_path)):
            problems.append(f"{name}: {'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}")
        for panel in _panels(dashboard):
            assert panel.get("targets"), f"{name}: panel {panel['title']!r} has no query"
    assert not problems, "\n".join(problems[:30])


def test_the_schema_is_not_vacuous(projects: dict[str, Path]) -> None:
    schema = json.loads(SCHEMA.read_bytes())
    dashboard = _dashboards(projects["platform"])["fraud-detector"]
    jsonschema.validate(dashboard, schema)
    for legacy in ({"__inputs": []}, {"rows": []}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**dashboard, **legacy}, schema)
    broken = copy.deepcopy(dashboard)
    broken["panels"][0]["gridPos"]["w"] = 25
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


@pytest.mark.parametrize("project", PROJECT_IDS)
def test_dashboards_are_canonical_json(projects: dict[str, Path], project: str) -> None:
    for path in sorted((projects[project] / "deploy/dashboards").glob("*.json")):
        text = path.read_text(encoding="utf-8")
        canonical = json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        assert text == canonical, f"{path.name} is not canonical JSON"


@pytest.mark.parametrize("project", PROJECT_IDS)
def test_panel_ids_are_unique_and_fixed(projects: dict[str, Path], project: str) -> None:
    for name, dashboard in _dashboards(projects[project]).items():
        ids = [panel["id"] for panel in _panels(dashboard)]
        assert len(ids) == len(set(ids)), f"{name}: duplicate panel ids {ids}"
        for panel in _panels(dashboard):
            assert panel["id"] == PANEL_IDS[panel["title"].split(" (")[0]], f"{name}: {panel['title']}"


def test_panel_ids_are_stable_across_compiles(projects: dict[str, Path], tmp_path: Path) -> None:
    """The same bytes from another directory; the same ids with a model added or the drift removed."""
    first = projects["platform"]
    again = compile_clean(copy_specs(example("platform"), tmp_path / "again"))
    for name in _dashboards(first):
        assert (first / f"deploy/dashboards/{name}.json").read_bytes() == (
            again / f"deploy/dashboards/{name}.json"
        ).read_bytes()
    changed = copy_specs(example("platform"), tmp_path / "changed")
    shutil.copy(changed / "models/churn-model.yaml", changed / "models/churn-model-2.yaml")
    edit_yaml(changed / "models/churn-model-2.yaml", lambda d: d["metadata"].update(name="churn-model-2"))
    edit_yaml(changed / "models/fraud-detector.yaml", lambda d: d["spec"]["monitoring"].pop("drift"))
    compile_clean(changed)
    before, after = _dashboards(first), _dashboards(changed)
    assert "churn-model-2" in after
    for name in before:
        ids_before = {
            p["title"]: p["id"] for p in _panels(before[name]) if not p["title"].startswith("Drift")
        }
        ids_after = {p["title"]: p["id"] for p in _panels(after[name])}
        assert ids_before == ids_after, name
    assert not [p for p in _panels(after["fraud-detector"]) if p["title"].startswith("Drift")]


@pytest.mark.parametrize("project", PROJECT_IDS)
def test_every_query_is_about_its_model(projects: dict[str, Path], project: str) -> None:
    """Each query names the model, except one built only from the spec's own selector override
    (its author scoped it; the dashboard adds the environment's namespace)."""
    root = projects[project]
    models = _models(root)
    for name, dashboard in _dashboards(root).items():
        overrides = [
            metric.split("{")[0]
            for key, metric in ((models[name]["spec"].get("monitoring") or {}).get("metrics") or {}).items()
            if key != "latencyUnit"
        ]
        queries = _queries(dashboard)
        assert queries
        for title, expr in queries:
            assert f'"{name}' in expr or any(o in expr for o in overrides), f"{name}: {title}: {expr}"


def _substituted(expr: str, env: str, namespace: str) -> str:
    return expr.replace("${environment:text}", env).replace("$environment", namespace)


@pytest.mark.parametrize("project", PROJECT_IDS)
def test_queries_are_valid_promql(projects: dict[str, Path], project: str, tmp_path: Path) -> None:
    root = projects[project]
    env, namespace = next(iter(_environments(root).items()))
    rules = [
        {"record": f"dashboard:check_{index}", "expr": _substituted(expr, env, namespace)}
        for index, (_, expr) in enumerate(q for d in _dashboards(root).values() for q in _queries(d))
    ]
    assert rules
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}), encoding="utf-8")
    run = subprocess.run(
        [require_tool("promtool"), "check", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("project", PROJECT_IDS)
def test_queries_read_the_prometheus_rules_series(projects: dict[str, Path], project: str) -> None:
    """Every recording rule a dashboard reads is recorded, with the labels it selects, by the
    PrometheusRule of that model in each environment; the drift panel reads the alert's gauge."""
    root = projects[project]
    for name, dashboard in _dashboards(root).items():
        for env in _models(root)[name]["spec"]["deployments"]:
            rule_file = root / f"deploy/{env}/{name}/prometheusrule.yaml"
            recorded = set()
            alerted = ""
            if rule_file.is_file():
                for group in _load(rule_file)["spec"]["groups"]:
                    for rule in group["rules"]:
                        if "record" in rule:
                            recorded.add(
                                (rule["record"], rule["labels"]["model"], rule["labels"]["environment"])
                            )
                        else:
                            alerted += rule["expr"]
            for title, expr in _queries(dashboard):
                for record, matchers in RULE_REFERENCE.findall(expr):
                    assert f'model="{name}"' in matchers and 'environment="${environment:text}"' in matchers
                    assert (record, name, env) in recorded, f"{name} ({env}): {title} reads {record}"
                if "mlgitops_feature_drift" in expr:
                    assert "mlgitops_feature_drift{" in alerted, f"{name} ({env}): no drift alert"


@pytest.mark.parametrize("project", PROJECT_IDS)
def test_configmaps_validate_strictly_and_are_kustomized(projects: dict[str, Path], project: str) -> None:
    root = projects[project]
    configmaps = _configmaps(root)
    assert set(configmaps) == {
        (name, env) for name in _dashboards(root) for env in _models(root)[name]["spec"]["deployments"]
    }
    namespaces = _environments(root)
    for (name, env), configmap in configmaps.items():
        kubernetes_validate.validate(configmap, KUBERNETES_VERSION, strict=True)
        assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert configmap["metadata"]["namespace"] == namespaces[env]
        kustomization = _load(root / f"deploy/{env}/kustomization.yaml")
        assert f"{name}/dashboard-configmap.yaml" in kustomization["resources"]


def _for_environment(dashboard: Any, model: str, env: str, namespace: str) -> Any:
    """docs/dashboards.md: an environment's copy has its own uid and title, and the environment
    variable offers that environment only."""
    expected = copy.deepcopy(dashboard)
    uid = f"mlgitops-{model}_{env}"
    if len(uid) > UID_MAX:
        assert len(dashboard["uid"]) <= UID_MAX
        uid = None  # hashed: checked for length and uniqueness below
    expected["uid"] = uid
    expected["title"] = f"{model} ({env})"
    option = {"selected": True, "text": env, "value": namespace}
    for variable in expected["templating"]["list"]:
        if variable["name"] == "environment":
            variable.update(query=f"{env} : {namespace}", current=option, options=[option])
    return expected


@pytest.mark.parametrize("project", PROJECT_IDS)
def test_configmaps_hold_the_dashboard_of_their_environment(projects: dict[str, Path], project: str) -> None:
    root = projects[project]
    dashboards = _dashboards(root)
    namespaces = _environments(root)
    uids = set()
    for (name, env), configmap in _configmaps(root).items():
        (key,) = configmap["data"]
        assert key == f"{name}-{env}.json", "one file name per model and environment for the sidecar"
        held = json.loads(configmap["data"][key])
        expected = _for_environment(dashboards[name], name, env, namespaces[env])
        if expected["uid"] is None:
            expected["uid"] = held["uid"]
            assert len(held["uid"]) <= UID_MAX
        assert held == expected, f"{env}/{name}"
        uids.add(held["uid"])
    uids |= {d["uid"] for d in dashboards.values()}
    assert len(uids) == len(_configmaps(root)) + len(dashboards), "dashboard uids must be unique"


def test_the_file_offers_every_environment_of_the_model(projects: dict[str, Path]) -> None:
    dashboard = _dashboards(projects["platform"])["fraud-detector"]
    (variable,) = [v for v in dashboard["templating"]["list"] if v["name"] == "environment"]
    assert variable["query"] == "dev : ml-dev,staging : ml-staging,prod : ml-prod"
    assert variable["current"] == {"selected": True, "text": "prod", "value": "ml-prod"}
    assert dashboard["uid"] == "mlgitops-fraud-detector"


def test_an_override_template_with_duplicate_panel_ids_is_a_template_error(tmp_path: Path) -> None:
    root = copy_specs(example("quickstart"), tmp_path / "quickstart")
    edit_yaml(root / "mlgitops.yaml", lambda d: d["spec"].update(templates="overrides"))
    template = root / "overrides/grafana/dashboard.yaml.j2"
    template.parent.mkdir(parents=True)
    builtin = (ROOT / "templates/grafana/dashboard.yaml.j2").read_text(encoding="utf-8")
    template.write_text(builtin.replace("  - id: 2\n", "  - id: 1\n"), encoding="utf-8")
    result = compile_project(root, use_cache=False)
    assert not result.ok
    (problem,) = result.diagnostics
    assert problem.code == "MLG503" and "unique integer ids" in problem.message
    assert problem.location is not None and problem.location.file == "overrides/grafana/dashboard.yaml.j2"
    assert not (root / "deploy").exists(), "nothing is written when a template fails"
