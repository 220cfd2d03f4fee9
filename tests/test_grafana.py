"""Grafana dashboards (issue 14): two generic dashboards per project, one per model on request.

Compiled into temporary copies: every example and the benchmark generator's project with
12 models.  For each:

* ``deploy/dashboards/slo-overview.json`` and ``models.json`` exist exactly when some deployed
  model has monitoring, validate against the Grafana dashboard schema
  (``tests/target-schemas/grafana``, strict: no legacy keys) and are canonical JSON;
* panel ids are unique and fixed per panel; runtime rows appear exactly for the runtimes served;
* no query names a model; every query is valid PromQL (``promtool check rules``) and names only
  series the rules record (the series contract) or the scraped targets export;
* the variables read the SLO metadata series;
* each environment's ``dashboards-configmap.yaml`` validates in strict mode against
  Kubernetes 1.30, carries ``grafana_dashboard: "1"`` and the folder annotation, is in the
  kustomization, is under 1 MiB, and holds the files' dashboards for that environment.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
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
    generated_project,
)
from conftest import require_tool
from mlgitops.pipeline import compile_project
from mlgitops.targets.monitoring import grafana_queries

pytestmark = pytest.mark.external

KUBERNETES_VERSION = "1.30"
BENCHMARK = "benchmark-12"
PROJECT_IDS = [p.name for p in EXAMPLES] + [BENCHMARK]
SCHEMA = TARGET_SCHEMAS / "grafana" / "dashboard.jsonschema.json"
STEMS = ("models", "slo-overview")
# Panel title → its fixed id.
PANEL_IDS = {
    "SLOs at risk": 1,
    "Remaining error budget": 2,
    "Objectives": 3,
    "Burn rate": 4,
    "Bad-request ratio": 5,
    "Request rate": 6,
    "Replicas": 7,
    "Drift per feature": 8,
    "Triton": 20,
    "Triton queue and compute time": 21,
    "GPU utilization": 22,
    "GPU memory used": 23,
    "vLLM": 30,
    "Tokens per second": 31,
    "vLLM requests queued and running": 32,
}
RUNTIME_ROW_IDS = {"triton": 20, "vllm": 30}
KNOWN_SERIES = grafana_queries.SHARED_SERIES | grafana_queries.SCRAPED_SERIES
CONFIGMAP_LIMIT = 1 << 20
UID_MAX = 40
VARIABLES = {
    "$environment": "prod",
    "$model": "fraud-detector",
    "$slo": "availability",
    "$namespace": "ml-prod",
    "${datasource}": "prometheus",
}


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("grafana")
    out = {p.name: compile_clean(copy_specs(p, base / p.name)) for p in EXAMPLES}
    out[BENCHMARK] = compile_clean(generated_project(base / BENCHMARK, 12))
    return out


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _models(root: Path) -> dict[str, Any]:
    return {m["metadata"]["name"]: m for m in map(_load, sorted(root.glob("models/**/*.yaml")))}


def _environments(root: Path) -> dict[str, str]:
    return {e["name"]: e["namespace"] for e in _load(root / "mlgitops.yaml")["spec"]["environments"]}


def _dashboards(root: Path) -> dict[str, Any]:
    return {p.stem: json.loads(p.read_bytes()) for p in sorted((root / "deploy/dashboards").glob("*.json"))}


def _configmaps(root: Path) -> dict[str, Any]:
    """environment → the ConfigMap of the project's dashboards."""
    return {p.parent.name: _load(p) for p in sorted((root / "deploy").glob("*/dashboards-configmap.yaml"))}


def _panels(dashboard: Any) -> list[Any]:
    return [inner for panel in dashboard["panels"] for inner in [panel, *panel.get("panels", [])]]


def _queries(dashboard: Any) -> list[tuple[str, str]]:
    """(panel or variable, expression) of every query, annotations and variables included."""
    out = [(p["title"], t["expr"]) for p in _panels(dashboard) for t in p.get("targets", [])]
    out += [(a["name"], a["expr"]) for a in dashboard["annotations"]["list"] if "expr" in a]
    out += [(v["name"], v["query"]) for v in dashboard["templating"]["list"] if v["type"] == "query"]
    return out


