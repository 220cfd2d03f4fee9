"""``mlgitops gate MODEL --metrics FILE``: the evaluation gate CI runs before registration (issue 4).

Exit 0 with a table when every gate passes; exit 1 when one fails, a metric is missing, or
the file is unreadable, not JSON or not an object (a clear message, never a traceback);
nested objects give dotted metric names; ``--format json``; an unknown model or environment
is an error with a hint; a model without gates passes with a message; min and max are
inclusive.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import CliResult, CliRunner, run_mlgitops
from mlgitops.gate import MAX_METRICS_BYTES
from unprivileged import give_to_unprivileged, run_unprivileged, shared_directory


def _write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _model(name: str, evaluation: dict[str, Any] | None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "training": {"image": "ghcr.io/acme/train:1.0.0", "command": ["python", "-m", "train"]},
        "serving": {"runtime": "sklearn", "artifact": "s3://acme-models/{model}/{version}/"},
        "deployments": {"dev": {"version": "1.0.0"}, "prod": {"version": "1.0.0"}},
    }
    if evaluation is not None:
        spec["evaluation"] = evaluation
    return {
        "apiVersion": "mlgitops/v1",
        "kind": "Model",
        "metadata": {"name": name, "owner": "team"},
        "spec": spec,
    }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    _write(
        root / "mlgitops.yaml",
        {
            "apiVersion": "mlgitops/v1",
            "kind": "Project",
            "metadata": {"name": "gates"},
            "spec": {
                "repository": "https://github.com/acme/gates.git",
                "ci": "github",
                "gitops": "argocd",
                "serving": "kserve",
                "registry": {"kind": "mlflow", "trackingUri": "https://mlflow.acme.internal"},
                "environments": [
                    {"name": "dev", "namespace": "ml-dev"},
                    {"name": "prod", "namespace": "ml-prod"},
                ],
            },
        },
    )
    gates = [
        {"metric": "eval.auc", "min": 0.9},
        {"metric": "latency_p95_ms", "max": 50},
        {"metric": "calibration_error", "min": 0, "max": 0.05},
    ]
    _write(root / "models/scorer.yaml", _model("scorer", {"gates": gates}))
    _write(root / "models/ungated.yaml", _model("ungated", None))
    return root


GOOD = {"eval": {"auc": 0.95}, "latency_p95_ms": 42, "calibration_error": 0.01}


def metrics(tmp_path: Path, content: Any, *, raw: bool = False) -> Path:
    path = tmp_path / "metrics.json"
    if raw:
        path.write_bytes(content if isinstance(content, bytes) else str(content).encode())
    else:
        path.write_text(json.dumps(content), encoding="utf-8")
    return path


def gate(cli: CliRunner, project: Path, *args: str | Path) -> CliResult:
    result = cli("gate", *args, "--project", project)
    assert "Traceback" not in result.output
    return result


def rows(output: str) -> dict[str, list[str]]:
    """metric → the table row's other cells."""
    out = {}
    for line in output.splitlines():
        cells = line.split()
        if len(cells) >= 3 and cells[-1] in ("pass", "FAIL"):
            out[cells[0]] = cells[1:]
    return out


def test_all_gates_pass(cli: CliRunner, project: Path, tmp_path: Path) -> None:
    result = gate(cli, project, "scorer", "--metrics", metrics(tmp_path, GOOD))
    assert result.exit_code == 0, result.output
    table = rows(result.stdout)
    assert sorted(table) == ["calibration_error", "eval.auc", "latency_p95_ms"]
    assert all(row[-1] == "pass" for row in table.values())
    assert table["eval.auc"][0] == "0.95"
    header = result.stdout.splitlines()[0].split()
    assert header == ["metric", "value", "threshold", "result"]
    assert "all gates passed" in result.stdout


def test_a_failing_gate_fails(cli: CliRunner, project: Path, tmp_path: Path) -> None:
    result = gate(cli, project, "scorer", "--metrics", metrics(tmp_path, {**GOOD, "latency_p95_ms": 51}))
    assert result.exit_code == 1
    table = rows(result.stdout)
    assert table["latency_p95_ms"][0] == "51" and table["latency_p95_ms"][-1] == "FAIL"
    assert table["eval.auc"][-1] == "pass"
    assert "1 of 3 gates failed" in result.stdout


