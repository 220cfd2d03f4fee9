"""What an environment served before, read from git for the promotion order (MLG306) and
deprecated models (MLG344): asked only about versions the base revision does not deploy, and in
batches (gitsource.SpecHistory, validate/promotion.py)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

import mlgitops.gitsource
from mlgitops.gitsource import SpecHistory
from mlgitops.pipeline import validate_project

PROJECT = """\
apiVersion: mlgitops/v1
kind: Project
metadata: {name: demo}
spec:
  repository: https://github.com/acme/ml.git
  serving: kserve
  registry: {kind: mlflow, trackingUri: https://mlflow.acme.test}
  environments:
    - {name: dev, namespace: ml-dev}
    - {name: staging, namespace: ml-staging}
    - {name: prod, namespace: ml-prod, approval: required}
  defaults:
    serving: {resources: {cpu: 500m, memory: 1Gi}}
"""
MODEL = """\
apiVersion: mlgitops/v1
kind: Model
metadata: {{name: {name}, owner: data-science}}
spec:
  serving:
    runtime: sklearn
    artifact: "s3://models/{{model}}/{{version}}/"
  deployments:
    dev: {{version: {dev}}}
    staging: {{version: {staging}}}
    prod: {{version: {prod}}}
{lifecycle}"""


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.test", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def write_model(
    root: Path, name: str, dev: str, staging: str, prod: str, *, deprecated: bool = False
) -> None:
    lifecycle = "  lifecycle: {stage: deprecated}\n" if deprecated else ""
    text = MODEL.format(name=name, dev=dev, staging=staging, prod=prod, lifecycle=lifecycle)
    (root / "models" / f"{name}.yaml").write_text(text, encoding="utf-8")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Three models whose prod lags staging (as it normally does), one of them deprecated; prod
    served 1.0.0, then 1.1.0 (the base, HEAD)."""
    (tmp_path / "models").mkdir()
    (tmp_path / "mlgitops.yaml").write_text(PROJECT, encoding="utf-8")
    git(tmp_path, "init", "-q", "-b", "main")
    for prod in ("1.0.0", "1.1.0"):
        write_model(tmp_path, "iris", "1.2.0", "1.2.0", prod)
        write_model(tmp_path, "churn", "1.2.0", "1.2.0", prod)
        write_model(tmp_path, "legacy", "1.2.0", "1.2.0", prod, deprecated=True)
        git(tmp_path, "add", ".")
        git(tmp_path, "commit", "-qm", f"prod on {prod}")
    return tmp_path


class GitCalls:
    def __init__(self) -> None:
        self.commands: list[str] = []  # git's subcommand of each run

    def seen(self, command: str) -> int:
        return self.commands.count(command)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[GitCalls]:
    found = GitCalls()
    run_git, cat_blobs = mlgitops.gitsource._git, mlgitops.gitsource._cat_blobs

    def counting_git(cwd: Path, *args: str, check: bool = True) -> str:
        found.commands.append(next(a for a in args if not a.startswith("-")))
        return run_git(cwd, *args, check=check)

    def counting_cat(top: Path, shas: list[str]) -> list[bytes]:
        found.commands.append("cat-file")
        return cat_blobs(top, shas)

    monkeypatch.setattr(mlgitops.gitsource, "_git", counting_git)
    monkeypatch.setattr(mlgitops.gitsource, "_cat_blobs", counting_cat)
    yield found


def findings(root: Path) -> list[tuple[str, str]]:
    history = SpecHistory.at(root, "HEAD")
    return [(d.code, d.message) for d in validate_project(root, history=history).diagnostics]


def test_versions_the_base_deploys_need_no_history(repo: Path, calls: GitCalls) -> None:
    """Every prod lags staging and a model is deprecated, yet nothing changed since the base: its
    deployments are the base's, so no history is read (no git log, no blob parsed)."""
    assert findings(repo) == []
    assert calls.seen("log") == 0
    # one listing of the models' folder and one read of the base's blobs, for all files at once
    assert calls.seen("ls-tree") == 1 and calls.seen("cat-file") == 1


def test_an_edited_file_whose_prod_did_not_move_needs_no_history(repo: Path, calls: GitCalls) -> None:
    """Staging moved on in every file: prod's version is still the base's (read from the base's
    blob of each file, not from its history)."""
    for name in ("iris", "churn"):
        write_model(repo, name, "1.3.0", "1.3.0", "1.1.0")
    # staging rolls back to 1.1.0, which the base deploys (in prod): served
    write_model(repo, "legacy", "1.1.0", "1.1.0", "1.1.0", deprecated=True)
    assert findings(repo) == []
    assert calls.seen("log") == 0


def test_versions_the_base_does_not_deploy_are_read_from_the_history_in_one_batch(
    repo: Path, calls: GitCalls
) -> None:
    write_model(repo, "iris", "1.2.0", "1.2.0", "1.0.0")  # a rollback to what prod served before
    write_model(repo, "churn", "1.2.0", "1.2.0", "0.9.0")  # never served in prod
    write_model(repo, "legacy", "1.3.0", "1.2.0", "1.1.0", deprecated=True)  # a new version
    assert findings(repo) == [
        (
            "MLG306",
            "version '0.9.0' in 'prod' has not been deployed to 'staging', the previous environment "
            "(it serves 1.2.0), and the spec's git history shows 'prod' never served it",
        ),
        (
            "MLG344",
            "model 'legacy' is deprecated and cannot take a new version: '1.3.0' in 'dev' was never "
            "served (per the spec's git history)",
        ),
    ]
    assert calls.seen("log") == 1  # the three files' histories at once


def test_a_model_added_by_the_change_has_no_past(repo: Path, calls: GitCalls) -> None:
    """Without a past, the rules without a history apply: older than staging's is allowed."""
    write_model(repo, "fresh", "1.2.0", "1.2.0", "1.0.0")
    assert findings(repo) == []
    write_model(repo, "fresh", "1.2.0", "1.2.0", "1.3.0")
    assert [code for code, _ in findings(repo)] == ["MLG306"]


def reference_versions(root: Path, path: str) -> dict[str, frozenset[str]]:
    """What the file deployed in its history, read as before batching: one git log per file."""
    log = git(root, "log", "--format=", "--raw", "--no-abbrev", "--no-renames", "HEAD", "--", path)
    served: dict[str, set[str]] = {}
    for line in log.splitlines():
        new = line.split("\t", 1)[0].split()[3]
        if not new.strip("0"):
            continue
        data = yaml.safe_load(git(root, "cat-file", "blob", new))
        for env, deployment in data["spec"]["deployments"].items():
            served.setdefault(env, set()).add(deployment["version"])
            if "canary" in deployment:
                served[env].add(deployment["canary"]["version"])
    return {env: frozenset(versions) for env, versions in served.items()}


def test_batched_histories_equal_one_log_per_file(repo: Path) -> None:
    """Several commits, a file deleted and added again, a canary, a file untouched since the
    first commit and a name with pathspec characters (read literally, never as a pattern)."""
    write_model(repo, "iris", "1.3.0", "1.3.0", "1.2.0")
    git(repo, "rm", "-q", "models/churn.yaml")
    git(repo, "commit", "-qam", "churn gone")
    write_model(repo, "churn", "2.0.0", "2.0.0", "1.1.0")
    text = (repo / "models/iris.yaml").read_text(encoding="utf-8")
    (repo / "models/iris.yaml").write_text(
        text.replace(
            "prod: {version: 1.2.0}", "prod: {version: 1.2.0, canary: {version: 1.3.0, traffic: 5}}"
        ),
        encoding="utf-8",
    )
    write_model(repo, "odd", "7.0.0", "7.0.0", "7.0.0")
    (repo / "models/odd.yaml").rename(repo / "models/[ci]*.yaml")  # as a pattern: churn and iris
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "more")
    write_model(repo, "iris", "1.4.0", "1.4.0", "1.3.0")
    git(repo, "commit", "-qam", "iris prod 1.3.0")
    files = ["models/iris.yaml", "models/churn.yaml", "models/legacy.yaml", "models/[ci]*.yaml"]
    batched = SpecHistory.at(repo, "HEAD").versions(files)
    assert batched == {f: reference_versions(repo, f) for f in files[:3]} | {
        "models/[ci]*.yaml": {"dev": {"7.0.0"}, "staging": {"7.0.0"}, "prod": {"7.0.0"}}
    }
    assert batched["models/iris.yaml"]["prod"] == {"1.0.0", "1.1.0", "1.2.0", "1.3.0"}
    assert SpecHistory.at(repo, "HEAD").versions(["models/absent.yaml"]) == {"models/absent.yaml": {}}


def test_history_follows_the_branch_that_was_deployed(repo: Path) -> None:
    """A merged branch's intermediate states were never deployed; the merge's result was."""
    git(repo, "checkout", "-qb", "feature")
    write_model(repo, "iris", "1.2.0", "1.2.0", "5.0.0")
    git(repo, "commit", "-qam", "an experiment, never on main")
    write_model(repo, "iris", "1.2.0", "1.2.0", "1.2.0")
    git(repo, "commit", "-qam", "prod on 1.2.0")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "--no-edit", "feature")
    prod = SpecHistory.at(repo, "HEAD").versions(["models/iris.yaml"])["models/iris.yaml"]["prod"]
    assert prod == {"1.0.0", "1.1.0", "1.2.0"}
