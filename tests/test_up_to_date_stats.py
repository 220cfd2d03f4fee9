"""The up-to-date cache (fingerprint.write_cache) records what a compile wrote without stat'ing
it again: the size and modification time the staged file had, which its rename into place kept."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from compile_helpers import copy_specs, example
from mlgitops.emit.safefs import ProjectTree
from mlgitops.pipeline import compile_project


def cached_stats(root: Path) -> dict[str, list[int]]:
    body = (root / ".mlgitops" / "cache.json").read_text().partition("\n")[2]
    stats: dict[str, list[int]] = json.loads(body)["stats"]
    return stats


def stat_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = ProjectTree.lstat_sorted

    def lstat_sorted(self: ProjectTree, paths: Iterable[str]) -> Iterator[tuple[str, os.stat_result]]:
        paths = list(paths)
        seen.extend(paths)
        return real(self, paths)

    monkeypatch.setattr(ProjectTree, "lstat_sorted", lstat_sorted)
    return seen


def test_a_first_compile_records_the_real_stats_of_its_files_without_stating_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copy_specs(example("quickstart"), tmp_path / "project")
    looked_at = stat_calls(monkeypatch)
    result = compile_project(root)
    assert result.ok and result.paths
    assert looked_at == []  # every file was written, its stat known from the write
    stats = cached_stats(root)
    assert sorted(stats) == sorted(result.paths) == list(stats)
    for path, recorded in stats.items():
        info = os.lstat(root / path)
        assert recorded == [info.st_size, info.st_mtime_ns], path
    assert compile_project(root).up_to_date


def test_files_left_as_they_were_are_stated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_specs(example("quickstart"), tmp_path / "project")
    first = compile_project(root)
    model = next((root / "models").rglob("*.yaml"))
    model.write_text(model.read_text().replace("\n", "\n# a comment\n", 1))  # same IR, new input hash
    looked_at = stat_calls(monkeypatch)
    second = compile_project(root, use_cache=False)
    assert second.ok and not second.up_to_date
    assert sorted(looked_at) == sorted(first.paths)  # nothing rewritten: each stat'ed, as before
    stats = cached_stats(root)
    for path, recorded in stats.items():
        info = os.lstat(root / path)
        assert recorded == [info.st_size, info.st_mtime_ns], path
    assert compile_project(root).up_to_date
