"""What ``promote`` prints, and how it writes the edited spec."""

from __future__ import annotations

import difflib
import json

from mlgitops.promote import Promotion
from mlgitops.reporters.github import escape_data, escape_property


def diff(promotion: Promotion) -> str:
    return "".join(
        difflib.unified_diff(
            promotion.before.splitlines(keepends=True),
            promotion.after.splitlines(keepends=True),
            fromfile=f"a/{promotion.spec_display}",
            tofile=f"b/{promotion.spec_display}",
        )
    )


def render(promotion: Promotion, fmt: str, *, written: bool) -> str:
    if fmt == "json":
        document = {
            "ok": True,
            "model": promotion.model,
            "environment": promotion.environment,
            "version": promotion.version,
            "kind": promotion.kind,
            "canary": promotion.canary,
            "trafficBefore": promotion.traffic_before,
            "file": promotion.spec_display,
            "written": written,
            "branch": promotion.branch,
            "title": promotion.title,
            "commitMessage": promotion.commit_message,
            "body": promotion.body,
            "diff": diff(promotion),
        }
        return json.dumps(document, indent=2) + "\n"
    action = "edited" if written else "would edit (dry run)"
    notice = ""
    if fmt == "github":
        notice = f"::notice title={escape_property(action)}::{escape_data(promotion.title)}\n"
    return notice + (
        f"{action} {promotion.spec_display}:\n{diff(promotion)}\n"
        f"suggested commit message:\n  {promotion.commit_message.splitlines()[0]}\n"
        f"suggested pull-request title:\n  {promotion.title}\n"
        "next: run 'mlgitops compile' and commit both the spec and the generated files\n"
    )
