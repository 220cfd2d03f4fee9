"""Text and JSON for ``explain``."""

from __future__ import annotations

import json

from mlgitops.explain import Explanation, Retirement, Setting
from mlgitops.render.yamlout import flow, scalar


def render(explanations: list[Explanation], fmt: str) -> str:
    if fmt == "json":
        document = [
            {
                "model": e.model,
                "environment": e.environment,
                "namespace": e.namespace,
                "settings": [
                    {
                        "path": s.path,
                        "value": s.value,
                        "layer": s.origin.layer,
                        **_where(s),
                        **({"platformDefault": True} if s.platform_default else {}),
                    }
                    for s in e.settings
                ],
            }
            for e in explanations
        ]
        return json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"
    blocks = []
    for e in explanations:
        rows = [(s.path, _shown(s.value), _origin(s)) for s in e.settings]
        width_path = max(len(r[0]) for r in rows)
        width_value = min(max(len(r[1]) for r in rows), 48)
        lines = [f"{e.model} in {e.environment} (namespace {e.namespace})"]
        lines += [f"  {p:<{width_path}}  {v:<{width_value}}  {o}" for p, v, o in rows]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _origin(setting: Setting) -> str:
    if not setting.platform_default:
        return setting.origin.describe()
    location = setting.origin.location()
    where = f"{location.file}:{location.line}" if location else "built in"
    return f"platform default (null in {where}, {setting.origin.layer})"


def _where(setting: object) -> dict[str, object]:
    location = setting.origin.location()  # type: ignore[attr-defined]
    if location is None:
        return {"file": None}
    return {"file": location.file, "line": location.line, "column": location.column}


def _shown(value: object) -> str:
    return flow(value) if isinstance(value, dict | list) else scalar(value)


def render_retirement(retirement: Retirement) -> str:
    """Why a retired model has nothing to explain."""
    rows = [("lifecycle.stage", f"retired ({retirement.stage.file}:{retirement.stage.line})")]
    if retirement.sunset is not None:
        rows.append(("lifecycle.sunset", retirement.sunset.isoformat()))
    if retirement.replaced_by is not None:
        rows.append(("lifecycle.replacedBy", retirement.replaced_by))
    if retirement.reason is not None:
        rows.append(("lifecycle.reason", retirement.reason))
    width = max(len(name) for name, _ in rows)
    lines = [f"{retirement.model} is retired: nothing is generated for it, so no setting applies"]
    lines += [f"  {name:<{width}}  {value}" for name, value in rows]
    return "\n".join(lines) + "\n"
