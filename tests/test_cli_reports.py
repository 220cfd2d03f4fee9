"""Report formats of diff, gate, promote and explain: a JSON document on success, the
diagnostics document (plus the refusal) when the project has errors, GitHub annotations."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from compile_helpers import GIT_ENV, copy_specs, example
from conftest import CliRunner

MODEL = "iris-classifier"


@pytest.fixture
def quickstart(tmp_path: Path) -> Path:
    return copy_specs(example("quickstart"), tmp_path / "quickstart")


@pytest.fixture
def broken(quickstart: Path) -> Path:
    """The quickstart with one error (MLG380, runtime misspelt)."""
    model = quickstart / "models" / f"{MODEL}.yaml"
    text = model.read_text(encoding="utf-8")
    assert "runtime: sklearn\n" in text
    model.write_text(text.replace("runtime: sklearn\n", "runtime: sklearnn\n"), encoding="utf-8")
    return quickstart


def _metrics(directory: Path, accuracy: float) -> Path:
    path = directory / "metrics.json"
    path.write_text(json.dumps({"accuracy": accuracy}), encoding="utf-8")
    return path


def _refusal(stdout: str) -> dict[str, object]:
    document = json.loads(stdout)
    assert document["version"] == 1
    assert document["ok"] is False
    return dict(document)


def _mlg204(document: dict[str, object]) -> None:
    diagnostics = document["diagnostics"]
    assert isinstance(diagnostics, list)
    assert [(d["code"], d["file"]) for d in diagnostics] == [("MLG380", f"models/{MODEL}.yaml")]


# --- gate ---------------------------------------------------------------------------------------


def test_gate_json_success_is_a_summary(quickstart: Path, cli: CliRunner) -> None:
    run = cli("gate", MODEL, "--metrics", _metrics(quickstart, 0.95), "--format", "json", "-C", quickstart)
    assert run.exit_code == 0
    document = json.loads(run.stdout)
    assert document["ok"] is True and document["passed"] is True
    assert document["gates"] == [
        {"metric": "accuracy", "value": 0.95, "min": 0.9, "max": None, "passed": True}
    ]


def test_gate_github_annotates_each_failed_gate(quickstart: Path, cli: CliRunner) -> None:
    run = cli("gate", MODEL, "--metrics", _metrics(quickstart, 0.5), "--format", "github", "-C", quickstart)
    assert run.exit_code == 1
    assert "accuracy  0.5" in run.stdout  # the table, for the log
    assert run.stdout.endswith(
        "::error title=evaluation gate failed::accuracy is 0.5; the gate wants >= 0.9\n"
    )


def test_gate_github_passing_has_no_annotation(quickstart: Path, cli: CliRunner) -> None:
    run = cli("gate", MODEL, "--metrics", _metrics(quickstart, 0.95), "--format", "github", "-C", quickstart)
    assert run.exit_code == 0
    assert "::" not in run.stdout


def test_gate_json_on_an_invalid_project_is_the_diagnostics_document(broken: Path, cli: CliRunner) -> None:
    run = cli("gate", MODEL, "--metrics", _metrics(broken, 0.95), "--format", "json", "-C", broken)
    assert run.exit_code == 1
    document = _refusal(run.stdout)
    assert document["error"] == "the project has errors; run 'mlgitops validate' to see them"
    _mlg204(document)


def test_gate_json_unknown_model_is_a_refusal_document(quickstart: Path, cli: CliRunner) -> None:
    run = cli("gate", "iris", "--metrics", _metrics(quickstart, 0.95), "--format", "json", "-C", quickstart)
    assert run.exit_code == 1
    document = _refusal(run.stdout)
    assert document["error"] == "no model named 'iris'"
    assert document["diagnostics"] == []


def test_gate_github_on_an_invalid_project_annotates_the_diagnostics(broken: Path, cli: CliRunner) -> None:
    run = cli("gate", MODEL, "--metrics", _metrics(broken, 0.95), "--format", "github", "-C", broken)
    assert run.exit_code == 1
    lines = run.stdout.splitlines()
    assert lines[0] == "::error title=mlgitops::the project has errors; run 'mlgitops validate' to see them"
    assert lines[1].startswith(f"::error file=models/{MODEL}.yaml,line=")
    assert "MLG380" in lines[1]


# --- promote ------------------------------------------------------------------------------------


def test_promote_json_refusal_is_a_document(quickstart: Path, cli: CliRunner) -> None:
    run = cli("promote", MODEL, "--to", "qa", "--format", "json", "-C", quickstart)
    assert run.exit_code == 1
    document = _refusal(run.stdout)
    assert str(document["error"]).startswith("no environment named 'qa'")


def test_promote_json_on_an_invalid_project_carries_the_diagnostics(broken: Path, cli: CliRunner) -> None:
    run = cli("promote", MODEL, "--to", "prod", "--dry-run", "--format", "json", "-C", broken)
    assert run.exit_code == 1
    _mlg204(_refusal(run.stdout))


def test_promote_github_gives_a_notice(quickstart: Path, cli: CliRunner) -> None:
    run = cli("promote", MODEL, "--to", "prod", "--dry-run", "--format", "github", "-C", quickstart)
    assert run.exit_code == 0, run.stderr
    first, rest = run.stdout.split("\n", 1)
    assert first == f"::notice title=would edit (dry run)::Promote {MODEL} 1.3.0 to prod"
    assert rest.startswith(f"would edit (dry run) models/{MODEL}.yaml:")


def test_promote_json_success_says_ok(quickstart: Path, cli: CliRunner) -> None:
    run = cli("promote", MODEL, "--to", "prod", "--dry-run", "--format", "json", "-C", quickstart)
    assert run.exit_code == 0
    document = json.loads(run.stdout)
    assert document["ok"] is True and document["written"] is False and document["version"] == "1.3.0"


# --- explain ------------------------------------------------------------------------------------


def test_explain_json_on_an_invalid_project_is_the_diagnostics_document(broken: Path, cli: CliRunner) -> None:
    run = cli("explain", MODEL, "--format", "json", "-C", broken)
    assert run.exit_code == 1
    document = _refusal(run.stdout)
    assert document["error"] == "the project has errors; fix them first"
    _mlg204(document)
    assert run.stderr == ""


def test_explain_text_on_an_invalid_project_is_unchanged(broken: Path, cli: CliRunner) -> None:
    run = cli("explain", MODEL, "-C", broken)
    assert run.exit_code == 1
    assert run.stdout == ""
    assert "error[MLG380]" in run.stderr and "error: the project has errors; fix them first" in run.stderr


def test_explain_json_unknown_model_is_a_refusal_document(quickstart: Path, cli: CliRunner) -> None:
    run = cli("explain", "iris", "--format", "json", "-C", quickstart)
    assert run.exit_code == 1
    assert "no model named 'iris'" in str(_refusal(run.stdout)["error"])


# --- diff ---------------------------------------------------------------------------------------


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, env={**os.environ, **GIT_ENV}, check=True, capture_output=True)


@pytest.fixture
def repository(quickstart: Path) -> Path:
    """The quickstart committed, then prod moved to 1.3.0 in the work tree."""
    _git(quickstart, "-c", "init.defaultBranch=main", "init", "--quiet")
    _git(quickstart, "add", "--all")
    _git(quickstart, "commit", "--quiet", "--no-verify", "--message", "start")
    model = quickstart / "models" / f"{MODEL}.yaml"
    model.write_text(model.read_text(encoding="utf-8").replace("version: 1.2.0", "version: 1.3.0"), "utf-8")
    return quickstart


def test_diff_json_has_a_summary(repository: Path, cli: CliRunner) -> None:
    run = cli("diff", "--base", "HEAD", "--format", "json", "-C", repository)
    assert run.exit_code == 0, run.stderr
    document = json.loads(run.stdout)
    assert document["version"] == 1 and document["ok"] is True
    assert (
        document["summary"]["changed"] == len([f for f in document["files"] if f["status"] == "changed"]) > 0
    )


def test_diff_github_ends_with_a_notice(repository: Path, cli: CliRunner) -> None:
    run = cli("diff", "--base", "HEAD", "--format", "github", "-C", repository)
    assert run.exit_code == 0, run.stderr
    assert run.stdout.startswith("against HEAD: ")
    last = run.stdout.splitlines()[-1]
    assert last.startswith("::notice title=mlgitops diff::0 added, ") and last.endswith(" against HEAD")


def test_diff_json_of_an_invalid_head_is_the_diagnostics_document(repository: Path, cli: CliRunner) -> None:
    model = repository / "models" / f"{MODEL}.yaml"
    model.write_text(
        model.read_text(encoding="utf-8").replace("runtime: sklearn\n", "runtime: sklearnn\n"), "utf-8"
    )
    run = cli("diff", "--base", "HEAD", "--format", "json", "-C", repository)
    assert run.exit_code == 1
    document = _refusal(run.stdout)
    assert document["error"] == "the project has errors; fix them before diffing"
    _mlg204(document)
