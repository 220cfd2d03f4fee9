"""The output path guard (emit/paths.py): what it remembers of directories found missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgitops.emit.paths import PathGuard


def looked_at(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths the guard asks the file system about (each prefix starts with is_symlink)."""
    seen: list[str] = []
    real = Path.is_symlink

    def is_symlink(self: Path) -> bool:
        seen.append(self.name)
        return real(self)

    monkeypatch.setattr(Path, "is_symlink", is_symlink)
    return seen


def test_below_an_absent_directory_nothing_is_looked_at(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    guard = PathGuard(tmp_path)
    assert guard.unsafe_reason("deploy/a/b.yaml", check_leaf=False) is None
    guard.absent("deploy")
    seen = looked_at(monkeypatch)
    for model in range(50):
        assert guard.unsafe_reason(f"deploy/models/m{model}/prod/x.yaml", check_leaf=False) is None
        assert guard.unsafe_reason(f"deploy/models/m{model}/prod/y.yaml") is None
    assert seen == []


def test_an_absent_directory_still_refuses_bad_syntax(tmp_path: Path) -> None:
    guard = PathGuard(tmp_path)
    guard.absent("deploy")
    assert guard.unsafe_reason("deploy/../../etc/x.yaml", check_leaf=False) is not None
    assert guard.unsafe_reason("deploy//x.yaml", check_leaf=False) is not None
    assert guard.unsafe_reason("deploy/a\\b.yaml", check_leaf=False) is not None


def test_directories_beside_an_absent_one_are_still_checked(tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    (tmp_path / "ci").symlink_to(tmp_path / "outside")
    guard = PathGuard(tmp_path)
    guard.absent("deploy")
    assert guard.unsafe_reason("ci/x/y.yaml", check_leaf=False) == "ci is a symbolic link"
    assert guard.unsafe_reason("deploy/ci/y.yaml", check_leaf=False) is None


def test_a_safe_directory_is_not_walked_again_but_its_leaf_is_checked(tmp_path: Path) -> None:
    (tmp_path / "deploy").mkdir()
    guard = PathGuard(tmp_path)
    assert guard.unsafe_reason("deploy/x.yaml") is None
    (tmp_path / "deploy" / "link.yaml").symlink_to(tmp_path / "elsewhere")
    assert guard.unsafe_reason("deploy/link.yaml") == "deploy/link.yaml is a symbolic link"
    assert guard.unsafe_reason("deploy/link.yaml", check_leaf=False) is None  # the caller's to stat


def test_above_the_project_the_absent_directory_is_the_repository_guards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "sub"
    project.mkdir()
    guard = PathGuard(project, "sub", tmp_path)
    guard.absent("../.github")
    seen = looked_at(monkeypatch)
    assert guard.unsafe_reason("../.github/workflows/mlgitops-sub-ci.yml", check_leaf=False) is None
    assert seen == []
    (project / ".github").symlink_to(tmp_path)  # the project's own .github is another directory
    assert guard.unsafe_reason(".github/workflows/x.yml", check_leaf=False) == ".github is a symbolic link"
