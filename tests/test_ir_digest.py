"""The digest of a model's IR that the render cache records (``ir/digest.py``): every field of
every IR object counts, and equal IRs digest alike however their objects are shared and in
whichever process."""

from __future__ import annotations

import dataclasses
import datetime
import os
import pickle
import re
import subprocess
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from compile_helpers import EXAMPLES_DIR, example
from mlgitops import ir
from mlgitops.ir import types as ir_types
from mlgitops.ir.digest import model_digest
from mlgitops.pipeline import generate_files

# the examples and the reference configurations, which set the IR's rarer fields
EXAMPLES = (
    "platform",
    "gitlab-flux-k8s",
    "quickstart",
    *sorted(f"reference/{p.parent.name}" for p in EXAMPLES_DIR.glob("reference/*/mlgitops.yaml")),
)


@pytest.fixture(scope="module")
def models() -> list[ir.Model]:
    found: list[ir.Model] = []
    for name in EXAMPLES:
        result = generate_files(example(name))
        assert result.ok and result.project is not None
        found += result.project.models
    return found


def _variants(value: Any, where: str, hint: Any) -> Iterator[tuple[Any, str]]:
    """``value`` (of type ``hint``) changed in one place, for each place: (the changed value,
    where: a path whose last ``Class.field`` names the field changed or holding the change)."""
    if value is None:
        yield _sample(hint), f"{where}: set"
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        hints = typing.get_type_hints(type(value), vars(ir_types))
        for f in dataclasses.fields(value):
            inner = f"{where}/{type(value).__name__}.{f.name}"
            for changed, at in _variants(getattr(value, f.name), inner, hints[f.name]):
                yield dataclasses.replace(value, **{f.name: changed}), at
    elif isinstance(value, tuple):
        items = _item_hints(hint, len(value))
        if not value and items is None:  # tuple[X, ...]
            yield (_sample(typing.get_args(_without_none(hint))[0]),), f"{where}: item added"
        elif items is None:
            yield value[:-1], f"{where}: last item dropped"
        for index, item in enumerate(value):
            item_hint = items[index] if items else typing.get_args(_without_none(hint))[0]
            for changed, at in _variants(item, f"{where}[{index}]", item_hint):
                yield (*value[:index], changed, *value[index + 1 :]), at
    elif isinstance(value, bool):
        yield not value, where
    elif isinstance(value, int | float):
        yield value + 1, where
        yield float(value) if isinstance(value, int) else int(value), f"{where} as another number type"
    elif isinstance(value, str):
        yield value + "x", where
    elif isinstance(value, datetime.date):
        yield value + datetime.timedelta(days=1), where


def _filled(value: Any, hint: Any) -> Any:
    """``value`` with every None and every empty ``tuple[X, ...]`` in it set (``_sample``)."""
    if value is None:
        return _sample(hint)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        hints = typing.get_type_hints(type(value), vars(ir_types))
        fields = {f.name: _filled(getattr(value, f.name), hints[f.name]) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **fields)
    if isinstance(value, tuple):
        items = _item_hints(hint, len(value))
        if items is None:
            item = typing.get_args(_without_none(hint))[0]
            return tuple(_filled(v, item) for v in value) if value else (_sample(item),)
        return tuple(_filled(v, h) for v, h in zip(value, items, strict=True))
    return value


def _without_none(hint: Any) -> Any:
    """The first type of a union but None (the hint itself if not a union)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return next(arg for arg in typing.get_args(hint) if arg is not type(None))
    return hint


def _item_hints(hint: Any, length: int) -> tuple[Any, ...] | None:
    """The item types of a fixed-length tuple type; None for ``tuple[X, ...]``."""
    arguments = typing.get_args(_without_none(hint))
    return None if len(arguments) == 2 and arguments[1] is Ellipsis else arguments


def _sample(hint: Any) -> Any:
    """A value of type ``hint`` (an IR object with every field set)."""
    hint = _without_none(hint)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint, vars(ir_types))
        return hint(**{f.name: _sample(hints[f.name]) for f in dataclasses.fields(hint)})
    if typing.get_origin(hint) is tuple:
        items = _item_hints(hint, 0)
        return tuple(map(_sample, items or typing.get_args(hint)[:1]))
    samples: dict[Any, Any] = {str: "s", bool: True, int: 7, float: 0.5}
    return samples[hint] if hint is not datetime.date else datetime.date(2000, 1, 2)


def test_every_field_of_every_object_counts(models: list[ir.Model]) -> None:
    changed_fields: set[str] = set()
    for model in [*models, *(_filled(m, ir.Model) for m in models)]:
        digest = model_digest(model)
        for changed, where in _variants(model, model.name, ir.Model):
            assert model_digest(changed) != digest, f"{where} changed and the digest did not"
            changed_fields.update(re.sub(r"[\[: ].*", "", part) for part in where.split("/")[1:])
    # every field of every IR class a model can hold, set where the examples leave it None
    classes = _classes_under(ir.Model)
    reachable = {f"{cls.__name__}.{f.name}" for cls in classes for f in dataclasses.fields(cls)}
    assert reachable <= changed_fields


def _classes_under(cls: type) -> set[type]:
    """The IR classes an object of ``cls`` can hold, itself included."""
    found = {cls}
    for hint in typing.get_type_hints(cls, vars(ir_types)).values():
        for inner in [hint, *_arguments(hint)]:
            if isinstance(inner, type) and dataclasses.is_dataclass(inner) and inner not in found:
                found |= _classes_under(inner)
    return found


def _arguments(hint: Any) -> list[Any]:
    return [a for arg in typing.get_args(hint) for a in (arg, *_arguments(arg))]


def test_distinct_models_have_distinct_digests(models: list[ir.Model]) -> None:
    digests = {model_digest(m) for m in models}
    assert len(digests) == len(set(models)) == len(models)


def test_equal_models_digest_alike_however_their_objects_are_shared(models: list[ir.Model]) -> None:
    # pickle keeps the objects shared within a model shared; a model pickled alone and unpickled
    # twice shares none of its objects with the first copy
    copies = pickle.loads(pickle.dumps(models))
    for model, copy in zip(models, copies, strict=True):
        rebuilt = dataclasses.replace(copy, deployments=tuple(pickle.loads(pickle.dumps(copy.deployments))))
        assert rebuilt == model and rebuilt is not model
        assert model_digest(rebuilt) == model_digest(model)


def test_digest_is_the_same_in_another_process(models: list[ir.Model], tmp_path: Path) -> None:
    pickled = tmp_path / "models.pickle"
    pickled.write_bytes(pickle.dumps(models))
    program = (
        "import pickle, sys; from mlgitops.ir.digest import model_digest; "
        "print(' '.join(model_digest(m) for m in pickle.loads(open(sys.argv[1], 'rb').read())))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    shown = subprocess.run(
        [sys.executable, "-c", program, str(pickled)], capture_output=True, text=True, check=True, env=env
    )
    assert shown.stdout.split() == [model_digest(m) for m in models]


def test_a_value_its_annotation_forbids_still_counts(models: list[ir.Model]) -> None:
    """marshal cannot write it: the model's repr is digested instead, complete all the same."""
    model = models[0]
    odd = dataclasses.replace(model, owner=datetime.time(1, 2))  # type: ignore[arg-type]
    other = dataclasses.replace(model, owner=datetime.time(1, 3))  # type: ignore[arg-type]
    assert len({model_digest(model), model_digest(odd), model_digest(other)}) == 3
