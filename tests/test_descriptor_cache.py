"""The project tree holds a bounded number of directory descriptors.

A 10,000-model project has some 30,000 output directories; one descriptor each ran into
the process's limit ("Too many open files").  The cache closes descriptors nobody holds,
and a writer thread never sees its directory's descriptor closed (and its number reused
for another directory) while it uses it.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mlgitops.emit.safefs import ProjectTree, UnsafePathError


def _open_descriptors() -> int:
    return sum(1 for _ in Path("/proc/self/fd").iterdir())


def test_many_directories_with_few_descriptors(tmp_path: Path) -> None:
    before = _open_descriptors()
    paths = [
        f"deploy/env-{e}/model-{m:03}/file-{f}.yaml" for e in range(3) for m in range(60) for f in range(3)
    ]
    peak = 0
    with ProjectTree(tmp_path, max_open=8) as tree:

        def write(relative: str) -> None:
            nonlocal peak
            tree.write_atomic(relative, relative.encode())
            peak = max(peak, _open_descriptors() - before)

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(write, paths))
        for relative in paths[::7]:  # reads reopen evicted directories
            assert tree.read(relative, 1000) == relative.encode()
    for relative in paths:
        assert (tmp_path / relative).read_bytes() == relative.encode()
    # 8 cached directories, the ones 4 threads hold while opening deeper ones, their files
    assert peak <= 8 + 4 * 4 + 4
    assert _open_descriptors() == before


def test_a_leased_descriptor_survives_eviction_and_removal(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "kept").write_text("x")
    with ProjectTree(tmp_path, max_open=1) as tree:
        with tree.leased("a") as fd:
            for index in range(5):  # each opens and releases another directory
                tree.write_atomic(f"other-{index}/f", b"y")
            tree.remove_tree("other-0")
            # still the directory "a", not a reused number
            assert "kept" in [entry.name for entry in os.scandir(fd)]
        tree.remove_tree("a")
        assert not (tmp_path / "a").exists()


def test_evicted_directories_are_reopened_without_following_links(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    project = tmp_path / "project"
    (project / "deploy").mkdir(parents=True)
    with ProjectTree(project, max_open=1) as tree:
        tree.write_atomic("deploy/a.yaml", b"a")
        for index in range(3):
            tree.write_atomic(f"other-{index}/f", b"y")  # evicts "deploy"
        (project / "deploy" / "a.yaml").unlink()
        (project / "deploy").rmdir()
        (project / "deploy").symlink_to(outside)
        with pytest.raises(UnsafePathError):
            tree.write_atomic("deploy/b.yaml", b"b")
    assert list(outside.iterdir()) == []
