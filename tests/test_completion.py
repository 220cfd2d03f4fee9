"""`mlgitops completion SHELL` and the completion protocol it installs (click's own)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from compile_helpers import copy_specs, example
from conftest import mlgitops_exe, run_mlgitops


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_each_shell_gets_a_script_that_calls_back_into_mlgitops(shell: str) -> None:
    run = run_mlgitops(["completion", shell])
    assert run.returncode == 0, run.stderr
    assert "_MLGITOPS_COMPLETE" in run.stdout and f"{shell}_complete" in run.stdout


def test_an_unknown_shell_is_a_usage_error() -> None:
    run = run_mlgitops(["completion", "powershell"])
    assert run.returncode == 2
    assert "bash" in run.stderr and "fish" in run.stderr


def complete(words: str, cword: int, cwd: Path | None = None) -> list[str]:
    """What bash would offer for ``words`` (the protocol the installed script speaks)."""
    env = {**os.environ, "_MLGITOPS_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    run = subprocess.run(
        [mlgitops_exe()], env=env, capture_output=True, text=True, timeout=30, check=False, cwd=cwd
    )
    assert run.returncode == 0, run.stderr
    return [line.split(",", 1)[1] for line in run.stdout.splitlines() if line]


def test_commands_and_their_options_complete() -> None:
    assert complete("mlgitops val", 1) == ["validate"]
    assert {"compile", "completion", "check"} <= set(complete("mlgitops c", 1))
    assert complete("mlgitops compile --no", 2) == ["--no-cache"]
    assert complete("mlgitops completion f", 2) == ["fish"]


@pytest.fixture
def quickstart(tmp_path: Path) -> Path:
    root = copy_specs(example("quickstart"), tmp_path / "quickstart")
    (root / "models" / "churn.yaml").write_text("not even: [valid", encoding="utf-8")  # names only
    return root


def test_model_names_complete_from_the_include_patterns(quickstart: Path) -> None:
    assert complete("mlgitops explain ", 2, quickstart) == ["churn", "iris-classifier"]
    assert complete("mlgitops promote i", 2, quickstart) == ["iris-classifier"]
    assert complete("mlgitops gate c", 2, quickstart / "models") == ["churn"]  # found upward


def test_environment_names_complete_from_the_project_file(quickstart: Path) -> None:
    assert complete("mlgitops promote iris-classifier --to ", 4, quickstart) == ["dev", "staging", "prod"]
    assert complete("mlgitops explain iris-classifier --env s", 4, quickstart) == ["staging"]
    assert complete("mlgitops gate iris-classifier --env p", 4, quickstart) == ["prod"]


def test_completion_follows_minus_c(quickstart: Path, tmp_path: Path) -> None:
    assert complete(f"mlgitops promote -C {quickstart} iris-classifier --to d", 6, tmp_path) == ["dev"]


def test_no_project_offers_no_names(tmp_path: Path) -> None:
    assert complete("mlgitops explain ", 2, tmp_path) == []
