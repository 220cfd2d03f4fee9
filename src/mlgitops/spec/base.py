"""The base class of every spec model: what a user wrote, checked strictly."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class SpecModel(BaseModel):
    """Strict, frozen, camelCase in YAML, unknown keys refused.

    ``strict`` keeps YAML's types honest: ``"3"`` is not silently an integer.
    Optional fields default to ``None`` meaning "not set here", so that layers
    (project defaults, environment, model, per-environment override) can be
    merged by :mod:`mlgitops.resolve` using ``model_fields_set``.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        alias_generator=to_camel,
        validate_by_alias=True,
        serialize_by_alias=True,
        use_attribute_docstrings=False,
        hide_input_in_errors=True,
        # Each class's validator is built when first used, not as the class is defined: only the
        # few classes validated directly (a model file, the project file) need one, and building
        # every nested class's too was about a fifth of importing the specs, which every command
        # does before it can start loading them.
        defer_build=True,
    )

    def __reduce__(self) -> tuple[Any, ...]:
        # Worker processes send a large project's spec objects back through a pipe
        # (parallel.py): rebuilt from their field values and the set of fields written, they
        # pickle a third faster than through pydantic's __getstate__/__setstate__, which
        # also carry the extra and private values this class never has.
        return (_rebuilt, (type(self), self.__dict__, self.__pydantic_fields_set__))


# The setters of BaseModel's slots, called directly: a worker's results rebuild tens of
# thousands of spec objects, and this is half the time of object.__setattr__ by name.
_SET_DICT = BaseModel.__dict__["__dict__"].__set__
_SET_FIELDS_SET = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_SET_EXTRA = BaseModel.__dict__["__pydantic_extra__"].__set__
_SET_PRIVATE = BaseModel.__dict__["__pydantic_private__"].__set__


def _rebuilt(cls: type[SpecModel], values: dict[str, Any], fields_set: set[str]) -> SpecModel:
    """A spec object from what :meth:`SpecModel.__reduce__` kept, as pydantic unpickles one."""
    spec = object.__new__(cls)
    _SET_DICT(spec, values)
    _SET_FIELDS_SET(spec, fields_set)
    _SET_EXTRA(spec, None)
    _SET_PRIVATE(spec, None)
    return spec


def share_fields_sets(specs: Iterable[SpecModel]) -> None:
    """Make the spec objects below ``specs`` whose written fields are the same share one set.

    pydantic gives every object its own ``__pydantic_fields_set__``: a set of five names or
    more takes 728 bytes, about half of a large project's spec memory, while a project's tens
    of thousands of spec objects write only a few hundred distinct sets.  Sharing is safe
    because spec objects are frozen and nothing adds to the set of a validated one (pydantic's
    ``model_copy`` copies the set before it marks an updated field).  Run on each chunk of
    model files as it is loaded, in the worker: a pickled chunk keeps the sharing, since
    pickle writes an object met twice once."""
    canonical: dict[frozenset[str], set[str]] = {}
    # Per class, the fields whose type may hold spec objects: most hold strings or numbers,
    # and looking at each of their values cost more than the sharing itself.
    nested: dict[type[SpecModel], tuple[str, ...]] = {}
    pending: list[object] = list(specs)
    while pending:
        value = pending.pop()
        if isinstance(value, SpecModel):
            written = value.__pydantic_fields_set__
            shared = canonical.setdefault(frozenset(written), written)
            if shared is not written:
                _SET_FIELDS_SET(value, shared)
            cls = type(value)
            names = nested.get(cls)
            if names is None:
                names = nested[cls] = tuple(
                    name for name, field in cls.model_fields.items() if _may_hold_specs(field.annotation)
                )
            values = value.__dict__
            pending.extend(values[name] for name in names)
        elif isinstance(value, (list, tuple)):
            pending.extend(value)
        elif isinstance(value, dict):
            pending.extend(value.values())


_SCALARS = (str, int, float, bool, bytes, type(None))


def _may_hold_specs(annotation: object) -> bool:
    """Whether a value of this field type can be or contain a spec object (True when unsure)."""
    if isinstance(annotation, type) and get_origin(annotation) is None:
        return not issubclass(annotation, _SCALARS)
    origin = get_origin(annotation)
    if origin is Literal:
        return False
    if origin is Annotated:
        return _may_hold_specs(get_args(annotation)[0])
    arguments = get_args(annotation)
    if not arguments:
        return True  # Any, a type variable, a bare list: anything may be inside
    return any(_may_hold_specs(argument) for argument in arguments if argument is not Ellipsis)
