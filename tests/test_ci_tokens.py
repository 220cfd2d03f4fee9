"""The token promotion pull requests are opened with: the default (github.token) is explained
once by compile (MLG351); a GitHub App or a secret replaces it; GitLab names its variable."""

from __future__ import annotations

from pathlib import Path

import yaml

from compile_helpers import MINIMAL_PROJECT
from mlgitops.pipeline import compile_project

MODEL = """\
apiVersion: mlgitops/v1
kind: Model
metadata: {name: iris, owner: ds}
spec:
  serving: {runtime: sklearn, artifact: "s3://m/{model}/{version}/"}
  deployments: {dev: {version: 1.0.0}}
"""


def _project(root: Path, ci: str) -> Path:
    (root / "models").mkdir(parents=True)
    text = MINIMAL_PROJECT.replace("  registry:", f"  repositoryRoot: .\n  ci:{ci}\n  registry:")
    (root / "mlgitops.yaml").write_text(text, encoding="utf-8")
    (root / "models" / "iris.yaml").write_text(MODEL, encoding="utf-8")
    return root


def _codes(root: Path) -> list[str]:
    result = compile_project(root, use_cache=False)
    assert result.ok, result.diagnostics
    return [d.code for d in result.diagnostics]


def test_the_default_token_is_explained_once(tmp_path: Path) -> None:
    root = _project(tmp_path, " github")
    assert _codes(root) == ["MLG351"]
    assert _codes(root) == []  # the promotion workflow is written already


def test_a_github_app_token_opens_the_pull_requests(tmp_path: Path) -> None:
    root = _project(tmp_path, "\n    github:\n      token: {app: {idVar: APP_ID, keySecret: APP_KEY}}")
    assert _codes(root) == []
    workflow = yaml.safe_load((root / ".github/workflows/mlgitops-promote.yml").read_text())
    steps = workflow["jobs"]["promote"]["steps"]
    names = [s["name"] for s in steps]
    app = steps[names.index("Get a GitHub App token")]
    assert app["uses"].startswith("actions/create-github-app-token@")
    assert app["with"]["app-id"] == "${{ vars.APP_ID }}"
    assert app["with"]["private-key"] == "${{ secrets.APP_KEY }}"
    assert names.index("Get a GitHub App token") < names.index("Open the pull request")
    opened = steps[names.index("Open the pull request")]
    assert opened["env"]["GH_TOKEN"] == "${{ steps.app-token.outputs.token }}"


def test_a_token_secret_opens_the_pull_requests(tmp_path: Path) -> None:
    root = _project(tmp_path, "\n    github:\n      token: {secret: PROMOTION_PAT}")
    assert _codes(root) == []
    workflow = yaml.safe_load((root / ".github/workflows/mlgitops-promote.yml").read_text())
    (opened,) = [s for s in workflow["jobs"]["promote"]["steps"] if s["name"] == "Open the pull request"]
    assert opened["env"]["GH_TOKEN"] == "${{ secrets.PROMOTION_PAT }}"


def test_gitlab_pushes_with_the_named_variable(tmp_path: Path) -> None:
    root = _project(tmp_path, "\n    system: gitlab\n    gitlab: {tokenVar: BOT_TOKEN}")
    assert _codes(root) == []
    config = yaml.safe_load((root / ".gitlab-ci.yml").read_text())
    assert config["variables"]["MLGITOPS_GITLAB_TOKEN"] == "$BOT_TOKEN"
