"""``environments[].ciSecrets``: a ``fromCiSecret`` name read through the first environment's map
(the CI jobs that read secrets train, evaluate and register the version proposed there), on both
CI systems; the step scripts, run, see the mapped secret's value (issue 13)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ci_stub_runner import GitLabRun, Stub, gitlab_child, gitlab_config
from compile_helpers import copy_specs, edit_yaml, example, run_module


def _project(tmp_path: Path, name: str) -> Path:
    project = copy_specs(example(name), tmp_path / "project")

    def project_change(data: Any) -> None:
        data["spec"]["environments"][0]["ciSecrets"] = {"DB_PASSWORD": "DB_PASSWORD_DEV"}

    edit_yaml(project / "mlgitops.yaml", project_change)
    model = next(p for p in sorted((project / "models").glob("*.yaml")) if "training:" in p.read_text())

    def model_change(data: Any) -> None:
        data["spec"]["training"].setdefault("env", {})["DB_PASSWORD"] = {"fromCiSecret": "DB_PASSWORD"}

    edit_yaml(model, model_change)
    run = run_module(["compile", str(project)])
    assert run.returncode == 0, run.stdout + run.stderr
    return project


def test_github_passes_the_first_environments_secret(tmp_path: Path) -> None:
    project = _project(tmp_path, "quickstart")
    (workflow,) = (project / ".github/workflows").glob("mlgitops-train-*.yml")
    (job,) = yaml.safe_load(workflow.read_text(encoding="utf-8"))["jobs"].values()
    assert job["secrets"]["DB_PASSWORD"] == "${{ secrets.DB_PASSWORD_DEV }}"
    reusable = yaml.safe_load(
        (project / ".github/workflows/mlgitops-reusable-train.yml").read_text(encoding="utf-8")
    )
    assert "DB_PASSWORD" in reusable["on"]["workflow_call"]["secrets"]
    settings = (project / "deploy/ci/SETTINGS.md").read_text(encoding="utf-8")
    assert "DB_PASSWORD_DEV" in settings and "`DB_PASSWORD`" not in settings


def test_gitlab_reads_the_first_environments_variable(tmp_path: Path) -> None:
    project = _project(tmp_path, "gitlab-flux-k8s")
    config = gitlab_config(project, ".gitlab-ci.yml")
    trigger = next(name for name in config if name.startswith("train-"))
    child = gitlab_child(project, config, trigger)
    assert "DB_PASSWORD=DB_PASSWORD_DEV" in child["variables"]["MLGITOPS_SECRET_ALIASES"].split()
    # The job's own alias loop, run: it sees the environment's CI/CD variable under the spec's name.
    (script,) = [line for line in child["evaluate"]["script"] if "MLGITOPS_SECRET_ALIASES" in line]
    aliases = script[: script.index("\ndone\n") + len("\ndone\n")]
    (tmp_path / "stub").mkdir()
    stub = Stub.create(project, tmp_path / "stub")
    probe = {"probe": {"script": [aliases + 'test "$DB_PASSWORD" = dev-secret']}}
    variables = {"MLGITOPS_SECRET_ALIASES": child["variables"]["MLGITOPS_SECRET_ALIASES"]}
    GitLabRun(stub, probe, {**variables, "DB_PASSWORD_DEV": "dev-secret"}).job("probe")
