"""The commit phase moves a new directory of files into place in one rename, and stays safe.

A first compile moves ``deploy/`` and ``.github/`` in whole; a kill right after one of
those renames is rolled back like any other; a directory (even an empty one) or a file
that turns up at a target after planning is never replaced: the files go in one by one
around what is there, or the compile stops, rolls back, and leaves the newcomer alone.
"""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest

from compile_helpers import as_subproject, copy_specs, describe_difference, example, run_module, tree
from mlgitops.emit import noreplace, transaction
from mlgitops.emit.safefs import ProjectTree
from mlgitops.emit.staging import ROOT_STAGING_DIR, STAGING_DIR
from mlgitops.pipeline import check_project, compile_project, recover_interrupted

JOURNAL = transaction.JOURNAL_PATH
Renames = list[tuple[str, str, bool]]


def output_tree(root: Path) -> dict[str, bytes]:
    return {p: d for p, d in tree(root).items() if not p.startswith(transaction.TXN_DIR + "/")}


def counted_renames(monkeypatch: pytest.MonkeyPatch, before: object = None) -> Renames:
    """Record every no-replace move (source, target, whole) the commit makes; ``before(target,
    whole)`` runs first."""
    real = ProjectTree.rename_new
    seen: Renames = []

    def rename_new(self: ProjectTree, source: str, target: str, *, whole: bool = False) -> None:
        seen.append((source, target, whole))
        if callable(before):
            before(self.root, target, whole)
        real(self, source, target, whole=whole)

    monkeypatch.setattr(ProjectTree, "rename_new", rename_new)
    return seen


@pytest.fixture
def quickstart(tmp_path: Path) -> Path:
    return copy_specs(example("quickstart"), tmp_path / "quickstart")


def reference(tmp_path: Path) -> dict[str, bytes]:
    """The tree a plain first compile of the quickstart makes."""
    root = copy_specs(example("quickstart"), tmp_path / "reference")
    assert compile_project(root).ok
    return output_tree(root)