def _runtimes(root: Path) -> set[str]:
    served = {
        (m["spec"].get("serving") or {}).get("runtime")
        for m in _models(root).values()
        if m["spec"].get("deployments") and m["spec"].get("monitoring")
    }
    return {family for family, members in grafana_queries.RUNTIME_ROWS.items() if served & members}


# PromQL words that are not series: functions (followed by "("), aggregation modifiers, operators.
_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool"}
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring)\s*\([^)]*\)")
_NAME = re.compile(r"(?<![\w:.])([a-zA-Z_:][\w:]*)(?![\w:]*\s*\()")


def series_names(expr: str) -> set[str]:
    """The series an expression (or ``label_values(...)`` query) selects."""
    text = _STRINGS.sub('""', expr)
    text = re.sub(r"\{[^}]*\}", "", text)  # matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # range durations
    text = _GROUPING.sub("", text)
    if text.startswith("label_values("):
        text = text[len("label_values(") : text.rindex(",")]
    return {n for n in _NAME.findall(text) if n not in _KEYWORDS and not re.fullmatch(r"\d.*|e\d+", n)}


def test_series_names_finds_the_series_and_nothing_else() -> None:
    expr = (
        'sum by (model, slo) (mlgitops_sli:bad:rate5m{slo=~"$slo"}) / sum(rate(vllm:prompt_tokens_total'
        '{pod=~"a-b"}[5m])) or vector(0) / 1e6'
    )
    assert series_names(expr) == {"mlgitops_sli:bad:rate5m", "vllm:prompt_tokens_total"}
    assert series_names('label_values(mlgitops_slo:objective:ratio{environment="$environment"}, model)') == {
        "mlgitops_slo:objective:ratio"
    }
    assert series_names("count(made_up_series > 1)") == {"made_up_series"}


def test_the_projects_exercise_the_dashboards(projects: dict[str, Path]) -> None:
    titles = {
        p["title"] for root in projects.values() for d in _dashboards(root).values() for p in _panels(d)
    }
    assert titles == set(PANEL_IDS), "some panel never occurs: the tests below would not check it"


@pytest.mark.parametrize("project", PROJECT_IDS)
def test_two_dashboards_for_a_project_with_monitoring(projects: dict[str, Path], project: str) -> None:
    root = projects[project]
    monitored = [
        name
        for name, spec in _models(root).items()
        if spec["spec"].get("deployments")
        and spec["spec"].get("lifecycle", {}).get("stage") != "retired"
        and spec["spec"].get("monitoring")
    ]
    assert monitored, "every test project has monitoring"
    assert set(_dashboards(root)) == set(STEMS)
    assert not (root / "deploy/dashboards/models").exists(), "per-model dashboards only on request"


@pytest.mark.parametrize("project", PROJECT_IDS)
def test_dashboards_match_the_grafana_schema(projects: dict[str, Path], project: str) -> None:
    schema = json.loads(SCHEMA.read_bytes())
    validator = validator_for(schema)(schema)
    problems = []
    for name, dashboard in _dashboards(projects[project]).items():
        for error in sorted(validator.iter_errors(dashboard), key=lambda e: list(e.absolute_path)):
            problems.append(f"{name}: {'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}")
        for panel in _panels(dashboard):
            assert panel.get("targets") or panel["type"] == "row", f"{name}: {panel['title']!r} has no query"
    assert not problems, "\n".join(problems[:30])


def test_the_schema_is_not_vacuous(projects: dict[str, Path]) -> None:
    schema = json.loads(SCHEMA.read_bytes())
    dashboard = _dashboards(projects["platform"])["models"]
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
            assert panel["id"] == PANEL_IDS[panel["title"]], f"{name}: {panel['title']}"


@pytest.mark.parametrize("project", PROJECT_IDS)
def test_runtime_rows_exactly_for_the_runtimes_served(projects: dict[str, Path], project: str) -> None:
    root = projects[project]
    dashboards = _dashboards(root)
    rows = {p["id"] for p in _panels(dashboards["models"]) if p["type"] == "row"}
    assert rows == {RUNTIME_ROW_IDS[r] for r in _runtimes(root)}
    assert not [p for p in _panels(dashboards["slo-overview"]) if p["type"] == "row"]


