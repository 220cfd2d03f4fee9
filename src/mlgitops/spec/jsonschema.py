"""JSON Schema of the spec kinds, for editors (yaml-language-server) and `mlgitops schema`."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from mlgitops.spec.model import ModelSpec
from mlgitops.spec.project import ProjectSpec

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
KINDS: dict[str, type[BaseModel]] = {"project": ProjectSpec, "model": ModelSpec}


class _EditorSchema(GenerateJsonSchema):
    """An optional field accepts ``null`` as ``validate`` does: written out, it means "the
    platform's default" (or unset), so an editor must not flag it. The type comes first so
    editors still offer it."""

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        inner = self.generate_inner(schema["schema"])
        options = inner["anyOf"] if list(inner) == ["anyOf"] else [inner]
        return {"anyOf": [*options, {"type": "null"}]}


def kind_schema(kind: str) -> dict[str, Any]:
    model = KINDS[kind]
    schema = model.model_json_schema(by_alias=True, mode="validation", schema_generator=_EditorSchema)
    schema = _tidy(schema)
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"https://mlgitops.dev/schemas/{kind}.v1.json",
        **schema,
    }


def combined_schema() -> dict[str, Any]:
    """One schema for both kinds, choosing by ``kind``."""
    defs: dict[str, Any] = {}
    branches = []
    for kind in KINDS:
        schema = kind_schema(kind)
        defs.update(schema.pop("$defs", {}))
        for key in ("$schema", "$id"):
            schema.pop(key)
        title = schema["title"]
        defs[title] = schema
        branches.append(
            {
                "if": {
                    "properties": {"kind": {"const": title.removesuffix("Spec")}},
                    "required": ["kind"],
                },
                "then": {"$ref": f"#/$defs/{title}"},
            }
        )
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": "https://mlgitops.dev/schemas/mlgitops.v1.json",
        "title": "mlgitops spec (Project or Model)",
        "type": "object",
        "required": ["apiVersion", "kind"],
        "properties": {"kind": {"enum": ["Project", "Model"]}},
        "allOf": branches,
        "$defs": dict(sorted(defs.items())),
    }


def _tidy(node: Any) -> Any:
    """Drop ``default: null`` and per-property titles, which only add noise in editors."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "default" and value is None:
                continue
            if key == "properties" and isinstance(value, dict):
                out[key] = {
                    name: _tidy({k: v for k, v in prop.items() if k != "title"})
                    for name, prop in value.items()
                }
            else:
                out[key] = _tidy(value)
        return out
    if isinstance(node, list):
        return [_tidy(item) for item in node]
    return node


def dumps(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def schema_files() -> dict[str, str]:
    """The committed files under ``schemas/``: name → content."""
    return {
        "mlgitops.v1.json": dumps(combined_schema()),
        "project.v1.json": dumps(kind_schema("project")),
        "model.v1.json": dumps(kind_schema("model")),
    }