def test_a_missing_metric_fails(cli: CliRunner, project: Path, tmp_path: Path) -> None:
    values = {"eval": {"precision": 0.99}, "latency_p95_ms": 10, "calibration_error": "low"}
    result = gate(cli, project, "scorer", "--metrics", metrics(tmp_path, values))
    assert result.exit_code == 1
    table = rows(result.stdout)
    assert table["eval.auc"] == ["missing", ">=", "0.9", "FAIL"]
    assert table["calibration_error"][0] == "missing"  # text is not a metric
    assert table["latency_p95_ms"][-1] == "pass"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"\xff\xfe\x00garbage", "is not UTF-8 text"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b"[1, 2, 3]", "must hold a JSON object"),
        (b'"auc"', "must hold a JSON object"),
        (b"null", "must hold a JSON object"),
    ],
)
def test_a_bad_metrics_file_is_a_clear_error(
    cli: CliRunner, project: Path, tmp_path: Path, content: bytes, message: str
) -> None:
    result = gate(cli, project, "scorer", "--metrics", metrics(tmp_path, content, raw=True))
    assert result.exit_code == 1
    assert message in result.stderr, result.output
    assert result.stderr.startswith("error:")


def test_a_missing_metrics_file_is_a_clear_error(cli: CliRunner, project: Path, tmp_path: Path) -> None:
    result = gate(cli, project, "scorer", "--metrics", tmp_path / "nowhere.json")
    assert result.exit_code == 1
    assert "does not exist" in result.stderr and "nowhere.json" in result.stderr


