"""The base class of every spec model: what a user wrote, checked strictly."""

from __future__ import annotations

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
