"""``pre-commit try-repo``: this repository's .pre-commit-hooks.yaml, installed as a user's
pre-commit installs it (``language: python``: pip installs this checkout into the hook's
environment, from the local path and PyPI), run on staged files passed as pre-commit
passes them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from compile_helpers import GIT_ENV
from conftest import ROOT, VENV_BIN
from test_cli_discovery import make_project


@pytest.mark.slow
def test_try_repo_passes_good_files_and_fails_a_bad_one(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    make_project(repo / "ml", broken=("beta",))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("MLGITOPS_", "GIT_", "PYTHONPATH"))},
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        **GIT_ENV,
    }

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)

    def try_repo(*files: str) -> subprocess.CompletedProcess[str]:
        command = [
            str(VENV_BIN / "pre-commit"),
            "try-repo",
            str(ROOT),
            "mlgitops-validate",
            "--color",
            "never",
        ]
        return subprocess.run(
            [*command, "--files", *files],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=900,  # the first run builds the hook's environment (pip install of this checkout)
        )

    git("init", "-q")
    git("add", "-A")  # staged, as a commit would have them
    # (a staged mlgitops.yaml would stand for its whole project, broken beta included)
    good = try_repo("ml/models/alpha.yaml")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "mlgitops validate" in good.stdout and "Passed" in good.stdout
    bad = try_repo("ml/models/alpha.yaml", "ml/models/beta.yaml")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "Failed" in bad.stdout
    assert "ml/models/beta.yaml:9:3: error[MLG201]: unknown field 'colour' in spec" in bad.stdout
    assert "alpha.yaml:" not in bad.stdout  # valid, so nothing to say about it
