"""The generated GitLab CI is valid and keeps its root file small at any model count (issue 13).

Compiled into temporary copies: the GitLab example and the benchmark generator's project
with 3 and with 12 models (``spec.ci: gitlab``; it has Kubernetes-runner models). For each:

* ``check-jsonschema --builtin-schema vendor.gitlab-ci`` accepts the root file, every file it
  includes and every child pipeline a trigger job starts;
* the root file holds no job of any model: it includes the shared templates and the trigger
  jobs, both under the output folder, and does not grow with the number of models;
* each model with training has one trigger job, started by ``MLGITOPS_TRAIN`` naming it or by
  a push that changes its training fingerprint, whose child pipeline exists, includes the
  templates and extends only hidden jobs they define;
* hostile training values change only the model's child pipeline variables (``$`` doubled,
  so GitLab reads them literally), never the shared scripts.

The 1,000-model project is checked by ``python benchmarks/ci_size.py 1000 --check``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from compile_helpers import EXAMPLES, ROOT, assert_not_in_git, copy_specs, edit_yaml
from conftest import require_tool
from mlgitops.pipeline import compile_project

pytestmark = pytest.mark.external


def _ci_system(ci: object) -> object:
    """``spec.ci`` is a system's name or a mapping with ``system``."""
    return ci.get("system", "github") if isinstance(ci, dict) else ci


GITLAB_EXAMPLES = [
    p
    for p in EXAMPLES
    if _ci_system(yaml.safe_load((p / "mlgitops.yaml").read_text())["spec"]["ci"]) == "gitlab"
]
SIZES = (3, 12)


def _compile(root: Path) -> Path:
    assert_not_in_git(root)
    result = compile_project(root, use_cache=False)
    shown = "\n".join(f"{d.location}: {d.code} {d.message}" for d in result.diagnostics)
    assert result.ok, f"{root.name} does not compile:\n{shown}"
    return root


def _benchmark(base: Path, models: int) -> Path:
    root = base / f"benchmark-{models}"
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks/generate.py"), str(models), str(root)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    project = root / "mlgitops.yaml"
    data = yaml.safe_load(project.read_text(encoding="utf-8"))
    data["spec"]["ci"] = "gitlab"
    project.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return _compile(root)


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("ci-gitlab")
    out = {p.name: _compile(copy_specs(p, base / p.name)) for p in GITLAB_EXAMPLES}
    for models in SIZES:
        out[f"benchmark-{models}"] = _benchmark(base, models)
    return out