def test_runtime_rows_come_and_go_with_the_runtime(tmp_path: Path) -> None:
    root = copy_specs(example("quickstart"), tmp_path / "quickstart")
    compile_clean(root)
    assert not [p for p in _panels(_dashboards(root)["models"]) if p["type"] == "row"]
    edit_yaml(root / "models/iris-classifier.yaml", lambda d: d["spec"]["serving"].update(runtime="triton"))
    result = compile_project(root, use_cache=False)
    assert result.ok, [d.message for d in result.diagnostics]
    assert [p["title"] for p in _panels(_dashboards(root)["models"]) if p["type"] == "row"] == ["Triton"]


@pytest.mark.parametrize("project", PROJECT_IDS)
def test_no_query_names_a_model(projects: dict[str, Path], project: str) -> None:
    root = projects[project]
    for name, dashboard in _dashboards(root).items():
        text = json.dumps(dashboard)
        for model in _models(root):
            assert f'"{model}' not in text and f"{model}-" not in text, f"{name} names {model}"


@pytest.mark.parametrize("project", PROJECT_IDS)
def test_queries_name_only_recorded_or_scraped_series(projects: dict[str, Path], project: str) -> None:
    """The series contract of the rules (grafana_queries.SHARED_SERIES) and what kube-state-metrics,
    Triton and vLLM export are the only series a dashboard may read."""
    for name, dashboard in _dashboards(projects[project]).items():
        for title, expr in _queries(dashboard):
            names = series_names(expr)
            assert names, f"{name}: {title}: no series in {expr}"
            assert names <= KNOWN_SERIES, f"{name}: {title} reads {sorted(names - KNOWN_SERIES)}"


def test_every_contract_series_is_read(projects: dict[str, Path]) -> None:
    read = {
        n
        for root in projects.values()
        for d in _dashboards(root).values()
        for _, e in _queries(d)
        for n in series_names(e)
    }
    assert read >= grafana_queries.SHARED_SERIES
    assert set(grafana_queries.TRITON_SERIES) | set(grafana_queries.VLLM_SERIES) <= read


@pytest.mark.parametrize("project", PROJECT_IDS)
def test_variables_read_the_slo_metadata(projects: dict[str, Path], project: str) -> None:
    for name, dashboard in _dashboards(projects[project]).items():
        variables = {v["name"]: v for v in dashboard["templating"]["list"]}
        assert set(variables) == {"datasource", "environment", "model", "slo", "namespace"}
        for var in ("environment", "model", "slo", "namespace"):
            query = variables[var]["query"]
            assert query.startswith(f"label_values({grafana_queries.OBJECTIVE}") and query.endswith(
                f", {var})"
            )
        assert variables["model"]["multi"] is (name == "slo-overview")


def _substituted(expr: str) -> str:
    for reference, value in VARIABLES.items():
        expr = expr.replace(reference, value)
    return expr


