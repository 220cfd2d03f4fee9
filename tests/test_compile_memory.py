"""What a compile holds while it renders: the IR, not the model specs (a large project's specs
are most of its memory, and the render workers fork from the parent)."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from mlgitops.pipeline import validate_project
from mlgitops.spec import ModelSpec

ROOT = Path(__file__).resolve().parent.parent


def _reachable_model_specs(root: object) -> int:
    seen: set[int] = set()
    pending = [root]
    found = 0
    while pending:
        value = pending.pop()
        if id(value) in seen or isinstance(value, type):
            continue
        seen.add(id(value))
        found += isinstance(value, ModelSpec)
        pending.extend(gc.get_referents(value))
    return found


@pytest.mark.parametrize("build", [False, True], ids=["resolved", "built"])
def test_a_result_without_models_reaches_no_model_spec(build: bool) -> None:
    result = validate_project(ROOT / "examples" / "quickstart", build=build)
    assert result.ok and result.resolved is not None
    assert (result.built is not None) == build
    assert _reachable_model_specs(result) == len(result.resolved.validated.models) > 0
    assert _reachable_model_specs(result.without_models()) == 0
    assert result.without_models().built is None  # the IR is Prepared's to hold
