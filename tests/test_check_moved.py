"""``check`` after a project is copied or moved inside its repository: the GitOps objects and CI
files name the project's sub-path, so every one of them differs, and the cause is the move,
not a hand edit (issue 16)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from compile_helpers import EXAMPLE_IDS, EXAMPLES, SCRATCH, as_subproject, copy_specs, run_module

MOVED = (
    "the project moved or was copied: generated files name {old} but it now sits at {new}; "
    "run mlgitops compile"
)
# What follows when the CI files sit at the repository root, named after the project's place.
CI_ELSEWHERE = (
    ", which writes its CI files for {new} (those for {old} stay: delete them if the project "
    "moved rather than was copied)"
)


def _git_init(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(directory)], check=True, capture_output=True)


def _compile(project: Path) -> None:
    run = run_module(["compile", str(project)])
    assert run.returncode == 0, run.stdout + run.stderr


def _snapshot(project: Path) -> dict[str, bytes]:
    return {
        path.relative_to(project).as_posix(): path.read_bytes()
        for path in sorted(project.rglob("*"))
        if path.is_file()
        and ".git" not in path.relative_to(project).parts
        and path.relative_to(project).as_posix() not in SCRATCH
    }


def _shown_prefix(tmp_path: Path) -> str:
    """How the CLI, run from this directory, spells ``tmp_path/``."""
    return Path(os.path.relpath(tmp_path, Path.cwd())).as_posix() + "/"


def _check(project: Path) -> subprocess.CompletedProcess[str]:
    before = _snapshot(project)
    run = run_module(["check", str(project)])
    assert _snapshot(project) == before, "check wrote to the tree"
    return run


@pytest.mark.parametrize("example", EXAMPLES, ids=EXAMPLE_IDS)
def test_a_moved_project_is_reported_as_moved_in_one_line(tmp_path: Path, example: Path) -> None:
    repo = tmp_path / "repo"
    _git_init(repo)
    old = as_subproject(copy_specs(example, repo / "teams" / "risk"))
    _compile(old)
    new = repo / "platform" / "models"
    new.parent.mkdir(parents=True)
    old.rename(new)

    run = _check(new)
    assert run.returncode == 1, run.stdout + run.stderr
    moved = MOVED.format(old="teams/risk/", new="platform/models/")
    moved += CI_ELSEWHERE.format(old="teams/risk/", new="platform/models/")
    assert run.stdout.splitlines() == [
        f"{new / 'mlgitops.yaml'}: {moved}".replace(f"{tmp_path}/", _shown_prefix(tmp_path)),
        "1 file out of date; run 'mlgitops compile'",
    ], run.stdout

    _compile(new)
    assert _check(new).returncode == 0


def test_moved_to_and_from_the_repository_root(tmp_path: Path) -> None:
    example = EXAMPLES[0]
    outer = tmp_path / "outer"
    _git_init(outer)
    project = as_subproject(copy_specs(example, outer / "ml"))
    _compile(project)
    _git_init(project)  # the project becomes a repository of its own: now at its root

    run = _check(project)
    assert run.returncode == 1, run.stdout + run.stderr
    assert MOVED.format(old="ml/", new="the repository root") in run.stdout, run.stdout

    _compile(project)
    shutil.rmtree(project / ".git")  # back inside the outer repository, at ml/
    run = _check(project)
    assert run.returncode == 1, run.stdout + run.stderr
    assert MOVED.format(old="the repository root", new="ml/") in run.stdout, run.stdout


def test_a_move_with_a_hand_edit_lists_the_files(tmp_path: Path) -> None:
    """Not every difference is the sub-path: the files are listed as before."""
    repo = tmp_path / "repo"
    _git_init(repo)
    old = as_subproject(copy_specs(EXAMPLES[0], repo / "a"))
    _compile(old)
    new = repo / "b"
    old.rename(new)
    edited = next(path for path in sorted((new / "deploy").rglob("*.yaml")))
    edited.write_text(edited.read_text(encoding="utf-8") + "# tweaked\n", encoding="utf-8")

    run = _check(new)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "the project moved" not in run.stdout, run.stdout
    assert f"{edited.relative_to(new).as_posix()}: differs from what mlgitops generates" in run.stdout
    assert "edited by hand" in run.stdout


def test_a_hand_edit_without_a_move_is_not_called_a_move(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    _git_init(repo)
    project = as_subproject(copy_specs(EXAMPLES[0], repo / "a"))
    _compile(project)
    # A file that names the sub-path, edited to name another: a hand edit that looks like a move.
    target = next(p for p in sorted((project / "deploy").rglob("*.yaml")) if "a/deploy/" in p.read_text())
    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace("a/deploy/", "elsewhere/deploy/", 1), encoding="utf-8")

    run = _check(project)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "the project moved" not in run.stdout, run.stdout
    assert "edited by hand" in run.stdout