def test_a_directory_is_not_a_metrics_file(cli: CliRunner, project: Path, tmp_path: Path) -> None:
    result = gate(cli, project, "scorer", "--metrics", tmp_path)
    assert result.exit_code == 1
    assert result.stderr.startswith("error:") and "metrics file" in result.stderr


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: Path("/dev/zero"), "is a character device, not a regular file"),
        (lambda d: _fifo(d / "metrics.fifo"), "is a FIFO, not a regular file"),
        (lambda d: _sparse(d / "huge.json", MAX_METRICS_BYTES + 1), "is larger than the limit of 16 MiB"),
    ],
    ids=["dev-zero", "fifo", "over-16-MiB"],
)
def test_a_metrics_file_that_is_endless_or_huge_is_refused_without_reading_it(
    project: Path, tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    """In a subprocess with a deadline: reading /dev/zero or a FIFO would never end."""
    source = make(tmp_path)
    result = run_mlgitops(["gate", "scorer", "--metrics", source, "--project", project], timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr == f"error: metrics file {source} {message}\n"


def test_an_unreadable_metrics_file_is_a_clear_error(project: Path) -> None:
    with shared_directory() as shared:
        copy = shutil.copytree(project, shared / "project")
        source = shared / "metrics.json"
        source.write_text(json.dumps(GOOD), encoding="utf-8")
        give_to_unprivileged(shared)
        source.chmod(0)
        code, out, err = run_unprivileged(
            lambda: _run_cli("gate", "scorer", "--metrics", source, "--project", copy)
        )
    assert code == 1, out + err
    assert err == f"error: metrics file {source} cannot be read: Permission denied\n"


def _run_cli(*args: str | Path) -> tuple[int, str, str]:
    from mlgitops.cli import run

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _sparse(path: Path, size: int) -> Path:
    with path.open("wb") as handle:
        handle.truncate(size)
    return path


def test_nested_metrics_have_dotted_names(cli: CliRunner, project: Path, tmp_path: Path) -> None:
    nested = {"eval": {"auc": 0.91, "deeper": {"x": 1}}, "latency_p95_ms": 1, "calibration_error": 0}
    result = gate(cli, project, "scorer", "--metrics", metrics(tmp_path, nested))
    assert result.exit_code == 0, result.output
    assert rows(result.stdout)["eval.auc"][0] == "0.91"
    # a top-level key that only looks nested is not the nested metric
    flat = {"eval.auc": 0.95, "latency_p95_ms": 1, "calibration_error": 0}
    assert gate(cli, project, "scorer", "--metrics", metrics(tmp_path, flat)).exit_code == 0


def test_json_format(cli: CliRunner, project: Path, tmp_path: Path) -> None:
    result = gate(
        cli,
        project,
        "scorer",
        "--metrics",
        metrics(tmp_path, {**GOOD, "calibration_error": 0.2}),
        "--format",
        "json",
    )
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["model"] == "scorer" and document["passed"] is False
    by_metric = {g["metric"]: g for g in document["gates"]}
    assert by_metric["calibration_error"] == {
        "metric": "calibration_error",
        "value": 0.2,
        "min": 0.0,
        "max": 0.05,
        "passed": False,
    }
    assert by_metric["eval.auc"]["passed"] is True and by_metric["eval.auc"]["max"] is None
    passing = gate(cli, project, "scorer", "--metrics", metrics(tmp_path, GOOD), "--format", "json")
    assert passing.exit_code == 0 and json.loads(passing.stdout)["passed"] is True


def test_an_unknown_model_is_an_error_with_a_hint(cli: CliRunner, project: Path, tmp_path: Path) -> None:
    result = gate(cli, project, "scorr", "--metrics", metrics(tmp_path, GOOD))
    assert result.exit_code == 1
    assert "no model named 'scorr'" in result.stderr
    assert "scorer" in result.stderr.split("no model named 'scorr'", 1)[1]  # the hint names the model


def test_an_unknown_environment_is_an_error(cli: CliRunner, project: Path, tmp_path: Path) -> None:
    path = metrics(tmp_path, GOOD)
    result = gate(cli, project, "scorer", "--metrics", path, "--env", "prdo")
    assert result.exit_code == 1
    assert "no environment named 'prdo'" in result.stderr and "prod" in result.stderr
    assert gate(cli, project, "scorer", "--metrics", path, "--env", "prod").exit_code == 0


def test_a_model_without_gates_passes_with_a_message(cli: CliRunner, project: Path, tmp_path: Path) -> None:
    result = gate(cli, project, "ungated", "--metrics", metrics(tmp_path, {}))
    assert result.exit_code == 0
    assert "no evaluation gates" in result.stdout
    document = json.loads(
        gate(cli, project, "ungated", "--metrics", metrics(tmp_path, {}), "--format", "json").stdout
    )
    assert document == {"version": 1, "ok": True, "model": "ungated", "passed": True, "gates": []}


@pytest.mark.parametrize(
    ("auc", "latency", "calibration", "passed"),
    [
        (0.9, 50, 0.0, True),  # every value exactly on its bound
        (0.9, 50, 0.05, True),
        (0.8999999, 50, 0.0, False),
        (0.9, 50.000001, 0.0, False),
        (0.9, 50, -0.000001, False),
        (0.9, 50, 0.0500001, False),
    ],
)
def test_bounds_are_inclusive(
    cli: CliRunner,
    project: Path,
    tmp_path: Path,
    auc: float,
    latency: float,
    calibration: float,
    passed: bool,
) -> None:
    values = {"eval": {"auc": auc}, "latency_p95_ms": latency, "calibration_error": calibration}
    result = gate(cli, project, "scorer", "--metrics", metrics(tmp_path, values))
    assert result.exit_code == (0 if passed else 1), result.output


def test_not_a_number_fails_and_booleans_are_not_metrics(
    cli: CliRunner, project: Path, tmp_path: Path
) -> None:
    path = tmp_path / "metrics.json"
    path.write_text(
        '{"eval": {"auc": NaN}, "latency_p95_ms": true, "calibration_error": 0}', encoding="utf-8"
    )
    result = gate(cli, project, "scorer", "--metrics", path)
    assert result.exit_code == 1
    table = rows(result.stdout)
    assert table["eval.auc"][-1] == "FAIL"
    assert table["latency_p95_ms"][0] == "missing"


def test_a_project_with_errors_is_refused(cli: CliRunner, project: Path, tmp_path: Path) -> None:
    (project / "models/scorer.yaml").write_text("apiVersion: mlgitops/v1\nkind: Model\n", encoding="utf-8")
    result = gate(cli, project, "scorer", "--metrics", metrics(tmp_path, GOOD))
    assert result.exit_code == 1
    assert "mlgitops validate" in result.stderr