PROJECT_IDS = [p.name for p in GITLAB_EXAMPLES] + [f"benchmark-{n}" for n in SIZES]


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _loaded(root: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The root file, the files it includes (by path) and the child pipelines (by path)."""
    top = _load(root / ".gitlab-ci.yml")
    included = {entry["local"]: _load(root / entry["local"]) for entry in top["include"]}
    children = {
        entry["local"]: _load(root / entry["local"])
        for data in included.values()
        for job in data.values()
        if isinstance(job, dict) and "trigger" in job
        for entry in job["trigger"]["include"]
    }
    return top, included, children


def test_the_examples_cover_gitlab() -> None:
    assert {p.name for p in GITLAB_EXAMPLES} >= {"gitlab-flux-k8s"}


@pytest.mark.parametrize("project", PROJECT_IDS)
def test_every_loaded_file_matches_the_gitlab_schema(projects: dict[str, Path], project: str) -> None:
    root = projects[project]
    _, included, children = _loaded(root)
    files = [".gitlab-ci.yml", *included, *children]
    run = subprocess.run(
        [require_tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", *files],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, f"check-jsonschema:\n{run.stdout}{run.stderr}"


def _trained(root: Path) -> list[str]:
    return sorted(
        spec["metadata"]["name"]
        for spec in (_load(p) for p in root.glob("models/**/*.yaml"))
        if spec["spec"].get("training") and spec["spec"].get("lifecycle", {}).get("stage") != "retired"
    )


@pytest.mark.parametrize("project", PROJECT_IDS)
def test_each_model_trains_in_its_own_child_pipeline(projects: dict[str, Path], project: str) -> None:
    root = projects[project]
    top, included, children = _loaded(root)
    output = _load(root / "mlgitops.yaml")["spec"].get("output", {}).get("path", "deploy")
    assert all(path.startswith(f"{output}/ci/") for path in [*included, *children])
    models = _trained(root)
    assert models, "the project trains no model: the test would prove nothing"
    for name in models:
        assert name not in " ".join(top), f"the root file has a job of {name}"
    triggers = {job_id: job for data in included.values() for job_id, job in data.items() if "trigger" in job}
    assert sorted(triggers) == [f"train-{name}" for name in models]
    hidden = {job_id for data in included.values() for job_id in data if job_id.startswith(".")}
    for name in models:
        trigger = triggers[f"train-{name}"]
        assert trigger["trigger"]["forward"]["pipeline_variables"] is True
        assert trigger["rules"][0]["if"].startswith(f'$MLGITOPS_TRAIN == "{name}" && (')
        push = [rule for rule in trigger["rules"] if "changes" in rule]
        assert push and f"{output}/ci/{name}/training-inputs.yaml" in push[0]["changes"]
        (child_path,) = (entry["local"] for entry in trigger["trigger"]["include"])
        child = children[child_path]
        assert child["include"] == [entry for entry in top["include"] if "templates" in entry["local"]]
        assert child["variables"]["MLGITOPS_MODEL"] == name
        jobs = {k: v for k, v in child.items() if k not in ("include", "stages", "variables")}
        assert sorted(jobs) == ["evaluate", "gate", "propose", "register", "train"]
        for job_id, job in jobs.items():
            assert job["extends"] in hidden, f"{child_path}: {job_id} extends {job['extends']!r}"
            assert "script" not in job, f"{child_path}: {job_id} has its own script"


def test_the_root_file_does_not_grow_with_the_models(projects: dict[str, Path]) -> None:
    small, large = ((projects[f"benchmark-{n}"] / ".gitlab-ci.yml").read_bytes() for n in SIZES)
    assert small == large
    triggers = [(projects[f"benchmark-{n}"] / "deploy/ci/gitlab-triggers.yml").stat().st_size for n in SIZES]
    # The included trigger file grows by one short job per model (≈ 0.5 KB): 1,000 fit in 1 MB.
    assert (triggers[1] - triggers[0]) / (SIZES[1] - SIZES[0]) < 700


HOSTILE = ["$(touch pwned)", "`id`", "$CI_JOB_TOKEN", "${HOME}", "a\nb", "'\"", "*", "$$"]


def test_hostile_values_stay_in_the_child_pipeline_variables(tmp_path: Path) -> None:
    example = next(p for p in GITLAB_EXAMPLES if p.name == "gitlab-flux-k8s")
    plain = _compile(copy_specs(example, tmp_path / "plain"))
    hostile = copy_specs(example, tmp_path / "hostile")

    def attack(data: Any) -> None:
        training = data["spec"]["training"]
        training["args"] = HOSTILE
        training["env"]["FEATURE_STORE_URL"] = "".join(HOSTILE)

    edit_yaml(hostile / "models/product-ranker.yaml", attack)
    _compile(hostile)
    for shared in (".gitlab-ci.yml", "deploy/ci/gitlab-templates.yml", "deploy/ci/gitlab-triggers.yml"):
        assert (hostile / shared).read_bytes() == (plain / shared).read_bytes(), shared
    variables = _load(hostile / "deploy/ci/product-ranker/gitlab-ci.yml")["variables"]
    literal = {k: v.replace("$$", "$") for k, v in variables.items()}  # what GitLab expands them to
    words = [literal[f"MLGITOPS_TRAIN_CMD_{i}"] for i in range(3, 3 + len(HOSTILE))]
    assert words == HOSTILE
    assert literal["FEATURE_STORE_URL"] == "".join(HOSTILE)
