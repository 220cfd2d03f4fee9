"""``diff`` output: text for terminals, markdown for pull-request comments, JSON for machines."""

from __future__ import annotations

import json
from typing import Any

from mlgitops.diffing import DiffResult
from mlgitops.reporters.github import escape_data


def render(result: DiffResult, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(_document(result), indent=2, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        return _markdown(result)
    if fmt == "github":  # the log shows the text; the run's summary gets one line
        counts = "no change" if result.empty else _counts(result)
        message = escape_data(f"{counts} generated files against {result.base}")
        return _text(result) + f"::notice title=mlgitops diff::{message}\n"
    return _text(result)


def _summary_lines(result: DiffResult) -> list[str]:
    lines = []
    for change in result.deployments:
        where = f"{change.model} in {change.environment}"
        if change.status == "retired":
            lines.append(f"retired   {where} (was {change.before})")
        elif change.status == "removed":
            lines.append(f"removed   {where} (was {change.before})")
        elif change.status == "added":
            lines.append(f"added     {where}: {change.after}")
        else:
            move = f"{change.before} → {change.after}" if change.before != change.after else change.after
            extra = f" ({'; '.join(change.details)})" if change.details else ""
            lines.append(f"changed   {where}: {move}{extra}")
    lines += [f"new model {name}" for name in result.new_models]
    lines += [f"retired   model {name}" for name in result.retired]
    lines += [f"alert +   {alert}" for alert in result.alerts_added]
    lines += [f"alert -   {alert}" for alert in result.alerts_removed]
    return lines


def _counts(result: DiffResult) -> str:
    by_status = {s: sum(f.status == s for f in result.files) for s in ("added", "changed", "removed")}
    return f"{by_status['added']} added, {by_status['changed']} changed, {by_status['removed']} removed"


def _text(result: DiffResult) -> str:
    if result.empty:
        return f"no change to the generated files against {result.base}\n"
    out = [f"against {result.base}: {_counts(result)} generated files", *_summary_lines(result), ""]
    out += [change.diff.rstrip("\n") for change in result.files]
    return "\n".join(out) + "\n"


def _markdown(result: DiffResult) -> str:
    out = [f"### mlgitops: what this change does (against `{result.base}`)", ""]
    if result.empty:
        return "\n".join([*out, "No change to the generated files."]) + "\n"
    if result.versions:
        envs = list(result.environments)
        out += ["| model | " + " | ".join(envs) + " |", "|---" * (len(envs) + 1) + "|"]
        for model, cells in sorted(result.versions.items()):
            gone = "retired" if model in result.retired else "removed"
            row = [_cell(*cells.get(env, (None, None)), gone) for env in envs]
            out.append(f"| `{model}` | " + " | ".join(row) + " |")
        out += ["", *_mermaid(result), ""]
    summary = _summary_lines(result)
    if summary:
        out += [f"- {line.strip()}" for line in summary] + [""]
    out += [f"**Generated files:** {_counts(result)}", ""]
    for change in result.files:
        out += [
            f"<details><summary><code>{change.path}</code> ({change.status})</summary>",
            "",
            "```diff",
            change.diff.rstrip("\n").replace("```", "`\u200b``"),
            "```",
            "</details>",
            "",
        ]
    return "\n".join(out)


def _cell(before: str | None, after: str | None, gone: str) -> str:
    if before == after:
        return before or "–"
    return f"{before or '–'} → **{after or gone}**"


def _mermaid(result: DiffResult) -> list[str]:
    """The promotion path with each changed model's versions per environment."""
    lines = ["```mermaid", "flowchart LR"]
    envs = list(result.environments)
    for m_index, (model, cells) in enumerate(sorted(result.versions.items())):
        gone = "retired" if model in result.retired else "removed"
        nodes = []
        for e_index, env in enumerate(envs):
            before, after = cells.get(env, (None, None))
            label = (after or "–") if before == after else f"{before or '–'} → {after or gone}"
            node = f"m{m_index}e{e_index}"
            lines.append(f'  {node}["{model} · {env}<br/>{label}"]')
            nodes.append(node)
        if len(nodes) > 1:
            lines.append("  " + " --> ".join(nodes))
    lines.append("```")
    return lines


def _document(result: DiffResult) -> dict[str, Any]:
    return {
        "version": 1,
        "ok": True,
        "summary": {s: sum(f.status == s for f in result.files) for s in ("added", "changed", "removed")},
        "base": result.base,
        "environments": list(result.environments),
        "deployments": [
            {
                "model": c.model,
                "environment": c.environment,
                "status": c.status,
                "before": c.before,
                "after": c.after,
                "details": list(c.details),
            }
            for c in result.deployments
        ],
        "newModels": result.new_models,
        "retired": result.retired,
        "alerts": {"added": result.alerts_added, "removed": result.alerts_removed},
        "files": [{"path": f.path, "status": f.status, "diff": f.diff} for f in result.files],
    }
