"""docs/spec.md and schemas/*.json are generated from the spec models and committed.

They must equal what `scripts/write_docs.py` writes now; otherwise run `make docs`.
The script is run against a temporary root, so the working tree is never touched.
"""

from __future__ import annotations

import difflib
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from conftest import ROOT

MAX_DIFF_LINES = 80


def load_write_docs() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "_write_docs_under_test", ROOT / "scripts" / "write_docs.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """What `make docs` would write now: relative path → text."""
    out = tmp_path_factory.mktemp("write_docs")
    (out / "docs").mkdir()
    (out / "schemas").mkdir()
    module = load_write_docs()
    module.ROOT = out
    module.main()
    files = {
        p.relative_to(out).as_posix(): p.read_bytes().decode("utf-8") for p in out.rglob("*") if p.is_file()
    }
    assert "docs/spec.md" in files
    assert {"schemas/mlgitops.v1.json", "schemas/model.v1.json", "schemas/project.v1.json"} <= set(files)
    return files


def readable_diff(committed: str, fresh: str, name: str) -> str:
    diff = list(
        difflib.unified_diff(
            committed.splitlines(keepends=True),
            fresh.splitlines(keepends=True),
            f"{name} (committed)",
            f"{name} (generated now)",
        )
    )
    shown = "".join(diff[:MAX_DIFF_LINES])
    if len(diff) > MAX_DIFF_LINES:
        shown += f"... {len(diff) - MAX_DIFF_LINES} more diff lines\n"
    return shown


def test_every_generated_file_is_committed_and_fresh(generated: dict[str, str]) -> None:
    stale = []
    for name, fresh in sorted(generated.items()):
        path = ROOT / name
        if not path.is_file():
            stale.append(f"{name} is missing\n")
            continue
        committed = path.read_bytes().decode("utf-8")
        if committed != fresh:
            stale.append(readable_diff(committed, fresh, name))
    assert not stale, "generated files are stale: run `make docs` and commit the result\n\n" + "\n".join(
        stale
    )


def test_no_leftover_schema_files(generated: dict[str, str]) -> None:
    """A schema that the generator no longer writes must not linger in schemas/."""
    committed = {p.relative_to(ROOT).as_posix() for p in (ROOT / "schemas").glob("*.json")}
    leftovers = sorted(committed - set(generated))
    assert not leftovers, f"not generated any more (delete them, then run `make docs`): {leftovers}"


def test_generated_text_is_canonical(generated: dict[str, str]) -> None:
    for name, text in generated.items():
        assert text.endswith("\n") and not text.endswith("\n\n"), f"{name}: exactly one final newline"
        assert "\r" not in text, f"{name}: LF line endings only"
        assert not any(line != line.rstrip() for line in text.splitlines()), f"{name}: trailing whitespace"


def test_generation_is_deterministic(generated: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "schemas").mkdir()
    module = load_write_docs()
    module.ROOT = tmp_path
    module.main()
    again = {
        p.relative_to(tmp_path).as_posix(): p.read_text(encoding="utf-8")
        for p in tmp_path.rglob("*")
        if p.is_file()
    }
    assert again == generated
