"""`mlgitops explain`: each resolved serving value, with the file:line and layer it came from.

Layers, lowest first: mlgitops default < project defaults < environment < model <
deployment (the model's per-environment override).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from compile_helpers import copy_specs, edit_yaml, example
from conftest import CliRunner

PLATFORM = example("platform")


def line_of(relative: str, needle: str) -> int:
    """The 1-based line of the only line of ``examples/platform/<relative>`` holding ``needle``."""
    lines = (PLATFORM / relative).read_text(encoding="utf-8").splitlines()
    found = [i for i, line in enumerate(lines, 1) if needle in line]
    assert len(found) == 1, f"{needle!r} is on lines {found} of {relative}"
    return found[0]


def explain_json(cli: CliRunner, *args: str) -> list[dict[str, Any]]:
    result = cli("explain", *args, "--project", str(PLATFORM), "--format", "json")
    assert result.exit_code == 0, result.output
    document: list[dict[str, Any]] = json.loads(result.stdout)
    return document


def settings_of(block: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["path"]: s for s in block["settings"]}


MODEL = "models/fraud-detector.yaml"
PROJECT = "mlgitops.yaml"
# (setting, value, layer, file, text on the line it comes from) for fraud-detector in prod
EXPECTED = [
    # the model's per-environment override
    ("serving.autoscaling.maxReplicas", 20, "deployment prod", MODEL, "maxReplicas: 20"),
    ("version", "1.4.2", "deployment prod", MODEL, "version: 1.4.2"),
    ("canary.traffic", 10, "deployment prod", MODEL, "canary: {version: 1.5.0, traffic: 10}"),
    # the model's own serving section
    ("serving.runtime", "sklearn", "model", MODEL, "runtime: sklearn"),
    ("serving.protocol", "v2", "model", MODEL, "protocol: v2"),
    # the environment's settings in the project
    ("serving.nodeSelector.acme.com/node-pool", "serving", "environment prod", PROJECT, "node-pool: serving"),
    ("serving.annotations.acme.com/cost-center", "ml-prod", "environment prod", PROJECT, "center: ml-prod"),
    # the project's defaults
    ("serving.serviceAccount", "model-reader", "project defaults", PROJECT, "serviceAccount: model-reader"),
    ("serving.deploymentMode", "serverless", "project defaults", PROJECT, "deploymentMode: serverless"),
]
BUILT_IN = [("serving.port", 8080), ("serving.autoscaling.scaleToZero", False)]


def test_json_names_the_file_line_and_layer_of_each_value(cli: CliRunner) -> None:
    [block] = explain_json(cli, "fraud-detector", "--env", "prod")
    assert (block["model"], block["environment"], block["namespace"]) == ("fraud-detector", "prod", "ml-prod")
    settings = settings_of(block)
    for path, value, layer, file, needle in EXPECTED:
        setting = settings[path]
        assert setting["value"] == value, path
        assert setting["layer"] == layer, path
        assert (setting["file"], setting["line"]) == (file, line_of(file, needle)), path
        assert setting["column"] >= 1
    for path, value in BUILT_IN:
        assert settings[path]["value"] == value
        assert settings[path]["layer"] == "mlgitops default"
        assert settings[path]["file"] is None


def test_text_shows_the_same_with_file_line_and_layer(cli: CliRunner) -> None:
    result = cli("explain", "fraud-detector", "--env", "prod", "--project", str(PLATFORM))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "fraud-detector in prod (namespace ml-prod)"
    rows = {line.split()[0]: line for line in lines[1:] if line.strip()}
    for path, _value, layer, file, needle in EXPECTED:
        assert rows[path].endswith(f"{file}:{line_of(file, needle)} ({layer})"), rows[path]
    assert rows["serving.port"].split()[1] == "8080"
    assert rows["serving.port"].endswith("built in (mlgitops default)")


def test_a_lower_layer_shows_where_no_higher_layer_overrides(cli: CliRunner) -> None:
    """dev has no deployment override of maxReplicas: the environment's value (2) wins over the
    project default (3); staging sets nothing, so the project default shows."""
    dev, staging, prod = explain_json(cli, "churn-model")
    assert [b["environment"] for b in (dev, staging, prod)] == ["dev", "staging", "prod"]
    max_dev = settings_of(dev)["serving.autoscaling.maxReplicas"]
    assert (max_dev["value"], max_dev["layer"]) == (2, "environment dev")
    assert max_dev["line"] == line_of("mlgitops.yaml", "autoscaling: {maxReplicas: 2}")
    max_staging = settings_of(staging)["serving.autoscaling.maxReplicas"]
    assert (max_staging["value"], max_staging["layer"]) == (3, "project defaults")
    assert max_staging["line"] == line_of("mlgitops.yaml", "autoscaling: {minReplicas: 1, maxReplicas: 3}")
    min_prod = settings_of(prod)["serving.autoscaling.minReplicas"]
    assert (min_prod["value"], min_prod["layer"]) == (2, "environment prod")


def test_explained_values_are_what_gets_compiled(cli: CliRunner) -> None:
    [block] = explain_json(cli, "fraud-detector", "--env", "prod")
    settings = settings_of(block)
    prod = PLATFORM / "deploy/prod/fraud-detector"
    service = yaml.safe_load(
        (prod / "inferenceservice-fraud-detector-1-4-2.yaml").read_text(encoding="utf-8")
    )
    predictor = service["spec"]["predictor"]
    assert predictor["maxReplicas"] == settings["serving.autoscaling.maxReplicas"]["value"]
    assert predictor["minReplicas"] == settings["serving.autoscaling.minReplicas"]["value"]
    assert predictor["serviceAccountName"] == settings["serving.serviceAccount"]["value"]
    assert predictor["nodeSelector"] == {
        "acme.com/node-pool": settings["serving.nodeSelector.acme.com/node-pool"]["value"]
    }
    # the route carries the split (docs/traffic.md)
    route = yaml.safe_load((prod / "httproute.yaml").read_text(encoding="utf-8"))
    weights = [ref["weight"] for ref in route["spec"]["rules"][0]["backendRefs"]]
    assert weights[1] == settings["canary.traffic"]["value"] == 100 - weights[0]


def test_every_environment_without_env(cli: CliRunner) -> None:
    blocks = explain_json(cli, "support-llm")
    assert [(b["environment"], b["namespace"]) for b in blocks] == [
        ("dev", "ml-dev"),
        ("staging", "ml-staging"),
        ("prod", "ml-prod"),
    ]
    dev = settings_of(blocks[0])
    assert dev["serving.autoscaling.scaleToZero"]["value"] is True
    assert dev["serving.autoscaling.scaleToZero"]["layer"] == "deployment dev"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("fraud-detectr",), "did you mean 'fraud-detector'"),
        (("no-such-model-at-all",), "fraud-detector"),  # lists the models when nothing is close
        (("fraud-detector", "--env", "prd"), "did you mean 'prod'"),
        (("fraud-detector", "--env", "qa"), "no environment named 'qa'"),
    ],
)
def test_unknown_model_or_environment_exits_1_with_a_hint(
    cli: CliRunner, args: tuple[str, ...], expected: str
) -> None:
    result = cli("explain", *args, "--project", str(PLATFORM))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert expected in result.stderr


def test_an_invalid_project_exits_1(cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "mlgitops.yaml").write_text(
        (PLATFORM / "mlgitops.yaml").read_text().replace("kserve", "kserv")
    )
    for spec in (PLATFORM / "models").glob("*.yaml"):
        (tmp_path / "models" / spec.name).write_text(spec.read_text())
    result = cli("explain", "fraud-detector", "--project", str(tmp_path))
    assert result.exit_code == 1
    assert "MLG" in result.stderr


def test_an_explicit_null_shows_as_the_platform_default(cli: CliRunner, tmp_path: Path) -> None:
    """A null that removed mlgitops' default shows where it was written, not as a value."""
    root = copy_specs(example("quickstart"), tmp_path / "q")
    model = root / "models/iris-classifier.yaml"
    edit_yaml(model, lambda data: data["spec"]["deployments"]["prod"].update({"resources": None}))
    edit_yaml(model, lambda data: data["spec"]["serving"].update({"protocol": None}))
    lines = model.read_text(encoding="utf-8").splitlines()
    protocol_line = next(i for i, line in enumerate(lines, 1) if line.strip() == "protocol: null")
    result = cli("explain", "iris-classifier", "--env", "prod", "--project", str(root), "--format", "json")
    assert result.exit_code == 0, result.output
    settings = settings_of(json.loads(result.stdout)[0])
    assert settings["serving.protocol"] == {
        "path": "serving.protocol",
        "value": None,
        "layer": "model",
        "file": "models/iris-classifier.yaml",
        "line": protocol_line,
        "column": settings["serving.protocol"]["column"],
        "platformDefault": True,
    }
    assert settings["serving.resources"]["platformDefault"] is True
    assert not [path for path in settings if path.startswith("serving.resources.")]
    assert "platformDefault" not in settings["serving.runtime"]
    text = cli("explain", "iris-classifier", "--env", "prod", "--project", str(root)).stdout
    row = next(line for line in text.splitlines() if "serving.protocol" in line)
    assert " ".join(row.split()[1:]) == (
        f"null platform default (null in models/iris-classifier.yaml:{protocol_line}, model)"
    )


