"""The token promotion pull requests are opened with: the default (github.token) is explained
once by compile (MLG351); a GitHub App or a secret replaces it; GitLab names its variable."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner

from ci_stub_runner import gitlab_config
from compile_helpers import MINIMAL_PROJECT
from mlgitops.cli import cli
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
    # MLG352: spec.ci.mlgitops is not set either (tests/test_ci_install.py)
    assert _codes(root) == ["MLG351", "MLG352"]
    assert _codes(root) == []  # the promotion workflow is written already


def test_a_github_app_token_opens_the_pull_requests(tmp_path: Path) -> None:
    root = _project(tmp_path, "\n    github:\n      token: {app: {idVar: APP_ID, keySecret: APP_KEY}}")
    assert _codes(root) == ["MLG352"]  # no spec.ci.mlgitops (tests/test_ci_install.py), no MLG351
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
    assert _codes(root) == ["MLG352"]  # no spec.ci.mlgitops (tests/test_ci_install.py), no MLG351
    workflow = yaml.safe_load((root / ".github/workflows/mlgitops-promote.yml").read_text())
    (opened,) = [s for s in workflow["jobs"]["promote"]["steps"] if s["name"] == "Open the pull request"]
    assert opened["env"]["GH_TOKEN"] == "${{ secrets.PROMOTION_PAT }}"


def test_gitlab_pushes_with_the_named_variable(tmp_path: Path) -> None:
    root = _project(tmp_path, "\n    system: gitlab\n    gitlab: {tokenVar: BOT_TOKEN}")
    assert _codes(root) == ["MLG352"]  # no spec.ci.mlgitops (tests/test_ci_install.py), no MLG351
    config = gitlab_config(root, ".gitlab-ci.yml")  # its hidden jobs included and extended
    pushing = {
        name
        for name, job in config.items()
        if isinstance(job, dict) and "MLGITOPS_GITLAB_TOKEN" in str(job.get("script", ""))
    }
    assert {"mlgitops-validate", "promote-to-dev"} <= pushing  # the plan note, the promotion
    for name in pushing:  # only the jobs that push or comment see the token
        assert config[name]["variables"]["MLGITOPS_GITLAB_TOKEN"] == "$BOT_TOKEN", name
    assert "MLGITOPS_GITLAB_TOKEN" not in config.get("variables", {})
    # No model trains: no trigger jobs' file (GitLab refuses an include holding no configuration).
    assert not (root / "deploy/ci/gitlab-triggers.yml").exists()


def _settings(root: Path, fmt: str) -> str:
    result = CliRunner().invoke(cli, ["ci", "settings", "--project", str(root), "--format", fmt])
    assert result.exit_code == 0, result.output
    return result.output


def test_ci_settings_lists_what_the_repository_needs(tmp_path: Path) -> None:
    root = _project(tmp_path, "\n    github:\n      token: {secret: PROMOTION_PAT}")
    text = (
        (root / "mlgitops.yaml")
        .read_text()
        .replace(
            "      namespace: ml-dev\n",
            "      namespace: ml-dev\n    - {name: prod, namespace: ml-prod, approval: required}\n",
        )
    )
    (root / "mlgitops.yaml").write_text(text)
    checklist = _settings(root, "text")
    assert "- [ ] environment `prod`: required reviewers" in checklist
    assert "- [ ] environment `dev`: no protection rule" in checklist
    assert "- [ ] `PROMOTION_PAT`: token that opens promotion pull requests" in checklist
    assert "create and approve pull requests" not in checklist  # a named token needs no such switch
    calls = _settings(root, "gh")
    assert "gh api --method PUT repos/{owner}/{repo}/environments/prod -F 'reviewers[][type]=User'" in calls
    assert "gh secret set PROMOTION_PAT" in calls


def test_ci_settings_default_token_needs_the_switch(tmp_path: Path) -> None:
    root = _project(tmp_path, " github")
    assert "allow GitHub Actions to create and approve pull requests" in _settings(root, "text")
    assert "can_approve_pull_request_reviews=true" in _settings(root, "gh")


def test_ci_settings_gitlab_schedules_and_token(tmp_path: Path) -> None:
    root = _project(tmp_path, "\n    system: gitlab\n    gitlab: {tokenVar: BOT_TOKEN}")
    model = (root / "models" / "iris.yaml").read_text()
    model += (
        '  training: {image: "ghcr.io/acme/t:1.0.0", schedule: "0 4 * * 1", env: {K: {fromCiSecret: KEY}}}\n'
    )
    (root / "models" / "iris.yaml").write_text(model)
    calls = _settings(root, "gitlab")
    assert (
        "glab schedule create --cron '0 4 * * 1' --ref main --description 'mlgitops train iris' "
        "--variable MLGITOPS_TRAIN:iris"
    ) in calls
    assert "glab variable set BOT_TOKEN --masked --protected" in calls
    assert "glab variable set KEY --masked --protected" in calls


def test_spec_text_cannot_add_lines_to_the_checklist(tmp_path: Path) -> None:
    root = _project(tmp_path, "\n    system: gitlab")
    text = (
        (root / "mlgitops.yaml")
        .read_text()
        .replace("  repositoryRoot: .", '  repositoryRoot: .\n  revision: "main`\\n- [x] all done"')
    )
    (root / "mlgitops.yaml").write_text(text)
    model = (root / "models" / "iris.yaml").read_text()
    (root / "models" / "iris.yaml").write_text(
        model + '  training: {image: "a/t:1.0.0", schedule: "0 4 * * 1"}\n'
    )
    checklist = _settings(root, "text")
    assert not [line for line in checklist.splitlines() if line.startswith("- [x]")]
    assert "on `main  - [x] all done`" in checklist


def test_ci_settings_say_when_ci_cannot_install_mlgitops(tmp_path: Path) -> None:
    unset = _project(tmp_path / "unset", " github")
    assert "set spec.ci.mlgitops" in _settings(unset, "text")
    assert "# set spec.ci.mlgitops" in _settings(unset, "gh")
    pinned = _project(
        tmp_path / "pinned",
        "\n    system: gitlab\n    mlgitops: {git: https://github.com/acme/mlgitops.git, commit: "
        + "a" * 40
        + "}",
    )
    assert "installed from spec.ci.mlgitops (git)" in _settings(pinned, "text")
    assert "spec.ci.mlgitops" not in _settings(pinned, "gitlab")
