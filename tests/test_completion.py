"""`mlgitops completion SHELL` and the completion protocol it installs (click's own)."""

from __future__ import annotations

import os
import subprocess

import pytest

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


def complete(words: str, cword: int) -> list[str]:
    """What bash would offer for ``words`` (the protocol the installed script speaks)."""
    env = {**os.environ, "_MLGITOPS_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    run = subprocess.run([mlgitops_exe()], env=env, capture_output=True, text=True, timeout=30, check=False)
    assert run.returncode == 0, run.stderr
    return [line.split(",", 1)[1] for line in run.stdout.splitlines()]


def test_commands_and_their_options_complete() -> None:
    assert complete("mlgitops val", 1) == ["validate"]
    assert {"compile", "completion", "check"} <= set(complete("mlgitops c", 1))
    assert complete("mlgitops compile --no", 2) == ["--no-cache"]
    assert complete("mlgitops completion f", 2) == ["fish"]
