"""The render cache (``.mlgitops/render-cache.json``): a compile re-renders only the models whose
IR changed, and what it writes is always byte for byte what a compile without any cache writes.

Each test compiles a copy of the platform example (three models), changes something, compiles
again with the caches on, and compares the tree with a cold compile (``use_cache=False`` on a
fresh copy) of the same specs, while recording which models the renderer was asked for.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from compile_helpers import SCRATCH, copy_specs, edit_yaml, example, tree
from mlgitops import compile as compiler
from mlgitops import ir
from mlgitops.emit.state import RENDER_CACHE_PATH
from mlgitops.pipeline import check_project, compile_project

MODELS = {"churn-model", "fraud-detector", "support-llm"}


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The names of the models the per-model targets render, in order."""
    names: list[str] = []
    real = compiler._render_models

    def recording(
        project: ir.Project,
        source: Any,
        targets: list[str],
        keep: Any,
        digest: bool,
        models: Sequence[ir.Model],
    ) -> Any:
        names.extend(m.name for m in models)
        return real(project, source, targets, keep, digest, models)

    monkeypatch.setattr(compiler, "_render_models", recording)
    yield names


def outputs(root: Path) -> dict[str, bytes]:
    return {p: d for p, d in tree(root).items() if p not in SCRATCH and not p.startswith(".mlgitops/")}


def cold(root: Path, tmp_path: Path) -> dict[str, bytes]:
    """The tree a compile without any cache writes for the specs of ``root``."""
    fresh = tmp_path / "cold"
    copy_specs(root, fresh)
    assert compile_project(fresh, use_cache=False).ok
    return outputs(fresh)


@pytest.fixture
def platform(tmp_path: Path, rendered: list[str]) -> Path:
    root = copy_specs(example("platform"), tmp_path / "platform")
    assert compile_project(root).ok
    assert set(rendered) == MODELS
    assert (root / RENDER_CACHE_PATH).is_file()
    rendered.clear()
    return root


def bump_dev_version(root: Path, model: str) -> None:
    edit_yaml(
        root / f"models/{model}.yaml", lambda d: d["spec"]["deployments"]["dev"].update(version="9.9.9")
    )


def test_a_change_to_one_model_renders_that_model_alone(
    platform: Path, rendered: list[str], tmp_path: Path
) -> None:
    bump_dev_version(platform, "fraud-detector")
    assert compile_project(platform).ok
    assert rendered == ["fraud-detector"]
    assert outputs(platform) == cold(platform, tmp_path)


def test_a_hand_edited_file_of_an_unchanged_model_is_rendered_again(
    platform: Path, rendered: list[str], tmp_path: Path
) -> None:
    edited = platform / "deploy/prod/churn-model/inferenceservice-churn-model-3-1-0.yaml"
    edited.write_text(edited.read_text(encoding="utf-8") + "# a hand edit\n", encoding="utf-8")
    bump_dev_version(platform, "fraud-detector")  # so the skip-if-unchanged cache does not answer
    assert compile_project(platform).ok
    assert sorted(rendered) == ["churn-model", "fraud-detector"]
    assert outputs(platform) == cold(platform, tmp_path)


def test_a_change_to_the_project_renders_every_model(
    platform: Path, rendered: list[str], tmp_path: Path
) -> None:
    edit_yaml(
        platform / "mlgitops.yaml",
        lambda d: d["spec"]["environments"][0].update(namespace="ml-dev-2"),
    )
    assert compile_project(platform).ok
    assert set(rendered) == MODELS
    assert outputs(platform) == cold(platform, tmp_path)


def test_another_renderer_renders_every_model(
    platform: Path, rendered: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new mlgitops or new built-in templates (the renderer fingerprint) invalidate every entry."""
    from mlgitops import fingerprint

    monkeypatch.setattr(fingerprint, "renderer_fingerprint", lambda templates: "another renderer")
    bump_dev_version(platform, "fraud-detector")
    assert compile_project(platform).ok
    assert set(rendered) == MODELS


@pytest.mark.parametrize("damage", ["not json", '{"settings": 1}', json.dumps({"models": []})])
def test_a_damaged_cache_is_ignored(platform: Path, rendered: list[str], tmp_path: Path, damage: str) -> None:
    (platform / RENDER_CACHE_PATH).write_text(damage, encoding="utf-8")
    bump_dev_version(platform, "fraud-detector")
    assert compile_project(platform).ok
    assert set(rendered) == MODELS
    assert outputs(platform) == cold(platform, tmp_path)


def test_check_renders_everything_whatever_the_cache_says(platform: Path, rendered: list[str]) -> None:
    """check exists to catch what differs on disk: it never takes files from the disk."""
    edited = platform / "deploy/prod/churn-model/inferenceservice-churn-model-3-1-0.yaml"
    edited.write_text(edited.read_text(encoding="utf-8") + "# a hand edit\n", encoding="utf-8")
    result = check_project(platform)
    assert set(rendered) == MODELS
    assert [d.path for d in result.drift] == [
        "deploy/prod/churn-model/inferenceservice-churn-model-3-1-0.yaml"
    ]


def test_check_leaves_the_cache_for_the_next_command(
    platform: Path, rendered: list[str], tmp_path: Path
) -> None:
    """CI runs check, then diff: the check's rendering is kept, so the diff renders what changed."""
    (platform / RENDER_CACHE_PATH).unlink()
    assert check_project(platform).drift == []
    assert (platform / RENDER_CACHE_PATH).is_file()
    rendered.clear()
    bump_dev_version(platform, "support-llm")
    assert compile_project(platform).ok
    assert rendered == ["support-llm"]
    assert outputs(platform) == cold(platform, tmp_path)


def test_check_leaves_nothing_in_a_project_never_compiled(tmp_path: Path) -> None:
    root = copy_specs(example("platform"), tmp_path / "platform")
    assert {d.status for d in check_project(root).drift} == {"missing"}
    assert not (root / ".mlgitops").exists()
