"""Schema validation: raw YAML data → spec objects, pydantic errors → diagnostics."""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from mlgitops.diagnostics import Diagnostic, Location, did_you_mean, make
from mlgitops.load import SourceDocument
from mlgitops.spec.types import ENV_NAME_PATTERN, LABEL_KEY_PATTERN, LABEL_VALUE_PATTERN, METRIC_NAME_PATTERN
from mlgitops.validate.characters import unfaithful_diagnostic, unfaithful_paths
from mlgitops.validate.numbers import non_finite_diagnostic, non_finite_paths
from mlgitops.validate.salvage import Salvaged, salvage

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
    """Validate one document against its kind's model; every error is reported.

    NaN and infinity are refused first, wherever they are (MLG208); the schema's own
    complaint about such a value (an objective out of range, say) is then not repeated.
    """
    spec, diagnostics, _broken = _validate(doc, model)
    return spec, diagnostics


def validate_salvaging(
    doc: SourceDocument, model: type[SpecT]
) -> tuple[SpecT | None, list[Diagnostic], Salvaged[SpecT] | None]:
    """As :func:`validate_document`; when the document fails, also the spec without its
    broken fields, if the spec allows them to be absent (see ``salvage.py``)."""
    spec, diagnostics, broken = _validate(doc, model)
    if spec is not None or not diagnostics:
        return spec, diagnostics, None
    return None, diagnostics, salvage(doc, model, broken)


def _validate(
    doc: SourceDocument, model: type[SpecT]
) -> tuple[SpecT | None, list[Diagnostic], list[tuple[str | int, ...]]]:
    non_finite = non_finite_paths(doc.data)
    unfaithful = unfaithful_paths(doc)
    changed = [path for path, _ in unfaithful]
    diagnostics = [non_finite_diagnostic(doc, path, _dotted(path)) for path in non_finite]
    diagnostics += [unfaithful_diagnostic(doc, path, problem, _dotted(path)) for path, problem in unfaithful]
    broken: list[tuple[str | int, ...]] = [*non_finite, *changed]
    try:
        spec = model.model_validate(doc.data)
    except ValidationError as exc:
        seen: set[tuple[str | int, ...]] = {*non_finite, *changed}
        for error in exc.errors(include_url=False):
            kind = error["type"]
            path = data_path(doc.data, error["loc"], keep_missing=kind in ("missing", "extra_forbidden"))
            if kind == "union_tag_invalid":
                path = _with_discriminator(doc.data, path, error)
            # a missing field cannot be dropped: its parent goes (salvage refuses if required)
            broken.append(path if kind != "missing" else path[:-1])
            key = (*path, kind) if kind == "extra_forbidden" else path
            if key in seen:
                continue  # alternatives of one union fail together; say it once
            seen.add(key)
            diagnostics.append(_diagnostic(doc, model, error, path))
        return None, diagnostics, broken
    return (None, diagnostics, broken) if diagnostics else (spec, [], [])


def data_path(data: Any, loc: Sequence[str | int], *, keep_missing: bool = False) -> tuple[str | int, ...]:
    """The part of a pydantic ``loc`` that exists in the data (drops union tags and ``[key]``).

    With ``keep_missing`` a last key that is not in the data (a missing field)
    is kept, for the message.
    """
    path: list[str | int] = []
    node: Any = data
    for index, step in enumerate(loc):
        in_dict = isinstance(node, dict) and isinstance(step, str) and step in node
        in_list = isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node)
        if in_dict or in_list:
            node = node[step]
        elif keep_missing and isinstance(node, dict) and index == len(loc) - 1:
            path.append(step)
            return tuple(path)
        else:
            continue
        path.append(step)
    return tuple(path)


