"""``spec.ci.mlgitops``: CI installs exactly the mlgitops the spec names (a requirements file with
hashes, or a git URL at a commit), and the generated install line, run as the workflow runs it,
installs a working mlgitops into a fresh virtualenv (issue 13)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

import pytest
import yaml

from compile_helpers import copy_specs, edit_yaml, example, run_module
from conftest import ROOT
from mlgitops import __version__

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _project(tmp_path: Path, ci: Any, name: str = "quickstart") -> Path:
    project = copy_specs(example(name), tmp_path / "project")

    def change(data: Any) -> None:
        data["spec"]["ci"] = ci

    edit_yaml(project / "mlgitops.yaml", change)
    return project


@pytest.mark.parametrize(
    ("install", "line"),
    [
        (
            {"requirements": "ci/requirements-mlgitops.txt"},
            "python -m pip install --disable-pip-version-check --require-hashes "
            "-r ci/requirements-mlgitops.txt",
        ),
        (
            {"git": "https://github.com/acme/mlgitops.git", "commit": COMMIT},
            f"python -m pip install --disable-pip-version-check "
            f"'mlgitops @ git+https://github.com/acme/mlgitops.git@{COMMIT}'",
        ),
    ],
)
def test_every_workflow_installs_what_the_spec_names(tmp_path: Path, install: Any, line: str) -> None:
    project = _project(tmp_path, {"system": "github", "mlgitops": install})
    run = run_module(["compile", str(project)])
    assert run.returncode == 0, run.stdout + run.stderr
    workflows = sorted((project / ".github/workflows").glob("mlgitops-*.yml"))
    installing = []
    for workflow in workflows:
        text = workflow.read_text(encoding="utf-8")
        assert "mlgitops==" not in text, workflow.name
        jobs = yaml.safe_load(text)["jobs"].values()
        if all("uses" in job for job in jobs):
            continue  # a model's thin caller: the reusable pipeline it calls runs the steps
        runs = [step.get("run", "") for job in jobs for step in job.get("steps", [])]
        assert line in runs, workflow.name
        installing.append(workflow.name)
    assert {"mlgitops-validate.yml", "mlgitops-promote.yml", "mlgitops-reusable-train.yml"} <= set(installing)
    validate = yaml.safe_load(
        (project / ".github/workflows/mlgitops-validate.yml").read_text(encoding="utf-8")
    )
    if "requirements" in install:  # changing the file CI installs from runs validation
        assert "ci/requirements-mlgitops.txt" in validate["on"]["pull_request"]["paths"]


def test_gitlab_installs_what_the_spec_names(tmp_path: Path) -> None:
    project = _project(
        tmp_path, {"system": "gitlab", "mlgitops": {"requirements": "requirements.txt"}}, "gitlab-flux-k8s"
    )
    run = run_module(["compile", str(project)])
    assert run.returncode == 0, run.stdout + run.stderr
    text = (project / ".gitlab-ci.yml").read_text(encoding="utf-8")
    assert "--require-hashes -r requirements.txt" in text and "mlgitops==" not in text


@pytest.mark.parametrize(
    ("ci", "message"),
    [
        ({"system": "github", "mlgitops": {}}, "set exactly one of requirements, git and image"),
        (
            {"mlgitops": {"requirements": "r.txt", "git": "https://x.invalid/m.git", "commit": COMMIT}},
            "set exactly one of requirements, git and image",
        ),
        ({"mlgitops": {"git": "https://x.invalid/m.git"}}, "git and commit go together"),
        ({"mlgitops": {"git": "https://x.invalid/m.git", "commit": "main"}}, "pattern ^[0-9a-f]{40}$"),
        ({"mlgitops": {"requirements": "../outside.txt"}}, "is not a plain relative path"),
        ({"mlgitops": {"requirements": "/etc/passwd"}}, "is not a plain relative path"),
        ({"mlgitops": {"image": "ghcr.io/acme/mlgitops:0.1.0"}}, "is not pinned by digest"),
        ({"mlgitops": {"image": "ghcr.io/acme/mlgitops:latest"}}, "is not pinned by digest"),
        ({"system": "github", "includeFrom": ".gitlab-ci.yml"}, "includeFrom is for GitLab"),
        ({"system": "gitlab", "includeFrom": "../x.yml"}, "is not a plain relative path"),
    ],
)
def test_unpinned_or_misplaced_sources_are_refused(tmp_path: Path, ci: Any, message: str) -> None:
    project = _project(tmp_path, ci)
    run = run_module(["validate", str(project)])
    assert run.returncode == 1, run.stdout + run.stderr
    assert "MLG2" in run.stdout and message in run.stdout, run.stdout


DIGEST = "ghcr.io/acme/mlgitops@sha256:" + "ab" * 32


def test_a_tag_for_the_image_is_refused_where_it_is_written(tmp_path: Path) -> None:
    project = _project(tmp_path, {"system": "github", "mlgitops": {"image": "ghcr.io/acme/mlgitops:1.0"}})
    run = run_module(["validate", str(project), "--format", "json"])
    assert run.returncode == 1
    (problem,) = [d for d in json.loads(run.stdout)["diagnostics"] if d["code"] == "MLG206"]
    assert "'ghcr.io/acme/mlgitops:1.0' is not pinned by digest" in problem["message"]
    line = (project / "mlgitops.yaml").read_text(encoding="utf-8").splitlines()[problem["line"] - 1]
    assert "ghcr.io/acme/mlgitops:1.0" in line


def test_github_jobs_that_run_mlgitops_run_in_the_image(tmp_path: Path) -> None:
    project = _project(tmp_path, {"system": "github", "mlgitops": {"image": DIGEST}})
    run = run_module(["compile", str(project)])
    assert run.returncode == 0, run.stdout + run.stderr
    workflows = project / ".github/workflows"
    seen = set()
    for name in ("mlgitops-validate.yml", "mlgitops-promote.yml", "mlgitops-reusable-train.yml"):
        jobs = yaml.safe_load((workflows / name).read_text(encoding="utf-8"))["jobs"]
        for job_name, job in jobs.items():
            runs = [step.get("run", "") for step in job.get("steps", [])]
            if not any(r.startswith("mlgitops ") for r in runs):
                assert job.get("container", {}).get("image") != DIGEST, (name, job_name)
                continue
            seen.add(job_name)
            assert job["container"] == {"image": DIGEST}, (name, job_name)
            assert "mlgitops --version" in runs  # says which mlgitops runs; installs nothing
            assert not any("setup-python" in step.get("uses", "") for step in job["steps"])
            assert not any("pip install" in r for r in runs)
    assert {"validate", "plan", "gate", "promote"} <= seen


def test_gitlab_jobs_that_run_mlgitops_run_in_the_image(tmp_path: Path) -> None:
    project = _project(tmp_path, {"system": "gitlab", "mlgitops": {"image": DIGEST}}, "gitlab-flux-k8s")
    run = run_module(["compile", str(project)])
    assert run.returncode == 0, run.stdout + run.stderr
    files = [project / ".gitlab-ci.yml", *project.glob("deploy/ci/gitlab-templates.yml")]
    seen = set()
    for path in files:
        for name, job in yaml.safe_load(path.read_text(encoding="utf-8")).items():
            if not isinstance(job, dict) or "script" not in job:
                continue
            if any(line.startswith("mlgitops ") for line in job["script"]):
                seen.add(name)
                assert job["image"] == DIGEST, name
                assert not any("pip install" in line for line in job["script"]), name
    assert {"mlgitops-validate", ".mlgitops-gate", ".mlgitops-propose", ".mlgitops-promote"} <= seen


def test_unset_the_install_step_stops_and_says_what_to_set(tmp_path: Path) -> None:
    """No spec.ci.mlgitops: nothing is fetched by name from an index; the step fails naming the
    field, and compile warns (MLG352) when it writes the pipeline."""
    project = _project(tmp_path, "github")
    run = run_module(["compile", str(project), "--format", "json"])
    assert run.returncode == 0, run.stdout + run.stderr
    assert "MLG352" in [d["code"] for d in json.loads(run.stdout)["diagnostics"]]
    for workflow in (project / ".github/workflows").glob("*.yml"):
        text = workflow.read_text(encoding="utf-8")
        assert "mlgitops==" not in text and "install --disable-pip-version-check" not in text, workflow.name
    line = _workflow_install_line(project, "spec.ci.mlgitops")
    result = _run(["bash", "-euo", "pipefail", "-c", line], project)
    assert result.returncode == 1 and "spec.ci.mlgitops is not set" in result.stderr
    again = run_module(["compile", str(project), "--format", "json"])  # said when it writes the file
    assert "MLG352" not in [d["code"] for d in json.loads(again.stdout)["diagnostics"]]


@pytest.mark.parametrize(
    ("direct_url", "expected"),
    [
        (
            {"url": "https://github.com/acme/mlgitops.git", "vcs_info": {"vcs": "git", "commit_id": COMMIT}},
            ("https://github.com/acme/mlgitops.git", COMMIT),
        ),
        ({"url": "https://github.com/a/m.git", "vcs_info": {"vcs": "git", "commit_id": "main"}}, None),
        ({"url": "file:///home/me/mlgitops", "vcs_info": {"vcs": "git", "commit_id": COMMIT}}, None),
        (
            {
                "url": "https://x:ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/a/b.git",
                "vcs_info": {"vcs": "git", "commit_id": COMMIT},
            },
            None,
        ),
        ({"url": "file:///tmp/mlgitops-0.1.0-py3-none-any.whl", "archive_info": {}}, None),
        ("not json", None),
    ],
)
def test_the_git_source_pip_recorded_names_a_url_and_commit(direct_url: Any, expected: Any) -> None:
    from mlgitops.install_source import git_source

    text = direct_url if isinstance(direct_url, str) else json.dumps(direct_url)
    assert git_source(text) == expected


def test_init_pins_the_recorded_source(tmp_path: Path) -> None:
    from mlgitops.scaffold import Scaffold, write_scaffold

    url = "https://github.com/acme/mlgitops.git"
    scaffold = Scaffold("shop", "https://github.com/acme/shop.git", mlgitops_git=(url, COMMIT))
    write_scaffold(tmp_path / "shop", scaffold)
    spec = yaml.safe_load((tmp_path / "shop/mlgitops.yaml").read_text(encoding="utf-8"))
    assert spec["spec"]["ci"] == {"system": "github", "mlgitops": {"git": url, "commit": COMMIT}}
    run = run_module(["compile", str(tmp_path / "shop")])
    assert run.returncode == 0 and "MLG352" not in run.stdout + run.stderr, run.stdout + run.stderr
    assert f"git+{url}@{COMMIT}" in _workflow_install_line(tmp_path / "shop")


def test_include_from_replaces_the_root_file(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True, capture_output=True)
    project = copy_specs(example("gitlab-flux-k8s"), repo / "ml")

    def change(data: Any) -> None:
        data["spec"].pop("repositoryRoot", None)
        data["spec"]["ci"] = {"system": "gitlab", "includeFrom": "ci/root.yml"}

    edit_yaml(project / "mlgitops.yaml", change)
    run = run_module(["compile", str(project)])
    assert run.returncode == 0, run.stdout + run.stderr
    assert not (repo / ".gitlab-ci.yml").exists()
    pipeline = (project / ".gitlab-ci.yml").read_text(encoding="utf-8")
    assert "ci/root.yml" in pipeline  # a change to the including file runs validation


# --- the generated line, run as CI runs it ------------------------------------------------------


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    return {k: v for k, v in env.items() if not k.startswith("MLGITOPS_")}


def _run(
    args: list[str | Path], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env or _env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def _fresh_venv(directory: Path) -> Path:
    venv.EnvBuilder(with_pip=True, clear=True).create(directory)
    return directory / "bin"


def _run_install_line(line: str, bin_dir: Path, cwd: Path, extra_env: dict[str, str]) -> None:
    """Run the workflow's ``run:`` line under bash, with the fresh virtualenv's python first on
    PATH (as actions/setup-python puts its python first)."""
    env = {**_env(), **extra_env, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = _run(["bash", "-euo", "pipefail", "-c", line], cwd, env)
    assert result.returncode == 0, result.stdout + result.stderr
    version = _run([bin_dir / "mlgitops", "--version"], cwd)
    assert version.stdout.strip() == f"mlgitops, version {__version__}", version.stdout + version.stderr


def _workflow_install_line(project: Path, marker: str = "pip install") -> str:
    workflow = yaml.safe_load(
        (project / ".github/workflows/mlgitops-validate.yml").read_text(encoding="utf-8")
    )
    (line,) = {step["run"] for step in workflow["jobs"]["validate"]["steps"] if marker in step.get("run", "")}
    return str(line)


@pytest.mark.slow
def test_the_requirements_line_installs_a_locally_built_wheel_with_hashes(tmp_path: Path) -> None:
    wheelhouse = tmp_path / "wheelhouse"
    build = _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", wheelhouse, ROOT], tmp_path)
    assert build.returncode == 0, build.stdout + build.stderr
    lines = []
    for wheel in sorted(wheelhouse.glob("*.whl")):
        name, version = wheel.name.split("-")[:2]
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        lines.append(f"{name}=={version} --hash=sha256:{digest}")
    assert any(line.startswith(f"mlgitops=={__version__} ") for line in lines)
    project = _project(tmp_path, {"system": "github", "mlgitops": {"requirements": "requirements-ci.txt"}})
    (project / "requirements-ci.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert run_module(["compile", str(project)]).returncode == 0
    line = _workflow_install_line(project)
    assert "--require-hashes -r requirements-ci.txt" in line
    # The package index is replaced by the wheelhouse: only the hashed files can be installed.
    offline = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheelhouse), "PIP_CONSTRAINT": ""}
    _run_install_line(line, _fresh_venv(tmp_path / "venv"), project, offline)
    # A wheel that is not the hashed one is refused.
    mlgitops_wheel = next(wheelhouse.glob("mlgitops-*.whl"))
    mlgitops_wheel.write_bytes(mlgitops_wheel.read_bytes() + b"\0")
    bin_dir = _fresh_venv(tmp_path / "venv2")
    env = {**_env(), **offline, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    tampered = _run(["bash", "-euo", "pipefail", "-c", line], project, env)
    assert tampered.returncode != 0 and "HASH" in tampered.stdout + tampered.stderr


@pytest.mark.slow
def test_the_git_line_installs_the_pinned_commit(tmp_path: Path) -> None:
    source = tmp_path / "mlgitops-src"  # a repository holding this checkout's package sources
    for part in ("src", "templates", "schemas"):
        shutil.copytree(ROOT / part, source / part, ignore=shutil.ignore_patterns("__pycache__"))
    for part in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / part, source / part)
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "x"],
    ):
        assert _run(["git", *args], source).returncode == 0
    commit = _run(["git", "rev-parse", "HEAD"], source).stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{40}", commit)
    url = "https://github.com/acme/mlgitops.git"
    project = _project(tmp_path, {"system": "github", "mlgitops": {"git": url, "commit": commit}})
    run = run_module(["compile", str(project)])
    assert run.returncode == 0, run.stdout + run.stderr
    line = _workflow_install_line(project)
    assert f"git+{url}@{commit}" in line
    # The line runs unchanged; git, which pip runs, fetches that URL from the local repository.
    git_config = tmp_path / "gitconfig"
    git_config.write_text(f'[url "file://{source}"]\n\tinsteadOf = {url}\n', encoding="utf-8")
    bin_dir = _fresh_venv(tmp_path / "venv")
    _run_install_line(line, bin_dir, project, {"GIT_CONFIG_GLOBAL": str(git_config)})
    # That install is the README's pinned one: pip recorded the URL and commit, and init, run from
    # it, pins CI to the same (the default that works before any release).
    created = _run(
        [bin_dir / "mlgitops", "init", "--repository", "https://github.com/acme/shop.git", "shop"], tmp_path
    )
    assert created.returncode == 0, created.stdout + created.stderr
    spec = yaml.safe_load((tmp_path / "shop/mlgitops.yaml").read_text(encoding="utf-8"))
    assert spec["spec"]["ci"] == {"system": "github", "mlgitops": {"git": url, "commit": commit}}
    assert "MLG352" not in created.stdout + created.stderr
    assert f"git+{url}@{commit}" in _workflow_install_line(tmp_path / "shop")
