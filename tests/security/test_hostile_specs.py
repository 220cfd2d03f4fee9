"""Issue 10: a model spec that cannot be used is an error, never a model that silently vanished
(whose generated files compile would then prune, and Argo CD with them delete in production)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hostile import hostile_clone, snapshot

SPEC = "models/iris-classifier.yaml"


def replace_spec(make: Callable[[Path, Path], None]) -> Callable[[Path, Path], None]:
    def plant(origin: Path, home: Path) -> None:
        (home / "iris.yaml").write_bytes((origin / SPEC).read_bytes())
        (origin / SPEC).unlink()
        make(origin, home)

    return plant


CASES = {
    "link leaving the project": replace_spec(lambda o, h: (o / SPEC).symlink_to(h / "iris.yaml")),
    "dangling link": replace_spec(lambda o, h: (o / SPEC).symlink_to(o / "models/gone.yaml")),
    "looping link": replace_spec(lambda o, h: (o / SPEC).symlink_to(o / SPEC)),
    "directory named like a spec": replace_spec(
        lambda o, h: ((o / SPEC).mkdir(), (o / SPEC / "x").write_text("x"))
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_an_unusable_spec_stops_the_compile_and_nothing_is_pruned(tmp_path: Path, case: str) -> None:
    clone = hostile_clone(tmp_path, CASES[case])
    before = snapshot(clone.root)
    run = clone.compile()
    assert run.returncode == 1, run.stdout + run.stderr
    assert SPEC in run.stdout
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr
    clone.assert_home_untouched()
    after = {k: v for k, v in snapshot(clone.root).items() if k != ".mlgitops/lock"}
    assert after == {k: v for k, v in before.items() if k != ".mlgitops/lock"}
    assert (clone.root / "deploy/prod/iris-classifier/inferenceservice.yaml").is_file()


def test_a_fifo_spec_stops_the_compile(tmp_path: Path) -> None:
    """A FIFO cannot be committed; one made in the checkout must not hang or vanish either."""
    clone = hostile_clone(tmp_path, lambda origin, home: None)
    (clone.root / SPEC).unlink()
    os.mkfifo(clone.root / SPEC)
    run = clone.compile()
    assert run.returncode == 1, run.stdout + run.stderr
    assert "FIFO" in run.stdout and SPEC in run.stdout
    assert (clone.root / "deploy/prod/iris-classifier/inferenceservice.yaml").is_file()