def _with_discriminator(data: Any, path: tuple[str | int, ...], error: ErrorDetails) -> tuple[str | int, ...]:
    """A wrong union tag is the value of the discriminator field (``kind``): point there."""
    name = str(error.get("ctx", {}).get("discriminator", "")).strip("'")
    node: Any = data
    for step in path:
        node = node[step]
    return (*path, name) if isinstance(node, dict) and name in node else path


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
    location = _value_location(doc, path, error["loc"])
    if kind.startswith("MLG"):
        hint = _quote_hint(doc, path) if kind == "MLG207" else _custom_hint(kind)
        return make(kind, f"{where}: {error['msg']}", location, hint)
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
            f"{where}: expected text, got {_describe(value)}",
            location,
            _quote_hint(doc, path),
        )
    if kind in _TYPE_NAMES:
        return make("MLG203", f"{where}: expected {_TYPE_NAMES[kind]}, got {_describe(value)}", location)
    if kind in _RANGE_TYPES:
        return make("MLG205", f"{where}: {_range_message(error)}", location)
    if kind == "string_pattern_mismatch":
        pattern = str(error.get("ctx", {}).get("pattern", ""))
        described = _PATTERN_NAMES.get(pattern, f"matching the pattern {pattern}")
        return make("MLG206", f"{where}: {value!r} is not {described}", location)
    return make("MLG206", f"{where}: {_lower_first(error['msg'])}", location)


# What the constrained text patterns of the spec mean, in words.
_PATTERN_NAMES = {
    ENV_NAME_PATTERN: "a variable name (letters, digits and '_', not starting with a digit)",
    LABEL_KEY_PATTERN: "a Kubernetes label key (an optional DNS prefix and '/', then at most 63 "
    "letters, digits, '-', '_' or '.', starting and ending alphanumeric)",
    LABEL_VALUE_PATTERN: "a Kubernetes label value (at most 63 letters, digits, '-', '_' or '.', "
    "starting and ending alphanumeric)",
    METRIC_NAME_PATTERN: "a metric name (letters, digits, '_', '.', ':' and '-', not starting with a digit)",
    r"^[A-Za-z_][A-Za-z0-9_.-]*$": "a parameter name (letters, digits, '_', '.' and '-', "
    "not starting with a digit)",
    r"^[A-Za-z][A-Za-z0-9_-]*$": "an alias (letters, digits, '_' and '-', starting with a letter)",
    r"^[a-z0-9.-]+/[a-z0-9.-]+$": "an extended resource name such as nvidia.com/gpu",
}


def _value_location(doc: SourceDocument, path: tuple[str | int, ...], loc: Sequence[str | int]) -> Location:
    """Where a bad value is: the value itself, or its key when it is a block collection or a bad key."""
    is_key = bool(loc) and loc[-1] == "[key]"
    node = doc.node_at(path)
    block = isinstance(node, MappingNode | SequenceNode) and not node.flow_style
    key = bool(path) and isinstance(path[-1], str) and (is_key or block)
    return doc.locate(path, key=key)


def _quote_hint(doc: SourceDocument, path: tuple[str | int, ...]) -> str:
    node = doc.node_at(path)
    if isinstance(node, ScalarNode) and node.value:
        return f'quote it so YAML keeps it as text: "{node.value}"'
    return 'quote the value so YAML keeps it as text, e.g. "1.10"'


def _range_message(error: ErrorDetails) -> str:
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx", {})
    shown = repr(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
    if kind == "greater_than_equal" and shown:
        return f"{shown} is below the minimum {ctx['ge']}"
    if kind == "less_than_equal" and shown:
        return f"{shown} is above the maximum {ctx['le']}"
    if kind == "greater_than" and shown:
        return f"{shown} must be greater than {ctx['gt']}"
    if kind == "less_than" and shown:
        return f"{shown} must be less than {ctx['lt']}"
    if kind in ("too_short", "string_too_short") and "min_length" in ctx:
        count = ctx["min_length"]
        if isinstance(value, str):
            return "must not be empty" if count == 1 else f"needs at least {count} characters"
        return f"needs at least {count} item{'s' if count != 1 else ''}"
    if kind in ("too_long", "string_too_long") and "max_length" in ctx:
        unit = "characters" if isinstance(value, str) else "items"
        return f"allows at most {ctx['max_length']} {unit}"
    return _lower_first(error["msg"])


def _custom_hint(code: str) -> str | None:
    return {
        "MLG302": "use lower-case letters, digits and '-' (it becomes part of Kubernetes names)",
        "MLG307": "CPU in cores or millicores (2, 500m); memory with a suffix such as 512Mi, 4Gi or 2G",
        "MLG323": "repository paths are lower-case, e.g. ghcr.io/acme/fraud-train:1.8.0",
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
