"""`mlgitops diff` without --base in CI compares with the merge base of the pull request."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from compile_helpers import GIT_ENV
from mlgitops.ci_base import default_base
from mlgitops.errors import UsageError, UserError


def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def clone(tmp_path: Path) -> tuple[Path, str]:
    """A clone whose feature branch forked from main, after which main moved on."""
    origin = tmp_path / "origin"
    origin.mkdir()
    _git(origin, "init", "-q", "-b", "main")
    (origin / "a").write_text("1")
    _git(origin, "add", "a")
    _git(origin, "commit", "-qm", "one")
    fork = _git(origin, "rev-parse", "HEAD").strip()
    _git(origin, "switch", "-q", "-c", "feature")
    (origin / "b").write_text("2")
    _git(origin, "add", "b")
    _git(origin, "commit", "-qm", "feature")
    _git(origin, "switch", "-q", "main")
    (origin / "a").write_text("3")
    _git(origin, "commit", "-qam", "main moves on")
    work = tmp_path / "work"
    _git(tmp_path, "clone", "-q", "--branch", "feature", str(origin), str(work))
    return work, fork


def test_github_compares_with_the_merge_base(clone: tuple[Path, str]) -> None:
    work, fork = clone
    assert default_base(work, {"GITHUB_BASE_REF": "main"}) == fork


def test_gitlab_names_the_merge_base(clone: tuple[Path, str]) -> None:
    work, fork = clone
    assert default_base(work, {"CI_MERGE_REQUEST_DIFF_BASE_SHA": fork, "GITHUB_BASE_REF": "x"}) == fork


def test_outside_ci_base_is_required(clone: tuple[Path, str]) -> None:
    with pytest.raises(UsageError, match="--base is required"):
        default_base(clone[0], {})


def test_an_unfetched_target_branch_says_what_to_fetch(clone: tuple[Path, str]) -> None:
    with pytest.raises(UserError, match="fetch the target branch"):
        default_base(clone[0], {"GITHUB_BASE_REF": "release"})


def test_a_hostile_branch_name_is_refused(clone: tuple[Path, str]) -> None:
    with pytest.raises(UserError, match="not a usable branch name"):
        default_base(clone[0], {"GITHUB_BASE_REF": "--output=/tmp/x"})