def test_a_first_compile_moves_each_new_top_directory_in_one_rename(
    quickstart: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    renames = counted_renames(monkeypatch)
    result = compile_project(quickstart)
    assert result.ok, [d.message for d in result.diagnostics]
    assert sorted((target, whole) for _, target, whole in renames) == [(".github", True), ("deploy", True)]
    assert all(source == f"{STAGING_DIR}/{target}" for source, target, _ in renames)
    assert check_project(quickstart).drift == []


def test_ci_files_above_the_project_move_in_whole_and_roll_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A project below its repository root: ``.github/`` at the root is moved in whole through
    the repository's descriptor, from the staging area's ``new-root/``; a kill after it is undone."""
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True, capture_output=True)
    project = as_subproject(copy_specs(example("quickstart"), repo / "teams" / "fraud"))
    run = run_module(["compile", str(project)], env={"MLGITOPS_TEST_CRASH_AFTER_MOVES": "1"})
    assert run.returncode == 137, run.stdout + run.stderr
    # Killed after the first counted move, which put every workflow in place at once.
    assert len(list((repo / ".github/workflows").iterdir())) > 1 and not (project / "deploy").exists()
    assert recover_interrupted(project) is True
    assert not any((repo / ".github/workflows").iterdir()) and not (project / "deploy").exists()
    renames = counted_renames(monkeypatch)
    result = compile_project(project)
    assert result.ok, [d.message for d in result.diagnostics]
    whole = sorted((source, target) for source, target, is_whole in renames if is_whole)
    assert whole == [(f"{STAGING_DIR}/deploy", "deploy")], whole  # .github/workflows was left, empty
    above = [source for source, target, _ in renames if target.startswith("../../.github/workflows/")]
    assert above and all(source.startswith(f"{ROOT_STAGING_DIR}/.github/workflows/") for source in above)
    assert check_project(project).drift == []


def test_a_new_model_moves_in_as_one_directory_per_environment(
    quickstart: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert compile_project(quickstart).ok
    spec = quickstart / "models/iris-classifier.yaml"
    text = spec.read_text(encoding="utf-8")
    (quickstart / "models/iris-twin.yaml").write_text(
        text.replace("name: iris-classifier", "name: iris-twin"), encoding="utf-8"
    )
    renames = counted_renames(monkeypatch)
    result = compile_project(quickstart)
    assert result.ok, [d.message for d in result.diagnostics]
    whole = sorted(target for _, target, is_whole in renames if is_whole)
    assert "deploy/dev/iris-twin" in whole and "deploy/prod/iris-twin" in whole, whole
    assert all(not t.startswith("deploy/dev/iris-twin/") for _, t, w in renames if not w)
    assert check_project(quickstart).drift == []


@pytest.mark.parametrize("last", [False, True])
def test_a_kill_right_after_a_directory_rename_is_rolled_back(
    quickstart: Path, tmp_path: Path, last: bool
) -> None:
    """Killed once ``.github/`` is in place (the first directory rename, all its files at once)
    and ``deploy/`` is still staged; or (``last``) once the rename of ``deploy/`` has put every
    file in place, before the manifest and the commit point."""
    before = output_tree(quickstart)
    files = [p for p in reference(tmp_path) if p not in before and not p.startswith(".mlgitops/")]
    crash_after = len(files) if last else 1
    run = run_module(["compile", str(quickstart)], env={"MLGITOPS_TEST_CRASH_AFTER_MOVES": str(crash_after)})
    assert run.returncode == 137, run.stdout + run.stderr
    assert (quickstart / JOURNAL).is_file()
    placed = output_tree(quickstart)
    assert any(p.startswith(".github/") for p in placed)
    assert any(p.startswith("deploy/") for p in placed) == last
    assert not (quickstart / ".mlgitops/manifest.json").exists()
    assert recover_interrupted(quickstart) is True
    # Every file is gone again (rollback, as pruning, keeps the emptied output directories).
    assert output_tree(quickstart) == before, describe_difference(before, output_tree(quickstart))
    assert not (quickstart / transaction.TXN_DIR).exists()
    assert compile_project(quickstart).ok
    assert check_project(quickstart).drift == []


def test_an_error_in_a_directory_rename_and_in_the_fallback_is_rolled_back(
    quickstart: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The directory rename fails, so do the single moves it falls back to: nothing is left."""
    before = output_tree(quickstart)

    def failing(root: Path, target: str, whole: bool) -> None:
        if target.startswith("deploy"):
            raise OSError(errno.EIO, "Input/output error", target)

    counted_renames(monkeypatch, failing)
    result = compile_project(quickstart)
    assert not result.ok
    assert [d.code for d in result.diagnostics if d.severity.name == "ERROR"] == ["MLG516"]
    assert output_tree(quickstart) == before, describe_difference(before, output_tree(quickstart))
    assert not (quickstart / transaction.TXN_DIR).exists()


def test_an_empty_directory_that_appears_at_the_target_is_not_replaced(
    quickstart: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """rename(2) would replace an empty directory; the no-replace rename refuses it, and the files
    go in one by one into the directory that is there (the very same one)."""
    made: list[int] = []

    def appear(root: Path, target: str, whole: bool) -> None:
        if whole and target == "deploy":
            (root / "deploy").mkdir()
            made.append((root / "deploy").stat().st_ino)

    renames = counted_renames(monkeypatch, appear)
    result = compile_project(quickstart)
    assert result.ok, [d.message for d in result.diagnostics]
    assert made == [(quickstart / "deploy").stat().st_ino]
    assert any(target.startswith("deploy/") and not whole for _, target, whole in renames)
    assert output_tree(quickstart) == reference(tmp_path)


def test_a_file_that_appears_at_a_target_is_kept_and_the_compile_rolled_back(
    quickstart: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file someone writes where the planner found none, after planning: the compile stops
    (MLG516), everything it moved in is taken out again, and that file stays as it was."""
    assert compile_project(quickstart).ok
    (quickstart / "models/iris-twin.yaml").write_text(
        (quickstart / "models/iris-classifier.yaml")
        .read_text(encoding="utf-8")
        .replace("name: iris-classifier", "name: iris-twin"),
        encoding="utf-8",
    )
    for path in (quickstart / ".github/workflows").iterdir():
        path.unlink()  # new files in a directory that exists: moved one by one
    before = output_tree(quickstart)
    theirs = b"someone else's workflow\n"
    victim: list[str] = []

    def appear(root: Path, target: str, whole: bool) -> None:
        if not whole and target.startswith(".github/workflows/") and not victim:
            victim.append(target)
            (root / target).write_bytes(theirs)

    counted_renames(monkeypatch, appear)
    result = compile_project(quickstart)
    assert [d.code for d in result.diagnostics if d.severity.name == "ERROR"] == ["MLG516"]
    assert victim and "appeared" in result.diagnostics[-1].message
    after = output_tree(quickstart)
    assert after.pop(victim[0]) == theirs
    assert after == before, describe_difference(before, after)
    assert not (quickstart / transaction.TXN_DIR).exists()


def test_the_no_replace_rename_refuses_an_empty_directory_and_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for native in (True, False):  # renameat2, and the lstat-then-rename fallback
        if not native:
            monkeypatch.setattr(noreplace, "_renameat2", None)
        base = tmp_path / str(native)
        (base / "staged").mkdir(parents=True)
        (base / "staged/file").write_bytes(b"new")
        (base / "empty").mkdir()
        (base / "file").write_bytes(b"old")
        fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for target in ("empty", "file"):
                with pytest.raises(FileExistsError):
                    noreplace.rename_no_replace("staged", fd, target, fd)
            noreplace.rename_no_replace("staged", fd, "moved", fd)
        finally:
            os.close(fd)
        assert (base / "file").read_bytes() == b"old" and list((base / "empty").iterdir()) == []
        assert (base / "moved/file").read_bytes() == b"new" and not (base / "staged").exists()


def test_a_directory_with_a_file_that_appears_after_planning_is_never_overwritten(
    quickstart: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``deploy/`` was missing when the files were decided (so none of its files was looked for);
    it appears before the commit with a file at a generated path: the directory rename is refused,
    the single move onto that file too, and the rollback leaves the newcomer as it was."""
    before = output_tree(quickstart)
    theirs = b"not ours\n"
    target = "deploy/dev/namespace.yaml"

    def appear(root: Path, moved: str, whole: bool) -> None:
        if whole and moved == "deploy":
            (root / "deploy/dev").mkdir(parents=True)
            (root / target).write_bytes(theirs)

    counted_renames(monkeypatch, appear)
    result = compile_project(quickstart)
    assert [d.code for d in result.diagnostics if d.severity.name == "ERROR"] == ["MLG516"]
    after = output_tree(quickstart)
    assert after.pop(target) == theirs
    assert after == before, describe_difference(before, after)