def _retire_churn_model(tmp_path: Path) -> Path:
    """A copy of the platform example whose churn-model is retired (and no longer deployed)."""
    root = tmp_path / "platform"
    shutil.copytree(PLATFORM, root)
    spec = root / "models" / "churn-model.yaml"
    text = spec.read_text(encoding="utf-8")
    start, end = text.index("  deployments:\n"), text.index("  monitoring:\n")
    text = text[:start] + text[end:]
    spec.write_text(text.replace("stage: deprecated", "stage: retired\n    replacedBy: fraud-detector"))
    return root


def test_a_retired_model_says_so_instead_of_printing_nothing(cli: CliRunner, tmp_path: Path) -> None:
    root = _retire_churn_model(tmp_path)
    stage_line = next(
        number
        for number, line in enumerate((root / "models/churn-model.yaml").read_text().splitlines(), 1)
        if "stage: retired" in line
    )
    expected = [
        "churn-model is retired: nothing is generated for it, so no setting applies",
        f"  lifecycle.stage       retired (models/churn-model.yaml:{stage_line})",
        "  lifecycle.sunset      2027-12-31",
        "  lifecycle.replacedBy  fraud-detector",
    ]
    for env in ((), ("--env", "prod")):
        result = cli("explain", "churn-model", *env, "--project", str(root))
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines()[:4] == expected
        assert result.stdout.splitlines()[4].startswith("  lifecycle.reason      Churn scores move")
    as_json = cli("explain", "churn-model", "--project", str(root), "--format", "json")
    assert as_json.exit_code == 0 and json.loads(as_json.stdout) == []
    assert as_json.stderr.splitlines()[0] == expected[0]
    # a model that is merely deprecated is explained as before
    assert cli("explain", "churn-model", "--project", str(PLATFORM)).stdout.startswith("churn-model in dev")


def test_integers_print_as_integers(cli: CliRunner) -> None:
    result = cli("explain", "support-llm", "--env", "prod", "--project", str(PLATFORM))
    assert result.exit_code == 0, result.output
    (row,) = [line for line in result.stdout.splitlines() if "serving.autoscaling.target" in line]
    assert row.split()[1] == "4", row
    as_json = cli("explain", "support-llm", "--env", "prod", "--project", str(PLATFORM), "--format", "json")
    (setting,) = [
        s for s in json.loads(as_json.stdout)[0]["settings"] if s["path"] == "serving.autoscaling.target"
    ]
    assert type(setting["value"]) is int and setting["value"] == 4
