"""Spec objects cross process boundaries pickled (parallel.py): SpecModel.__reduce__ must give
back what pydantic's own pickling would."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pydantic
import pytest

from mlgitops.load import load_document
from mlgitops.spec import ModelSpec, ProjectSpec
from mlgitops.spec.base import SpecModel
from mlgitops.validate.schema import validate_salvaging

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*/mlgitops.yaml")) + sorted(
    (ROOT / "examples").glob("*/models/**/*.yaml")
)


def _spec(path: Path) -> SpecModel:
    doc, problems = load_document(path, path.name)
    assert doc is not None, problems
    kind = ProjectSpec if path.name == "mlgitops.yaml" else ModelSpec
    spec, problems, _ = validate_salvaging(doc, kind)
    assert spec is not None, problems
    return spec


def _fields_written(value: object, path: str = "") -> dict[str, set[str]]:
    """The fields written of every spec object in ``value``, by where it is."""
    found: dict[str, set[str]] = {}
    if isinstance(value, SpecModel):
        found[path] = set(value.model_fields_set)
        for name in type(value).model_fields:
            found |= _fields_written(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, dict):
        for key, item in value.items():
            found |= _fields_written(item, f"{path}[{key}]")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found |= _fields_written(item, f"{path}[{index}]")
    return found


def _assert_round_trip(spec: SpecModel) -> None:
    back = pickle.loads(pickle.dumps(spec, protocol=pickle.HIGHEST_PROTOCOL))
    by_pydantic = type(spec).__new__(type(spec))
    by_pydantic.__setstate__(spec.__getstate__())  # what pickling did before __reduce__
    assert back == spec == by_pydantic
    assert back.__getstate__() == by_pydantic.__getstate__()
    # resolve merges only what was written, at every depth (pydantic's == does not compare it)
    assert _fields_written(back) == _fields_written(spec) == _fields_written(by_pydantic)
    with pytest.raises(pydantic.ValidationError):
        back.metadata = spec.metadata  # type: ignore[misc]  # still frozen


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_pickled_example_spec_comes_back_as_pydantic_would_unpickle_it(path: Path) -> None:
    _assert_round_trip(_spec(path))


def test_pickled_synthetic_specs_come_back_as_pydantic_would_unpickle_them(tmp_path: Path) -> None:
    """The synthetic project uses every field and enum value of the language once N >= 9."""
    generator = ROOT / "benchmarks" / "generate.py"
    subprocess.run([sys.executable, str(generator), "12", str(tmp_path)], check=True, capture_output=True)
    paths = [tmp_path / "mlgitops.yaml", *sorted((tmp_path / "models").glob("**/*.yaml"))]
    assert len(paths) == 14
    for path in paths:
        _assert_round_trip(_spec(path))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(ROOT / "examples")))
def test_a_pickled_document_sends_only_its_text_and_gives_back_the_same_data_and_locations(
    path: Path,
) -> None:
    doc, problems = load_document(path, path.name)
    assert doc is not None, problems
    back = pickle.loads(pickle.dumps(doc, protocol=pickle.HIGHEST_PROTOCOL))
    assert back.loaded is None and back.node_tree is None  # neither crosses the pipe
    assert back.data == doc.data
    assert back == doc
    assert back.locate(("spec",), key=True) == doc.locate(("spec",), key=True)


def _spec_objects(value: object) -> list[SpecModel]:
    if isinstance(value, SpecModel):
        return [value, *(o for item in value.__dict__.values() for o in _spec_objects(item))]
    if isinstance(value, dict):
        return [o for item in value.values() for o in _spec_objects(item)]
    if isinstance(value, list | tuple):
        return [o for item in value for o in _spec_objects(item)]
    return []


def test_a_loaded_chunk_of_model_files_shares_its_fields_sets_and_keeps_what_was_written(
    tmp_path: Path,
) -> None:
    """share_fields_sets (run on each chunk of model files) leaves every object's written
    fields as pydantic found them, gives equal sets one object, keeps that through pickling,
    and a model_copy that marks a field writes its own copy, not the shared set."""
    from mlgitops.discover import find_project
    from mlgitops.validate.specfiles import model_files

    generated = tmp_path / "project"
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "generate.py"), "30", str(generated)],
        check=True,
        capture_output=True,
    )
    files, problems = find_project(generated)
    assert files is not None, problems
    paths = sorted((generated / "models").rglob("*.yaml"))
    outcomes = model_files(files, {}, paths)
    specs = [spec for _, _, _, spec, _, _ in outcomes if spec is not None]
    assert len(specs) == len(paths)
    for path, spec in zip(paths, specs, strict=True):
        assert _fields_written(spec) == _fields_written(_spec(path))  # as pydantic wrote them
    objects = [o for spec in specs for o in _spec_objects(spec)]
    distinct = {frozenset(o.model_fields_set) for o in objects}
    assert len({id(o.model_fields_set) for o in objects}) == len(distinct) < len(objects) / 5
    back = pickle.loads(pickle.dumps(outcomes, protocol=pickle.HIGHEST_PROTOCOL))
    objects_back = [o for _, _, _, spec, _, _ in back for o in _spec_objects(spec)]
    assert len({id(o.model_fields_set) for o in objects_back}) == len(distinct)
    resources = next(
        o for o in objects if type(o).__name__ == "Resources" and "gpu" not in o.model_fields_set
    )
    before = set(resources.model_fields_set)
    copied = resources.model_copy(update={"gpu": 1})
    copied.model_fields_set.add("gpu")  # as ir/lifecycle.py marks it
    assert resources.model_fields_set == before


class _Leaf(SpecModel):
    name: str | None = None


class _Holder(SpecModel):
    label: str
    names: list[str]
    optional: _Leaf | None
    mixed: dict[str, str | _Leaf]
    listed: list[_Leaf]
    loose: Any


def test_share_fields_sets_reaches_spec_objects_behind_every_kind_of_field_type() -> None:
    """Only fields whose type cannot hold a spec object are skipped: the nested objects behind
    an optional, a union inside a mapping, a list and an ``Any`` all get the shared set."""
    from mlgitops.spec.base import share_fields_sets

    def holder() -> _Holder:
        return _Holder.model_validate(
            {
                "label": "x",
                "names": ["a"],
                "optional": {"name": "o"},
                "mixed": {"a": "b", "c": {"name": "m"}},
                "listed": [{"name": "l"}],
                "loose": _Leaf(name="y"),
            }
        )

    first, second = holder(), holder()
    share_fields_sets([first, second])
    pairs = [
        (first.optional, second.optional),
        (first.mixed["c"], second.mixed["c"]),
        (first.listed[0], second.listed[0]),
        (first.loose, second.loose),
        (first, second),
    ]
    for one, other in pairs:
        assert isinstance(one, SpecModel) and isinstance(other, SpecModel)
        assert one.model_fields_set is other.model_fields_set
