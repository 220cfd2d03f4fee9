"""Schema validation: raw YAML data → spec objects, pydantic errors → diagnostics."""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from mlgitops.diagnostics import Diagnostic, did_you_mean, make
from mlgitops.load import SourceDocument

SpecT = TypeVar("SpecT", bound=BaseModel)

_TYPE_NAMES = {
    "string_type": "text",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "date_type": "a date (YYYY-MM-DD)",
    "none_required": "null",
}
_RANGE_TYPES = frozenset(
    {
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "too_short",
        "too_long",
        "string_too_short",
        "string_too_long",
        "finite_number",
    }
)


def validate_document(doc: SourceDocument, model: type[SpecT]) -> tuple[SpecT | None, list[Diagnostic]]:
    """Validate one document against its kind's model; every error is reported."""
    try:
        return model.model_validate(doc.data), []
    except ValidationError as exc:
        diagnostics: list[Diagnostic] = []
        seen: set[tuple[str | int, ...]] = set()
        for error in exc.errors(include_url=False):
            path = data_path(doc.data, error["loc"])
            key = (*path, error["type"]) if error["type"] == "extra_forbidden" else path
            if key in seen:
                continue  # alternatives of one union fail together; say it once
            seen.add(key)
            diagnostics.append(_diagnostic(doc, model, error, path))
        return None, diagnostics


def data_path(data: Any, loc: Sequence[str | int]) -> tuple[str | int, ...]:
    """The part of a pydantic ``loc`` that exists in the data (drops union tags)."""
    path: list[str | int] = []
    node: Any = data
    for step in loc:
        if isinstance(node, dict) and isinstance(step, str) and step in node:
            node = node[step]
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
        elif isinstance(node, dict) and step not in node and _is_last_key(loc, step):
            path.append(step)  # a missing or unknown key: keep it for the message
            return tuple(path)
        else:
            continue
        path.append(step)
    return tuple(path)


def _is_last_key(loc: Sequence[str | int], step: str | int) -> bool:
    return loc[-1] == step


def _diagnostic(
    doc: SourceDocument, model: type[BaseModel], error: ErrorDetails, path: tuple[str | int, ...]
) -> Diagnostic:
    kind, value = error["type"], error.get("input")
    where = _dotted(path)
    if kind == "extra_forbidden":
        name = str(path[-1])
        allowed = allowed_keys(model, path[:-1])
        hint = did_you_mean(name, allowed) if allowed else None
        if hint is None and allowed:
            hint = "allowed fields here: " + ", ".join(sorted(allowed))
        return make(
            "MLG201",
            f"unknown field {name!r} in {_dotted(path[:-1]) or 'the document'}",
            doc.locate(path, key=True),
            hint,
        )
    if kind in ("missing", "union_tag_not_found"):
        name = str(path[-1]) if kind == "missing" else str(error.get("ctx", {}).get("discriminator", "kind"))
        parent = path[:-1] if kind == "missing" else path
        name = name.strip("'")
        return make(
            "MLG202",
            f"missing required field {name!r} in {_dotted(parent) or 'the document'}",
            doc.locate(parent, key=True),
            f"add '{name}:' here",
        )
    location = doc.locate(path)
    if kind.startswith("MLG"):
        return make(kind, f"{where}: {error['msg']}", location, _custom_hint(kind))
    if kind in ("literal_error", "enum", "union_tag_invalid"):
        ctx = error.get("ctx", {})
        expected = ctx.get("expected") or ctx.get("expected_tags") or ""
        choices = [c.strip().strip("'\"") for c in str(expected).replace(" or ", ",").split(",") if c.strip()]
        shown = ctx.get("tag", value)
        hint = did_you_mean(str(shown), choices) if isinstance(shown, str) else None
        return make(
            "MLG204",
            f"{where}: {shown!r} is not allowed; expected one of {', '.join(choices)}",
            location,
            hint,
        )
    if kind == "string_type" and isinstance(value, bool | int | float):
        return make(
            "MLG207",
            f"{where}: expected text, got {value!r}",
            location,
            'quote the value so YAML keeps it as text, e.g. "1.10"',
        )
    if kind in _TYPE_NAMES:
        return make("MLG203", f"{where}: expected {_TYPE_NAMES[kind]}, got {_describe(value)}", location)
    if kind in _RANGE_TYPES:
        return make("MLG205", f"{where}: {_lower_first(error['msg'])}", location)
    if kind == "string_pattern_mismatch":
        pattern = error.get("ctx", {}).get("pattern", "")
        return make("MLG206", f"{where}: {value!r} does not match the pattern {pattern}", location)
    return make("MLG206", f"{where}: {_lower_first(error['msg'])}", location)


def _custom_hint(code: str) -> str | None:
    return {
        "MLG207": 'quote the value so YAML keeps it as text, e.g. "1.10"',
        "MLG302": "use lower-case letters, digits and '-' (it becomes part of Kubernetes names)",
        "MLG308": "five fields in UTC: minute hour day-of-month month day-of-week, e.g. '0 3 * * 1'",
        "MLG313": "e.g. s3://models/{model}/{version}/",
    }.get(code)


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _dotted(path: Sequence[str | int]) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def allowed_keys(model: type[BaseModel], path: Sequence[str | int]) -> list[str]:
    """Field names (as written in YAML) accepted at ``path`` below ``model``."""
    annotation: Any = model
    for step in path:
        annotation = _step(_unwrap(annotation), step)
        if annotation is None:
            return []
    target = _unwrap(annotation)
    members = (
        typing.get_args(target) if typing.get_origin(target) in (typing.Union, types.UnionType) else (target,)
    )
    return [
        field.alias or name
        for member in map(_unwrap, members)
        if isinstance(member, type) and issubclass(member, BaseModel)
        for name, field in member.model_fields.items()
    ]


def _step(annotation: Any, step: str | int) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, field in annotation.model_fields.items():
            if (field.alias or name) == step:
                return field.annotation
        return None
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is dict:
        return args[1]
    if origin is list:
        return args[0]
    if origin in (typing.Union, types.UnionType):
        models = [a for a in map(_unwrap, args) if isinstance(a, type) and issubclass(a, BaseModel)]
        for candidate in models:
            found = _step(candidate, step)
            if found is not None:
                return found
    return None


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated and Optional wrappers; a union of one model becomes that model."""
    while True:
        if typing.get_origin(annotation) is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if typing.get_origin(annotation) in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) == 1:
                annotation = members[0]
                continue
        return annotation
