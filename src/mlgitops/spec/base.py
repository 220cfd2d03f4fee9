"""The base class of every spec model: what a user wrote, checked strictly."""

from __future__ import annotations

from typing import Any

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
