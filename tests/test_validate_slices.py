"""``validate`` resolves and checks a large project's models in slices, in several processes
(``validate/deployments.py``); the commands that keep the resolved project take every model in
one slice; a compile resolves in slices too and builds each slice's IR where it was resolved.
All must report exactly the same. Every invalid case and example is validated each way, the
slicing forced down to a model name per slice and spread over worker processes."""

from __future__ import annotations

import datetime
import shutil
from functools import partial
from pathlib import Path

import pytest

from mlgitops import parallel, pipeline
from mlgitops.ir.build import build_project
from mlgitops.pipeline import validate_project
from mlgitops.validate import specfiles

ROOT = Path(__file__).resolve().parent.parent
CASES_DIR = ROOT / "tests" / "cases" / "invalid"
CASES = sorted(path for path in CASES_DIR.iterdir() if path.is_dir())
EXAMPLES = sorted(path.parent for path in (ROOT / "examples").glob("*/mlgitops.yaml"))
TODAY = datetime.date(2026, 1, 1)


@pytest.fixture
def sliced(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every model file and every name group of models in worker processes, a few to each."""
    monkeypatch.setenv("MLGITOPS_JOBS", "3")
    monkeypatch.setattr(pipeline, "map_chunks", partial(parallel.map_chunks, min_items=1))
    # the model files loaded in workers too, each sending its results back two files at a time
    monkeypatch.setattr(specfiles, "map_chunks", partial(parallel.map_chunks, min_items=1))
    monkeypatch.setattr(specfiles, "LOAD_BATCH", 2)


@pytest.mark.usefixtures("sliced")
@pytest.mark.parametrize("project", CASES + EXAMPLES, ids=lambda path: path.name)
def test_sliced_validation_reports_what_the_whole_does(project: Path) -> None:
    whole = validate_project(project, today=TODAY)
    sliced = validate_project(project, today=TODAY, keep_resolved=False)
    assert sliced.diagnostics == whole.diagnostics
    assert sliced.resolved is None
    assert sliced.validated is not None or whole.resolved is None


@pytest.mark.usefixtures("sliced")
@pytest.mark.parametrize("project", CASES + EXAMPLES, ids=lambda path: path.name)
def test_building_the_ir_in_slices_reports_and_builds_what_the_whole_does(project: Path) -> None:
    """A compile's validation: the same report, and, for a valid project, the IR built in one
    piece from the resolved project (for an invalid one, whatever a slice built is dropped)."""
    whole = validate_project(project, today=TODAY)
    built = validate_project(project, today=TODAY, build=True)
    assert built.diagnostics == whole.diagnostics
    if whole.ok:
        assert whole.resolved is not None and built.resolved is not None
        assert built.built == build_project(whole.resolved).models
        assert built.resolved.deployments == ()  # built into the IR instead of sent back
    else:
        assert built.built is None


@pytest.mark.usefixtures("sliced")
def test_a_project_file_location_is_reported_once_across_slices(tmp_path: Path) -> None:
    """An environment's annotation too large for every model: Kubernetes limits are reported once
    per location, for the first model, even when the models are resolved in different slices."""
    project = tmp_path / "project"
    shutil.copytree(CASES_DIR / "annotations-too-large", project)
    iris = (project / "models" / "iris.yaml").read_text(encoding="utf-8")
    for name in ("wine", "zebra"):
        (project / "models" / f"{name}.yaml").write_text(iris.replace("name: iris", f"name: {name}"))
    whole = validate_project(project, today=TODAY)
    sliced = validate_project(project, today=TODAY, keep_resolved=False)
    assert sliced.diagnostics == whole.diagnostics
    assert [d.message.split(" would")[0] for d in whole.diagnostics if d.code == "MLG326"] == ["model 'iris'"]


def test_slices_follow_model_names() -> None:
    """Two files naming the same model land in one slice (policies compare a model's images
    across its environments), whatever their files' order."""
    from mlgitops.validate.deployments import name_groups

    result = validate_project(CASES_DIR / _duplicate_case(), today=TODAY)
    assert result.validated is not None
    groups = name_groups(result.validated.models)
    names = [group[0].name for group in groups]
    assert names == sorted(set(names))
    assert any(len(group) > 1 for group in groups)
    assert all(len({model.name for model in group}) == 1 for group in groups)


def _duplicate_case() -> str:
    """An invalid case whose expected report has the duplicate model name (MLG301)."""
    for case in CASES:
        if " MLG301 " in (case / "expected.txt").read_text(encoding="utf-8"):
            return case.name
    raise AssertionError("no invalid case reports MLG301")
