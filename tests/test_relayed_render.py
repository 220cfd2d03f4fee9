"""A compile with no render cache to read renders each slice of models in the worker that built
its IR (``relayed.py``, ``parallel.Relay``). Forced down to a few models per worker, over the
examples and a generated benchmark project: the tree it writes is the one the separate render
writes (``generate_files``, which never relays), each model rendered where it was built; an
invalid project writes nothing and leaves no worker behind."""

from __future__ import annotations

import datetime
import multiprocessing
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

from compile_helpers import EXAMPLES, copy_specs, edit_yaml, generated, generated_project, tree
from mlgitops import compile as compiler
from mlgitops import ir, parallel, relayed
from mlgitops.pipeline import compile_project, generate_files
from mlgitops.validate import specfiles

TODAY = datetime.date(2026, 1, 1)
STATE = (".mlgitops/.gitignore", ".mlgitops/lock")  # what every compile sets up first


@pytest.fixture(scope="module")
def benchmark(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_project(tmp_path_factory.mktemp("relayed") / "benchmark", 24)


@pytest.fixture
def renderers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Workers for a few models each; each process that renders a slice leaves its pid in the
    returned directory."""
    monkeypatch.setenv("MLGITOPS_JOBS", "3")
    monkeypatch.setattr(relayed, "Relay", partial(parallel.Relay, min_items=1))
    monkeypatch.setattr(specfiles, "map_chunks", partial(parallel.map_chunks, min_items=1))
    monkeypatch.setattr(specfiles, "LOAD_BATCH", 2)
    marks = tmp_path / "renderers"
    marks.mkdir()
    real = compiler.slice_renderer

    def marking(stager: compiler.Stager) -> Callable[[ir.Project], compiler.SliceRender]:
        render = real(stager)

        def for_slice(project: ir.Project) -> compiler.SliceRender:
            one = render(project)

            def drafted(model: ir.Model) -> compiler.DraftedModel:
                with (marks / str(os.getpid())).open("a") as mark:
                    mark.write(f"{model.name}\n")
                return one.draft(model)

            return compiler.SliceRender(drafted, one.stage)

        return for_slice

    monkeypatch.setattr(compiler, "slice_renderer", marking)
    return marks


def _compiled_as_rendered_apart(project: Path, tmp_path: Path, marks: Path) -> None:
    target = copy_specs(project, tmp_path / "compiled")
    apart = generate_files(target, today=TODAY)
    assert apart.ok, apart.validation.diagnostics
    result = compile_project(target, today=TODAY, use_cache=False)
    assert result.ok, result.diagnostics
    files = generated(target)
    del files[".mlgitops/manifest.json"]
    assert files == {f.path: f.content.encode() for f in apart.files}
    assert not (target / ".mlgitops/txn").exists()
    assert multiprocessing.active_children() == []
    rendered = sorted(name for mark in marks.iterdir() for name in mark.read_text().split())
    models = {m.name for m in apart.validation.validated.models} if apart.validation.validated else set()
    assert len(rendered) == len(set(rendered))  # each model rendered once
    assert set(rendered) <= models


def test_a_benchmark_project_is_rendered_where_its_slices_were_built(
    benchmark: Path, tmp_path: Path, renderers: Path
) -> None:
    _compiled_as_rendered_apart(benchmark, tmp_path, renderers)
    assert len(list(renderers.iterdir())) == 3  # the parent and two workers


@pytest.mark.parametrize("project", EXAMPLES, ids=lambda path: path.name)
def test_each_example_compiles_relayed_as_rendered_apart(
    project: Path, tmp_path: Path, renderers: Path
) -> None:
    _compiled_as_rendered_apart(project, tmp_path, renderers)


def test_an_invalid_project_is_never_rendered_and_writes_nothing(
    benchmark: Path, tmp_path: Path, renderers: Path
) -> None:
    target = copy_specs(benchmark, tmp_path / "invalid")
    model = sorted((target / "models").rglob("*.yaml"))[-1]
    edit_yaml(model, lambda d: d["spec"].update(owner="not an owner"))
    before = tree(target, scratch=True)
    result = compile_project(target, today=TODAY, use_cache=False)
    assert not result.ok
    assert multiprocessing.active_children() == []
    assert list(renderers.iterdir()) == []
    after = tree(target, scratch=True)
    assert {path: data for path, data in after.items() if path not in STATE} == before
    assert not (target / ".mlgitops/txn").exists()
