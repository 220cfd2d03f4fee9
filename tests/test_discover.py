"""Discovery's own walk of the tree: the files ``pathlib`` glob finds in an ordinary tree, and a
located error for everything it used to skip (the CLI side is tests/test_unusable_inputs.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlgitops.diagnostics import Location
from mlgitops.discover import ProjectFiles, find_models, find_project
from unprivileged import give_to_unprivileged, run_unprivileged, shared_directory

WHERE = Location("mlgitops.yaml", 3, 5)
TREE = (
    "models/a.yaml",
    "models/b.yml",
    "models/.hidden.yaml",
    "models/team/c.yaml",
    "models/team/deep/d.yaml",
    "models/team/deep/notes.txt",
    "services/s1/model.yaml",
    "services/s2/model.yaml",
    "services/s2/other.yaml",
    "top.yaml",
)


def _files(root: Path, *paths: str) -> ProjectFiles:
    for relative in ("mlgitops.yaml", *paths):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text("a: 1\n", encoding="utf-8")
    files, problems = find_project(root)
    assert files is not None and problems == []
    return files


@pytest.mark.parametrize(
    "pattern",
    [
        "models/**/*.yaml",
        "models/*.yaml",
        "**/*.yaml",
        "services/*/model.yaml",
        "services/s[12]/*.yaml",
        "models/?.y*ml",
        "models/team/deep/d.yaml",
        "*.yaml",
        "./models/*.yaml",
        "models//team/*.yaml",
    ],
)
def test_an_ordinary_tree_gives_what_pathlib_glob_gives(tmp_path: Path, pattern: str) -> None:
    files = _files(tmp_path, *TREE)
    found, problems = find_models(files, (pattern,), WHERE)
    expected = sorted(p for p in tmp_path.glob(pattern) if p != files.project_file)
    assert problems == ([] if expected else [problems[0]])
    assert found == expected


def test_several_patterns_give_each_file_once(tmp_path: Path) -> None:
    files = _files(tmp_path, *TREE)
    found, problems = find_models(files, ("models/**/*.yaml", "models/team/*.yaml", "**/c.yaml"), WHERE)
    assert problems == []
    assert [files.display(p) for p in found] == [
        "models/.hidden.yaml",
        "models/a.yaml",
        "models/team/c.yaml",
        "models/team/deep/d.yaml",
    ]


def test_problems_are_located_at_the_pattern_that_met_them(tmp_path: Path) -> None:
    files = _files(tmp_path, "models/a.yaml")
    (tmp_path / "models/broken.yaml").symlink_to("nowhere.yaml")
    (tmp_path / "other").mkdir()
    os.mkfifo(tmp_path / "other/pipe.yaml")
    located = [Location("mlgitops.yaml", 16, 7), Location("mlgitops.yaml", 17, 7)]
    found, problems = find_models(files, ("models/*.yaml", "other/*.yaml"), WHERE, located)
    assert [files.display(p) for p in found] == ["models/a.yaml"]
    assert [(d.code, d.message, d.location) for d in problems] == [
        ("MLG004", "models/broken.yaml is a dangling symbolic link", located[0]),
        ("MLG006", "other/pipe.yaml is a FIFO, not a regular file", located[1]),
    ]


def test_a_symlink_to_a_regular_file_inside_the_project_is_a_model_file(tmp_path: Path) -> None:
    files = _files(tmp_path, "models/a.yaml", "shared/b.yaml")
    (tmp_path / "models/b.yaml").symlink_to("../shared/b.yaml")
    found, problems = find_models(files, ("models/*.yaml",), WHERE)
    assert problems == []
    assert [files.display(p) for p in found] == ["models/a.yaml", "models/b.yaml"]


def test_a_pattern_glob_cannot_take_is_no_crash(tmp_path: Path) -> None:
    """pathlib raises for '.' and for '**' inside a name; discovery treats them as patterns."""
    files = _files(tmp_path, "models/a.yaml")
    found, problems = find_models(files, ("mod**s/*.yaml", "."), WHERE)
    assert [files.display(p) for p in found] == ["models/a.yaml"]
    assert [(d.code, d.message) for d in problems] == [("MLG005", ". is a directory, not a regular file")]


def test_a_directory_that_cannot_be_searched_on_the_way_is_reported() -> None:
    """A literal part of the pattern is looked up, not listed: a directory that may be listed
    but not entered still fails, and says so."""
    with shared_directory() as shared:
        files = _files(shared, "models/team/a.yaml", "models/b.yaml")
        give_to_unprivileged(shared)
        (shared / "models/team").chmod(0o644)  # readable, not searchable
        found, problems = run_unprivileged(lambda: find_models(files, ("models/team/a.yaml",), WHERE))
        assert found == []
        assert [(d.code, d.message) for d in problems] == [
            ("MLG007", "models/team cannot be read: Permission denied")
        ]


def test_the_project_file_must_be_a_regular_file(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "mlgitops.yaml")
    files, problems = find_project(tmp_path)
    assert files is None
    assert [(d.code, d.message) for d in problems] == [
        ("MLG008", f"{tmp_path.as_posix()}/mlgitops.yaml is a FIFO, not a regular file")
    ]


_NAMES = st.sampled_from(["a", "b", "ab", "a.yaml", "..", ".", "models", "x y", "é"])


@given(
    root=st.lists(_NAMES, min_size=0, max_size=3),
    path=st.lists(_NAMES, min_size=0, max_size=4),
    below=st.booleans(),
)
def test_display_is_the_path_relative_to_the_root(root: list[str], path: list[str], below: bool) -> None:
    """``display`` cuts the root's text off a path below it; for every path it says what
    ``relative_to`` says (or the whole path where that refuses): prefixes of names ("/a" and
    "/ab"), the root itself, "." and ".." (which Path keeps as names), the filesystem root."""
    base = Path("/", *root)
    target = base.joinpath(*path) if below else Path("/", *path)
    files = ProjectFiles(base, base / "mlgitops.yaml")
    try:
        expected = target.relative_to(base).as_posix()
    except ValueError:
        expected = target.as_posix()
    assert files.display(target) == expected


@pytest.mark.parametrize(
    ("root", "path", "shown"),
    [
        ("/", "/a/b", "a/b"),
        ("//p", "//p/a", "a"),
        ("/p", "//p/a", "//p/a"),
        ("/p", "/p", "."),
        ("/p", "/pq/a", "/pq/a"),
    ],
)
def test_display_at_the_edges(root: str, path: str, shown: str) -> None:
    """The filesystem root, POSIX's two leading slashes, the root itself, a sibling sharing a prefix."""
    files = ProjectFiles(Path(root), Path(root) / "mlgitops.yaml")
    assert files.display(Path(path)) == shown == _relative_to(Path(path), Path(root))


def _relative_to(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