@pytest.mark.parametrize("project", PROJECT_IDS)
def test_queries_are_valid_promql(projects: dict[str, Path], project: str, tmp_path: Path) -> None:
    root = projects[project]
    rules = [
        {"record": f"dashboard:check_{index}", "expr": _substituted(expr)}
        for index, (_, expr) in enumerate(
            q for d in _dashboards(root).values() for q in _queries(d) if not q[1].startswith("label_values(")
        )
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
def test_configmaps_validate_strictly_and_are_kustomized(projects: dict[str, Path], project: str) -> None:
    root = projects[project]
    configmaps = _configmaps(root)
    deployed = {
        env for m in _models(root).values() if m["spec"].get("monitoring") for env in m["spec"]["deployments"]
    }
    assert set(configmaps) == deployed
    namespaces = _environments(root)
    project_name = _load(root / "mlgitops.yaml")["metadata"]["name"]
    for env, configmap in configmaps.items():
        kubernetes_validate.validate(configmap, KUBERNETES_VERSION, strict=True)
        assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert configmap["metadata"]["annotations"]["grafana_folder"] == project_name
        assert configmap["metadata"]["namespace"] == namespaces[env]
        assert (root / f"deploy/{env}/dashboards-configmap.yaml").stat().st_size < CONFIGMAP_LIMIT
        kustomization = _load(root / f"deploy/{env}/kustomization.yaml")
        assert "dashboards-configmap.yaml" in kustomization["resources"]


def _for_environment(dashboard: Any, env: str) -> Any:
    """docs/dashboards.md: an environment's copy has its own uid and title, and the environment
    variable offers that environment only."""
    expected = copy.deepcopy(dashboard)
    expected["uid"] = f"{dashboard['uid']}_{env}"
    expected["title"] = f"{dashboard['title']} ({env})"
    option = {"selected": True, "text": env, "value": env}
    for index, variable in enumerate(expected["templating"]["list"]):
        if variable["name"] == "environment":
            expected["templating"]["list"][index] = {
                "type": "custom",
                "name": "environment",
                "label": "Environment",
                "query": env,
                "current": option,
                "options": [option],
                "hide": 0,
                "includeAll": False,
                "multi": False,
                "skipUrlSync": False,
            }
    return expected


@pytest.mark.parametrize("project", PROJECT_IDS)
def test_configmaps_hold_the_dashboards_of_their_environment(projects: dict[str, Path], project: str) -> None:
    root = projects[project]
    dashboards = _dashboards(root)
    project_name = _load(root / "mlgitops.yaml")["metadata"]["name"]
    uids = {d["uid"] for d in dashboards.values()}
    for env, configmap in _configmaps(root).items():
        assert set(configmap["data"]) == {f"{project_name}-{stem}-{env}.json" for stem in STEMS}
        for stem in STEMS:
            held = json.loads(configmap["data"][f"{project_name}-{stem}-{env}.json"])
            expected = _for_environment(dashboards[stem], env)
            if len(expected["uid"]) > UID_MAX:  # hashed down to Grafana's limit
                assert len(held["uid"]) <= UID_MAX
                expected["uid"] = held["uid"]
            assert held == expected, f"{env}/{stem}"
            uids.add(held["uid"])
    assert len(uids) == len(dashboards) * (1 + len(_configmaps(root))), "dashboard uids must be unique"


def test_per_model_dashboards_on_request(tmp_path: Path) -> None:
    root = copy_specs(example("platform"), tmp_path / "platform")
    edit_yaml(root / "mlgitops.yaml", lambda d: d["spec"].update(grafana={"perModelDashboards": True}))
    compile_clean(root)
    schema = json.loads(SCHEMA.read_bytes())
    generic = _dashboards(root)["models"]
    files = sorted((root / "deploy/dashboards/models").glob("*.json"))
    assert [p.stem for p in files] == sorted(_models(root))
    for path in files:
        dashboard = json.loads(path.read_bytes())
        jsonschema.validate(dashboard, schema)
        (model,) = [v for v in dashboard["templating"]["list"] if v["name"] == "model"]
        assert model["type"] == "custom" and model["current"]["value"] == path.stem
        assert dashboard["uid"] == f"mlgitops-{path.stem}"
        assert [p["id"] for p in dashboard["panels"][:7]] == [p["id"] for p in generic["panels"][:7]]
        for env in _models(root)[path.stem]["spec"]["deployments"]:
            configmap = _load(root / f"deploy/{env}/{path.stem}/dashboard-configmap.yaml")
            kubernetes_validate.validate(configmap, KUBERNETES_VERSION, strict=True)
            held = json.loads(configmap["data"][f"{path.stem}-{env}.json"])
            assert held == _for_environment(dashboard, env)
    fraud = json.loads((root / "deploy/dashboards/models/fraud-detector.json").read_bytes())
    assert "Drift per feature" in {p["title"] for p in fraud["panels"]}
    churn = json.loads((root / "deploy/dashboards/models/churn-model.json").read_bytes())
    assert not [p for p in churn["panels"] if p["type"] == "row"], "vLLM is the support model's runtime"


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
